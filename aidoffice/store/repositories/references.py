"""Geography and reference lists (districts, codes of aid types, fields, categories…)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select

from aidoffice.store import models as m
from aidoffice.store.repositories.records import Records, T


class ReferencesRepository(Records):
    """Geography and reference lists (districts, codes of aid types, fields, categories…)."""

    def district(self, ref: str) -> m.District | None:
        """A district by its id or by its name as typed (surrounding spaces ignored)."""
        return self.session.get(m.District, ref) or self.district_by_name(ref.strip())

    def district_by_name(self, name: str) -> m.District | None:
        return self.session.scalars(select(m.District).where(m.District.name == name).limit(1)).first()

    def districts(self) -> list[m.District]:
        return list(self.session.scalars(select(m.District).order_by(m.District.name)))

    def by_codes(self, model: type[T], codes: Iterable[str]) -> list[T]:
        codes = list(codes)
        if not codes:
            return []
        return list(self.session.scalars(select(model).where(model.code.in_(codes))))

    def code_map(self, model: type) -> dict[str, str]:
        """code → id for a reference list."""
        return {code: ident for code, ident in self.session.execute(select(model.code, model.id))}
