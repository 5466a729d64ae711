"""Households: members and links between households (spouses heading two households)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import and_, func, or_, select

from aidoffice.store import models as m
from aidoffice.store.repositories.records import Records


class HouseholdsRepository(Records):
    """Households: members and links between households (spouses heading two households)."""

    def household_member_ids(self, household_ids: Iterable[str]) -> list[str]:
        ids = [h for h in household_ids if h]
        if not ids:
            return []
        return list(
            self.session.scalars(select(m.HouseholdMember.person_id).where(m.HouseholdMember.household_id.in_(ids)))
        )

    def spouse_household_links(self) -> list[tuple[str, str, str]]:
        """Household pairs whose heads are each other's spouse: by ID, or by name with a shared phone."""
        husband = m.Person.__table__.alias("h")
        wife = m.Person.__table__.alias("w")
        mh = m.HouseholdMember.__table__.alias("mh")
        mw = m.HouseholdMember.__table__.alias("mw")
        by_id = and_(husband.c.spouse_national_id != "", wife.c.national_id == husband.c.spouse_national_id)
        # By phone, then name: PostgreSQL's trigram index answers `name_norm =` too, and the planner took it for
        # every head (a common name's trigrams list a good part of the registry: > 15 min at 2,000,000 persons);
        # wrapped in coalesce (name_norm is never NULL) the name cannot use it and the phone index is taken (1.5 s).
        by_name = and_(
            husband.c.phone != "",
            wife.c.phone == husband.c.phone,
            husband.c.spouse_name_norm != "",
            func.coalesce(wife.c.name_norm, "") == husband.c.spouse_name_norm,
        )
        out = []
        for condition, reason in ((by_id, "رقم بطاقة الزوج/الزوجة"), (by_name, "اسم الزوج/الزوجة ونفس الهاتف")):
            stmt = (
                select(mh.c.household_id, mw.c.household_id)
                .select_from(husband)
                .join(wife, condition)
                .join(mh, and_(mh.c.person_id == husband.c.id, mh.c.relation == "head"))
                .join(mw, and_(mw.c.person_id == wife.c.id, mw.c.relation == "head"))
                .where(
                    mh.c.household_id != mw.c.household_id,
                    husband.c.merged_into_id.is_(None),
                    wife.c.merged_into_id.is_(None),
                )
            )
            out.extend((a, b, reason) for a, b in self.session.execute(stmt))
        return out

    def linked_household_ids(self, household_id: str) -> set[str]:
        rows = self.session.execute(
            select(m.HouseholdLink.household_a_id, m.HouseholdLink.household_b_id).where(
                m.HouseholdLink.status != "rejected",
                or_(m.HouseholdLink.household_a_id == household_id, m.HouseholdLink.household_b_id == household_id),
            )
        )
        return {x for pair in rows for x in pair} - {household_id}
