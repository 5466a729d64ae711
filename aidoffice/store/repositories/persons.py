"""Persons: search, numbers, merges and bulk loading with their index and matching keys."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, select
from sqlalchemy.orm import selectinload

from aidoffice.store import bulk, matching_keys, search
from aidoffice.store import models as m
from aidoffice.store.repositories.records import Records

# A found person's household, its size and head, loaded with the page of results in three more queries: the pick
# lists name where each person sits, and row-by-row lazy loads were two round trips a result (a server feels each).
_HOME = selectinload(m.Person.membership).selectinload(m.HouseholdMember.household).selectinload(m.Household.head)


class PersonsRepository(Records):
    """Persons: search, numbers, merges and bulk loading with their index and matching keys."""

    def persons_by_search_rowids(self, rowids: Sequence[int]) -> list[tuple[m.Person, str | None]]:
        if not rowids:
            return []
        rows = self.session.execute(
            select(m.Person, m.District.name)
            .outerjoin(m.District, m.District.id == m.Person.district_id)
            .where(m.Person.search_rowid.in_(list(rowids)), m.Person.merged_into_id.is_(None))
            .options(_HOME)
        ).all()
        order = {rowid: i for i, rowid in enumerate(rowids)}
        rows.sort(key=lambda r: order[r[0].search_rowid])
        return [(p, d) for p, d in rows]

    def person_rowids_matching(self, tokens: list[tuple[str, ...]], limit: int) -> list[int]:
        return search.person_rowids_matching(self.session, tokens, limit)

    def persons_by_number_prefix(self, digits: str, phone_digits: str, limit: int) -> list[tuple[m.Person, str | None]]:
        """Persons whose national ID (or phone) starts with the given digits, using the column indexes."""

        def prefix(column, value: str):
            upper = value[:-1] + chr(ord(value[-1]) + 1)
            return and_(column >= value, column < upper)

        conditions = [prefix(m.Person.national_id, digits)]
        if phone_digits:
            conditions.append(prefix(m.Person.phone, phone_digits))
        results: list[tuple[m.Person, str | None]] = []
        seen: set[str] = set()
        for condition in conditions:
            rows = self.session.execute(
                select(m.Person, m.District.name)
                .outerjoin(m.District, m.District.id == m.Person.district_id)
                .where(condition, m.Person.merged_into_id.is_(None))
                .options(_HOME)
                .limit(limit)
            ).all()
            for person, district in rows:
                if person.id not in seen:
                    seen.add(person.id)
                    results.append((person, district))
        return results[:limit]

    def merged_ids_into(self, person_id: str) -> list[str]:
        return list(self.session.scalars(select(m.Person.id).where(m.Person.merged_into_id == person_id)))

    def bulk_insert_persons(self, rows: list[dict]) -> None:
        """Persons with their index keys and blocking keys (rows must carry `search_rowid`)."""
        if not rows:
            return
        with search.index_after_bulk_insert(self.session.connection(), min(r["search_rowid"] for r in rows)):
            self.bulk_insert(m.Person, rows)
        # Plain integer pairs straight to the driver: a list of 100,000 persons brings about a million keys.
        keys = [(k["key_hash"], k["person_rowid"]) for k in matching_keys.rows_for_dicts(rows)]
        bulk.insert_ignoring_duplicates(
            self.session.connection(), m.MatchKey.__table__, ("key_hash", "person_rowid"), keys
        )

    def reserve_search_rowids(self, count: int) -> int:
        """The first of `count` new index keys in one unbroken run, for persons about to be bulk-inserted."""
        return search.reserve_search_rowids(self.session, count)
