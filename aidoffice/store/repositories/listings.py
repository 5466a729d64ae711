"""Read views across aggregates: the `list` command's rows and the exports' streamed rows."""

from __future__ import annotations

from sqlalchemy import select

from aidoffice.store import models as m
from aidoffice.store.repositories.records import Records


class ListingsRepository(Records):
    """Read views across aggregates: the `list` command's rows and the exports' streamed rows."""

    def listing(self, kind: str, limit: int) -> list[tuple]:
        """Rows for the `list` command: the record plus the few joined names a reader needs."""
        if kind == "associations":
            stmt = select(m.Association).order_by(m.Association.name)
        elif kind == "persons":
            stmt = (
                select(m.Person, m.District.name)
                .outerjoin(m.District, m.District.id == m.Person.district_id)
                .where(m.Person.merged_into_id.is_(None))
                .order_by(m.Person.search_rowid)
            )
        elif kind == "households":
            stmt = (
                select(m.Household, m.Person.full_name, m.District.name)
                .outerjoin(m.Person, m.Person.id == m.Household.head_person_id)
                .outerjoin(m.District, m.District.id == m.Household.district_id)
                .order_by(m.Household.created_at)
            )
        elif kind == "projects":
            stmt = (
                select(m.Project, m.Association.name)
                .join(m.Association, m.Association.id == m.Project.association_id)
                .order_by(m.Project.start_date.desc())
            )
        elif kind == "distributions":
            stmt = (
                select(m.Distribution, m.Project.title, m.AidType.name)
                .join(m.Project, m.Project.id == m.Distribution.project_id)
                .join(m.AidType, m.AidType.id == m.Distribution.aid_type_id)
                .order_by(m.Distribution.distribution_date.desc())
            )
        elif kind == "referrals":
            stmt = (
                select(m.Referral, m.Person.full_name, m.Association.name)
                .join(m.Person, m.Person.id == m.Referral.person_id)
                .join(m.Association, m.Association.id == m.Referral.association_id)
                .order_by(m.Referral.referred_on.desc())
            )
        else:
            raise ValueError(kind)
        rows = self.session.execute(stmt.limit(limit)).all()
        return [tuple(r) for r in rows]

    def export_rows(self, kind: str):
        """Every row of a list for export, streamed: plain tuples in the column order of services.exports."""
        d = m.District
        if kind == "associations":
            stmt = (
                select(
                    m.Association.name,
                    m.Association.registration_number,
                    m.Association.proclamation_date,
                    m.Association.legal_form,
                    m.Association.status,
                    m.Association.status_since,
                    d.name,
                    m.Association.phone,
                    m.Association.licence_expiry,
                )
                .outerjoin(d, d.id == m.Association.district_id)
                .order_by(m.Association.name)
            )
        elif kind == "persons":
            stmt = (
                select(
                    m.Person.full_name,
                    m.Person.national_id,
                    m.Person.phone,
                    m.Person.sex,
                    m.Person.birth_date,
                    m.Person.birth_year,
                    d.name,
                    m.Person.spouse_name,
                    m.Person.id,
                )
                .outerjoin(d, d.id == m.Person.district_id)
                .where(m.Person.merged_into_id.is_(None))
                .order_by(m.Person.search_rowid)
            )
        elif kind == "households":
            stmt = (
                select(
                    m.Person.full_name,
                    m.Person.national_id,
                    m.Household.size,
                    m.Household.income_band,
                    m.Household.housing,
                    d.name,
                    m.Household.id,
                )
                .outerjoin(m.Person, m.Person.id == m.Household.head_person_id)
                .outerjoin(d, d.id == m.Household.district_id)
                .order_by(m.Household.created_at)
            )
        elif kind == "projects":
            stmt = (
                select(
                    m.Project.title,
                    m.Association.name,
                    m.Project.donor,
                    m.Project.sector,
                    m.AidType.name,
                    m.Project.start_date,
                    m.Project.end_date,
                    m.Project.target_households,
                    m.Project.budget,
                    m.Project.currency,
                )
                .join(m.Association, m.Association.id == m.Project.association_id)
                .outerjoin(m.AidType, m.AidType.id == m.Project.aid_type_id)
                .order_by(m.Project.start_date)
            )
        elif kind == "distributions":
            stmt = (
                select(
                    m.Distribution.distribution_date,
                    m.Association.name,
                    m.Project.title,
                    m.AidType.name,
                    m.Distribution.item,
                    m.Distribution.site,
                    d.name,
                    m.Distribution.quantity_per_household,
                    m.Distribution.amount_per_household,
                    m.Distribution.currency,
                    m.Distribution.status,
                )
                .join(m.Project, m.Project.id == m.Distribution.project_id)
                .join(m.Association, m.Association.id == m.Project.association_id)
                .join(m.AidType, m.AidType.id == m.Distribution.aid_type_id)
                .outerjoin(d, d.id == m.Distribution.district_id)
                .order_by(m.Distribution.distribution_date)
            )
        elif kind == "distribution_lines":
            stmt = (
                select(
                    m.Distribution.distribution_date,
                    m.Association.name,
                    m.AidType.name,
                    m.Person.full_name,
                    m.Person.national_id,
                    m.DistributionLine.quantity,
                    m.DistributionLine.amount,
                    m.DistributionLine.status,
                    m.DistributionLine.reason,
                )
                .join(m.Distribution, m.Distribution.id == m.DistributionLine.distribution_id)
                .join(m.Project, m.Project.id == m.Distribution.project_id)
                .join(m.Association, m.Association.id == m.Project.association_id)
                .join(m.AidType, m.AidType.id == m.Distribution.aid_type_id)
                .outerjoin(m.Person, m.Person.id == m.DistributionLine.person_id)
                .order_by(m.Distribution.distribution_date)
            )
        elif kind == "referrals":
            stmt = (
                select(
                    m.Referral.referred_on,
                    m.Person.full_name,
                    m.Person.national_id,
                    m.Association.name,
                    m.Referral.need,
                    m.Referral.status,
                    m.Referral.due_on,
                    m.Referral.closed_on,
                    m.Referral.outcome,
                )
                .join(m.Person, m.Person.id == m.Referral.person_id)
                .join(m.Association, m.Association.id == m.Referral.association_id)
                .order_by(m.Referral.referred_on)
            )
        elif kind == "review_queue":
            a, b = m.Person.__table__.alias("a"), m.Person.__table__.alias("b")
            stmt = (
                select(
                    m.DuplicatePair.decision,
                    m.DuplicatePair.score,
                    a.c.full_name,
                    a.c.national_id,
                    b.c.full_name,
                    b.c.national_id,
                    m.DuplicatePair.reasons,
                )
                .join(a, a.c.id == m.DuplicatePair.person_a_id)
                .join(b, b.c.id == m.DuplicatePair.person_b_id)
                .where(m.DuplicatePair.status == "open")
                .order_by(m.DuplicatePair.decision, m.DuplicatePair.score.desc())
            )
        else:
            raise ValueError(kind)
        yield from self.session.execute(stmt.execution_options(yield_per=10_000))
