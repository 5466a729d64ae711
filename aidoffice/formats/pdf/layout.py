"""Page layout for the office's documents: header and «صفحة ٣ من ١٢» footer, Arabic paragraphs, right-to-left
tables whose header repeats on every page, signature blocks, charts, QR codes, and a safe write to disk."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Spacer, Table, TableStyle

from aidoffice.domain.dates import hijri_text
from aidoffice.errors import UserError
from aidoffice.formats.pdf.text import FONT, FONT_BOLD, arabic_digits, register_fonts, visual, wrap

_ARABIC = re.compile("[\u0600-\u06ff\u0750-\u077f]")
ACCENT = colors.HexColor("#1f6f5c")
LIGHT = colors.HexColor("#e8eeec")
ZEBRA = colors.HexColor("#f6f8f7")
GRID = colors.HexColor("#9aa8a3")
MARGIN = 15 * mm
PALETTE = [colors.HexColor(c) for c in ("#1f6f5c", "#d98e04", "#3b6ea8", "#a8443b", "#6b4fa0", "#5c8a2e", "#8a6d3b")]


@dataclass(frozen=True)
class Letterhead:
    """What every page carries: the office at the top right, the document's title, the date of printing."""

    office: str
    title: str
    printed_on: date
    ministry: str = "وزارة الشؤون الاجتماعية والعمل"


class Paragraph(Flowable):
    """Arabic text wrapped in logical order, each line shaped and reordered on its own, right-aligned (or centred)."""

    def __init__(
        self,
        text: str,
        size: float = 10,
        *,
        bold: bool = False,
        align: str = "right",
        color=colors.black,
        space_after: float = 2,
    ) -> None:
        super().__init__()
        self.text = text
        self.size = size
        self.font = FONT_BOLD if bold else FONT
        self.align = align
        self.color = color
        self.leading = size * 1.55
        self.space_after = space_after
        self.lines: list[str] = []

    def wrap(self, avail_width, _avail_height):
        self.width = avail_width
        self.lines = wrap(self.text, avail_width, self.font, self.size)
        self.height = len(self.lines) * self.leading + self.space_after
        return self.width, self.height

    def split(self, avail_width, avail_height):
        self.wrap(avail_width, avail_height)
        fits = int((avail_height - self.space_after) // self.leading)
        if fits <= 0 or fits >= len(self.lines):
            return []
        first = Paragraph("\n".join(self.lines[:fits]), self.size, align=self.align, color=self.color)
        rest = Paragraph("\n".join(self.lines[fits:]), self.size, align=self.align, color=self.color)
        first.font = rest.font = self.font
        return [first, rest]

    def draw(self):
        c = self.canv
        c.setFont(self.font, self.size)
        c.setFillColor(self.color)
        for i, line in enumerate(self.lines):
            y = self.height - self.space_after - (i + 1) * self.leading + self.size * 0.45
            text = visual(line)
            if self.align == "center":
                c.drawCentredString(self.width / 2, y, text)
            elif self.align == "left":
                c.drawString(0, y, text)
            else:
                c.drawRightString(self.width, y, text)


def heading(text: str, size: float = 13) -> Paragraph:
    return Paragraph(text, size, bold=True, color=ACCENT, space_after=4)


def cell(value) -> str:
    """A table cell's text as drawn: Arabic shaped and reordered, figures with separators, dates yyyy/mm/dd."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else ""
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, date):
        return value.strftime("%Y/%m/%d")
    text = str(value)
    # Only Arabic needs reordering; a figure such as "−78 (21%)" or an ID drawn as typed stays readable.
    return visual(text) if _ARABIC.search(text) else text


def rtl_table(
    headers: Sequence[str],
    rows: Sequence[Sequence],
    widths: Sequence[float],
    *,
    numeric: Sequence[int] = (),
    size: float = 9,
    row_height: float | None = None,
    totals: Sequence | None = None,
    wrapped: Sequence[int] = (),
) -> Table:
    """A table read right to left: column 0 sits on the right; the header row repeats on every page; numeric
    columns (by logical index) are centred; an optional totals row is bold and shaded."""
    n = len(headers)

    def body_cell(index: int, value):
        # Long free text (findings, reasons) wraps inside its column instead of running over the next one.
        if index in wrapped and value:
            return Paragraph(str(value), size, space_after=0)
        return cell(value)

    body = [[body_cell(n - 1 - i, v) for i, v in enumerate(reversed(list(row)))] for row in rows]
    data = [[visual(h) for h in reversed(list(headers))], *body]
    if totals is not None:
        data.append([cell(v) for v in reversed(list(totals))])
    table = Table(
        data,
        colWidths=list(reversed(list(widths))),
        repeatRows=1,
        rowHeights=None if row_height is None else [None] + [row_height] * (len(data) - 1),
    )
    style = [
        ("FONT", (0, 0), (-1, -1), FONT, size),
        ("FONT", (0, 0), (-1, 0), FONT_BOLD, size),
        ("BACKGROUND", (0, 0), (-1, 0), LIGHT),
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ROWBACKGROUNDS", (0, 1), (-1, len(data) - (2 if totals is not None else 1)), [colors.white, ZEBRA]),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    for logical in numeric:
        physical = n - 1 - logical
        style.append(("ALIGN", (physical, 0), (physical, -1), "CENTER"))
    style.append(("ALIGN", (0, 0), (-1, 0), "CENTER"))
    if totals is not None:
        style += [("FONT", (0, -1), (-1, -1), FONT_BOLD, size), ("BACKGROUND", (0, -1), (-1, -1), LIGHT)]
    table.setStyle(TableStyle(style))
    return table


def signatures(titles: Sequence[str], width: float) -> Table:
    """Signature blocks side by side, first title on the right: a title, a line to sign on, name and date lines."""
    cells = [
        [visual(t) for t in reversed(list(titles))],
        ["" for _ in titles],
        [visual("الاسم: ..............................") for _ in titles],
        [visual("التوقيع: ............................") for _ in titles],
        [visual("التاريخ: ....../....../..........") for _ in titles],
    ]
    table = Table(cells, colWidths=[width / len(titles)] * len(titles), rowHeights=[16, 22, 16, 16, 16])
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, 9),
                ("FONT", (0, 0), (-1, 0), FONT_BOLD, 10),
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
            ]
        )
    )
    return table


def bar_chart(labels: Sequence[str], values: Sequence[float], width: float, height: float = 55 * mm) -> Drawing:
    """Vertical bars, categories from right to left as the page reads."""
    labels, values = list(reversed(list(labels))), list(reversed(list(values)))
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    chart.x, chart.y = 30, 38
    chart.width, chart.height = width - 40, height - 50
    chart.data = [values or [0]]
    chart.categoryAxis.categoryNames = [visual(label) for label in labels] or [""]
    chart.categoryAxis.labels.fontName = FONT
    chart.categoryAxis.labels.fontSize = 7
    chart.categoryAxis.labels.angle = 30 if len(labels) > 5 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(labels) > 5 else "n"
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    chart.bars[0].fillColor = ACCENT
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    return drawing


def pie_chart(labels: Sequence[str], values: Sequence[float], width: float, height: float = 55 * mm) -> Drawing:
    """A pie with a legend on the right: label and figure per slice."""
    drawing = Drawing(width, height)
    total = sum(values)
    if not total:
        drawing.add(String(width / 2, height / 2, visual("لا بيانات"), fontName=FONT, fontSize=9, textAnchor="middle"))
        return drawing
    pie = Pie()
    pie.x, pie.y = 20, 10
    pie.width = pie.height = height - 20
    pie.data = list(values)
    pie.labels = None
    pie.slices.strokeColor = colors.white
    for i in range(len(values)):
        pie.slices[i].fillColor = PALETTE[i % len(PALETTE)]
    drawing.add(pie)
    y = height - 14
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        share = f"{value / total:.0%}"
        drawing.add(
            String(
                width - 14, y, visual(f"{label} — {value:,.0f} ({share})"), fontName=FONT, fontSize=8, textAnchor="end"
            )
        )
        from reportlab.graphics.shapes import Rect

        drawing.add(Rect(width - 10, y - 1, 7, 7, fillColor=PALETTE[i % len(PALETTE)], strokeColor=None))
        y -= 13
    return drawing


def qr_code(data: str, size: float = 28 * mm) -> Drawing:
    widget = QrCodeWidget(data, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


class _NumberedCanvas(canvas.Canvas):
    """Holds every page until the end, so each footer can say how many pages there are."""

    def __init__(self, *args, letterhead: Letterhead, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []
        self.letterhead = letterhead

    def showPage(self):  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._decorate(number, total)
            super().showPage()
        super().save()

    def _decorate(self, number: int, total: int) -> None:
        head = self.letterhead
        page_width, page_height = self._pagesize
        top = page_height - 11 * mm
        self.setFillColor(ACCENT)
        self.setFont(FONT_BOLD, 10)
        self.drawRightString(page_width - MARGIN, top, visual(head.office))
        self.setFont(FONT, 8)
        self.drawRightString(page_width - MARGIN, top - 11, visual(head.ministry))
        self.setFont(FONT, 8)
        self.setFillColor(colors.black)
        self.drawString(MARGIN, top, f"{head.printed_on:%Y/%m/%d}")
        self.drawString(MARGIN, top - 11, visual(hijri_text(head.printed_on)))
        self.setStrokeColor(ACCENT)
        self.setLineWidth(0.8)
        self.line(MARGIN, top - 17, page_width - MARGIN, top - 17)
        self.setFont(FONT, 8)
        footer = f"صفحة {arabic_digits(number)} من {arabic_digits(total)}"
        self.drawCentredString(page_width / 2, 9 * mm, visual(footer))
        self.setFillColor(colors.grey)
        self.drawString(MARGIN, 9 * mm, "AidOffice")
        self.drawRightString(page_width - MARGIN, 9 * mm, visual(head.title))


def build_pdf(target: Path, letterhead: Letterhead, story: list, *, wide: bool = False) -> Path:
    """Write the document to a partial file beside the target, then rename it: no half-written report is ever left,
    and an unwritable folder is an Arabic error naming it."""
    register_fonts()
    pagesize = landscape(A4) if wide else A4
    target = Path(target)
    partial = target.with_name(target.name + ".part")
    doc = BaseDocTemplate(
        str(partial),
        pagesize=pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN + 14 * mm,
        bottomMargin=MARGIN + 2 * mm,
        title=letterhead.title,
        author=letterhead.office,
        creator="AidOffice",
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body", leftPadding=0, rightPadding=0)
    doc.addPageTemplates([PageTemplate(id="page", frames=[frame])])
    try:
        doc.build(story, canvasmaker=lambda *a, **k: _NumberedCanvas(*a, letterhead=letterhead, **k))
        os.replace(partial, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise UserError(f"تعذر حفظ التقرير في المجلد: {target.parent} — اختر مجلداً آخر أو حرّر مساحة.") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    return target


def gap(height_mm: float = 4) -> Spacer:
    return Spacer(1, height_mm * mm)


def usable_width(wide: bool = False) -> float:
    return (landscape(A4) if wide else A4)[0] - 2 * MARGIN
