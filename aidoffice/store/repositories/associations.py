"""Associations: found by reference or name, loaded whole."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from aidoffice.store import models as m
from aidoffice.store.repositories.records import Records


class AssociationsRepository(Records):
    """Associations: found by reference or name, loaded whole."""

    def association_by_reference(self, ref: str) -> m.Association | None:
        """By id, registration number, or exact (normalised) name."""
        found = self.session.get(m.Association, ref)
        if found is not None:
            return found
        return self.session.scalars(
            select(m.Association)
            .where(or_(m.Association.registration_number == ref, m.Association.name == ref))
            .limit(1)
        ).first()

    def associations_by_name_norm(self, name_norm: str) -> list[m.Association]:
        return list(self.session.scalars(select(m.Association).where(m.Association.name_norm == name_norm)))

    def association_full(self, ident: str) -> m.Association | None:
        return self.session.scalars(
            select(m.Association)
            .where(m.Association.id == ident)
            .options(
                selectinload(m.Association.fields),
                selectinload(m.Association.districts),
                selectinload(m.Association.board),
                selectinload(m.Association.status_history),
                selectinload(m.Association.visits),
                selectinload(m.Association.compliance),
                selectinload(m.Association.contacts),
            )
        ).first()
