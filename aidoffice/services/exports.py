"""Every list to .xlsx (right-to-left, Arabic headers, dates as dates, IDs as text), and the blank import template."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

from aidoffice.domain.access import Permission
from aidoffice.domain.reference import CATEGORIES
from aidoffice.domain.vocab import AssociationStatus, DistributionStatus, LegalForm, LineStatus, ReferralStatus, Sex
from aidoffice.errors import UserError
from aidoffice.formats.pdf.listing import ListingData, listing_pdf
from aidoffice.formats.pdf.text import document_style
from aidoffice.formats.xlsx_write import Column, write_table, write_template
from aidoffice.services import tables
from aidoffice.services.context import ServiceContext
from aidoffice.services.office import get_office
from aidoffice.texts import DUPLICATE_DECISIONS

log = logging.getLogger("aidoffice.export")

C, CODE, NUM, DATE = "text", "code", "number", "date"
EXPORTS: dict[str, tuple[str, list[Column]]] = {
    "associations": (
        "الجمعيات",
        [
            Column("اسم الجمعية", C, 40),
            Column("رقم الإشهار", CODE),
            Column("تاريخ الإشهار", DATE),
            Column("الشكل القانوني"),
            Column("الحالة"),
            Column("تاريخ الحالة", DATE),
            Column("المديرية"),
            Column("الهاتف", CODE),
            Column("انتهاء الترخيص", DATE),
        ],
    ),
    "persons": (
        "المستفيدون",
        [
            Column("الاسم", C, 36),
            Column("رقم البطاقة", CODE),
            Column("الهاتف", CODE),
            Column("الجنس", C, 10),
            Column("تاريخ الميلاد", DATE),
            Column("سنة الميلاد", "year", 12),
            Column("المديرية"),
            Column("اسم الزوج/الزوجة", C, 30),
            Column("المعرف", CODE, 38),
        ],
    ),
    "households": (
        "الأسر",
        [
            Column("رب/ربة الأسرة", C, 36),
            Column("رقم البطاقة", CODE),
            Column("عدد الأفراد", NUM, 12),
            Column("الدخل"),
            Column("السكن"),
            Column("المديرية"),
            Column("المعرف", CODE, 38),
        ],
    ),
    "projects": (
        "المشاريع",
        [
            Column("المشروع", C, 36),
            Column("الجمعية", C, 36),
            Column("المانح", C, 24),
            Column("القطاع"),
            Column("نوع المساعدة"),
            Column("البداية", DATE),
            Column("النهاية", DATE),
            Column("الأسر المستهدفة", NUM),
            Column("الميزانية", NUM),
            Column("العملة", C, 10),
        ],
    ),
    "distributions": (
        "التوزيعات",
        [
            Column("التاريخ", DATE),
            Column("الجمعية", C, 36),
            Column("المشروع", C, 36),
            Column("نوع المساعدة"),
            Column("الصنف"),
            Column("الموقع"),
            Column("المديرية"),
            Column("الكمية للأسرة", NUM),
            Column("المبلغ للأسرة", NUM),
            Column("العملة", C, 10),
            Column("الحالة"),
        ],
    ),
    "distribution_lines": (
        "كشوف التوزيع",
        [
            Column("التاريخ", DATE),
            Column("الجمعية", C, 36),
            Column("نوع المساعدة"),
            Column("الاسم", C, 36),
            Column("رقم البطاقة", CODE),
            Column("الكمية", NUM),
            Column("المبلغ", NUM),
            Column("الحالة"),
            Column("السبب", C, 30),
        ],
    ),
    "referrals": (
        "الإحالات",
        [
            Column("تاريخ الإحالة", DATE),
            Column("الاسم", C, 36),
            Column("رقم البطاقة", CODE),
            Column("الجمعية", C, 36),
            Column("الاحتياج", C, 30),
            Column("الحالة"),
            Column("الموعد", DATE),
            Column("تاريخ الإغلاق", DATE),
            Column("النتيجة", C, 30),
        ],
    ),
    "review_queue": (
        "مراجعة التكرار",
        [
            Column("القرار"),
            Column("الدرجة", NUM, 10),
            Column("الاسم أ", C, 36),
            Column("البطاقة أ", CODE),
            Column("الاسم ب", C, 36),
            Column("البطاقة ب", CODE),
            Column("الأسباب", C, 60),
        ],
    ),
}

_LABELS = {
    **{s.value: s.label for s in AssociationStatus},
    **{f.value: f.label for f in LegalForm},
    **{s.value: s.label for s in Sex},
    **{s.value: s.label for s in DistributionStatus},
    **{s.value: s.label for s in LineStatus},
    **{s.value: s.label for s in ReferralStatus},
    **DUPLICATE_DECISIONS,
}
_TRANSLATED = {
    "associations": {3, 4},
    "persons": {3},
    "distributions": {10},
    "distribution_lines": {7},
    "referrals": {5},
    "review_queue": {0},
}


def _display(kind: str, row) -> list:
    values = list(row)
    for i in _TRANSLATED.get(kind, ()):
        values[i] = _LABELS.get(values[i], values[i])
    if kind == "review_queue":
        values[-1] = "؛ ".join(values[-1] or [])
        values[1] = round(float(values[1]), 1)
    return values


def export_list(ctx: ServiceContext, kind: str, out: Path) -> int:
    """Write one list to `out` (.xlsx); returns the number of rows."""
    ctx.require(Permission.EXPORT)
    if kind not in EXPORTS:
        raise ValueError(kind)
    title, columns = EXPORTS[kind]
    with ctx.uow() as uow:
        rows = (_display(kind, r) for r in uow.listings.export_rows(kind))
        count = write_table(out, title, columns, rows, style=ctx.style)
        uow.audit_trail.audit("export", kind, "", {"rows": count}, office_id=ctx.office_id)
        uow.commit()
    log.info("exported %s: %d rows", kind, count)
    return count


PRINT_LIMIT = 5_000  # rows a printed list may hold; more is a book nobody reads: narrow the view first
_XLSX_KINDS = {"code": CODE, "number": NUM, "year": "year", "date": DATE}


def _cell_value(value, column: tables.TableColumn, style, *, printed: bool):
    """A cell of the view: typed for a workbook (dates, times and numbers stay dates and numbers); for paper, a local
    time and a year written out, as the screen shows them."""
    if isinstance(value, bool):
        return "نعم" if value else ""
    if printed and isinstance(value, datetime):
        return style.datetime(value)
    if printed and column.kind == "year" and value is not None:
        return style.year(value)
    return value


def _view_values(ctx: ServiceContext, kind: str, query: tables.TableQuery, *, printed: bool = False):
    columns, style = tables.TABLES[kind].columns, ctx.style
    for chunk in tables.view_rows(ctx, kind, query):
        for row in chunk:
            yield [_cell_value(v, c, style, printed=printed) for v, c in zip(row.values, columns, strict=True)]


def _audited_view(ctx: ServiceContext, action: str, kind: str, count: int) -> None:
    with ctx.uow() as uow:
        uow.audit_trail.audit(action, kind, "", {"rows": count, "view": True}, office_id=ctx.office_id)
        uow.commit()


def export_view(ctx: ServiceContext, kind: str, query: tables.TableQuery, out: Path) -> int:
    """The list as it is on screen (its search, filters and order, its columns) to `out` (.xlsx); the rows written.
    Text that would start a formula stays text (formats/cells.py), as in every other export."""
    ctx.require(Permission.EXPORT)
    spec = tables.TABLES[kind]
    columns = [Column(c.title, _XLSX_KINDS.get(c.kind, C), max(10, c.width // 7)) for c in spec.columns]
    if kind == "audit":
        columns[0] = Column(spec.columns[0].title, DATE, 18)  # the local date and time, a typed date-time cell
    count = write_table(out, spec.title, columns, _view_values(ctx, kind, query), style=ctx.style)
    _audited_view(ctx, "export", kind, count)
    log.info("exported the view of %s: %d rows", kind, count)
    return count


def print_view(ctx: ServiceContext, kind: str, query: tables.TableQuery, out: Path, *, limit: int = PRINT_LIMIT) -> int:
    """The list as it is on screen to a PDF: the view in words, the rows, and a totals row (the count and the sums
    of the summed columns). Refused above `limit` rows, before anything is written."""
    ctx.require(Permission.EXPORT)
    spec = tables.TABLES[kind]
    rows: list[list] = []
    for values in _view_values(ctx, kind, query, printed=True):
        rows.append(values)
        if len(rows) > limit:
            raise UserError(
                f"القائمة المعروضة أطول من {limit:,} صف فلا تُطبع: ضيّقها بالبحث أو التصفية ثم اطبعها، "
                "أو صدّرها إلى Excel. لم يُكتب أي ملف."
            )
    sums = tables.view_totals(ctx, kind, query).sums
    totals = None
    if rows:
        totals = [sums.get(c.key, "") if c.summed else "" for c in spec.columns]
        totals[0] = f"المجموع: {ctx.style.number(len(rows))} صف"
    office = get_office(ctx)
    with document_style(ctx.style):  # the office's digits and date order on the paper
        listing_pdf(
            ListingData(
                office=office.name if office else "",
                title=spec.title,
                printed_on=ctx.today(),
                view=tables.describe_view(ctx, kind, query),
                headers=[c.title for c in spec.columns],
                widths=[c.width for c in spec.columns],
                rows=rows,
                numeric=[i for i, c in enumerate(spec.columns) if c.kind in ("number", "code", "date", "year")],
                totals=totals,
            ),
            out,
        )
    _audited_view(ctx, "report", kind, len(rows))
    log.info("printed the view of %s: %d rows", kind, len(rows))
    return len(rows)


TEMPLATE_COLUMNS = [
    Column("م", NUM, 6),
    Column("الاسم الرباعي", C, 36),
    Column("رقم البطاقة", CODE),
    Column("الجوال", CODE),
    Column("تاريخ الميلاد", C),
    Column("الجنس", C, 10),
    Column("عدد أفراد الأسرة", NUM, 14),
    Column("المديرية"),
    Column("الفئة", C, 24),
    Column("ملاحظات", C, 30),
]


def write_import_template(ctx: ServiceContext, out: Path) -> None:
    """A blank list for associations, with drop-downs for sex, district and category."""
    with ctx.uow() as uow:
        districts = [d.name for d in uow.references.districts()]
    categories = [c.name for c in CATEGORIES if not c.sensitive]
    write_template(out, TEMPLATE_COLUMNS, {"الجنس": ["ذكر", "أنثى"], "المديرية": districts, "الفئة": categories})
