"""Arabic text for reportlab: the bundled font, shaping with harakat kept, bidi line by line, wrapping in logical order.

Measured (ARABIC.md): a paragraph shaped and reordered whole comes out with its lines in reverse order. So text is
wrapped first, in logical order, measuring each word as it will be drawn, and only then is each line shaped and
reordered on its own with a right-to-left base direction.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import arabic_reshaper
import fontpkg_ibm_plex_sans_arabic as plex
from bidi.algorithm import get_display
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from aidoffice.errors import UserError

FONT = "AidOffice"
FONT_BOLD = "AidOffice-Bold"
FONT_FILES = {FONT: "IBMPlexSansArabic-Regular.ttf", FONT_BOLD: "IBMPlexSansArabic-Bold.ttf"}
_ISOLATES = re.compile("[\u2066-\u2069]")  # the pure-Python bidi asserts on these (ARABIC.md)
_ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")

_reshaper = arabic_reshaper.ArabicReshaper(
    configuration={"delete_harakat": False, "support_ligatures": True, "ARABIC LIGATURE ALLAH": False}
)


def font_folder() -> Path:
    return Path(plex.ROOT) / "files"


def register_fonts(folder: Path | None = None) -> None:
    """Register the bundled regular and bold faces once; a missing or unreadable file is a clear Arabic error."""
    if FONT in pdfmetrics.getRegisteredFontNames() and folder is None:
        return
    folder = folder or font_folder()
    for name, file_name in FONT_FILES.items():
        path = folder / file_name
        try:
            pdfmetrics.registerFont(TTFont(name, str(path)))
        except Exception as exc:  # reportlab raises TTFError, OSError… for a missing or damaged file
            raise UserError(f"خط التقارير غير موجود أو تالف: {path.name} — أعد تثبيت البرنامج.") from exc
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD, italic=FONT, boldItalic=FONT_BOLD)


def shape(text: str) -> str:
    """Letters in their joined forms (harakat kept, الله not fused), still in logical order."""
    return _reshaper.reshape(_ISOLATES.sub("", text))


@lru_cache(maxsize=20_000)
def visual(line: str) -> str:
    """One line as it must be drawn left to right: shaped, then reordered with a right-to-left base direction.
    Digits keep their order (2026/11/24 stays readable; use '/' in dates, ARABIC.md)."""
    if not line:
        return ""
    return get_display(shape(line), base_dir="R")


def width(text: str, font: str = FONT, size: float = 10) -> float:
    return pdfmetrics.stringWidth(shape(text), font, size)


def wrap(text: str, max_width: float, font: str = FONT, size: float = 10) -> list[str]:
    """Lines in logical order, each no wider than `max_width` once shaped (a word longer than a line stays whole)."""
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        words = paragraph.split()
        if not words:
            lines.append("")
            continue
        current = words[0]
        for word in words[1:]:
            candidate = f"{current} {word}"
            if width(candidate, font, size) <= max_width:
                current = candidate
            else:
                lines.append(current)
                current = word
        lines.append(current)
    return lines


def arabic_digits(value: int | str) -> str:
    """٣ rather than 3, for the page numbers of «صفحة ٣ من ١٢»."""
    return str(value).translate(_ARABIC_DIGITS)


def number(value, decimals: int = 0) -> str:
    """A figure with thousands separators, as a left-to-right run."""
    if value is None:
        return "—"
    return f"{value:,.{decimals}f}"
