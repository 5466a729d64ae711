"""Duplicate detection: the matching engine's rows and keys, stored pairs and the review queue."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import ARRAY, Integer, any_, bindparam, delete, func, or_, select, text, update

from aidoffice.store import dialect
from aidoffice.store import models as m
from aidoffice.store.repositories.records import Records

# Each key's first persons, read on the driver's own cursor: the statement is prepared once by sqlite3 and run per
# key without SQLAlchemy building, caching and wrapping a statement each time (that was most of an import's check).
_FIRST_PER_KEY_SQLITE = "SELECT person_rowid FROM match_keys WHERE key_hash = ? LIMIT ?"
# On a server, all the keys of a statement in one index-only lookup each (a LATERAL join over an array of them).
_FIRST_PER_KEY_SERVER = text(
    "SELECT k.h, mk.person_rowid FROM unnest(CAST(:hashes AS bigint[])) AS k(h) "
    "CROSS JOIN LATERAL (SELECT person_rowid FROM match_keys WHERE key_hash = k.h LIMIT :per_key) AS mk"
)
SERVER_KEYS_PER_STATEMENT = 5_000


def _first_persons_per_key(session, hashes: list[int], limit: int) -> dict[int, list[int]]:
    """Each key's first `limit` persons (a key holding more is only known to hold more). On a server in one statement
    per 5,000 keys, as a round trip costs more than the index lookups it carries; in-process SQLite, one prepared
    statement per key."""
    connection = session.connection()
    if not dialect.is_postgresql(connection):
        cursor = connection.connection.driver_connection.cursor()
        try:
            return {h: [rowid for (rowid,) in cursor.execute(_FIRST_PER_KEY_SQLITE, (h, limit))] for h in hashes}
        finally:
            cursor.close()
    found: dict[int, list[int]] = {h: [] for h in hashes}
    for start in range(0, len(hashes), SERVER_KEYS_PER_STATEMENT):
        chunk = hashes[start : start + SERVER_KEYS_PER_STATEMENT]
        for h, rowid in connection.execute(_FIRST_PER_KEY_SERVER, {"hashes": chunk, "per_key": limit}):
            found[h].append(rowid)
    return found


class DuplicatesRepository(Records):
    """Duplicate detection: the matching engine's rows and keys, stored pairs and the review queue."""

    def match_rows(self):
        """The fields the matching engine reads for every person not merged into another (streamed in batches)."""
        yield from self.session.execute(self._match_select().execution_options(yield_per=20_000))

    def person_rowids_for_keys(
        self, hashes: Sequence[int], per_key: int = 150, *, year: int | None = None, stats: dict | None = None
    ) -> set[int]:
        """Persons sharing any of the key hashes. A key holding more than `per_key` persons no longer tells records
        apart (a very common name combination, an association's phone on every row): it is read for the birth
        year ±1 only, still at most `per_key`; what is left unread is counted in `stats['skipped']`."""
        return self.person_rowids_for_records([(hashes, year)], per_key, stats=stats)[0]

    def person_rowids_for_records(
        self, records: Sequence[tuple[Sequence[int], int | None]], per_key: int = 150, *, stats: dict | None = None
    ) -> list[set[int]]:
        """person_rowids_for_keys for each (key hashes, birth year) of many records, their keys read together: a key
        that several records share (a common name, a family) is read once."""
        uniques = [list(dict.fromkeys(hashes)) for hashes, _year in records]
        every_key = list(dict.fromkeys(h for unique in uniques for h in unique))
        by_key = _first_persons_per_key(self.session, every_key, per_key + 1) if every_key else {}
        by_year: dict[tuple[int, int], list[int]] = {}
        out: list[set[int]] = []
        for unique, (_hashes, year) in zip(uniques, records, strict=True):
            found: set[int] = set()
            for h in unique:
                rows = by_key[h]
                if len(rows) <= per_key:
                    found.update(rows)
                    continue
                if year:
                    rows = by_year.get((h, year))
                    if rows is None:
                        rows = by_year[(h, year)] = self._rowids_near_year(h, year, per_key + 1)
                    found.update(rows[:per_key])
                    if len(rows) <= per_key:
                        continue
                if stats is not None:
                    stats["skipped"] = stats.get("skipped", 0) + 1
            out.append(found)
        return out

    def _rowids_near_year(self, h: int, year: int, limit: int) -> list[int]:
        return list(
            self.session.scalars(
                select(m.MatchKey.person_rowid)
                .join(m.Person, m.Person.search_rowid == m.MatchKey.person_rowid)
                .where(m.MatchKey.key_hash == h, m.Person.birth_year.between(year - 1, year + 1))
                .limit(limit)
            )
        )

    def match_rows_by_rowid(self, rowids: Iterable[int]) -> dict:
        """search_rowid → the matching engine's row, for the live persons among `rowids`: on SQLite 900 a statement
        (its bound variables), on a server 5,000 a statement as one array (a list of 900 placeholders was a new
        statement text for the driver to parse on every call)."""
        rowids = sorted(rowids)
        stmt = self._match_select().add_columns(m.Person.search_rowid.label("search_rowid"))
        if dialect.is_postgresql(self.session):
            stmt, size = stmt.where(m.Person.search_rowid == any_(bindparam("rowids", type_=ARRAY(Integer)))), 5_000
        else:
            stmt, size = stmt.where(m.Person.search_rowid.in_(bindparam("rowids", expanding=True))), 900
        found = {}
        for start in range(0, len(rowids), size):
            for row in self.session.execute(stmt, {"rowids": rowids[start : start + size]}):
                found[row.search_rowid] = row
        return found

    def _match_select(self):
        # Plain outer joins (not a subquery of households): SQLite would materialise the subquery on every call.
        return (
            select(
                m.Person.id,
                m.Person.name_parts,
                m.Person.national_id,
                m.Person.phone,
                m.Person.birth_year,
                m.Person.sex,
                m.District.name.label("district"),
                m.Household.size.label("household_size"),
                m.Person.spouse_name_norm,
                m.Person.spouse_national_id,
                m.Person.full_name,
            )
            .outerjoin(m.District, m.District.id == m.Person.district_id)
            .outerjoin(m.HouseholdMember, m.HouseholdMember.person_id == m.Person.id)
            .outerjoin(m.Household, m.Household.id == m.HouseholdMember.household_id)
            .where(m.Person.merged_into_id.is_(None))
        )

    def name_frequencies(self) -> tuple[dict[str, int], dict[str, int], int]:
        """Counts of given names (first and father's part) and family names (last part), and the total."""
        given: dict[str, int] = {}
        family: dict[str, int] = {}
        for index in (0, 1):
            column = dialect.json_item(self.session, m.Person.name_parts, index)
            for name, n in self.session.execute(select(column, func.count()).group_by(column)):
                if name:
                    given[name] = given.get(name, 0) + int(n)
        column = dialect.json_item(self.session, m.Person.name_parts, -1)
        for name, n in self.session.execute(
            select(column, func.count()).where(func.json_array_length(m.Person.name_parts) >= 3).group_by(column)
        ):
            if name:
                family[name] = int(n)
        return given, family, self.count(m.Person)

    def pair_states(self) -> dict[tuple[str, str], tuple[str, str]]:
        """(person a, person b) → (pair id, status) for every stored pair: light enough for a million-person scan."""
        rows = self.session.execute(
            select(m.DuplicatePair.person_a_id, m.DuplicatePair.person_b_id, m.DuplicatePair.id, m.DuplicatePair.status)
        )
        return {(a, b): (pid, status) for a, b, pid, status in rows}

    def update_pairs(self, rows: list[dict]) -> None:
        """rows: {"pid", "score", "decision", "reasons", "contributions"} for open pairs found again."""
        if rows:
            table = m.DuplicatePair.__table__
            self.session.connection().execute(
                update(table)
                .where(table.c.id == bindparam("pid"))
                .values(
                    score=bindparam("score"),
                    decision=bindparam("decision"),
                    reasons=bindparam("reasons"),
                    contributions=bindparam("contributions"),
                    updated_at=bindparam("now"),
                ),
                rows,
            )

    def drop_open_pairs(self, pair_ids: Sequence[str]) -> None:
        """Open pairs a new scan no longer finds (the registry, the weights or the thresholds changed); pairs a person
        decided, and the merges that point at them, are never touched."""
        table = m.DuplicatePair.__table__
        for start in range(0, len(pair_ids), 900):
            self.session.connection().execute(
                delete(table).where(table.c.id.in_(pair_ids[start : start + 900]), table.c.status == "open")
            )

    def review_queue(self, limit: int, offset: int, decision: str | None) -> list[m.DuplicatePair]:
        stmt = select(m.DuplicatePair).where(m.DuplicatePair.status == "open")
        if decision:
            stmt = stmt.where(m.DuplicatePair.decision == decision)
        order = (m.DuplicatePair.decision != "likely", m.DuplicatePair.score.desc())
        return list(self.session.scalars(stmt.order_by(*order).limit(limit).offset(offset)))

    def queue_counts(self) -> dict[str, int]:
        rows = self.session.execute(
            select(m.DuplicatePair.decision, func.count())
            .where(m.DuplicatePair.status == "open")
            .group_by(m.DuplicatePair.decision)
        )
        return {decision: int(n) for decision, n in rows}

    def open_pairs_of(self, person_id: str) -> list[m.DuplicatePair]:
        return list(
            self.session.scalars(
                select(m.DuplicatePair).where(
                    m.DuplicatePair.status == "open",
                    or_(m.DuplicatePair.person_a_id == person_id, m.DuplicatePair.person_b_id == person_id),
                )
            )
        )
