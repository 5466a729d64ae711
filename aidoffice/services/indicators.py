"""Indicators for a period with filters, and the "who does what where" matrix that shows gaps and overlaps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from aidoffice.domain.access import Permission
from aidoffice.domain.display import currency_name
from aidoffice.domain.vocab import Sector
from aidoffice.errors import UserError
from aidoffice.formats.xlsx_write import Column, write_sheets
from aidoffice.services.context import ServiceContext
from aidoffice.services.reports import parse_month
from aidoffice.store import models as m
from aidoffice.store import reporting


@dataclass(frozen=True)
class IndicatorFilter:
    first_month: str  # YYYY-MM, inclusive
    last_month: str  # YYYY-MM, inclusive
    district_id: str = ""
    association_id: str = ""
    aid_type: str = ""  # aid type code


@dataclass(frozen=True)
class Indicators:
    start: date
    end: date  # exclusive
    households_reached: int
    lines_received: int
    distributions: int
    amounts: list[tuple[str, float]]
    by_aid_type: list[tuple[str, int]]
    by_district: list[tuple[str, int]]


@dataclass(frozen=True)
class Matrix:
    """Rows are districts, columns sectors; each cell lists the associations that distributed there."""

    districts: list[str]
    sectors: list[tuple[str, str]]  # (code, label)
    cells: dict[tuple[str, str], list[str]] = field(default_factory=dict)

    def count(self, district: str, sector: str) -> int:
        return len(self.cells.get((district, sector), []))


def period(f: IndicatorFilter, today: date) -> tuple[date, date]:
    y1, m1 = parse_month(f.first_month, today)
    y2, m2 = parse_month(f.last_month, today)
    start, last = date(y1, m1, 1), date(y2, m2, 1)
    if last < start:
        raise UserError("نهاية الفترة قبل بدايتها.", field="last_month")
    end = date(y2 + (m2 == 12), m2 % 12 + 1, 1)
    return start, end


def indicators(ctx: ServiceContext, f: IndicatorFilter) -> Indicators:
    start, end = period(f, ctx.today())
    with ctx.uow() as uow:
        aid_type = f.aid_type or None
        if aid_type and uow.records.first(m.AidType, code=aid_type) is None:
            raise UserError("نوع المساعدة غير معروف.", field="aid_type")
        data = reporting.period_indicators(
            uow.session, start, end, f.district_id or None, f.association_id or None, aid_type
        )
    return Indicators(start=start, end=end, **data)


def who_does_what_where(ctx: ServiceContext, f: IndicatorFilter) -> Matrix:
    start, end = period(f, ctx.today())
    with ctx.uow() as uow:
        rows = reporting.who_what_where(uow.session, start, end)
        districts = reporting.district_names(uow.session)
    cells: dict[tuple[str, str], list[str]] = {}
    for district, sector, association in rows:
        cells.setdefault((district, sector), []).append(association)
    return Matrix(districts, [(s.value, s.label) for s in Sector], {k: sorted(v) for k, v in cells.items()})


def export_indicators(ctx: ServiceContext, f: IndicatorFilter, target: Path) -> Path:
    """The figures, households by aid type and by district, and the matrix, one sheet each, right to left."""
    ctx.require(Permission.EXPORT)
    data = indicators(ctx, f)
    matrix = who_does_what_where(ctx, f)
    style = ctx.style
    figures = [
        ("الفترة", f"{style.date(data.start)} — {style.date(data.end)}"),
        ("الأسر التي استلمت", data.households_reached),
        ("حالات الاستلام", data.lines_received),
        ("جولات التوزيع", data.distributions),
        *[(f"المبلغ ({currency_name(c)})", a) for c, a in data.amounts],
    ]
    matrix_rows = [
        [d, *(", ".join(matrix.cells.get((d, code), [])) or "لا أحد" for code, _ in matrix.sectors)]
        for d in matrix.districts
    ]
    write_sheets(
        Path(target),
        [
            ("المؤشرات", [Column("المؤشر", width=30), Column("القيمة", "number", 24)], figures),
            ("حسب نوع المساعدة", [Column("نوع المساعدة", width=26), Column("الأسر", "number", 12)], data.by_aid_type),
            ("حسب المديرية", [Column("المديرية", width=26), Column("الأسر", "number", 12)], data.by_district),
            (
                "من يعمل ماذا وأين",
                [Column("المديرية", width=22), *(Column(label, width=30) for _, label in matrix.sectors)],
                matrix_rows,
            ),
        ],
        style=style,
    )
    return Path(target)
