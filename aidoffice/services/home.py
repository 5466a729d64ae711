"""Today's work for the home page: pending and overdue referrals, dormant associations, licences, approvals."""

from __future__ import annotations

from dataclasses import dataclass

from aidoffice.services.context import ServiceContext
from aidoffice.services.tables import TableQuery, TableRow, count_rows, page_rows

SHOWN = 8


@dataclass(frozen=True)
class WorkItem:
    """One box of the home page: a title, how many, the first few rows, and the table and filter that list them."""

    key: str
    title: str
    count: int
    rows: tuple[TableRow, ...]
    table: str
    filters: dict[str, str]


_ITEMS = (
    ("overdue_referrals", "إحالات متأخرة عن موعد الرد", "referrals", {"overdue": "1"}),
    ("pending_referrals", "إحالات بانتظار رد الجمعية", "referrals", {"status": "sent"}),
    ("dormant", "جمعيات بلا نشاط منذ ١٢ شهراً", "associations", {"activity": "dormant"}),
    ("licences", "تراخيص تنتهي خلال ٦٠ يوماً أو انتهت", "associations", {"licence": "expiring", "status": "active"}),
    ("approvals", "توزيعات بانتظار الاعتماد", "distributions", {"status": "draft"}),
)


def todays_work(ctx: ServiceContext) -> list[WorkItem]:
    out = []
    for key, title, table, filters in _ITEMS:
        query = TableQuery(filters=dict(filters))
        out.append(
            WorkItem(
                key,
                title,
                count_rows(ctx, table, query),
                tuple(page_rows(ctx, table, query, 0, SHOWN)),
                table,
                dict(filters),
            )
        )
    return out
