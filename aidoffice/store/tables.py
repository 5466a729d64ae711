"""Paged listings for the desktop's tables: filtered, sorted and cut into pages in SQL, never loaded whole."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    String,
    Text,
    and_,
    any_,
    cast,
    false,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
)
from sqlalchemy.orm import Session

from aidoffice.store import dialect
from aidoffice.store import models as m
from aidoffice.store.reporting import dormant_clause, last_activity
from aidoffice.store.search import match_expression, name_part_starts


@dataclass
class ListingQuery:
    """What a table asks for. `tokens` are name-search alternatives (FTS), `digits` an ID or phone prefix,
    `like` a normalised substring for small tables; `filters` are column keys with one value each."""

    tokens: list[tuple[str, ...]] = field(default_factory=list)
    digits: str = ""
    phone_digits: str = ""
    like: str = ""
    filters: dict[str, str] = field(default_factory=dict)
    sort: str | None = None
    descending: bool = False
    today: date | None = None
    match_limit: int | None = None  # the first N name matches only (in registration order): bounded work per key
    # The column headers' filters: (column key, "is" | "contains", value); "is" with None means an empty cell.
    columns: list[tuple[str, str, object]] = field(default_factory=list)
    # The audit trail's time window, [since, until) in UTC, and whose entries only.
    since: datetime | None = None
    until: datetime | None = None
    # A server's name matches, read before the listing (see _with_name_rowids); None: asked inside the listing.
    name_rowids: list[int] | None = None


def _prefix(column, value: str):
    upper = value[:-1] + chr(ord(value[-1]) + 1)
    return and_(column >= value, column < upper)


def _name_rowid_filter(q: ListingQuery, server: bool):
    """The persons whose names match: the server's ids read beforehand, else the name query as a subquery."""
    if q.name_rowids is not None:
        return m.Person.search_rowid == any_(cast(q.name_rowids, ARRAY(Integer)))
    return m.Person.search_rowid.in_(_name_matches(q.tokens, q.match_limit, server))


def _with_name_rowids(session: Session, kind: str, q: ListingQuery) -> ListingQuery:
    """On a server, a bounded name search is read on its own first, and the listing asks for those ids.

    Nested in the listing, PostgreSQL plans the name match for the outer query's LIMIT: it walks the registry in
    index order testing every name (≈ 300 ms to find a rare name's persons among 200,000), and joins its ≤ 10,001
    ids by scanning persons again. Alone, it uses the trigram index when the name is rare; given as an array, the
    ids are fetched by their index. The same persons: the first `match_limit` matches in index order."""
    if not (_on_server(session) and q.tokens and q.match_limit is not None and kind in ("persons", "households")):
        return q
    rowids = list(session.scalars(_name_matches(q.tokens, q.match_limit, True)))
    return replace(q, name_rowids=rowids)


def _name_matches(tokens: list[tuple[str, ...]], limit: int | None, server: bool):
    """Index keys of persons whose name parts start with every token (the same query as the search box); with
    `limit`, the first ones in index order only. SQLite asks its FTS5 index (which returns rowids in order, so this
    stops early); PostgreSQL the trigram index over the stored normalised name (store/search.py)."""
    if server:
        conditions = [c for c in (name_part_starts(m.Person.name_norm, options) for options in tokens) if c is not None]
        matches = select(m.Person.search_rowid).where(*conditions) if conditions else select(m.Person.search_rowid)
        if not conditions:
            matches = matches.where(false())
        if limit is not None:
            matches = matches.order_by(m.Person.search_rowid).limit(limit)
        return matches
    matches = (
        select(literal_column("rowid"))
        .select_from(table("persons_fts"))
        .where(text("persons_fts MATCH :fts_query").bindparams(fts_query=match_expression(tokens)))
    )
    if limit is not None:
        matches = matches.order_by(literal_column("rowid")).limit(limit)
    return matches


def _associations(q: ListingQuery, server: bool = False) -> tuple[Select, dict[str, ColumnElement], list]:
    cols = {
        "name": m.Association.name,
        "registration_number": m.Association.registration_number,
        "legal_form": m.Association.legal_form,
        "status": m.Association.status,
        "district": m.District.name,
        "licence_expiry": m.Association.licence_expiry,
        "last_activity": last_activity(),
        "proclamation_date": m.Association.proclamation_date,
    }
    stmt = select(m.Association.id, *[c.label(k) for k, c in cols.items()])
    stmt = stmt.outerjoin(m.District, m.District.id == m.Association.district_id)
    if q.like:
        stmt = stmt.where(
            or_(m.Association.name_norm.contains(q.like), m.Association.registration_number.contains(q.like))
        )
    f = q.filters
    if f.get("status"):
        stmt = stmt.where(m.Association.status == f["status"])
    if f.get("district"):
        stmt = stmt.where(
            or_(
                m.Association.district_id == f["district"],
                m.Association.id.in_(
                    select(m.association_districts.c.association_id).where(
                        m.association_districts.c.district_id == f["district"]
                    )
                ),
            )
        )
    if f.get("field"):
        stmt = stmt.where(
            m.Association.id.in_(
                select(m.association_fields.c.association_id)
                .join(m.FieldOfWork, m.FieldOfWork.id == m.association_fields.c.field_id)
                .where(m.FieldOfWork.code == f["field"])
            )
        )
    today = q.today or date.today()
    if f.get("licence") == "expiring":
        stmt = stmt.where(m.Association.licence_expiry <= today + timedelta(days=int(f.get("licence_days", 60))))
    if f.get("activity") == "dormant":
        stmt = stmt.where(dormant_clause(today))  # domain.aid_rules.is_dormant, as every report counts it
    return stmt, cols, [m.Association.name_norm]


def _persons(q: ListingQuery, server: bool = False) -> tuple[Select, dict[str, ColumnElement], list]:
    cols = {
        "full_name": m.Person.full_name,
        "national_id": m.Person.national_id,
        "phone": m.Person.phone,
        "sex": m.Person.sex,
        "birth_year": m.Person.birth_year,
        "district": m.District.name,
        "registered": m.Person.search_rowid,
    }
    stmt = select(m.Person.id, *[c.label(k) for k, c in cols.items()])
    stmt = stmt.outerjoin(m.District, m.District.id == m.Person.district_id).where(m.Person.merged_into_id.is_(None))
    if q.tokens:
        stmt = stmt.where(_name_rowid_filter(q, server))
    if q.digits:
        conditions = [_prefix(m.Person.national_id, q.digits)]
        if q.phone_digits:
            conditions.append(_prefix(m.Person.phone, q.phone_digits))
        stmt = stmt.where(or_(*conditions))
    if q.filters.get("district"):
        stmt = stmt.where(m.Person.district_id == q.filters["district"])
    if q.filters.get("sex"):
        stmt = stmt.where(m.Person.sex == q.filters["sex"])
    return stmt, cols, [m.Person.search_rowid]


def _households(q: ListingQuery, server: bool = False) -> tuple[Select, dict[str, ColumnElement], list]:
    members = (
        select(func.count())
        .select_from(m.HouseholdMember)
        .where(m.HouseholdMember.household_id == m.Household.id)
        .scalar_subquery()
    )
    cols = {
        "head": m.Person.full_name,
        "national_id": m.Person.national_id,
        "size": m.Household.size,
        "members": members,
        "district": m.District.name,
        "address": m.Household.address,
    }
    stmt = select(m.Household.id, *[c.label(k) for k, c in cols.items()])
    stmt = stmt.outerjoin(m.Person, m.Person.id == m.Household.head_person_id).outerjoin(
        m.District, m.District.id == m.Household.district_id
    )
    if q.tokens:
        stmt = stmt.where(_name_rowid_filter(q, server))
    if q.digits:
        stmt = stmt.where(_prefix(m.Person.national_id, q.digits))
    if q.filters.get("district"):
        stmt = stmt.where(m.Household.district_id == q.filters["district"])
    if server:  # a server's tables have no rowid: insertion order as the records' creation time tells it
        return stmt, cols, [m.Household.created_at]
    return stmt, cols, [literal_column("households.rowid")]  # insertion order, without a sort


def _projects(q: ListingQuery, server: bool = False) -> tuple[Select, dict[str, ColumnElement], list]:
    cols = {
        "title": m.Project.title,
        "association": m.Association.name,
        "aid_type": m.AidType.name,
        "donor": m.Project.donor,
        "start_date": m.Project.start_date,
        "end_date": m.Project.end_date,
        "status": m.Project.status,
    }
    stmt = select(m.Project.id, *[c.label(k) for k, c in cols.items()])
    stmt = stmt.join(m.Association, m.Association.id == m.Project.association_id).outerjoin(
        m.AidType, m.AidType.id == m.Project.aid_type_id
    )
    if q.like:
        stmt = stmt.where(or_(m.Project.title.contains(q.like), m.Association.name_norm.contains(q.like)))
    if q.filters.get("association"):
        stmt = stmt.where(m.Project.association_id == q.filters["association"])
    return stmt, cols, [m.Project.start_date.desc(), m.Project.title]


def _distributions(q: ListingQuery, server: bool = False) -> tuple[Select, dict[str, ColumnElement], list]:
    lines = (
        select(func.count())
        .select_from(m.DistributionLine)
        .where(m.DistributionLine.distribution_id == m.Distribution.id, m.DistributionLine.status != "reversal")
        .scalar_subquery()
    )
    cols = {
        "distribution_date": m.Distribution.distribution_date,
        "association": m.Association.name,
        "project": m.Project.title,
        "aid_type": m.AidType.name,
        "site": m.Distribution.site,
        "status": m.Distribution.status,
        "lines": lines,
    }
    stmt = select(m.Distribution.id, *[c.label(k) for k, c in cols.items()])
    stmt = (
        stmt.join(m.Project, m.Project.id == m.Distribution.project_id)
        .join(m.Association, m.Association.id == m.Project.association_id)
        .join(m.AidType, m.AidType.id == m.Distribution.aid_type_id)
    )
    if q.like:
        stmt = stmt.where(or_(m.Project.title.contains(q.like), m.Association.name_norm.contains(q.like)))
    if q.filters.get("status"):
        stmt = stmt.where(m.Distribution.status == q.filters["status"])
    if q.filters.get("association"):
        stmt = stmt.where(m.Project.association_id == q.filters["association"])
    if q.filters.get("project"):
        stmt = stmt.where(m.Distribution.project_id == q.filters["project"])
    return stmt, cols, [m.Distribution.distribution_date.desc()]


def _referrals(q: ListingQuery, server: bool = False) -> tuple[Select, dict[str, ColumnElement], list]:
    cols = {
        "person": m.Person.full_name,
        "association": m.Association.name,
        "need": m.Referral.need,
        "status": m.Referral.status,
        "referred_on": m.Referral.referred_on,
        "due_on": m.Referral.due_on,
    }
    stmt = select(m.Referral.id, *[c.label(k) for k, c in cols.items()])
    stmt = stmt.join(m.Person, m.Person.id == m.Referral.person_id).join(
        m.Association, m.Association.id == m.Referral.association_id
    )
    if q.like:
        stmt = stmt.where(
            or_(
                m.Person.name_norm.contains(q.like),
                m.Association.name_norm.contains(q.like),
                m.Referral.need.contains(q.like),
            )
        )
    if q.filters.get("status"):
        stmt = stmt.where(m.Referral.status == q.filters["status"])
    if q.filters.get("overdue"):
        stmt = stmt.where(m.Referral.status.in_(("sent", "accepted")), m.Referral.due_on < (q.today or date.today()))
    if q.filters.get("association"):
        stmt = stmt.where(m.Referral.association_id == q.filters["association"])
    return stmt, cols, [m.Referral.referred_on.desc()]


def _lines(q: ListingQuery, server: bool = False) -> tuple[Select, dict[str, ColumnElement], list]:
    reversed_ids = select(m.DistributionLine.reversal_of_id).where(m.DistributionLine.reversal_of_id.is_not(None))
    head = m.Person.__table__.alias("head")
    cols = {
        "name": func.coalesce(m.Person.full_name, head.c.full_name),
        "national_id": func.coalesce(m.Person.national_id, head.c.national_id),
        "size": m.Household.size,
        "status": m.DistributionLine.status,
        "reversed": m.DistributionLine.id.in_(reversed_ids),
        "reason": func.coalesce(func.nullif(m.DistributionLine.reason, ""), m.DistributionLine.override_reason),
        "created": m.DistributionLine.created_at,
    }
    stmt = select(m.DistributionLine.id, *[c.label(k) for k, c in cols.items()])
    stmt = (
        stmt.outerjoin(m.Person, m.Person.id == m.DistributionLine.person_id)
        .outerjoin(m.Household, m.Household.id == m.DistributionLine.household_id)
        .outerjoin(head, head.c.id == m.Household.head_person_id)
        .where(m.DistributionLine.distribution_id == q.filters.get("distribution", ""))
    )
    return stmt, cols, [m.DistributionLine.created_at]


def _audit(q: ListingQuery, server: bool = False) -> tuple[Select, dict[str, ColumnElement], list]:
    cols = {
        "at": m.AuditEntry.at,
        "username": m.AuditEntry.username,
        "action": m.AuditEntry.action,
        "entity": m.AuditEntry.entity,
        "entity_id": m.AuditEntry.entity_id,
        "before": m.AuditEntry.before,
        "after": m.AuditEntry.after,
    }
    stmt = select(m.AuditEntry.id, *[c.label(k) for k, c in cols.items()]).select_from(m.AuditEntry)
    for key in ("action", "username", "entity"):
        if q.filters.get(key):
            stmt = stmt.where(cols[key] == q.filters[key])
    if q.since is not None:
        stmt = stmt.where(m.AuditEntry.at >= q.since)
    if q.until is not None:
        stmt = stmt.where(m.AuditEntry.at < q.until)
    if q.like:
        stmt = stmt.where(m.AuditEntry.entity_id.contains(q.like))
    return stmt, cols, [m.AuditEntry.seq.desc()]


BUILDERS = {
    "associations": _associations,
    "persons": _persons,
    "households": _households,
    "projects": _projects,
    "distributions": _distributions,
    "referrals": _referrals,
    "lines": _lines,
    "audit": _audit,
}
BASE_TABLES = {
    "associations": "associations",
    "persons": "persons",
    "households": "households",
    "projects": "projects",
    "distributions": "distributions",
    "referrals": "referrals",
    "lines": "distribution_lines",
    "audit": "audit_log",
}


# Sort keys an index returns in order with the row id as the last column: the index scan is itself a total order
# (ties come in rowid order), and adding "rowid" to ORDER BY would make SQLite sort instead of scanning.
INDEX_ORDERED = {"persons": ("national_id", "phone")}


def _on_server(session: Session) -> bool:
    return dialect.is_postgresql(session)


def _statement(kind: str, q: ListingQuery, server: bool = False) -> tuple[Select, dict[str, ColumnElement], list]:
    stmt, cols, order = BUILDERS[kind](q, server)
    for key, op, value in q.columns:
        column = cols[key]  # the service lets only the table's own columns through
        textual = isinstance(column.type, String | Text)
        if op == "contains":
            # Numbers and dates by their text: what SQLite's LIKE compares anyway, and PostgreSQL has no LIKE on them.
            target = column if textual else cast(column, Text)
            stmt = stmt.where(target.contains(str(value), autoescape=True))
        elif value is None:
            # An empty cell: NULL, or an empty text (a number or a date is never '' and PostgreSQL refuses to ask).
            stmt = stmt.where(or_(column.is_(None), column == "") if textual or not server else column.is_(None))
        else:
            stmt = stmt.where(column == value)
    return stmt, cols, order


def _rowid(kind: str, server: bool = False):
    """The column that tells a table's rows apart and breaks ties: SQLite's rowid, the record's id on a server."""
    return literal_column(f"{BASE_TABLES[kind]}.{'id' if server else 'rowid'}")


def count(session: Session, kind: str, q: ListingQuery, cap: int | None = None) -> int:
    """How many rows match; with `cap`, counting stops after cap + 1 (a name typed half-way can match half the
    registry, and the table only needs to know "more than cap"). Only row ids are selected, so joins that add no
    rows drop out and SQLite counts from the smallest index that answers (the live-persons index for persons)."""
    server = _on_server(session)
    stmt, _cols, _order = _statement(kind, _with_name_rowids(session, kind, q), server)
    # Always a LIMIT: SQLite then runs the row-id query on its own (no flattening into the count), where it drops
    # the display joins; a million persons count in ≈ 55 ms instead of ≈ 240 ms.
    inner = stmt.with_only_columns(_rowid(kind, server)).limit(cap + 1 if cap is not None else 2**62)
    return int(session.execute(select(func.count()).select_from(inner.subquery())).scalar_one())


def totals(session: Session, kind: str, q: ListingQuery, keys: list[str]) -> list:
    """The sums of the columns `keys` over every row that matches, in one query (no row leaves the database)."""
    stmt, _cols, _order = _statement(kind, q, _on_server(session))
    inner = stmt.subquery()
    return list(session.execute(select(*[func.sum(inner.c[k]) for k in keys])).one()) if keys else []


def values(session: Session, kind: str, q: ListingQuery, key: str, limit: int) -> list[tuple[object, int]]:
    """The most frequent values of one column among the rows that match, with how many rows hold each."""
    stmt, _cols, _order = _statement(kind, q, _on_server(session))
    inner = stmt.subquery()
    column = inner.c[key]
    grouped = select(column, func.count()).group_by(column).order_by(func.count().desc(), column).limit(limit)
    return [(r[0], int(r[1])) for r in session.execute(grouped)]


def _order(kind: str, q: ListingQuery, cols: dict, default_order: list, server: bool = False) -> list:
    rowid = _rowid(kind, server)
    if q.sort in cols:
        column = cols[q.sort]
        order = [column.desc() if q.descending else column.asc()]
        if server or q.sort not in INDEX_ORDERED.get(kind, ()):
            order.append(rowid)
        return order
    return [*default_order, rowid]


def stream(session: Session, kind: str, q: ListingQuery, chunk: int = 1000):
    """The keys, then every matching row in the table's order, fetched `chunk` at a time (an export of the view)."""
    server = _on_server(session)
    stmt, cols, default_order = _statement(kind, q, server)
    yield list(cols)
    order = _order(kind, q, cols, default_order, server)
    result = session.execute(stmt.order_by(*order).execution_options(yield_per=chunk))
    for rows in result.partitions(chunk):
        yield [tuple(r) for r in rows]


def page(session: Session, kind: str, q: ListingQuery, offset: int, limit: int) -> tuple[list[str], list[tuple]]:
    """One page of rows as (id, value, value, …), and the keys of those values in order.

    In two steps: the row ids of the page first (ordered, offset and limited on the narrowest index that serves the
    order), then the columns of those 200 rows only. A jump to row 900,000 thus steps through an index of integers
    instead of building 900,000 full rows. The table's rowid (a server's: the record's id) breaks ties so pages
    never overlap.
    """
    server = _on_server(session)
    stmt, cols, default_order = _statement(kind, _with_name_rowids(session, kind, q), server)
    rowid = _rowid(kind, server)
    order = _order(kind, q, cols, default_order, server)
    ids = stmt.with_only_columns(rowid).order_by(*order).offset(max(0, offset)).limit(limit)
    if server:
        # The page's ids already passed every filter: PostgreSQL would otherwise run them all again (the name
        # search twice) for the 200 rows. The same columns over the same joins, for those ids only.
        stmt = select(*stmt.selected_columns).select_from(*stmt.get_final_froms())
    rows = session.execute(stmt.where(rowid.in_(ids)).order_by(*order))
    return list(cols), [tuple(r) for r in rows]


def _record_names_query(entity: str, ids: list[str]):
    """(id, name) of `ids` in the table `entity`; None for a table whose records have no name of their own."""
    person, head = m.Person, m.Person.__table__.alias("head")
    if entity == "persons":
        return select(person.id, person.full_name).where(person.id.in_(ids))
    if entity in ("households", "household_members", "distribution_lines", "aid_refusals", "referrals"):
        model = {
            "households": m.Household,
            "household_members": m.HouseholdMember,
            "distribution_lines": m.DistributionLine,
            "aid_refusals": m.AidRefusal,
            "referrals": m.Referral,
        }[entity]
        stmt = select(model.id, person.full_name).where(model.id.in_(ids))
        if entity == "households":
            return stmt.join(person, person.id == m.Household.head_person_id)
        if entity in ("household_members", "referrals"):
            return stmt.join(person, person.id == model.person_id)
        household = m.Household.__table__.alias("household")
        return (
            select(model.id, func.coalesce(person.full_name, head.c.full_name))
            .outerjoin(person, person.id == model.person_id)
            .outerjoin(household, household.c.id == model.household_id)
            .outerjoin(head, head.c.id == household.c.head_person_id)
            .where(model.id.in_(ids))
        )
    if entity == "referral_status_changes":
        return (
            select(m.ReferralStatusChange.id, person.full_name)
            .join(m.Referral, m.Referral.id == m.ReferralStatusChange.referral_id)
            .join(person, person.id == m.Referral.person_id)
            .where(m.ReferralStatusChange.id.in_(ids))
        )
    if entity == "duplicate_pairs":
        other = m.Person.__table__.alias("other")
        return (
            select(m.DuplicatePair.id, person.full_name + " / " + other.c.full_name)
            .join(person, person.id == m.DuplicatePair.person_a_id)
            .join(other, other.c.id == m.DuplicatePair.person_b_id)
            .where(m.DuplicatePair.id.in_(ids))
        )
    if entity == "person_merges":
        return (
            select(m.PersonMerge.id, person.full_name)
            .join(person, person.id == m.PersonMerge.survivor_id)
            .where(m.PersonMerge.id.in_(ids))
        )
    if entity == "distributions":
        return (
            select(m.Distribution.id, m.Project.title + " — " + func.coalesce(m.Distribution.site, ""))
            .join(m.Project, m.Project.id == m.Distribution.project_id)
            .where(m.Distribution.id.in_(ids))
        )
    by_association = {
        "field_visits": m.FieldVisit,
        "compliance_records": m.ComplianceRecord,
        "association_status_changes": m.AssociationStatusChange,
    }
    if entity in by_association:
        model = by_association[entity]
        return (
            select(model.id, m.Association.name)
            .join(m.Association, m.Association.id == model.association_id)
            .where(model.id.in_(ids))
        )
    own = {
        "associations": (m.Association, m.Association.name),
        "projects": (m.Project, m.Project.title),
        "users": (m.User, func.coalesce(func.nullif(m.User.full_name, ""), m.User.username)),
        "districts": (m.District, m.District.name),
        "sub_districts": (m.SubDistrict, m.SubDistrict.name),
        "governorates": (m.Governorate, m.Governorate.name),
        "aid_types": (m.AidType, m.AidType.name),
        "campaigns": (m.Campaign, m.Campaign.name),
        "board_members": (m.BoardMember, m.BoardMember.full_name),
        "association_contacts": (m.AssociationContact, m.AssociationContact.name),
        "office_profile": (m.OfficeProfile, m.OfficeProfile.name),
        "fields_of_work": (m.FieldOfWork, m.FieldOfWork.name),
        "vulnerability_categories": (m.VulnerabilityCategory, m.VulnerabilityCategory.name),
        "import_batches": (m.ImportBatch, m.ImportBatch.file_name),
    }
    if entity in own:
        model, column = own[entity]
        return select(model.id, column).where(model.id.in_(ids))
    return None


def record_names(session: Session, wanted: dict[str, set[str]]) -> dict[tuple[str, str], str]:
    """The name a person knows each record by (a person's or household head's name, an association's, a project's
    title…), for (table, id) pairs named in an audit page; records deleted since are simply absent."""
    found: dict[tuple[str, str], str] = {}
    for entity, ids in wanted.items():
        ids = sorted(i for i in ids if i)
        for start in range(0, len(ids), 500):
            stmt = _record_names_query(entity, ids[start : start + 500])
            if stmt is None:
                break
            for ident, name in session.execute(stmt):
                if name:
                    found[(entity, ident)] = name
    return found
