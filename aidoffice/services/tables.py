"""The desktop's tables: their columns in Arabic, filters, and paged rows (filtered, sorted and paged in SQL)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from aidoffice.domain.access import Permission
from aidoffice.domain.aid_rules import is_dormant
from aidoffice.domain.arabic import normalize_digits, normalize_text, search_tokens
from aidoffice.domain.vocab import (
    AssociationStatus,
    DistributionStatus,
    LegalForm,
    LineStatus,
    ProjectStatus,
    ReferralStatus,
    Sex,
)
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
    kind: str = "text"  # text, code (left-to-right), date, number, flag
    width: int = 140
    indexed: bool = True  # False: sorting by it reads the whole table, allowed only on narrowed results


@dataclass(frozen=True)
class TableSpec:
    title: str
    columns: tuple[TableColumn, ...]
    search: str  # "name" (FTS over persons and digits), "like" (substring), "" (none)


@dataclass
class TableQuery:
    text: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    sort: str | None = None
    descending: bool = False


@dataclass(frozen=True)
class TableRow:
    id: str
    values: tuple
    flags: frozenset[str] = frozenset()  # e.g. {"dormant"}, {"reversed"}: the view colours or marks the row


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
            C("birth_year", "سنة الميلاد", "number", 90, indexed=False),
            C("district", "المديرية", indexed=False),
        ),
        "name",
    ),
    "households": TableSpec(
        "الأسر",
        (
            C("head", "رب الأسرة", width=260, indexed=False),
            C("national_id", "رقم البطاقة", "code", 130, indexed=False),
            C("size", "عدد الأفراد", "number", 80, indexed=False),
            C("members", "المسجلون", "number", 80, indexed=False),
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
            C("lines", "المستفيدون", "number", 80),
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
            C("at", "الوقت (UTC)", "date", 150),
            C("username", "المستخدم", "code", 110),
            C("action", "الإجراء", width=120),
            C("entity", "الجدول", "code", 150),
            C("entity_id", "المعرف", "code", 280),
        ),
        "like",
    ),
    "lines": TableSpec(
        "كشف التوزيع",
        (
            C("name", "الاسم", width=260),
            C("national_id", "رقم البطاقة", "code", 130),
            C("size", "عدد الأفراد", "number", 80),
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
_AUDIT_ACTIONS = {
    "create": "إنشاء",
    "update": "تعديل",
    "delete": "حذف",
    "login": "دخول",
    "login_failed": "دخول فاشل",
    "import": "استيراد",
    "export": "تصدير",
    "report": "طباعة تقرير",
    "merge": "دمج",
    "distinct": "ليسا نفس الشخص",
    "override": "إبقاء رغم الاستلام",
    "backup": "نسخة احتياطية",
    "restore": "استعادة",
}


def _label(kind: str, key: str, value):
    if kind == "audit" and key == "action":
        return _AUDIT_ACTIONS.get(value, value)
    enum = _LABELS.get(key, {}).get(kind)
    if enum is None or value is None:
        return value
    try:
        return enum(value).label
    except ValueError:
        return value


def _listing_query(ctx: ServiceContext, kind: str, query: TableQuery) -> store_tables.ListingQuery:
    spec = TABLES[kind]
    text = normalize_digits(query.text or "").strip()
    q = store_tables.ListingQuery(
        filters={k: v for k, v in query.filters.items() if v},
        sort=query.sort,
        descending=query.descending,
        today=ctx.today(),
        match_limit=COUNT_CAP + 1,
    )
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


def _guard(ctx: ServiceContext, kind: str) -> None:
    if kind == "audit":  # who did what to whom: for the administrator only
        ctx.require(Permission.MANAGE_USERS)


def count_rows(ctx: ServiceContext, kind: str, query: TableQuery, *, cap: int | None = COUNT_CAP) -> int:
    """How many rows the table shows. A typed search is counted up to `cap` + 1 only (a half-typed name can match
    half the registry; the table then says "more than"); without one, every row counts and every row scrolls."""
    _guard(ctx, kind)
    lq = _listing_query(ctx, kind, query)
    searching = bool(lq.tokens or lq.digits or lq.like)
    with ctx.uow() as uow:
        return store_tables.count(uow.session, kind, lq, cap if searching else None)


def page_rows(ctx: ServiceContext, kind: str, query: TableQuery, offset: int, limit: int) -> list[TableRow]:
    """Rows `offset`…`offset + limit` in the table's order, values in the spec's column order, codes as labels."""
    _guard(ctx, kind)
    spec = TABLES[kind]
    lq = _listing_query(ctx, kind, query)
    with ctx.uow() as uow:
        keys, raw = store_tables.page(uow.session, kind, lq, offset, limit)
    today = ctx.today()
    out = []
    for row in raw:
        ident, values = row[0], dict(zip(keys, row[1:], strict=True))
        flags: set[str] = set()
        if kind == "associations":
            if values["status"] in ("active", "dormant") and is_dormant(
                values["last_activity"], values["proclamation_date"], today
            ):
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
            )
        )
    return out


def filter_choices(ctx: ServiceContext, kind: str) -> dict[str, list[tuple[str, str]]]:
    """Each filter of a table with its (value, label) choices; the empty value means "all"."""
    with ctx.uow() as uow:
        districts = [(d.id, d.name) for d in uow.repo.districts()]
        associations = [(a.id, a.name) for a in uow.repo.all(m.Association, order_by=m.Association.name)]
        fields = [(f.code, f.name) for f in uow.repo.all(m.FieldOfWork, order_by=m.FieldOfWork.name)]
        names = dict(associations)
        projects = [
            (p.id, f"{p.title} — {names.get(p.association_id, '')}")
            for p in uow.repo.all(m.Project, order_by=m.Project.title)
            if kind == "distributions"
        ]
    if kind == "associations":
        return {
            "status": [(s.value, s.label) for s in AssociationStatus],
            "field": fields,
            "district": districts,
            "licence": [("expiring", "ينتهي خلال ٦٠ يوماً أو انتهى")],
            "activity": [("dormant", "بلا نشاط منذ ١٢ شهراً")],
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
        with ctx.uow() as uow:
            names = sorted({u.username for u in uow.repo.all(m.User)} | {"system", "desktop", "cli"})
        return {"action": list(_AUDIT_ACTIONS.items()), "username": [(n, n) for n in names]}
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
}
