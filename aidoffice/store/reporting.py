"""Queries behind the printed reports and the indicators: one month's figures, grouped in SQL, never row by row."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import Integer, and_, distinct, func, literal, or_, select, update
from sqlalchemy.orm import Session

from aidoffice.domain.aid_rules import ACTIVE_STATUS, APPROVED_ROUND_STATUSES, DORMANT_STATUS, dormant_before
from aidoffice.store import dialect
from aidoffice.store import models as m
from aidoffice.store.base import utcnow


def _stamp_range(start: date, end: date):
    return datetime.combine(start, time.min), datetime.combine(end, time.min)


def _live_lines():
    """Distribution lines that stand: not a reversal and not reversed."""
    reversed_ids = select(m.DistributionLine.reversal_of_id).where(m.DistributionLine.reversal_of_id.is_not(None))
    return and_(m.DistributionLine.status != "reversal", m.DistributionLine.id.not_in(reversed_ids))


def _received():
    """Lines that stand and were received."""
    return and_(_live_lines(), m.DistributionLine.status == "received")


def _received_in(start: date, end: date):
    """Lines that stand and were received, of rounds dated in [start, end) (needs Distribution joined)."""
    return and_(m.Distribution.distribution_date >= start, m.Distribution.distribution_date < end, _received())


def _approved():
    """Rounds that were approved (a draft is a plan: it counts in no report)."""
    return m.Distribution.status.in_(APPROVED_ROUND_STATUSES)


def _approved_in(start: date, end: date):
    return and_(m.Distribution.distribution_date >= start, m.Distribution.distribution_date < end, _approved())


def last_activity(as_of: date | None = None):
    """The association's latest distribution date or report submission before `as_of`, whichever is later
    (NULL if none): the activity behind the dormancy rule."""
    last_distribution = (
        select(func.max(m.Distribution.distribution_date))
        .join(m.Project, m.Project.id == m.Distribution.project_id)
        .where(m.Project.association_id == m.Association.id)
    )
    last_report = select(func.max(m.ComplianceRecord.submitted_on)).where(
        m.ComplianceRecord.association_id == m.Association.id
    )
    if as_of is not None:
        last_distribution = last_distribution.where(m.Distribution.distribution_date < as_of)
        last_report = last_report.where(m.ComplianceRecord.submitted_on < as_of)
    last_distribution, last_report = last_distribution.scalar_subquery(), last_report.scalar_subquery()
    return dialect.greatest(
        func.coalesce(last_distribution, last_report), func.coalesce(last_report, last_distribution)
    )


def dormant_clause(today: date, as_of: date | None = None):
    """The SQL form of domain.aid_rules.is_dormant (tested against it), for associations as they stood on `today`;
    activity counts up to `as_of` (the end of a reported month), or all of it."""
    since = func.coalesce(last_activity(as_of), m.Association.proclamation_date)
    return or_(
        m.Association.status == DORMANT_STATUS,
        and_(m.Association.status == ACTIVE_STATUS, since < dormant_before(today)),
    )


def month_figures(session: Session, start: date, end: date, today: date | None = None) -> dict:
    """The headline figures of the period [start, end); rounds count once approved; associations as they stood on
    its last day (or today, for the month under way)."""
    s_from, s_to = _stamp_range(start, end)

    def scalar(stmt) -> int:
        return int(session.execute(stmt).scalar_one() or 0)

    def created(model, *where) -> int:
        """Records of `model` created in the period (stamps are UTC datetimes)."""
        return scalar(
            select(func.count()).select_from(model).where(model.created_at >= s_from, model.created_at < s_to, *where)
        )

    def dated(column) -> int:
        """Records whose own date (a referral's, a visit's) falls in the period."""
        return scalar(select(func.count()).select_from(column.class_).where(column >= start, column < end))

    in_period = _approved_in(start, end)
    received = _received()
    day = min(end - timedelta(days=1), today or end)
    dormant = dormant_clause(day, day + timedelta(days=1))
    return {
        "associations_active": scalar(
            select(func.count()).select_from(m.Association).where(m.Association.status == ACTIVE_STATUS, ~dormant)
        ),
        "associations_dormant": scalar(select(func.count()).select_from(m.Association).where(dormant)),
        "associations_new": created(m.Association),
        "persons_new": created(m.Person, m.Person.merged_into_id.is_(None)),
        "households_new": created(m.Household),
        "households_reached": scalar(
            select(func.count(distinct(m.DistributionLine.household_id)))
            .join(m.Distribution, m.Distribution.id == m.DistributionLine.distribution_id)
            .where(in_period, received)
        ),
        "distributions": scalar(select(func.count()).select_from(m.Distribution).where(in_period)),
        "lines_received": scalar(
            select(func.count())
            .select_from(m.DistributionLine)
            .join(m.Distribution, m.Distribution.id == m.DistributionLine.distribution_id)
            .where(in_period, received)
        ),
        "duplicates_caught": created(m.DuplicatePair),
        "merges": created(m.PersonMerge, m.PersonMerge.undone_at.is_(None)),
        "duplications_prevented": created(m.AidRefusal),
        "overrides": created(m.DistributionLine, m.DistributionLine.override_reason != ""),
        "referrals_new": dated(m.Referral.referred_on),
        "field_visits": dated(m.FieldVisit.visit_date),
    }


def value_by_aid_type(session: Session, start: date, end: date) -> list[tuple]:
    """(aid type, currency, unit, households received, total amount, total quantity) for the approved rounds of the
    period."""
    stmt = (
        select(
            m.AidType.name,
            func.coalesce(m.Distribution.currency, ""),
            func.coalesce(m.Distribution.unit, ""),
            func.count(distinct(m.DistributionLine.household_id)),
            func.coalesce(func.sum(m.DistributionLine.amount), 0),
            func.coalesce(func.sum(m.DistributionLine.quantity), 0),
        )
        .join(m.Distribution, m.Distribution.id == m.DistributionLine.distribution_id)
        .join(m.AidType, m.AidType.id == m.Distribution.aid_type_id)
        .where(_received_in(start, end), _approved())
        .group_by(m.AidType.name, m.Distribution.currency, m.Distribution.unit)
        .order_by(func.count(distinct(m.DistributionLine.household_id)).desc())
    )
    return [tuple(r) for r in session.execute(stmt)]


def referrals_by_status(session: Session, start: date, end: date) -> list[tuple[str, int]]:
    stmt = (
        select(m.Referral.status, func.count())
        .where(m.Referral.referred_on >= start, m.Referral.referred_on < end)
        .group_by(m.Referral.status)
    )
    return [tuple(r) for r in session.execute(stmt)]


def by_district(session: Session, start: date, end: date) -> list[tuple]:
    """(district, persons registered in the period, households reached, distributions) for every district."""
    s_from, s_to = _stamp_range(start, end)
    new_persons = dict(
        session.execute(
            select(m.Person.district_id, func.count())
            .where(m.Person.created_at >= s_from, m.Person.created_at < s_to, m.Person.merged_into_id.is_(None))
            .group_by(m.Person.district_id)
        ).all()
    )
    reached = dict(
        session.execute(
            select(m.Household.district_id, func.count(distinct(m.DistributionLine.household_id)))
            .join(m.Household, m.Household.id == m.DistributionLine.household_id)
            .join(m.Distribution, m.Distribution.id == m.DistributionLine.distribution_id)
            .where(_received_in(start, end), _approved())
            .group_by(m.Household.district_id)
        ).all()
    )
    rounds = dict(
        session.execute(
            select(m.Distribution.district_id, func.count())
            .where(_approved_in(start, end))
            .group_by(m.Distribution.district_id)
        ).all()
    )
    out = []
    for district in session.scalars(select(m.District).order_by(m.District.name)):
        row = (district.name, new_persons.get(district.id, 0), reached.get(district.id, 0), rounds.get(district.id, 0))
        out.append(row)
    return out


def by_association(session: Session, start: date, end: date) -> list[tuple]:
    """(association, distributions, households reached, lines received) for associations active in the period."""
    stmt = (
        select(
            m.Association.name,
            func.count(distinct(m.Distribution.id)),
            func.count(distinct(m.DistributionLine.household_id)),
            func.count(m.DistributionLine.id),
        )
        .join(m.Project, m.Project.association_id == m.Association.id)
        .join(m.Distribution, m.Distribution.project_id == m.Project.id)
        .outerjoin(
            m.DistributionLine,
            and_(m.DistributionLine.distribution_id == m.Distribution.id, _received()),
        )
        .where(_approved_in(start, end))
        .group_by(m.Association.id)
        .order_by(func.count(distinct(m.DistributionLine.household_id)).desc())
    )
    return [tuple(r) for r in session.execute(stmt)]


def by_category(session: Session, start: date, end: date, *, include_sensitive: bool) -> list[tuple]:
    """(category, households reached whose head is in it) — sensitive categories only when allowed."""
    head = m.Household.head_person_id
    stmt = (
        select(m.VulnerabilityCategory.name, func.count(distinct(m.DistributionLine.household_id)))
        .join(m.Household, m.Household.id == m.DistributionLine.household_id)
        .join(m.person_categories, m.person_categories.c.person_id == head)
        .join(m.VulnerabilityCategory, m.VulnerabilityCategory.id == m.person_categories.c.category_id)
        .join(m.Distribution, m.Distribution.id == m.DistributionLine.distribution_id)
        .where(_received_in(start, end), _approved())
        .group_by(m.VulnerabilityCategory.name)
        .order_by(func.count(distinct(m.DistributionLine.household_id)).desc())
    )
    if not include_sensitive:
        stmt = stmt.where(m.VulnerabilityCategory.sensitive.is_(False))
    return [tuple(r) for r in session.execute(stmt)]


def sheet_lines(session: Session, distribution_id: str) -> list[tuple]:
    """(name, national ID, household size) of the lines that stand, in name order, for the signature sheet."""
    head = m.Person.__table__.alias("head")
    name = func.coalesce(m.Person.full_name, head.c.full_name)
    stmt = (
        select(
            name,
            func.coalesce(m.Person.national_id, head.c.national_id),
            m.Household.size,
            func.coalesce(m.Person.name_norm, head.c.name_norm),
        )
        .select_from(m.DistributionLine)
        .outerjoin(m.Person, m.Person.id == m.DistributionLine.person_id)
        .outerjoin(m.Household, m.Household.id == m.DistributionLine.household_id)
        .outerjoin(head, head.c.id == m.Household.head_person_id)
        .where(m.DistributionLine.distribution_id == distribution_id, _live_lines())
    )
    rows = session.execute(stmt).all()
    return [(r[0] or "", r[1] or "", r[2]) for r in sorted(rows, key=lambda r: r[3] or "")]


def association_last_activity(session: Session, association_id: str) -> date | None:
    """The association's latest distribution or report (the activity the dormancy rule looks at)."""
    return session.execute(select(last_activity()).where(m.Association.id == association_id)).scalar_one_or_none()


def association_activity(session: Session, association_id: str) -> list[tuple]:
    """(project, aid type, distributions, households received) for each of an association's projects."""
    stmt = (
        select(
            m.Project.title,
            func.coalesce(m.AidType.name, ""),
            func.count(distinct(m.Distribution.id)),
            func.count(distinct(m.DistributionLine.household_id)),
        )
        .outerjoin(m.AidType, m.AidType.id == m.Project.aid_type_id)
        .outerjoin(m.Distribution, m.Distribution.project_id == m.Project.id)
        .outerjoin(
            m.DistributionLine,
            and_(m.DistributionLine.distribution_id == m.Distribution.id, _received()),
        )
        .where(m.Project.association_id == association_id)
        .group_by(m.Project.id, m.AidType.name)  # one aid type per project: PostgreSQL wants it named
        .order_by(m.Project.start_date.desc())
    )
    return [tuple(r) for r in session.execute(stmt)]


def take_serial(session: Session, key: str) -> int:
    """The next value of a counter kept in the settings table. The transaction writes before it reads (SQLite then
    holds its write lock, PostgreSQL the row's lock), so two documents printed at once never get one number; a
    first use starts at 1."""
    table, now = m.Setting.__table__, utcnow()
    session.execute(dialect.insert_ignore(session, table).values(key=key, value=0, updated_at=now))
    number = dialect.json_integer(session, table.c.value)
    session.execute(
        update(table).where(table.c.key == key).values(value=dialect.integer_json(session, number + 1), updated_at=now)
    )
    return int(session.execute(select(m.Setting.value).where(m.Setting.key == key)).scalar_one())


def give_back_serial(session: Session, key: str, serial: int) -> None:
    """Undo `take_serial` for a document that was not written, if no later one took the next number meanwhile."""
    table = m.Setting.__table__
    session.execute(
        update(table)
        .where(table.c.key == key, dialect.json_integer(session, table.c.value) == serial)
        .values(value=dialect.integer_json(session, literal(serial - 1, Integer)))
    )


def previous_month(start: date) -> tuple[date, date]:
    end = start
    first = (start - timedelta(days=1)).replace(day=1)
    return first, end


def _filtered_lines(start: date, end: date, district_id: str | None, association_id: str | None, aid_type: str | None):
    """Received lines that stand, in the period, of approved rounds (as the monthly report counts them), narrowed by
    district (of the household), association and aid type."""
    stmt = (
        select(m.DistributionLine.household_id)
        .join(m.Distribution, m.Distribution.id == m.DistributionLine.distribution_id)
        .join(m.Project, m.Project.id == m.Distribution.project_id)
        .join(m.AidType, m.AidType.id == m.Distribution.aid_type_id)
        .outerjoin(m.Household, m.Household.id == m.DistributionLine.household_id)
        .where(_received_in(start, end), _approved())
    )
    if district_id:
        stmt = stmt.where(m.Household.district_id == district_id)
    if association_id:
        stmt = stmt.where(m.Project.association_id == association_id)
    if aid_type:
        stmt = stmt.where(m.AidType.code == aid_type)
    return stmt


def period_indicators(
    session: Session, start: date, end: date, district_id=None, association_id=None, aid_type=None
) -> dict:
    """Households reached, lines received, rounds, amounts by currency, and households by aid type and district."""
    base = _filtered_lines(start, end, district_id, association_id, aid_type)
    households = func.count(distinct(m.DistributionLine.household_id))
    reached, lines, rounds = session.execute(
        base.with_only_columns(households, func.count(m.DistributionLine.id), func.count(distinct(m.Distribution.id)))
    ).one()
    amounts = session.execute(
        base.with_only_columns(m.Distribution.currency, func.coalesce(func.sum(m.DistributionLine.amount), 0))
        .where(m.Distribution.currency.is_not(None))
        .group_by(m.Distribution.currency)
    ).all()
    by_type = session.execute(
        base.with_only_columns(m.AidType.name, households).group_by(m.AidType.name).order_by(households.desc())
    ).all()
    by_district = session.execute(
        base.with_only_columns(func.coalesce(m.District.name, "—"), households)
        .outerjoin(m.District, m.District.id == m.Household.district_id)
        .group_by(m.District.name)
        .order_by(households.desc())
    ).all()
    return {
        "households_reached": int(reached or 0),
        "lines_received": int(lines or 0),
        "distributions": int(rounds or 0),
        "amounts": [(c, float(a)) for c, a in amounts],
        "by_aid_type": [tuple(r) for r in by_type],
        "by_district": [tuple(r) for r in by_district],
    }


def who_what_where(session: Session, start: date, end: date) -> list[tuple[str, str, str]]:
    """(district, sector, association) for every distribution round in the period: where the round took place, or
    the association's own district when the round names none."""
    place = func.coalesce(m.Distribution.district_id, m.Association.district_id)
    stmt = (
        select(m.District.name, m.Project.sector, m.Association.name)
        .select_from(m.Distribution)
        .join(m.Project, m.Project.id == m.Distribution.project_id)
        .join(m.Association, m.Association.id == m.Project.association_id)
        .join(m.District, m.District.id == place)
        .where(m.Distribution.distribution_date >= start, m.Distribution.distribution_date < end)
        .distinct()
    )
    return [tuple(r) for r in session.execute(stmt)]


def district_names(session: Session) -> list[str]:
    return list(session.scalars(select(m.District.name).order_by(m.District.name)))
