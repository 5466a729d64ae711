"""The desktop's tables: their columns in Arabic, filters, and paged rows (filtered, sorted and paged in SQL)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from aidoffice.domain.access import Permission
from aidoffice.domain.aid_rules import is_dormant
from aidoffice.domain.arabic import normalize_digits, normalize_text, search_tokens
from aidoffice.domain.display import DEFAULT_STYLE, DisplayStyle
from aidoffice.domain.vocab import (
    AssociationStatus,
    DistributionStatus,
    LegalForm,
    LineStatus,
    ProjectStatus,
    ReferralStatus,
    Sex,
)
from aidoffice.errors import UserError
from aidoffice.services import audit_view
from aidoffice.services.context import ServiceContext
from aidoffice.store import models as m
from aidoffice.store import tables as store_tables

COUNT_CAP = 10_000  # a search that matches more shows "more than 10,000": nobody scrolls further, typing narrows
SORT_ANY_UP_TO = 20_000  # rows a column without an index may be sorted on (SQLite sorts them in ≈ 50 ms)
_NUMBER_LIKE = re.compile(r"^[+\d][\d\s\-()]*$")


@dataclass(frozen=True)
class TableColumn:
    key: str
    title: str
    kind: str = "text"  # text, code (left-to-right), date, number, year (a number without separators), flag
    width: int = 140
    indexed: bool = True  # False: sorting by it reads the whole table, allowed only on narrowed results
    summed: bool = False  # a count worth adding up: its sum over the view shows under the table
    computed: bool = False  # made after the query (the audit's readable columns): not sorted, filtered or summed


@dataclass(frozen=True)
class TableSpec:
    title: str
    columns: tuple[TableColumn, ...]
    search: str  # "name" (FTS over persons and digits), "like" (substring), "" (none)


@dataclass(frozen=True)
class ColumnFilter:
    """A column header's filter: the rows whose cell `is` a value (None: empty), or `contains` a text."""

    op: str  # "is" | "contains"
    value: object
    label: str = ""  # the value as the table shows it


@dataclass
class TableQuery:
    text: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    sort: str | None = None
    descending: bool = False
    columns: dict[str, ColumnFilter] = field(default_factory=dict)  # column key → its header's filter

    def copy(self) -> TableQuery:
        """An independent copy (a background fetch must not see the view's next change)."""
        return replace(self, filters=dict(self.filters), columns=dict(self.columns))


def query_to_dict(query: TableQuery) -> dict:
    """A view as plain JSON (a request to export it is stored and carried out later, by someone else)."""

    def plain(value):
        return {"date": value.isoformat()} if isinstance(value, date) else value

    return {
        "text": query.text,
        "filters": dict(query.filters),
        "sort": query.sort,
        "descending": query.descending,
        "columns": {k: {"op": f.op, "value": plain(f.value), "label": f.label} for k, f in query.columns.items()},
    }


def query_from_dict(data: dict) -> TableQuery:
    def typed(value):
        return date.fromisoformat(value["date"]) if isinstance(value, dict) and "date" in value else value

    columns = {
        str(k): ColumnFilter(str(f["op"]), typed(f.get("value")), str(f.get("label", "")))
        for k, f in (data.get("columns") or {}).items()
    }
    return TableQuery(
        text=str(data.get("text") or ""),
        filters={str(k): str(v) for k, v in (data.get("filters") or {}).items()},
        sort=data.get("sort"),
        descending=bool(data.get("descending")),
        columns=columns,
    )


@dataclass(frozen=True)
class TableRow:
    id: str
    values: tuple
    flags: frozenset[str] = frozenset()  # e.g. {"dormant"}, {"reversed"}: the view colours or marks the row
    raw: tuple = ()  # the stored values behind `values` (codes, not labels): what a "show only this" filter uses


@dataclass(frozen=True)
class ColumnValue:
    value: object  # as stored (a code, a date, a number; None for an empty cell)
    label: str  # as the table shows it
    count: int


@dataclass(frozen=True)
class ViewTotals:
    """What the status bar says of the view: its rows and the sums of its summed columns (key → sum)."""

    sums: dict[str, int | Decimal]


C = TableColumn
TABLES: dict[str, TableSpec] = {
    "associations": TableSpec(
        "الجمعيات",
        (
            C("name", "اسم الجمعية", width=260),
            C("registration_number", "رقم الإشهار", "code", 100),
            C("legal_form", "الشكل القانوني", width=90),
            C("status", "الحالة", width=90),
            C("district", "المديرية"),
            C("licence_expiry", "انتهاء الترخيص", "date", 110),
            C("last_activity", "آخر نشاط", "date", 110),
        ),
        "like",
    ),
    "persons": TableSpec(
        "المستفيدون",
        (
            C("full_name", "الاسم", width=280, indexed=False),
            C("national_id", "رقم البطاقة", "code", 130),
            C("phone", "الهاتف", "code", 120),
            C("sex", "الجنس", width=60, indexed=False),
            C("birth_year", "سنة الميلاد", "year", 90, indexed=False),
            C("district", "المديرية", indexed=False),
        ),
        "name",
    ),
    "households": TableSpec(
        "الأسر",
        (
            C("head", "رب الأسرة", width=260, indexed=False),
            C("national_id", "رقم البطاقة", "code", 130, indexed=False),
            C("size", "عدد الأفراد", "number", 80, indexed=False, summed=True),
            C("members", "المسجلون", "number", 80, indexed=False, summed=True),
            C("district", "المديرية", indexed=False),
            C("address", "العنوان", width=200, indexed=False),
        ),
        "name",
    ),
    "projects": TableSpec(
        "المشاريع",
        (
            C("title", "المشروع", width=240),
            C("association", "الجمعية", width=200),
            C("aid_type", "نوع المساعدة"),
            C("donor", "الجهة المانحة"),
            C("start_date", "البداية", "date", 100),
            C("end_date", "النهاية", "date", 100),
            C("status", "الحالة", width=80),
        ),
        "like",
    ),
    "distributions": TableSpec(
        "التوزيعات",
        (
            C("distribution_date", "التاريخ", "date", 100),
            C("association", "الجمعية", width=200),
            C("project", "المشروع", width=200),
            C("aid_type", "نوع المساعدة"),
            C("site", "الموقع"),
            C("status", "الحالة", width=80),
            C("lines", "المستفيدون", "number", 80, summed=True),
        ),
        "like",
    ),
    "referrals": TableSpec(
        "الإحالات",
        (
            C("person", "المستفيد", width=220),
            C("association", "الجمعية", width=200),
            C("need", "الحاجة", width=220),
            C("status", "الحالة", width=90),
            C("referred_on", "تاريخ الإحالة", "date", 110),
            C("due_on", "موعد الرد", "date", 110),
        ),
        "like",
    ),
    "audit": TableSpec(
        "سجل التدقيق",
        (
            C("at", "الوقت", "date", 130, computed=True),
            C("user", "المستخدم", width=150, computed=True),
            C("action", "الإجراء", width=110, indexed=False),
            C("entity", "الجدول", width=130, indexed=False),
            C("record", "السجل", width=200, computed=True),
            C("change", "التغيير (قبل ← بعد)", width=420, computed=True),
        ),
        "like",
    ),
    "lines": TableSpec(
        "كشف التوزيع",
        (
            C("name", "الاسم", width=260),
            C("national_id", "رقم البطاقة", "code", 130),
            C("size", "عدد الأفراد", "number", 80, summed=True),
            C("status", "الحالة", width=110),
            C("reason", "السبب / التجاوز", width=260),
        ),
        "",
    ),
}

_LABELS = {
    "status": {
        "associations": AssociationStatus,
        "projects": ProjectStatus,
        "distributions": DistributionStatus,
        "referrals": ReferralStatus,
        "lines": LineStatus,
    },
    "legal_form": {"associations": LegalForm},
    "sex": {"persons": Sex},
}
_AUDIT_ACTIONS = audit_view.ACTIONS


def _label(kind: str, key: str, value):
    if kind == "audit" and key == "action":
        return _AUDIT_ACTIONS.get(value, value)
    if kind == "audit" and key == "entity":
        return audit_view.table_name(value)
    enum = _LABELS.get(key, {}).get(kind)
    if enum is None or value is None:
        return value
    try:
        return enum(value).label
    except ValueError:
        return value


AUDIT_VIEWS = {"mine": "ما فعلته اليوم", "today": "ما تغيّر اليوم", "all": "السجل كله"}


def _stored(kind: str, column: TableColumn, value):
    """A header filter's value as the database holds it: a label back to its code, a date or a number from text."""
    if value is None:
        return None
    if column.kind == "date":
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value)[:10])
        except ValueError:
            raise UserError(f"قيمة التصفية في العمود «{column.title}» ليست تاريخاً.") from None
    if column.kind in ("number", "year"):
        if isinstance(value, int | Decimal):
            return value
        try:
            number = Decimal(normalize_digits(str(value)).strip())
        except InvalidOperation:
            raise UserError(f"قيمة التصفية في العمود «{column.title}» ليست رقماً.") from None
        return int(number) if number == number.to_integral_value() else number
    if kind == "audit" and column.key == "action":
        return next((code for code, label in _AUDIT_ACTIONS.items() if value == label), value)
    if kind == "audit" and column.key == "entity":
        return next((code for code, label in audit_view.TABLES.items() if value == label), value)
    enum = _LABELS.get(column.key, {}).get(kind)
    if enum is not None:
        try:
            return enum.parse(str(value)).value
        except ValueError:
            return value
    return str(value)


def _column_filters(kind: str, query: TableQuery, *, leave_out: str = "") -> list[tuple[str, str, object]]:
    columns = {c.key: c for c in TABLES[kind].columns}
    out = []
    for key, wanted in query.columns.items():
        column = columns.get(key)
        if key == leave_out:
            continue
        if column is None or column.computed or wanted.op not in ("is", "contains"):
            raise UserError("لا تُصفّى هذه القائمة بهذا العمود.")
        if wanted.op == "contains":
            text = normalize_digits(str(wanted.value or "")).strip()
            if text:
                out.append((key, "contains", text))
        else:
            out.append((key, "is", _stored(kind, column, wanted.value)))
    return out


def _listing_query(
    ctx: ServiceContext, kind: str, query: TableQuery, *, leave_out: str = ""
) -> store_tables.ListingQuery:
    spec = TABLES[kind]
    text = normalize_digits(query.text or "").strip()
    filters = {k: v for k, v in query.filters.items() if v}
    q = store_tables.ListingQuery(
        filters=filters,
        sort=query.sort if query.sort in {c.key for c in spec.columns if not c.computed} else None,
        descending=query.descending,
        today=ctx.today(),
        match_limit=COUNT_CAP + 1,
        columns=_column_filters(kind, query, leave_out=leave_out),
    )
    if kind == "audit":
        view = filters.pop("view", "all")
        if view in ("mine", "today"):
            q.since, q.until = audit_view.day_in_utc(ctx.today())
        if view == "mine":  # one's own entries only, whatever other filter was asked for
            filters["username"] = ctx.username
    if not text:
        return q
    if spec.search == "name":
        if _NUMBER_LIKE.match(text):
            q.digits = re.sub(r"\D", "", text)
            q.phone_digits = ctx.rules.phone.normalize(text) if kind == "persons" else ""
        else:
            q.tokens = search_tokens(text)
            if not q.tokens:  # only connectors such as «بن»: nothing to look for, show everything
                return q
    elif spec.search == "like":
        q.like = normalize_text(text) or text
    return q


def _guard(ctx: ServiceContext, kind: str, query: TableQuery | None = None) -> None:
    # Who did what to whom is for the administrator; what one did oneself today, anyone may read again.
    if kind == "audit" and (query is None or query.filters.get("view") != "mine"):
        ctx.require(Permission.MANAGE_USERS)


def count_rows(ctx: ServiceContext, kind: str, query: TableQuery, *, cap: int | None = COUNT_CAP) -> int:
    """How many rows the table shows. A typed search is counted up to `cap` + 1 only (a half-typed name can match
    half the registry; the table then says "more than"); without one, every row counts and every row scrolls."""
    _guard(ctx, kind, query)
    lq = _listing_query(ctx, kind, query)
    searching = bool(lq.tokens or lq.digits or lq.like)
    with ctx.uow() as uow:
        return store_tables.count(uow.session, kind, lq, cap if searching else None)


def _table_rows(ctx: ServiceContext, kind: str, keys: list[str], raw: list[tuple]) -> list[TableRow]:
    """Stored rows (id, value, …) as the table shows them: values in the spec's column order, codes as labels."""
    spec = TABLES[kind]
    today = ctx.today()
    records = [(row[0], dict(zip(keys, row[1:], strict=True))) for row in raw]
    if kind == "audit":
        lines = audit_view.readable(ctx, [values for _ident, values in records])
        return [
            TableRow(
                ident,
                (line.at, line.user, line.action, line.table, line.record, line.change),
                frozenset(),
                (values["at"], values["username"], values["action"], values["entity"], values["entity_id"], None),
            )
            for (ident, values), line in zip(records, lines, strict=True)
        ]
    out = []
    for ident, values in records:
        flags: set[str] = set()
        if kind == "associations":
            if is_dormant(values["last_activity"], values["proclamation_date"], today, values["status"]):
                flags.add("dormant")
            expiry = values["licence_expiry"]
            if expiry is not None and (expiry - today).days <= 60:
                flags.add("expiring")
        if kind == "referrals" and values["status"] in ("sent", "accepted") and (values["due_on"] or today) < today:
            flags.add("overdue")
        if kind == "lines":
            if values["reversed"]:
                flags.add("reversed")
            if values["status"] == "reversal":
                flags.add("reversal")
        out.append(
            TableRow(
                ident,
                tuple(_label(kind, c.key, values.get(c.key)) for c in spec.columns),
                frozenset(flags),
                tuple(values.get(c.key) for c in spec.columns),
            )
        )
    return out


def page_rows(ctx: ServiceContext, kind: str, query: TableQuery, offset: int, limit: int) -> list[TableRow]:
    """Rows `offset`…`offset + limit` in the table's order, values in the spec's column order, codes as labels."""
    _guard(ctx, kind, query)
    lq = _listing_query(ctx, kind, query)
    with ctx.uow() as uow:
        keys, raw = store_tables.page(uow.session, kind, lq, offset, limit)
    return _table_rows(ctx, kind, keys, raw)


def view_rows(ctx: ServiceContext, kind: str, query: TableQuery, chunk: int = 1000) -> Iterator[list[TableRow]]:
    """Every row of the view (its search, filters and order), a chunk at a time: what an export of it holds."""
    _guard(ctx, kind, query)
    lq = _listing_query(ctx, kind, query)
    searching = bool(lq.tokens or lq.digits or lq.like)
    left = COUNT_CAP if searching else None  # as on screen: a search shows its first 10,000 matches
    with ctx.uow() as uow:
        chunks = store_tables.stream(uow.session, kind, lq, chunk)
        keys = next(chunks)
        for raw in chunks:
            if left is not None:
                raw = raw[:left]
                left -= len(raw)
            if raw:
                yield _table_rows(ctx, kind, keys, raw)
            if left == 0:
                break


def view_totals(ctx: ServiceContext, kind: str, query: TableQuery) -> ViewTotals:
    """The sums of the view's summed columns, added up by SQLite over every row the view holds."""
    _guard(ctx, kind, query)
    keys = [c.key for c in TABLES[kind].columns if c.summed]
    lq = _listing_query(ctx, kind, query)
    with ctx.uow() as uow:
        sums = store_tables.totals(uow.session, kind, lq, keys)
    return ViewTotals({k: v or 0 for k, v in zip(keys, sums, strict=True)})


def column_values(ctx: ServiceContext, kind: str, query: TableQuery, key: str, limit: int = 30) -> list[ColumnValue]:
    """A column's most frequent values in the view (its own header filter left out, so another value can be
    chosen), with their counts: what the header's menu offers."""
    _guard(ctx, kind, query)
    column = next((c for c in TABLES[kind].columns if c.key == key), None)
    if column is None or column.computed:
        raise UserError("لا تُصفّى هذه القائمة بهذا العمود.")
    lq = _listing_query(ctx, kind, query, leave_out=key)
    with ctx.uow() as uow:
        found = store_tables.values(uow.session, kind, lq, key, limit)
    style = ctx.style
    return [ColumnValue(value, _shown_value(_label(kind, key, value), column, style), count) for value, count in found]


def cell_text(value, column: TableColumn | None = None, style: DisplayStyle = DEFAULT_STYLE) -> str:
    """A value as the table's cell shows it (domain.display): the office's digits, date order and separators; a year
    or a numeric code without separators; empty for nothing."""
    if value is None or value == "":
        return ""
    kind = column.kind if column is not None else ""
    if isinstance(value, datetime):
        return style.datetime(value)
    if isinstance(value, date):
        return style.date(value)
    if isinstance(value, bool):
        return "نعم" if value else ""
    if kind in ("year", "code") and isinstance(value, int):
        return style.year(value)
    if isinstance(value, int | float | Decimal):
        return style.number(value)
    return style.digits_of(value)


def _shown_value(value, column: TableColumn | None = None, style: DisplayStyle = DEFAULT_STYLE) -> str:
    return cell_text(value, column, style) or "(فارغ)"


def describe_view(ctx: ServiceContext, kind: str, query: TableQuery) -> str:
    """The view in words (its search, filters and order), printed above the table it prints."""
    spec = TABLES[kind]
    titles = {c.key: c.title for c in spec.columns}
    choices = filter_choices(ctx, kind)
    parts = []
    if kind == "audit" and query.filters.get("view") in AUDIT_VIEWS:
        parts.append(AUDIT_VIEWS[query.filters["view"]])
    if query.text.strip():
        parts.append(f"البحث: «{query.text.strip()}»")
    for key, value in query.filters.items():
        if value and key in FILTER_TITLES:
            label = dict(choices.get(key, ())).get(value, value)
            parts.append(f"{FILTER_TITLES[key]}: {label}")
    columns = {c.key: c for c in spec.columns}
    for key, wanted in query.columns.items():
        shown = wanted.label or _shown_value(wanted.value, columns.get(key), ctx.style)
        verb = "يحتوي" if wanted.op == "contains" else "="
        parts.append(f"{titles.get(key, key)} {verb} «{shown}»")
    if query.sort in titles:
        parts.append(f"مرتب حسب {titles[query.sort]}{' تنازلياً' if query.descending else ''}")
    return "؛ ".join(parts)


def filter_choices(ctx: ServiceContext, kind: str) -> dict[str, list[tuple[str, str]]]:
    """Each filter of a table with its (value, label) choices; the empty value means "all"."""
    with ctx.uow() as uow:
        districts = [(d.id, d.name) for d in uow.references.districts()]
        associations = [(a.id, a.name) for a in uow.records.all(m.Association, order_by=m.Association.name)]
        fields = [(f.code, f.name) for f in uow.records.all(m.FieldOfWork, order_by=m.FieldOfWork.name)]
        names = dict(associations)
        projects = [
            (p.id, f"{p.title} — {names.get(p.association_id, '')}")
            for p in uow.records.all(m.Project, order_by=m.Project.title)
            if kind == "distributions"
        ]
    if kind == "associations":
        return {
            "status": [(s.value, s.label) for s in AssociationStatus],
            "field": fields,
            "district": districts,
            "licence": [("expiring", ctx.style.digits_of("ينتهي خلال 60 يوماً أو انتهى"))],
            "activity": [("dormant", ctx.style.digits_of("خاملة: مسجلة خاملة أو بلا نشاط منذ 12 شهراً"))],
        }
    if kind in ("persons", "households"):
        choices = {"district": districts}
        if kind == "persons":
            choices["sex"] = [(s.value, s.label) for s in Sex]
        return choices
    if kind == "projects":
        return {"association": associations}
    if kind == "distributions":
        return {
            "status": [(s.value, s.label) for s in DistributionStatus],
            "association": associations,
            "project": projects,
        }
    if kind == "audit":
        actors = audit_view.actor_names(ctx)
        return {
            "action": list(_AUDIT_ACTIONS.items()),
            "username": sorted(((n, label) for n, label in actors.items() if n), key=lambda item: item[1]),
            "entity": sorted(audit_view.TABLES.items(), key=lambda item: item[1]),
        }
    if kind == "referrals":
        return {
            "status": [(s.value, s.label) for s in ReferralStatus],
            "overdue": [("1", "متأخرة عن موعد الرد")],
            "association": associations,
        }
    return {}


FILTER_TITLES = {
    "status": "الحالة",
    "field": "مجال العمل",
    "district": "المديرية",
    "licence": "الترخيص",
    "activity": "النشاط",
    "sex": "الجنس",
    "association": "الجمعية",
    "overdue": "الموعد",
    "project": "المشروع",
    "action": "الإجراء",
    "username": "المستخدم",
    "entity": "الجدول",
}
