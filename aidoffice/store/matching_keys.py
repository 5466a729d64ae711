"""Stored blocking keys: computed by domain.matching, kept current on every insert, update and merge of a person."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import delete, event
from sqlalchemy.orm import Session, sessionmaker

from aidoffice.domain.matching import MatchRecord, blocking_keys, key_hash
from aidoffice.store.dialect import insert_ignore
from aidoffice.store.models import MatchKey, Person

_KEY_FIELDS = ("name_parts", "national_id", "phone", "birth_year", "district_id", "merged_into_id")


def key_rows_for(
    rowid: int, name_parts, national_id: str | None, phone: str | None, birth_year: int | None, district_id: str | None
) -> list[dict]:
    """The match_keys rows of one person (name_parts may be a list or its JSON text)."""
    parts = json.loads(name_parts) if isinstance(name_parts, str) else (name_parts or [])
    record = MatchRecord(
        id="",
        parts=tuple(parts),
        national_id=national_id or "",
        phone=phone or "",
        birth_year=birth_year,
        district=district_id,
    )
    return [{"key_hash": key_hash(k), "person_rowid": rowid} for k in blocking_keys(record)]


def rows_for_person(person: Person) -> list[dict]:
    if person.merged_into_id:
        return []  # a merged record is found through its survivor
    return key_rows_for(
        person.search_rowid, person.name_parts, person.national_id, person.phone, person.birth_year, person.district_id
    )


def rows_for_dicts(rows: Iterable[dict]) -> list[dict]:
    """Keys for bulk-inserted person rows (demo data, imports)."""
    out: list[dict] = []
    for r in rows:
        if not r.get("merged_into_id"):
            out.extend(
                key_rows_for(
                    r["search_rowid"],
                    r["name_parts"],
                    r.get("national_id"),
                    r.get("phone"),
                    r.get("birth_year"),
                    r.get("district_id"),
                )
            )
    return out


def _changed(session: Session, person: Person) -> bool:
    from sqlalchemy import inspect

    state = inspect(person)
    return any(state.attrs[name].history.has_changes() for name in _KEY_FIELDS)


def _refresh_keys(session: Session, _context) -> None:
    touched = [p for p in session.new if isinstance(p, Person)]
    touched += [p for p in session.dirty if isinstance(p, Person) and _changed(session, p)]
    if not touched:
        return
    conn = session.connection()
    rowids = [p.search_rowid for p in touched if p.search_rowid is not None]
    if rowids:
        conn.execute(delete(MatchKey).where(MatchKey.person_rowid.in_(rowids)))
    rows = {(r["key_hash"], r["person_rowid"]): r for p in touched for r in rows_for_person(p)}
    if rows:
        conn.execute(insert_ignore(conn, MatchKey.__table__), list(rows.values()))


def install(sessions: sessionmaker[Session]) -> None:
    """Keep every person's keys current when the ORM writes it (after index keys are assigned)."""
    # Unconditionally: every database gets a new sessionmaker. (An event.contains() guard here once skipped the
    # listener when a new sessionmaker class reused a collected one's id, leaving search_rowid NULL.)
    event.listen(sessions, "after_flush", _refresh_keys)


def backfill(conn, *, batch_size: int = 50_000) -> int:
    """Keys for every live person, written in batches on a migration's connection (the key function of this
    release); returns how many were written."""
    from sqlalchemy import text

    rows = conn.execute(
        text(
            "SELECT search_rowid, name_parts, national_id, phone, birth_year, district_id FROM persons "
            "WHERE merged_into_id IS NULL"
        )
    )
    batch: list[dict] = []
    written = 0
    insert_keys = insert_ignore(conn, MatchKey.__table__)
    for row in rows:
        batch.extend(
            key_rows_for(row.search_rowid, row.name_parts, row.national_id, row.phone, row.birth_year, row.district_id)
        )
        if len(batch) >= batch_size:
            conn.execute(insert_keys, batch)
            written += len(batch)
            batch.clear()
    if batch:
        conn.execute(insert_keys, batch)
        written += len(batch)
    return written
