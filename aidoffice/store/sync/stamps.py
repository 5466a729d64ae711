"""The hybrid logical clock and the stamps of local changes (clock, observe, stamp_pending, restamp_ahead, outbox)."""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.orm import Session

from aidoffice.domain.sync import hlc_ms, next_stamp
from aidoffice.store import dialect
from aidoffice.store import models as m
from aidoffice.store.sync.schema import CLOCK_SETTING, FRESH, LISTS, OWNED, STAMPED_SETTING, _sql, table

# --- the clock and the stamps of local changes ------------------------------------------------------------


def _number(conn: Connection, key: str) -> int:
    settings = table("settings")
    raw = conn.execute(select(settings.c.value).where(settings.c.key == key)).scalar()
    if raw is None:
        return 0
    return int(raw) if isinstance(raw, int | float) else int(json.loads(raw))  # a number once stored as JSON text


def _set_number(conn: Connection, key: str, value: int) -> None:
    conn.execute(
        dialect.upsert(conn, table("settings"), ("key",), {"key": key, "value": value, "updated_at": m.utcnow()})
    )


def clock(conn: Connection) -> int:
    return _number(conn, CLOCK_SETTING)


def observe(conn: Connection, stamp: int) -> None:
    """Move the clock up to a stamp seen in a package, so later local changes order after it."""
    dialect.lock_writers(conn)
    if stamp > clock(conn):
        _set_number(conn, CLOCK_SETTING, stamp)


def field_stamp(conn: Connection, entity: str, ident: str, fld: str) -> int | None:
    """The clock value of the last write of one field (an association's) here, local or applied; None: none yet."""
    return _sql(
        conn,
        "SELECT hlc FROM sync_stamps WHERE entity = ? AND entity_id = ? AND field = ?",
        (entity, ident, fld),
    ).scalar()


def office_id(conn: Connection) -> str:
    return _sql(conn, "SELECT id FROM office_profile ORDER BY created_at LIMIT 1").scalar() or ""


def stamp_pending(session: Session, now_ms: int) -> None:
    """Give the changes of this transaction one clock stamp (called by the unit of work just before it commits).

    The outbox rows past the `sync.stamped` mark are this transaction's: SQLite lets one writer at a time, and on a
    server every transaction that writes holds the writer lock from its first write to its commit
    (dialect.serialize_writers), so no other transaction can have added rows between the mark and now, and the clock
    read here is the newest committed one."""
    conn = session.connection()
    mark, newest = _number(conn, STAMPED_SETTING), newest_change(conn)
    if newest <= mark:
        return
    if dialect.is_postgresql(conn) and not dialect.holds_writer_lock(conn):
        # rows this transaction did not write through a statement (none should): read again under the lock
        dialect.lock_writers(conn)
        mark, newest = _number(conn, STAMPED_SETTING), newest_change(conn)
        if newest <= mark:
            return
    stamp = next_stamp(clock(conn), now_ms)
    conn.execute(_stamps_of_changes(conn, mark), {"stamp": stamp, "me": office_id(conn)})
    _set_number(conn, STAMPED_SETTING, newest)
    _set_number(conn, CLOCK_SETTING, stamp)


def _stamps_of_changes(conn: Connection, mark: int):
    """INSERT … SELECT of one stamp per record (or association field) changed past `mark`: its last change decides
    whether it is deleted, and the stamp it replaces becomes its base. One row per key, as PostgreSQL's upsert may
    not touch a row twice in one statement."""
    outbox, stamps = table("sync_outbox"), table("sync_stamps")
    keys = (outbox.c.entity, outbox.c.entity_id, outbox.c.field)
    last = (
        select(func.max(outbox.c.change_no))
        .where(outbox.c.change_no > mark, outbox.c.field != FRESH)
        .group_by(*keys)
        .scalar_subquery()
    )
    replaced = (
        select(stamps.c.hlc)
        .where(
            stamps.c.entity == outbox.c.entity,
            stamps.c.entity_id == outbox.c.entity_id,
            stamps.c.field == outbox.c.field,
        )
        .scalar_subquery()
    )
    rows = select(
        *keys,
        bindparam("stamp", type_=stamps.c.hlc.type),
        bindparam("me", type_=stamps.c.origin.type),
        func.coalesce(replaced, 0),
        outbox.c.deleted,
    ).where(outbox.c.change_no.in_(last))
    columns = ["entity", "entity_id", "field", "hlc", "origin", "base", "deleted"]
    return dialect.upsert(conn, stamps, ("entity", "entity_id", "field"), select=rows, columns=columns)


@dataclass(frozen=True)
class Restamped:
    records: int  # stamps (and stamp-less rows) given a new stamp
    furthest: int  # the furthest stamp found ahead: where the slipped clock stood


def restamp_ahead(conn: Connection, limit: int, floor: int) -> Restamped:
    """A way out of a clock slip that keeps every stamp honest: this installation's stamps past `limit` (made while
    its clock ran ahead) take new stamps just after `floor` and every stamp this database holds, in their old order;
    the stamps they replaced (`base`) follow the same order, so an edit made after another still reads as such. Rows
    bulk-added meanwhile, which travel with their creation time as stamp, get a stamp of their own. The clock goes
    back to the newest new stamp. Nothing leaves the outbox: what was not acknowledged still goes in the next
    package, with the new stamps."""
    dialect.lock_writers(conn)
    me = office_id(conn)
    rows = _sql(
        conn,
        "SELECT entity, entity_id, field, hlc, base FROM sync_stamps WHERE origin = ? AND (hlc > ? OR base > ?)",
        (me, limit, limit),
    ).all()
    ahead = sorted({r[3] for r in rows if r[3] > limit})
    sound = _sql(conn, "SELECT coalesce(max(hlc), 0) FROM sync_stamps WHERE hlc <= ?", (limit,)).scalar()
    start = max(floor, sound or 0) + 2  # start - 1 is the stamp of the stamp-less rows

    def moved(stamp: int) -> int:
        # a stamp past the limit goes to its rank among those that moved: start - 1 + how many are not after it
        return stamp if stamp <= limit else start - 1 + bisect.bisect_right(ahead, stamp)

    changed = [(moved(hlc), moved(base), entity, ident, fld) for entity, ident, fld, hlc, base in rows]
    if changed:
        _sql(conn, "UPDATE sync_stamps SET hlc = ?, base = ? WHERE entity = ? AND entity_id = ? AND field = ?", changed)
    threshold = datetime.fromtimestamp(hlc_ms(limit) / 1000)  # as `_fallback` reads a row's time
    stamps = table("sync_stamps")
    bare: list[tuple] = []
    furthest = max(ahead, default=0)
    for name in OWNED:
        tbl = table(name)
        stamped = select(stamps.c.entity_id).where(stamps.c.entity == name, stamps.c.field == "")
        query = select(tbl.c.id, tbl.c.updated_at).where(
            tbl.c.office_id == me, tbl.c.updated_at > threshold, tbl.c.id.not_in(stamped)
        )
        for ident, at in conn.execute(query):
            bare.append((name, ident, "", start - 1, me, 0, 0))
            furthest = max(furthest, int(at.timestamp() * 1000) << 16)
    if bare:
        _sql(
            conn,
            "INSERT INTO sync_stamps (entity, entity_id, field, hlc, origin, base, deleted) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            bare,
        )
    if changed or bare:
        newest = _sql(conn, "SELECT coalesce(max(hlc), 0) FROM sync_stamps").scalar() or 0
        _set_number(conn, CLOCK_SETTING, max(newest, start - 1))
    return Restamped(len(changed) + len(bare), furthest)


BULK_MIN_ROWS = 1000  # below this, the per-row triggers cost less than setting them aside (DDL)


@contextmanager
def outbox_after_bulk_insert(conn: Connection, table_name: str, rows: list[dict], fresh: set) -> Iterator[None]:
    """Inside one transaction: the outbox insert trigger of a table is set aside during a bulk insert, and the new
    rows are listed from the inserted values in one executemany (a 100,000-row import spent seconds in the per-row
    triggers). New rows are listed as FRESH: they take no stamp of their own (their creation time and office stand
    in, as for records older than sync), which spares a bulk import the stamp table. For a link table (a person's
    categories…) the parent records are listed, and stamped at commit, unless they are fresh in this transaction
    (`fresh`, kept by the caller per transaction, holds (entity, id) of those). DDL is transactional in SQLite: a
    failure restores the trigger with the rollback."""
    entity, id_column, fld = table_name, "id", FRESH
    name = f"sync_{table_name}_ai"
    for (parent, list_name), (link, parent_column, _child, _kind) in LISTS.items():
        if link.name == table_name:
            entity, id_column, name = parent, parent_column, f"sync_{table_name}_i"
            fld = list_name if parent == "associations" else ""
    big = len(rows) >= BULK_MIN_ROWS and table_name != "associations" and all(id_column in r for r in rows)
    big = big and not dialect.is_postgresql(conn)  # SQLite's triggers and rowid; a server keeps its triggers
    trigger_sql = (
        _sql(conn, "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)).scalar()
        if big
        else None
    )
    if trigger_sql is None:
        yield
        return
    last = _sql(conn, f"SELECT coalesce(max(rowid), 0) FROM {table_name}").scalar()
    _sql(conn, f"DROP TRIGGER {name}")
    yield
    if fld == FRESH:
        # the new rows, listed by SQL in insertion order (a Python executemany of 100,000 ids took 0.4-0.8 s)
        _sql(
            conn,
            f"INSERT INTO sync_outbox (entity, entity_id, field) SELECT '{entity}', id, '{FRESH}' FROM {table_name} "
            "WHERE rowid > ? ORDER BY rowid",
            (last,),
        )
        fresh.update((entity, r["id"]) for r in rows)
    else:
        parents = [(entity, i, fld) for i in dict.fromkeys(r[id_column] for r in rows) if (entity, i) not in fresh]
        if parents:
            _sql(conn, "INSERT INTO sync_outbox (entity, entity_id, field) VALUES (?, ?, ?)", parents)
    _sql(conn, trigger_sql)


def newest_change(conn: Connection) -> int:
    return int(_sql(conn, "SELECT coalesce(max(change_no), 0) FROM sync_outbox").scalar() or 0)
