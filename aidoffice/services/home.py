"""Today's work for the home page: pending and overdue referrals, dormant associations, licences, approvals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from aidoffice.domain.display import DEFAULT_STYLE, DisplayStyle
from aidoffice.services.context import ServiceContext
from aidoffice.services.tables import TableQuery, TableRow, count_rows, page_rows

SHOWN = 8


def _days(n: int) -> str:
    return {1: "يوماً واحداً", 2: "يومين"}.get(n, f"{n} أيام" if 3 <= n <= 10 else f"{n} يوماً")


def _due(due: date | None, today: date, style: DisplayStyle = DEFAULT_STYLE) -> str:
    """A referral's answer date as the clerk needs it: late by how many days, due today, or due on a date."""
    if due is None:
        return ""
    if due < today:
        return f" — متأخرة {_days((today - due).days)} (كان الرد مطلوباً في {style.date(due)})"
    if due == today:
        return " — الرد مطلوب اليوم"
    return f" — الرد مطلوب قبل {style.date(due)}"


def _line(table: str, row: TableRow, today: date, style: DisplayStyle = DEFAULT_STYLE) -> str:
    """One line of a box, in reading order: who or what, then where or when."""
    v = row.values
    if table == "referrals":  # person, association, need, status, referred on, due on
        return f"{v[0]} — {v[1]}{_due(v[5], today, style)}"
    if table == "associations":  # name, number, form, status, district, licence expiry, last activity
        if "dormant" in row.flags:
            return f"{v[0]} — آخر نشاط {style.date(v[6])}" if v[6] else f"{v[0]} — لا نشاط مسجل"
        return f"{v[0]} — الترخيص حتى {style.date(v[5])}" if v[5] else str(v[0])
    if table == "distributions":  # date, association, project, aid type, …
        return f"{style.date(v[0])} — {v[1]} — {v[3]}"
    return str(v[0])


@dataclass(frozen=True)
class WorkItem:
    """One box of the home page: a title, how many, the first few rows, and the table and filter that list them."""

    key: str
    title: str
    count: int
    rows: tuple[TableRow, ...]
    table: str
    filters: dict[str, str]
    lines: tuple[str, ...] = ()


_ITEMS = (
    ("overdue_referrals", "إحالات متأخرة عن موعد الرد", "referrals", {"overdue": "1"}),
    ("pending_referrals", "إحالات بانتظار رد الجمعية", "referrals", {"status": "sent"}),
    ("dormant", "جمعيات خاملة (مسجلة خاملة أو بلا نشاط منذ 12 شهراً)", "associations", {"activity": "dormant"}),
    ("licences", "تراخيص تنتهي خلال 60 يوماً أو انتهت", "associations", {"licence": "expiring", "status": "active"}),
    ("approvals", "توزيعات بانتظار الاعتماد", "distributions", {"status": "draft"}),
)


def todays_work(ctx: ServiceContext) -> list[WorkItem]:
    out = []
    for key, title, table, filters in _ITEMS:
        query = TableQuery(filters=dict(filters))
        rows = tuple(page_rows(ctx, table, query, 0, SHOWN))
        out.append(
            WorkItem(
                key,
                ctx.style.digits_of(title),
                count_rows(ctx, table, query),
                rows,
                table,
                dict(filters),
                tuple(_line(table, r, ctx.today(), ctx.style) for r in rows),
            )
        )
    return out
