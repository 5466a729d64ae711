"""Arabic text for reportlab: the bundled font, HarfBuzz shaping (harakat placed by the font's GPOS), bidi line by
line with numbers kept left to right, wrapping in logical order, and figures written in the office's display style.

Measured (ARABIC.md): a paragraph shaped and reordered whole comes out with its lines in reverse order. So text is
wrapped first, in logical order, measuring each word as it will be drawn, and only then is each line reordered on its
own with a right-to-left base direction. The bidi algorithm gives each character its level; runs of one level are
put in visual order (rule L2) and each run is shaped by HarfBuzz in its own direction, so a mark sits where the font
puts it (arabic-reshaper alone has no mark positioning: a tanween crossed the alef of «شهراً»).
"""

from __future__ import annotations

import re
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

import arabic_reshaper
import fontpkg_ibm_plex_sans_arabic as plex
from bidi import algorithm as bidi
from reportlab.pdfbase import pdfmetrics, ttfonts
from reportlab.pdfbase.ttfonts import ShapeData, ShapedStr, TTFont

from aidoffice.domain.display import DEFAULT_STYLE, DisplayStyle
from aidoffice.errors import UserError

try:  # a declared dependency; without it text falls back to arabic-reshaper's presentation forms
    import uharfbuzz
except ImportError:  # pragma: no cover - exercised only on a broken install
    uharfbuzz = None

FONT = "AidOffice"
FONT_BOLD = "AidOffice-Bold"
FONT_FILES = {FONT: "IBMPlexSansArabic-Regular.ttf", FONT_BOLD: "IBMPlexSansArabic-Bold.ttf"}
# Bidi controls: the pure-Python bidi asserts on isolates (ARABIC.md), and marks or overrides typed into a name must
# not turn a line around. Left-to-right embeddings (LRE … PDF) are kept: `ltr` places them on purpose.
_CONTROLS = re.compile("[\u200e\u200f\u202b\u202d\u202e\u2066-\u2069]")
# Digits joined by - / : . (phones, dates, ranges, times): one left-to-right run. Without it the bidi algorithm
# turns «777-123-456» after an Arabic word into «456-123-777» (a '-' between Arabic numbers is a neutral).
_NUMBER_RUN = re.compile(r"[0-9٠-٩]+(?:[-/:.][0-9٠-٩]+)+")
_LRE, _PDF = "\u202a", "\u202c"
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
# The office's display style for the document being written (set by the service around one document; a thread of
# the pool writing another document has its own).
_STYLE: ContextVar[DisplayStyle] = ContextVar("aidoffice_document_style", default=DEFAULT_STYLE)
_FEATURES = {"kern": False, "liga": True}

_reshaper = arabic_reshaper.ArabicReshaper(
    configuration={"delete_harakat": False, "support_ligatures": True, "ARABIC LIGATURE ALLAH": False}
)
_lock = threading.Lock()  # reportlab's font objects gain private glyph codes while shaping: one thread at a time
# A glyph with no character of its own (a contextual form such as ح after ز, a ligature of two marks) is given a
# private code by reportlab; the text it stands for goes into the PDF's ToUnicode map, so copying or searching the
# page gives letters, not U+E000. Face name → private code → text.
_PRIVATE_TEXT: dict[str, dict[int, str]] = {}


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
    ttfonts.makeToUnicodeCMap = _to_unicode_cmap
    _PRIVATE_TEXT.clear()
    _shaped.cache_clear()
    _hb_font.cache_clear()


def harfbuzz_available() -> bool:
    return uharfbuzz is not None


def ltr(text: str) -> str:
    """A code or a number drawn left to right wherever it stands (a document number such as TST-01/2026/0007)."""
    return f"{_LRE}{_CONTROLS.sub('', str(text)).replace(_LRE, '').replace(_PDF, '')}{_PDF}"


def isolate_numbers(text: str) -> str:
    """Runs of digits joined by - / : . become left-to-right embeddings, so the bidi algorithm keeps their order."""
    return _NUMBER_RUN.sub(lambda found: f"{_LRE}{found.group(0)}{_PDF}", text)


def prepare(text: str) -> str:
    """Other bidi controls removed, numbers isolated."""
    return isolate_numbers(_CONTROLS.sub("", str(text)))


def runs(line: str) -> list[tuple[str, bool]]:
    """The line as runs in visual order (left to right), each in logical order with whether it reads right to left.
    A line with Arabic reads right to left; one without (a figure such as «−78 (21%)», an ID) left to right."""
    text = prepare(line)
    rtl = bool(_RTL.search(text))
    storage = bidi.get_empty_storage()
    storage["base_level"], storage["base_dir"] = (1, "R") if rtl else (0, "L")
    bidi.get_embedding_levels(text, storage)
    bidi.explicit_embed_and_overrides(storage)
    bidi.resolve_weak_types(storage, False)
    bidi.resolve_neutral_types(storage, False)
    bidi.resolve_implicit_levels(storage, False)
    groups: list[list] = []
    for char in storage["chars"]:
        if groups and groups[-1][1] == char["level"]:
            groups[-1][0].append(char["ch"])
        else:
            groups.append([[char["ch"]], char["level"]])
    if not groups:
        return []
    # Rule L2: from the highest level down to 1, reverse every sequence of runs at that level or higher. A run's
    # own characters are reversed an odd number of times exactly when its level is odd: HarfBuzz does that part.
    lowest_odd = 1 if rtl else min((g[1] for g in groups if g[1] % 2), default=1)
    for level in range(max(g[1] for g in groups), lowest_odd - 1, -1):
        i = 0
        while i < len(groups):
            if groups[i][1] < level:
                i += 1
                continue
            j = i
            while j < len(groups) and groups[j][1] >= level:
                j += 1
            groups[i:j] = groups[i:j][::-1]
            i = j
    return [("".join(chars), level % 2 == 1) for chars, level in groups]


@lru_cache(maxsize=4)
def _hb_font(font: str):
    return pdfmetrics.getFont(font).hbFont(10)


def _shape_run(text: str, font: str, rtl: bool) -> ShapedStr:
    ttf = pdfmetrics.getFont(font)
    hb_font = _hb_font(font)
    buffer = uharfbuzz.Buffer()
    buffer.add_str(text)
    buffer.guess_segment_properties()  # the script of the run (digits stay digits, not Arabic-context forms)
    buffer.direction = "rtl" if rtl else "ltr"
    buffer.cluster_level = uharfbuzz.BufferClusterLevel.MONOTONE_CHARACTERS
    uharfbuzz.shape(hb_font, buffer, _FEATURES)
    chars, data = [], []
    face = ttf.face
    infos = buffer.glyph_infos
    clusters = [*sorted({info.cluster for info in infos}), len(text)]
    for info, pos in zip(infos, buffer.glyph_positions, strict=True):
        glyph = info.codepoint
        codes = face.glyphToChar.get(glyph)
        if codes:
            code = codes[0]
        else:
            code = ttf.hbAddPrivate(hb_font.glyph_to_string(glyph), glyph, pos.x_advance)
            if sum(1 for other in infos if other.cluster == info.cluster) == 1:
                end = clusters[clusters.index(info.cluster) + 1]
                _PRIVATE_TEXT.setdefault(face.name.decode("latin-1"), {})[code] = text[info.cluster : end]
        chars.append(chr(code))
        data.append(
            ShapeData(
                info.cluster,
                ttf.pdfScale(pos.x_advance),
                ttf.pdfScale(pos.y_advance),
                ttf.pdfScale(pos.x_offset),
                ttf.pdfScale(pos.y_offset),
                face.charWidths.get(code, 0),
            )
        )
    return ShapedStr("".join(chars), shapeData=data)


def _to_unicode_cmap(font_name: str, subset: list[int]) -> str:
    """reportlab's ToUnicode CMap, with the private codes of shaped glyphs mapped to the letters they stand for."""
    face = str(font_name).split("+", 1)[-1]
    texts = next((t for name, t in _PRIVATE_TEXT.items() if face.startswith(name)), {})

    def target(code: int) -> str:
        text = texts.get(code) or chr(code)
        return "".join(
            f"{unit:04X}" for unit in struct.unpack(f">{len(text.encode('utf-16-be')) // 2}H", text.encode("utf-16-be"))
        )

    return "\n".join(
        [
            "/CIDInit /ProcSet findresource begin",
            "12 dict begin",
            "begincmap",
            "/CIDSystemInfo",
            f"<< /Registry ({font_name})",
            f"/Ordering ({font_name})",
            "/Supplement 0",
            ">> def",
            f"/CMapName /{font_name} def",
            "/CMapType 2 def",
            "1 begincodespacerange",
            f"<00> <{len(subset) - 1:02X}>",
            "endcodespacerange",
            f"{len(subset)} beginbfchar",
            *(f"<{i:02X}> <{target(v)}>" for i, v in enumerate(subset)),
            "endbfchar",
            "endcmap",
            "CMapName currentdict /CMap defineresource pop",
            "end",
            "end",
        ]
    )


@lru_cache(maxsize=50_000)
def _shaped(line: str, font: str) -> str:
    if uharfbuzz is None:
        return _presentation(line)
    with _lock:
        pieces = [_shape_run(text, font, rtl) for text, rtl in runs(line) if text]
    if not pieces:
        return ""
    out = pieces[0]
    for piece in pieces[1:]:
        out = out + piece
    return out


@contextmanager
def document_style(style: DisplayStyle) -> Iterator[DisplayStyle]:
    """Write the documents made inside the block in the office's display style (digits, date order, months)."""
    token = _STYLE.set(style)
    try:
        yield style
    finally:
        _STYLE.reset(token)


def style() -> DisplayStyle:
    """The display style of the document being written."""
    return _STYLE.get()


def shaped(line: str, font: str = FONT) -> str:
    """One line as glyphs in visual order, ready for canvas.drawString (a reportlab ShapedStr). Its digits are
    drawn in the document's digit style (every figure, date, number and page number on the paper)."""
    register_fonts()
    return _shaped(style().digits_of(line or ""), font)


def _presentation(line: str) -> str:
    """The older path: arabic-reshaper's presentation forms reordered by bidi (no mark positioning)."""
    if not line:
        return ""
    text = _reshaper.reshape(prepare(line))
    return bidi.get_display(text, base_dir="R")


def visual(line: str) -> str:
    """A line as presentation forms in visual order, for drawing code that cannot carry glyph positions."""
    return _presentation(style().digits_of(line or ""))


def glyph_width(glyphs: str, font: str, size: float) -> float:
    data = getattr(glyphs, "__shapeData__", None)
    if data is not None:
        return sum(d.x_advance for d in data) * size / 1000
    return pdfmetrics.stringWidth(glyphs, font, size)


def width(text: str, font: str = FONT, size: float = 10) -> float:
    return glyph_width(shaped(text, font), font, size)


def draw(canvas, x: float, y: float, text: str, font: str = FONT, size: float = 10, align: str = "right") -> float:
    """Draw one line with its right edge (or centre, or left edge) at x; returns the drawn width."""
    glyphs = shaped(text, font)
    if not glyphs:
        return 0.0
    drawn = glyph_width(glyphs, font, size)
    canvas.setFont(font, size)
    left = x - drawn if align == "right" else x - drawn / 2 if align == "center" else x
    canvas.drawString(left, y, glyphs)
    return drawn


def wrap(text: str, max_width: float, font: str = FONT, size: float = 10) -> list[str]:
    """Lines in logical order, each no wider than `max_width` once shaped (a word longer than a line stays whole)."""
    space = width(" ", font, size) if str(text).strip() else 0
    lines: list[str] = []
    for paragraph in str(text).split("\n"):
        words = paragraph.split()
        if not words:
            lines.append("")
            continue
        current, used = words[0], width(words[0], font, size)
        for word in words[1:]:
            extra = width(word, font, size)
            if used + space + extra <= max_width:
                current, used = f"{current} {word}", used + space + extra
            else:
                lines.append(current)
                current, used = word, extra
        lines.append(current)
    return lines


def fit(text: str, room: float, font: str = FONT, size: float = 10) -> str:
    """One line no wider than `room`: cut at a word (or a letter) with «…» only when it must be."""
    text = str(text)
    if width(text, font, size) <= room:
        return text
    words = text.split()
    while len(words) > 1 and width(" ".join(words) + " …", font, size) > room:
        words.pop()
    cut = " ".join(words)
    while cut and width(cut + " …", font, size) > room:
        cut = cut[:-1]
    return cut.rstrip() + " …"


def number(value, decimals: int | None = None) -> str:
    """A figure as the office writes it (domain.display): thousands separators, whole values without «.00» (45
    rather than 45.00); «—» for nothing."""
    if value is None:
        return "—"
    return style().number(value, decimals)
