"""Aid given: distribution lines of persons and households, and their reversals."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import or_, select

from aidoffice.store import models as m
from aidoffice.store.repositories.records import Records


class AidRepository(Records):
    """Aid given: distribution lines of persons and households, and their reversals."""

    def aid_history(self, household_ids: Iterable[str], person_ids: Iterable[str]) -> list[tuple]:
        """Lines (not reversed) of the persons or their households, newest first, with association and aid type."""
        who = m.DistributionLine.person_id.in_(list(person_ids))
        household_ids = [h for h in household_ids if h]
        if household_ids:
            who = or_(who, m.DistributionLine.household_id.in_(household_ids))
        reversed_ids = select(m.DistributionLine.reversal_of_id).where(m.DistributionLine.reversal_of_id.is_not(None))
        stmt = (
            select(m.DistributionLine, m.Distribution, m.AidType.name, m.Association.name, m.AidType.code)
            .join(m.Distribution, m.Distribution.id == m.DistributionLine.distribution_id)
            .join(m.AidType, m.AidType.id == m.Distribution.aid_type_id)
            .join(m.Project, m.Project.id == m.Distribution.project_id)
            .join(m.Association, m.Association.id == m.Project.association_id)
            .where(who, m.DistributionLine.status != "reversal", m.DistributionLine.id.not_in(reversed_ids))
            .order_by(m.Distribution.distribution_date.desc())
        )
        return list(self.session.execute(stmt).all())

    def reversal_of(self, line_id: str) -> m.DistributionLine | None:
        return self.first(m.DistributionLine, reversal_of_id=line_id)

    def lines_for(self, distribution_id: str, person_id: str, household_id: str | None) -> list[m.DistributionLine]:
        """The round's lines (not reversals) of a person, or of the household they belong to."""
        who = m.DistributionLine.person_id == person_id
        if household_id:
            who = or_(who, m.DistributionLine.household_id == household_id)
        stmt = select(m.DistributionLine).where(
            m.DistributionLine.distribution_id == distribution_id, who, m.DistributionLine.status != "reversal"
        )
        return list(self.session.scalars(stmt))
