"""Page layout for the office's documents: the official letterhead (state, ministry, office, department, emblem,
document number and date), a running header on later pages, «صفحة 3 من 12» footers, the draft and confidential marks,
Arabic paragraphs, right-to-left tables whose header repeats on every page, signature blocks with room for a stamp,
charts with axis titles, QR codes, and a safe write to disk."""

from __future__ import annotations

import contextlib
import io
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.charts.barcharts import VerticalBarChart
from reportlab.graphics.charts.piecharts import Pie
from reportlab.graphics.shapes import Drawing, Rect, String
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    NextPageTemplate,
    PageTemplate,
    Spacer,
    Table,
    TableStyle,
)

from aidoffice.domain.dates import hijri_text
from aidoffice.errors import UserError
from aidoffice.formats.atomic import require_regular_file
from aidoffice.formats.pdf.text import (
    FONT,
    FONT_BOLD,
    draw,
    fit,
    glyph_width,
    ltr,
    number,
    register_fonts,
    shaped,
    style,
    width,
    wrap,
)

ACCENT = colors.HexColor("#1f6f5c")
LIGHT = colors.HexColor("#e8eeec")
ZEBRA = colors.HexColor("#f6f8f7")
GRID = colors.HexColor("#9aa8a3")
WARNING = colors.HexColor("#a8443b")
MARGIN = 15 * mm
BODY = 10  # the smallest size on paper: body, tables, letterhead, footers
PALETTE = [colors.HexColor(c) for c in ("#1f6f5c", "#d98e04", "#3b6ea8", "#a8443b", "#6b4fa0", "#5c8a2e", "#8a6d3b")]
DRAFT_MARK = "مسودة — غير معتمد"
CONFIDENTIAL_MARK = "سري — يحتوي بيانات شخصية"
EMBLEM_HEIGHT = 20 * mm


@dataclass(frozen=True)
class Letterhead:
    """What the paper carries: state, ministry, office and department at the top right, the emblem in the middle, the
    document number and the date at the top left; the title; what later pages belong to; the marks."""

    office: str
    title: str
    printed_on: date
    number: str = ""  # office code / year / serial
    state: str = ""
    ministry: str = "وزارة الشؤون الاجتماعية والعمل"
    department: str = ""
    emblem: Path | None = None
    running: str = ""  # the round, association or month each later page belongs to
    confidential: bool = False
    draft: bool = False


class Text(str):
    """A table cell's text in logical order, shaped at drawing time with the cell's own font."""


class Paragraph(Flowable):
    """Arabic text wrapped in logical order, each line shaped and reordered on its own, right-aligned (or centred)."""

    def __init__(
        self,
        text: str,
        size: float = BODY,
        *,
        bold: bool = False,
        align: str = "right",
        color=colors.black,
        space_after: float = 2,
    ) -> None:
        super().__init__()
        self.text = str(text)
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
        parts = []
        for lines in (self.lines[:fits], self.lines[fits:]):
            part = Paragraph("\n".join(lines), self.size, align=self.align, color=self.color)
            part.font = self.font
            parts.append(part)
        return parts

    def draw(self):
        c = self.canv
        c.setFillColor(self.color)
        x = {"center": self.width / 2, "left": 0}.get(self.align, self.width)
        align = self.align if self.align in ("center", "right") else "left"
        for i, line in enumerate(self.lines):
            y = self.height - self.space_after - (i + 1) * self.leading + self.size * 0.45
            draw(c, x, y, line, self.font, self.size, align)


def heading(text: str, size: float = 13) -> Paragraph:
    return Paragraph(text, size, bold=True, color=ACCENT, space_after=4)


def cell(value) -> Text | str:
    """A table cell: figures with separators and no «.00» on whole values, dates in the office's order, text shaped
    when drawn."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else ""
    if isinstance(value, int | float | Decimal):
        return Text(number(value))
    if isinstance(value, date):
        return Text(style().date(value))
    return Text(str(value))


class RtlTable(Table):
    """A reportlab Table whose text cells are shaped by HarfBuzz with the font of their cell style."""

    def _drawCell(self, cellval, cellstyle, pos, size):  # noqa: N802 - reportlab's name
        if not isinstance(cellval, Text):
            return super()._drawCell(cellval, cellstyle, pos, size)
        if self._curcellstyle is not cellstyle:
            self.canv.setFillColor(cellstyle.color)
            self._curcellstyle = cellstyle
        (x0, y0), (w, h) = pos, size
        font, fsize = cellstyle.fontname, cellstyle.fontsize
        lines = str(cellval).split("\n")
        leading = cellstyle.leading
        if cellstyle.valign == "TOP":
            y = y0 + h - cellstyle.topPadding - fsize
        elif cellstyle.valign == "BOTTOM":
            y = y0 + cellstyle.bottomPadding + len(lines) * leading - fsize
        else:
            y = y0 + (cellstyle.bottomPadding + h - cellstyle.topPadding + len(lines) * leading) / 2.0 - fsize
        just = cellstyle.alignment
        if just == "LEFT":
            x, align = x0 + cellstyle.leftPadding, "left"
        elif just in ("CENTRE", "CENTER"):
            x, align = x0 + (w + cellstyle.leftPadding - cellstyle.rightPadding) / 2, "center"
        else:
            x, align = x0 + w - cellstyle.rightPadding, "right"
        for line in lines:
            draw(self.canv, x, y, line, font, fsize, align)
            y -= leading
        return None


def rtl_table(
    headers: Sequence[str],
    rows: Sequence[Sequence],
    widths: Sequence[float],
    *,
    numeric: Sequence[int] = (),
    size: float = BODY,
    row_height: float | None = None,
    totals: Sequence | None = None,
    wrapped: Sequence[int] = (),
) -> Table:
    """A table read right to left: column 0 sits on the right; the header row repeats on every page; numeric
    columns (by logical index) are centred; an optional totals row is bold and shaded."""
    n = len(headers)

    def body_cell(index: int, value):
        # Long free text (findings, reasons) wraps inside its column instead of running over the next one.
        if index in wrapped and value and not isinstance(value, int | float | Decimal | date):
            return Paragraph(str(value), size, space_after=0)
        return cell(value)

    body = [[body_cell(n - 1 - i, v) for i, v in enumerate(reversed(list(row)))] for row in rows]
    data = [[Text(h) for h in reversed(list(headers))], *body]
    if totals is not None:
        data.append([cell(v) for v in reversed(list(totals))])
    table = RtlTable(
        data,
        colWidths=list(reversed(list(widths))),
        repeatRows=1,
        rowHeights=None
        if row_height is None
        else [None] + [row_height] * len(body) + ([None] if totals is not None else []),
    )
    style = [
        ("FONT", (0, 0), (-1, -1), FONT, size, size * 1.3),
        ("FONT", (0, 0), (-1, 0), FONT_BOLD, size, size * 1.3),
        ("BACKGROUND", (0, 0), (-1, 0), LIGHT),
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ROWBACKGROUNDS", (0, 1), (-1, len(data) - (2 if totals is not None else 1)), [colors.white, ZEBRA]),
        ("TOPPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ("RIGHTPADDING", (0, 0), (-1, -1), 5),
        ("LEFTPADDING", (0, 0), (-1, -1), 5),
    ]
    for logical in numeric:
        physical = n - 1 - logical
        style.append(("ALIGN", (physical, 0), (physical, -1), "CENTER"))
    style.append(("ALIGN", (0, 0), (-1, 0), "CENTER"))
    if totals is not None:
        style += [("FONT", (0, -1), (-1, -1), FONT_BOLD, size, size * 1.3), ("BACKGROUND", (0, -1), (-1, -1), LIGHT)]
    table.setStyle(TableStyle(style))
    return table


def info_table(pairs: Sequence[tuple[str, object]], width: float, label_share: float = 0.24) -> Table:
    """Label: value lines (the head of a sheet, a profile's facts), labels bold on the right."""
    table = RtlTable(
        [[cell(value) if value not in (None, "") else Text("—"), Text(label)] for label, value in pairs],
        colWidths=[width * (1 - label_share), width * label_share],
    )
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, BODY + 1, (BODY + 1) * 1.3),
                ("FONT", (1, 0), (1, -1), FONT_BOLD, BODY + 1, (BODY + 1) * 1.3),
                ("ALIGN", (0, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.3, colors.HexColor("#dfe4e2")),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


class SignatureBlock(Flowable):
    """Signature blocks side by side, first title on the right: title, name, signature and date lines, and a
    dashed square beside them where the stamp goes."""

    STAMP = 32 * mm

    def __init__(self, titles: Sequence[str], width: float, *, stamp: bool = True) -> None:
        super().__init__()
        self.titles = list(titles)
        self.width = width
        self.stamp = stamp
        self.height = 12 * mm + (self.STAMP if stamp else 0) + 4 * mm

    def wrap(self, _w, _h):
        return self.width, self.height

    def draw(self):
        c = self.canv
        column = self.width / len(self.titles)
        for i, title in enumerate(self.titles):
            right = self.width - i * column - 3 * mm
            top = self.height - 6 * mm
            c.setFillColor(colors.black)
            draw(c, right - (column - 6 * mm) / 2, top, title, FONT_BOLD, BODY + 1, "center")
            lines = ("الاسم: ....................", "التوقيع: ..................", "التاريخ: ..../..../........")
            for j, line in enumerate(lines):
                draw(c, right, top - (10 + 9 * j) * mm, line, FONT, BODY, "right")
            if self.stamp:
                size = min(self.STAMP, column - 6 * mm - width(lines[0], FONT, BODY) - 4 * mm)
                left = right - column + 6 * mm
                c.setStrokeColor(GRID)
                c.setDash(3, 2)
                c.rect(left, top - 8 * mm - size, size, size)
                c.setDash()
                c.setFillColor(colors.grey)
                draw(c, left + size / 2, top - 8 * mm - size / 2, "الختم", FONT, BODY, "center")


def signatures(titles: Sequence[str], width: float, *, stamp: bool = True) -> SignatureBlock:
    return SignatureBlock(titles, width, stamp=stamp)


def _label(x: float, y: float, text: str, size: float = BODY, align: str = "center", font: str = FONT) -> String:
    """A chart label: HarfBuzz glyphs placed by their own width (renderPDF would measure them without positions)."""
    glyphs = shaped(text, font)
    drawn = glyph_width(glyphs, font, size)
    left = x - drawn if align == "right" else x - drawn / 2 if align == "center" else x
    return String(left, y, glyphs, fontName=font, fontSize=size, textAnchor="start")


def nice_step(top: float, ticks: int = 5) -> float:
    """A round step (1, 2, 5 × 10ⁿ) so that a few ticks reach above `top`."""
    raw = max(top, 1) / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(s * power for s in (1, 2, 2.5, 5, 10) if s * power >= raw)


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    width: float,
    height: float = 62 * mm,
    *,
    x_title: str = "",
    y_title: str = "",
) -> Drawing:
    """Vertical bars, categories from right to left as the page reads, with axis titles and a top tick above the
    tallest bar."""
    labels, values = list(reversed(list(labels))), [float(v) for v in reversed(list(values))]
    drawing = Drawing(width, height)
    chart = VerticalBarChart()
    left, bottom = 48, 30 + (12 if x_title else 0)
    chart.x, chart.y = left, bottom
    chart.width, chart.height = width - left - 10, height - bottom - 8
    chart.data = [values or [0]]
    chart.categoryAxis.categoryNames = [""] * max(1, len(labels))
    chart.categoryAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontName = FONT
    chart.valueAxis.labels.fontSize = BODY
    chart.valueAxis.labelTextFormat = lambda v: number(v)
    step = nice_step(max(values or [0]))
    chart.valueAxis.valueMin = 0
    chart.valueAxis.valueStep = step
    chart.valueAxis.valueMax = step * (math.floor(max(values or [0]) / step) + 1)
    chart.bars[0].fillColor = ACCENT
    chart.bars[0].strokeColor = None
    drawing.add(chart)
    slot = chart.width / max(1, len(labels))
    for i, label in enumerate(labels):
        lines = wrap(label, slot - 4, FONT, BODY)[:2]
        for j, line in enumerate(lines):
            drawing.add(_label(chart.x + slot * (i + 0.5), bottom - 13 - j * 12, line))
    if x_title:
        drawing.add(_label(chart.x + chart.width / 2, 2, x_title, font=FONT_BOLD))
    if y_title:
        title = _label(0, 0, y_title, font=FONT_BOLD)
        # Turned a quarter: it reads bottom to top beside the value axis.
        from reportlab.graphics.shapes import Group

        group = Group(title)
        group.transform = (0, 1, -1, 0, 11, chart.y + chart.height / 2 - glyph_width(title.text, FONT_BOLD, BODY) / 2)
        group.contents[0].x = 0
        drawing.add(group)
    return drawing


def pie_chart(labels: Sequence[str], values: Sequence[float], width: float, height: float = 55 * mm) -> Drawing:
    """A pie with a legend on the right: label and figure per slice."""
    drawing = Drawing(width, height)
    total = sum(values)
    if not total:
        drawing.add(_label(width / 2, height / 2, "لا بيانات"))
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
        drawing.add(_label(width - 16, y, f"{label} — {number(value)} ({share})", align="right"))
        drawing.add(Rect(width - 10, y - 1, 8, 8, fillColor=PALETTE[i % len(PALETTE)], strokeColor=None))
        y -= 15
    return drawing


def qr_code(data: str, size: float = 28 * mm) -> Drawing:
    """A QR code with its quiet zone (four modules) inside `size`: nothing else may be drawn over that square."""
    widget = QrCodeWidget(data, barLevel="M")
    x0, y0, x1, y1 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x1 - x0), 0, 0, size / (y1 - y0), 0, 0])
    drawing.add(widget)
    return drawing


def load_emblem(path: Path | None) -> ImageReader | None:
    """The emblem image, read whole (so a file changed while printing cannot tear the page); a clear Arabic error
    naming the file when it is missing, not a regular file, or not an image."""
    if path is None:
        return None
    try:
        require_regular_file(Path(path), "صورة الشعار")
        reader = ImageReader(io.BytesIO(Path(path).read_bytes()))
        w, h = reader.getSize()
        if not (w > 0 and h > 0):
            raise ValueError("empty image")
        return reader
    except UserError as exc:
        raise UserError(f"{exc.message} — اختر صورة الشعار من جديد في الإعدادات («عام») أو امسحها.") from None
    except Exception as exc:  # PIL raises OSError, UnidentifiedImageError…: a damaged image
        raise UserError(
            f"صورة الشعار غير موجودة أو غير صالحة: {Path(path).name} — اخترها من جديد في الإعدادات («عام») أو امسحها."
        ) from exc


def _blocks(head: Letterhead, page_width: float) -> tuple[list[tuple[str, str, float]], list[str]]:
    """The right block (state, ministry, office, department; wrapped) and the left block (number, dates)."""
    block = (page_width - 2 * MARGIN) * 0.42
    right: list[tuple[str, str, float]] = []
    for text, font, size in (
        (head.state, FONT_BOLD, BODY + 1),
        (head.ministry, FONT, BODY),
        (head.office, FONT_BOLD, BODY + 1),
        (head.department, FONT, BODY),
    ):
        if text:
            right += [(line, font, size) for line in wrap(text, block, font, size)]
    left = []
    if head.number:
        left.append(f"الرقم: {ltr(head.number)}")
    left.append(f"التاريخ: {style().date(head.printed_on)} م")
    hijri = hijri_text(head.printed_on)
    if hijri:
        left.append(f"الموافق: {hijri}")
    return right, left


LINE = 5.2 * mm


def letterhead_height(head: Letterhead, page_width: float) -> float:
    right, left = _blocks(head, page_width)
    rows = max(len(right), len(left))
    return max(rows * LINE, EMBLEM_HEIGHT if head.emblem else 0) + 4 * mm


class _NumberedCanvas(canvas.Canvas):
    """Holds every page until the end, so each footer can say how many pages there are."""

    def __init__(self, *args, letterhead: Letterhead, emblem=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._pages: list[dict] = []
        self.letterhead = letterhead
        self.emblem = emblem

    def showPage(self):  # noqa: N802 - reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self):
        total = len(self._pages)
        for number_, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self._decorate(number_, total)
            super().showPage()
        super().save()

    def _first_page_head(self, page_width: float, page_height: float) -> float:
        head = self.letterhead
        right, left = _blocks(head, page_width)
        top = page_height - MARGIN + 2 * mm
        for i, (line, font, size) in enumerate(right):
            self.setFillColor(ACCENT if font == FONT_BOLD else colors.black)
            draw(self, page_width - MARGIN, top - (i + 1) * LINE + 1.5 * mm, line, font, size, "right")
        self.setFillColor(colors.black)
        block = (page_width - 2 * MARGIN) * 0.3
        for i, line in enumerate(left):
            draw(self, MARGIN + block, top - (i + 1) * LINE + 1.5 * mm, line, FONT, BODY, "right")
        if self.emblem is not None:
            w, h = self.emblem.getSize()
            drawn_w = EMBLEM_HEIGHT * w / h if h else EMBLEM_HEIGHT
            self.drawImage(
                self.emblem,
                page_width / 2 - drawn_w / 2,
                top - EMBLEM_HEIGHT - 1 * mm,
                drawn_w,
                EMBLEM_HEIGHT,
                mask="auto",
                preserveAspectRatio=True,
            )
        return top - letterhead_height(head, page_width)

    def _later_page_head(self, page_width: float, page_height: float) -> float:
        """Two lines: the office and the document number; then what the page belongs to (round, association,
        month), whole."""
        head = self.letterhead
        top = page_height - MARGIN + 2 * mm - LINE + 1.5 * mm
        usable = page_width - 2 * MARGIN
        self.setFillColor(ACCENT)
        draw(self, page_width - MARGIN, top, fit(head.office, usable * 0.6, FONT_BOLD, BODY), FONT_BOLD, BODY)
        self.setFillColor(colors.black)
        if head.number:
            draw(self, MARGIN, top, f"الرقم: {ltr(head.number)}", FONT, BODY, "left")
        running = fit(head.running or head.title, usable, FONT_BOLD, BODY)
        draw(self, page_width / 2, top - LINE, running, FONT_BOLD, BODY, "center")
        return top - LINE - 2.5 * mm

    def _decorate(self, page: int, total: int) -> None:
        head = self.letterhead
        page_width, page_height = self._pagesize
        if page == 1:
            rule = self._first_page_head(page_width, page_height)
        else:
            rule = self._later_page_head(page_width, page_height)
        self.setStrokeColor(ACCENT)
        self.setLineWidth(0.8)
        self.line(MARGIN, rule, page_width - MARGIN, rule)
        if head.draft:
            self._draft_mark(page_width, page_height, rule)
        # Footer: the title on the right, the page in the middle, the confidentiality mark on the left.
        bottom = 9 * mm
        self.setLineWidth(0.4)
        self.line(MARGIN, bottom + 5 * mm, page_width - MARGIN, bottom + 5 * mm)
        self.setFillColor(colors.black)
        draw(self, page_width / 2, bottom, f"صفحة {page} من {total}", FONT, BODY, "center")
        self.setFillColor(colors.grey)
        title = wrap(head.title, (page_width - 2 * MARGIN) * 0.33, FONT, BODY)[0]
        draw(self, page_width - MARGIN, bottom, title, FONT, BODY, "right")
        if head.confidential:
            self.setFillColor(WARNING)
            draw(self, MARGIN, bottom, CONFIDENTIAL_MARK, FONT_BOLD, BODY, "left")

    def _draft_mark(self, page_width: float, page_height: float, rule: float) -> None:
        """A red line under the letterhead and a large pale mark across the page: not yet approved."""
        self.setFillColor(WARNING)
        draw(self, page_width / 2, rule - 5 * mm, DRAFT_MARK, FONT_BOLD, BODY + 3, "center")
        self.saveState()
        self.setFillColor(colors.Color(0.66, 0.27, 0.23, alpha=0.13))
        self.translate(page_width / 2, page_height / 2)
        self.rotate(35)
        draw(self, 0, 0, DRAFT_MARK, FONT_BOLD, 64 if page_width < page_height else 72, "center")
        self.restoreState()


DRAFT_BAND = 8 * mm  # room under the letterhead for the draft line


def build_pdf(target: Path, letterhead: Letterhead, story: list, *, wide: bool = False) -> Path:
    """Write the document to a partial file beside the target, then rename it: no half-written report is ever left,
    and an unwritable folder is an Arabic error naming it. The title opens the first page."""
    register_fonts()
    pagesize = landscape(A4) if wide else A4
    emblem = load_emblem(letterhead.emblem)
    target = Path(target)
    partial = target.with_name(target.name + ".part")
    first_top = MARGIN + letterhead_height(letterhead, pagesize[0]) + 3 * mm
    later_top = MARGIN + 6 * mm + LINE
    if letterhead.draft:
        first_top += DRAFT_BAND
        later_top += DRAFT_BAND
    bottom = MARGIN + 2 * mm
    doc = BaseDocTemplate(
        str(partial),
        pagesize=pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=later_top,
        bottomMargin=bottom,
        title=letterhead.title,
        author=letterhead.office,
        creator="AidOffice",  # the file's metadata names the program; the printed page does not
    )
    height = pagesize[1]
    first = Frame(MARGIN, bottom, doc.width, height - first_top - bottom, id="first", leftPadding=0, rightPadding=0)
    later = Frame(MARGIN, bottom, doc.width, height - later_top - bottom, id="later", leftPadding=0, rightPadding=0)
    doc.addPageTemplates([PageTemplate(id="first", frames=[first]), PageTemplate(id="later", frames=[later])])
    title = Paragraph(letterhead.title, 16, bold=True, align="center", color=ACCENT, space_after=6)
    story = [NextPageTemplate("later"), title, *story]
    try:
        doc.build(story, canvasmaker=lambda *a, **k: _NumberedCanvas(*a, letterhead=letterhead, emblem=emblem, **k))
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


def frame_height(letterhead: Letterhead, *, first: bool, wide: bool = False) -> float:
    """The height of the story's frame on the first or a later page (for documents laid out by measurement)."""
    pagesize = landscape(A4) if wide else A4
    top = MARGIN + (letterhead_height(letterhead, pagesize[0]) + 3 * mm if first else 6 * mm + LINE)
    if letterhead.draft:
        top += DRAFT_BAND
    return pagesize[1] - top - (MARGIN + 2 * mm)
