"""The audit trail: every ORM create, update and delete, and the actions services name (login, import, export,
merge, override), written in the same transaction as a hash chain, and its verification.

Each entry's hash is SHA-256 over the previous entry's hash and the entry's own canonical JSON, and the newest hash
is also kept in the settings table: an edited, deleted or inserted row, or a cut-off tail, breaks the chain. Anyone who
writes may append, so the chain alone cannot tell an edit followed by recomputing every hash: `audit_anchor` entries,
signed with the administrators' key, and the head copied outside the database do (services/trust.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import event, insert, inspect, select, update
from sqlalchemy.orm import MANYTOONE, Session, sessionmaker

from aidoffice.store import dialect
from aidoffice.store import models as m
from aidoffice.store.base import RecordMixin, new_id, utcnow

HEAD_SETTING = "audit.head"
GENESIS = "0" * 64
ANCHOR_ACTION = "audit_anchor"  # after = {"seq", "hash", "key", "sig"}: the entry just before, signed
_HEAD_SINK = "audit_head_sink"
_NEW_HEAD = "audit_new_head"
# Bookkeeping that changes with every merge or scan and says nothing a person did on its own.
_SKIPPED = {"match_keys", "duplicate_pairs", "settings", "audit_log", "household_links"}
_PENDING = "audit_pending"


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _columns(obj) -> dict:
    mapper = inspect(obj).mapper
    return {c.key: _plain(getattr(obj, c.key)) for c in mapper.column_attrs if c.key not in ("version",)}


def _changes(obj) -> tuple[dict, dict]:
    state = inspect(obj)
    before, after = {}, {}
    for attr in state.mapper.column_attrs:
        if attr.key in ("updated_at", "version", "changed_by"):
            continue
        history = state.attrs[attr.key].history
        if history.has_changes():
            before[attr.key] = _plain(history.deleted[0]) if history.deleted else None
            after[attr.key] = _plain(history.added[0]) if history.added else None
    # A link changed through its relationship (person.district = …): its key column is only set at the flush, after
    # this reading, so the change is read off the relationship and written under the key column's name.
    for rel in state.mapper.relationships:
        if rel.direction is not MANYTOONE or len(rel.local_columns) != 1:
            continue
        column = next(iter(rel.local_columns))
        key = state.mapper.get_property_by_column(column).key
        if key in after:
            continue
        history = state.attrs[rel.key].history
        if history.has_changes():
            new = history.added[0] if history.added else None
            old_id = state.attrs[key].value  # the key column still holds the old link until the flush
            new_id = getattr(new, "id", None)
            if old_id != new_id:
                before[key], after[key] = old_id, new_id
    return before, after


def _collect(session: Session, _context, _instances) -> None:
    """Before the flush, while the old values are still known: what each audited record becomes."""
    pending = session.info.setdefault(_PENDING, [])
    for obj in session.new:
        if isinstance(obj, RecordMixin) and obj.__tablename__ not in _SKIPPED:
            pending.append(("create", obj, None))
    for obj in session.dirty:
        if isinstance(obj, RecordMixin) and obj.__tablename__ not in _SKIPPED and session.is_modified(obj):
            before, after = _changes(obj)
            if after:
                pending.append(("update", obj, (before, after)))
    for obj in session.deleted:
        if isinstance(obj, RecordMixin) and obj.__tablename__ not in _SKIPPED:
            pending.append(("delete", obj, (_columns(obj), None)))


def _write_pending(session: Session, _context) -> None:
    pending = session.info.pop(_PENDING, [])
    rows = []
    for action, obj, values in pending:
        before, after = values if values is not None else (None, _columns(obj))
        rows.append((action, obj.__tablename__, str(getattr(obj, "id", "") or ""), before, after, obj.office_id))
    if rows:
        append(session, session.info.get("actor", ""), rows)


def canonical(entry: dict) -> bytes:
    return json.dumps(entry, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str).encode("utf-8")


def entry_hash(prev_hash: str, entry: dict) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(entry)).hexdigest()


def head(session: Session) -> tuple[int, str]:
    """The newest entry's (seq, hash); (0, GENESIS) for an empty trail."""
    last = session.execute(select(m.AuditEntry.seq, m.AuditEntry.hash).order_by(m.AuditEntry.seq.desc()).limit(1))
    row = last.first()
    return (row[0], row[1]) if row is not None else (0, GENESIS)


def hash_at(session: Session, seq: int) -> str | None:
    if seq == 0:
        return GENESIS
    return session.execute(select(m.AuditEntry.hash).where(m.AuditEntry.seq == seq)).scalar()


def append(session: Session, actor: str, rows: list[tuple]) -> None:
    """Add entries (action, entity, entity_id, before, after, office_id) to the chain, in the current transaction.
    On a server the head is read under the writer lock (dialect.lock_writers), held to the commit: two writers never
    chain onto one head, and sequence numbers follow the commit order."""
    connection = session.connection()
    dialect.lock_writers(connection)
    prev_seq, prev = head(session)
    start = (prev_seq, prev)
    seq = prev_seq
    now = utcnow()
    for action, entity, entity_id, before, after, office_id in rows:
        entry = {
            "at": now.isoformat(),
            "username": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "before": before,
            "after": after,
        }
        digest = entry_hash(prev, entry)
        done = connection.execute(
            insert(m.AuditEntry.__table__).values(
                id=new_id(),
                office_id=office_id or "",
                at=now,
                username=actor,
                action=action,
                entity=entity,
                entity_id=entity_id,
                before=before,
                after=after,
                prev_hash=prev,
                hash=digest,
            )
        )
        prev = digest
        seq = done.inserted_primary_key[0]
    _set_head(session, start[1], prev)
    first = session.info.get(_NEW_HEAD, (start, None))[0]
    session.info[_NEW_HEAD] = (first, (seq, prev))


def _set_head(session: Session, old: str, digest: str) -> None:
    """Move the stored head on, unless it no longer names the newest row: then the tail was cut, and the stale head
    is the evidence that `verify` reports (a later append must not paper over it)."""
    table = m.Setting.__table__
    connection = session.connection()
    stored = connection.execute(select(table.c.value).where(table.c.key == HEAD_SETTING)).scalar()
    if stored is None:
        connection.execute(insert(table).values(key=HEAD_SETTING, value=digest))
    elif stored == old:
        connection.execute(update(table).where(table.c.key == HEAD_SETTING).values(value=digest))


def set_head_sink(sessions: sessionmaker[Session], sink) -> None:
    """After each commit that appended, call `sink((seq, hash) before, (seq, hash) after)`: how services copy the head
    outside the database (the keyring of an encrypted one)."""
    info = dict(sessions.kw.get("info") or {})
    info[_HEAD_SINK] = sink
    sessions.configure(info=info)


def _publish_head(session: Session) -> None:
    moved = session.info.pop(_NEW_HEAD, None)
    sink = session.info.get(_HEAD_SINK)
    if moved is not None and sink is not None:
        sink(*moved)


def _forget_head(session: Session, *_args) -> None:
    session.info.pop(_NEW_HEAD, None)


@dataclass(frozen=True)
class ChainReport:
    entries: int
    broken_at: int | None  # the seq of the first entry that does not hold
    reason: str = ""
    at: int | None = None  # the entry a reason names (an anchor, a head kept outside)
    last: tuple[int, str] = (0, GENESIS)
    hashes: dict[int, str] | None = None  # the hash of each entry asked for that exists
    anchors: tuple[tuple[int, dict, bool], ...] = ()  # (anchor entry's seq, its detail, names the entry before it)
    who: tuple[str, ...] = ()  # a replaced administrators' key: the users it is wrapped for
    missing: tuple[str, ...] = ()  # append-only triggers that are gone (or no longer refuse anything)


# The append-only rules (migrations 0001 and 0006): trigger -> (statement it refuses, table). PostgreSQL also refuses
# TRUNCATE, which skips row triggers.
GUARDS = {
    "audit_log_no_update": ("update", "audit_log"),
    "audit_log_no_delete": ("delete", "audit_log"),
    "distributions_no_delete": ("delete", "distributions"),
    "distribution_lines_no_delete": ("delete", "distribution_lines"),
    "distribution_lines_append_only": ("update", "distribution_lines"),
}
_SERVER_GUARDS = {
    **GUARDS,
    "audit_log_no_truncate": ("truncate", "audit_log"),
    "distributions_no_truncate": ("truncate", "distributions"),
    "distribution_lines_no_truncate": ("truncate", "distribution_lines"),
}


def missing_guards(session: Session) -> tuple[str, ...]:
    """The append-only triggers that are gone, disabled, or no longer refuse what they are named for (a clerk holding
    the database key can drop one, edit, and put it back; a dropped one stays dropped unless somebody looks)."""
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        rows = connection.exec_driver_sql(
            "SELECT t.tgname, c.relname, p.proname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'"
        ).fetchall()
        present = {
            name
            for name, table, function in rows
            if function == "aidoffice_refuse_change" and _SERVER_GUARDS.get(name, ("", ""))[1] == table
        }
        return tuple(sorted(set(_SERVER_GUARDS) - present))
    rows = connection.exec_driver_sql("SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    present = set()
    for name, table, sql in rows:
        verb, guarded = GUARDS.get(name, ("", ""))
        text = " ".join(str(sql or "").lower().split())
        if guarded == table and f"before {verb} on {table}" in text and "raise(abort" in text:
            present.add(name)
    return tuple(sorted(set(GUARDS) - present))


def verify(session: Session, want: tuple[int, ...] = (), since: tuple[int, str] | None = None) -> ChainReport:
    """Walk the chain from the first entry (or from `since`, an anchored (seq, hash) whose row must still carry that
    hash); the first link that does not hold, or that it holds, with the hashes of the entries in `want`; and the
    append-only triggers that are missing."""
    report = _walk(session, want, since)
    missing = missing_guards(session)
    return replace(report, missing=missing) if missing else report


def _walk(session: Session, want: tuple[int, ...], since: tuple[int, str] | None) -> ChainReport:
    prev_seq, prev = 0, GENESIS
    count = 0
    wanted, hashes, anchors = set(want), {}, []
    query = select(m.AuditEntry).order_by(m.AuditEntry.seq)
    if since is not None and since[0] > 0:
        if hash_at(session, since[0]) != since[1]:
            return ChainReport(0, None, "anchor", at=since[0])
        prev_seq, prev = since
        if prev_seq in wanted:
            hashes[prev_seq] = prev
        query = query.where(m.AuditEntry.seq > since[0])
    rows = session.execute(query.execution_options(yield_per=5000))
    for (row,) in rows:
        count += 1
        entry = {
            "at": row.at.isoformat(),
            "username": row.username,
            "action": row.action,
            "entity": row.entity,
            "entity_id": row.entity_id,
            "before": row.before,
            "after": row.after,
        }
        if row.prev_hash != prev:
            return ChainReport(count, row.seq, "previous link missing or changed")
        if entry_hash(prev, entry) != row.hash:
            return ChainReport(count, row.seq, "entry changed")
        if row.action == ANCHOR_ACTION:
            detail = row.after if isinstance(row.after, dict) else {}
            anchors.append((row.seq, detail, (detail.get("seq"), detail.get("hash")) == (prev_seq, prev)))
        if row.seq in wanted:
            hashes[row.seq] = row.hash
        prev_seq, prev = row.seq, row.hash
    found = {"hashes": hashes, "anchors": tuple(anchors), "last": (prev_seq, prev)}
    stored = session.execute(select(m.Setting.value).where(m.Setting.key == HEAD_SETTING)).scalar()
    if (stored or GENESIS) != prev:
        return ChainReport(count, None, "newest entries removed", **found)
    return ChainReport(count, None, **found)


def install(sessions: sessionmaker[Session]) -> None:
    dialect.serialize_writers(sessions.kw["bind"])  # one writer at a time on a server, as the chain needs
    event.listen(sessions, "before_flush", _collect)
    event.listen(sessions, "after_flush", _write_pending)
    event.listen(sessions, "after_commit", _publish_head)
    event.listen(sessions, "after_rollback", _forget_head)
