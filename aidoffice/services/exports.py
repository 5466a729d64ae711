"""Every list to .xlsx (right-to-left, Arabic headers, dates as dates, IDs as text), and the blank import template."""

from __future__ import annotations

import logging
from pathlib import Path

from aidoffice.domain.access import Permission
from aidoffice.domain.reference import CATEGORIES
from aidoffice.domain.vocab import AssociationStatus, DistributionStatus, LegalForm, LineStatus, ReferralStatus, Sex
from aidoffice.formats.xlsx_write import Column, write_table, write_template
from aidoffice.services.context import ServiceContext
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
            Column("سنة الميلاد", NUM, 12),
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
        count = write_table(out, title, columns, (_display(kind, r) for r in uow.repo.export_rows(kind)))
        uow.repo.audit("export", kind, "", {"rows": count}, office_id=ctx.office_id)
        uow.commit()
    log.info("exported %s: %d rows", kind, count)
    return count


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
        districts = [d.name for d in uow.repo.districts()]
    categories = [c.name for c in CATEGORIES if not c.sensitive]
    write_template(out, TEMPLATE_COLUMNS, {"الجنس": ["ذكر", "أنثى"], "المديرية": districts, "الفئة": categories})
