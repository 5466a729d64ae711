"""Sync in the store: stamping each transaction's changes with the hybrid logical clock, reading changed records as
plain data (reference rows by natural key), and applying another installation's records in the caller's transaction.

Triggers (migration 0008) put every insert, update and delete of a synchronised table in `sync_outbox`; at commit
`stamp_pending` gives the rows past the stamped mark one clock stamp and records it per record (per field for
associations) in `sync_stamps`, with the stamp it replaced. Applying a package writes the sender's stamps instead,
and marks the outbox rows its writes caused as not local, so they travel on (headquarters → other offices) but never
back.
"""

from __future__ import annotations

import bisect
import functools
import json
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, Date, DateTime, Numeric, Table, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, ProgrammingError
from sqlalchemy.orm import Session

from aidoffice.domain.sync import Outcome, Stamp, hlc_ms, id_tag, made_elsewhere, merge, next_stamp, office_tag
from aidoffice.errors import UserError
from aidoffice.store import dialect, search
from aidoffice.store import models as m
from aidoffice.store.bulk import insert_rows
from aidoffice.store.matching_keys import rows_for_dicts

log = logging.getLogger("aidoffice.sync")


def _sql(conn: Connection, statement: str, params=None):
    """A statement written with SQLite's `?` placeholders, on either engine (psycopg's placeholders are `%s`)."""
    if dialect.is_postgresql(conn):  # outside quoted text ('?' is an unknown office's code)
        parts = statement.split("'")
        statement = "'".join(p.replace("?", "%s") if i % 2 == 0 else p for i, p in enumerate(parts))
    return conn.exec_driver_sql(statement) if params is None else conn.exec_driver_sql(statement, params)


CLOCK_SETTING = "sync.clock"
FRESH = "+"  # outbox field of a row bulk-inserted new: listed for export, no stamp of its own
STAMPED_SETTING = "sync.stamped"  # the last outbox row already stamped (or applied from a package)
REFERENCE = ("governorates", "districts", "sub_districts", "fields_of_work", "vulnerability_categories", "aid_types")
ASSOCIATION_FIELDS = (
    "name",
    "registration_number",
    "proclamation_date",
    "legal_form",
    "district_id",
    "address",
    "phone",
    "email",
    "licence_expiry",
    "status",
    "status_since",
    "notes",
    "fields",
    "districts",
)
# Records an office owns and sends up, parents first (foreign keys are deferred to the commit anyway).
OWNED = (
    "persons",
    "households",
    "household_members",
    "household_links",
    "board_members",
    "association_contacts",
    "association_status_changes",
    "field_visits",
    "compliance_records",
    "campaigns",
    "projects",
    "distributions",
    "distribution_lines",
    "aid_refusals",
    "referrals",
    "referral_status_changes",
)
# Foreign keys to reference rows travel as natural keys: each office created its own rows with its own ids.
REF_COLUMNS = {
    ("districts", "governorate_id"): "governorates",
    ("sub_districts", "district_id"): "districts",
    ("persons", "district_id"): "districts",
    ("households", "district_id"): "districts",
    ("households", "sub_district_id"): "sub_districts",
    ("associations", "district_id"): "districts",
    ("projects", "aid_type_id"): "aid_types",
    ("distributions", "district_id"): "districts",
    ("distributions", "aid_type_id"): "aid_types",
    ("referrals", "aid_type_id"): "aid_types",
}
# List fields kept in link tables: (link table, parent column, child column, reference kind).
LISTS = {
    ("persons", "categories"): (m.person_categories, "person_id", "category_id", "vulnerability_categories"),
    ("projects", "districts"): (m.project_districts, "project_id", "district_id", "districts"),
    ("associations", "fields"): (m.association_fields, "association_id", "field_id", "fields_of_work"),
    ("associations", "districts"): (m.association_districts, "association_id", "district_id", "districts"),
}
# The records a child row hangs from, whose owner must be the child's sender too (a member put by office A into
# B's household would otherwise stand at headquarters, and B's own member row for that person would then clash with
# it in every later package). Associations are a shared registry: visits and contacts by any office hang from them.
PARENTS = {
    "persons": {"merged_into_id": "persons"},
    "households": {"head_person_id": "persons"},
    "household_members": {"household_id": "households", "person_id": "persons"},
    "household_links": {"household_a_id": "households", "household_b_id": "households"},
    "distribution_lines": {
        "distribution_id": "distributions",
        "household_id": "households",
        "person_id": "persons",
        "reversal_of_id": "distribution_lines",
    },
    "aid_refusals": {"distribution_id": "distributions", "household_id": "households", "person_id": "persons"},
    "referrals": {"person_id": "persons"},
    "referral_status_changes": {"referral_id": "referrals"},
}
# What only the office that registered an association changes through a package: another office's change to these
# waits in headquarters' conflict queue for a person to confirm (resolve_conflict), and travels on only then.
OWNER_FIELDS = (
    "name",
    "registration_number",
    "proclamation_date",
    "legal_form",
    "status",
    "status_since",
    "licence_expiry",
)
MAX_NEW_REFERENCES = 200  # reference rows (places, aid types, categories) one package may add at headquarters
_LOCAL_COLUMNS = {"version", "search_rowid"}
_CHUNK = 500
_APPLY_CHUNK = 2000
_APPLY_BYTES = 16 << 20  # a chunk of owned records is applied once its lines pass this size, whatever their number
_FOREIGN_KEPT = 1000  # conflicts noted for a package that touches other offices' records (all of them are counted)


def table(name: str) -> Table:
    return m.Base.metadata.tables[name]


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _typed(column, value):
    if value is None:
        return None
    convert = _converter(column)
    return convert(value) if convert else value


def _converter(column) -> Callable | None:
    if isinstance(column.type, DateTime):
        return datetime.fromisoformat
    if isinstance(column.type, Date):
        return date.fromisoformat
    if isinstance(column.type, Numeric) and column.type.asdecimal:
        return Decimal
    return None


@functools.cache
def _converters(name: str) -> dict[str, Callable | str]:
    """Per column of a table: the reference kind of a natural key (str), or the function that types a plain value
    (identity for values JSON already holds as they are stored). List fields and local columns are left out."""
    out: dict[str, Callable | str] = {}
    for column in table(name).columns:
        if (name, column.key) in LISTS:
            continue
        kind = REF_COLUMNS.get((name, column.key))
        out[column.key] = kind if kind else (_converter(column) or _same)
    return out


def _same(value):
    return value


@functools.cache
def _pointer_columns(name: str) -> tuple[tuple[str, str], ...]:
    """(column, parent table) of each foreign key of an owned table to a record (reference rows are made on demand)."""
    return tuple(
        (fk.parent.key, fk.column.table.name)
        for fk in table(name).foreign_keys
        if fk.column.table.name not in REFERENCE
    )


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


# --- reference rows by natural key --------------------------------------------------------------------------


class References:
    """Local id ↔ natural key of every reference row, created on demand for keys this database lacks."""

    def __init__(self, conn: Connection, office: str) -> None:
        self.conn = conn
        self.office = office
        self.by_id: dict[str, dict[str, list]] = defaultdict(dict)
        self.by_key: dict[str, dict[tuple, str]] = defaultdict(dict)
        self.created = 0
        self._load()

    def _load(self) -> None:
        c = self.conn
        govs = {i: n for i, n in _sql(c, "SELECT id, name FROM governorates")}
        dists = {}
        for i, g, n in _sql(c, "SELECT id, governorate_id, name FROM districts"):
            dists[i] = [govs.get(g, ""), n]
        subs = {
            i: [*dists.get(d, ["", ""]), n] for i, d, n in _sql(c, "SELECT id, district_id, name FROM sub_districts")
        }
        self._fill("governorates", {i: [n] for i, n in govs.items()})
        self._fill("districts", dists)
        self._fill("sub_districts", subs)
        for name in ("fields_of_work", "vulnerability_categories", "aid_types"):
            self._fill(name, {i: [code] for i, code in _sql(c, f"SELECT id, code FROM {name}")})

    def _fill(self, kind: str, keys: dict[str, list]) -> None:
        self.by_id[kind] = keys
        self.by_key[kind] = {tuple(k): i for i, k in keys.items()}

    def key(self, kind: str, ident: str | None) -> list | None:
        return None if ident is None else self.by_id[kind].get(ident)

    def find(self, kind: str, key: list | None) -> str | None:
        return None if key is None else self.by_key[kind].get(tuple(key))

    def resolve(self, kind: str, key: list | None) -> str | None:
        """The local id of a natural key; a reference row this database lacks is created (a place or code an office
        added on its own), so records pointing at it keep their meaning."""
        if key is None:
            return None
        found = self.find(kind, key)
        if found:
            return found
        row = {"name": key[-1]}
        if kind == "districts":
            row["governorate_id"] = self.resolve("governorates", key[:1])
        elif kind == "sub_districts":
            row["district_id"] = self.resolve("districts", key[:2])
        elif kind in ("fields_of_work", "vulnerability_categories", "aid_types"):
            row = {"code": key[0], "name": key[0]}
        return self.insert(kind, key, row)

    def insert(self, kind: str, key: list, row: dict) -> str:
        ident = m.new_id()
        now = m.utcnow()
        values = {"id": ident, "office_id": self.office, "created_at": now, "updated_at": now, "version": 1}
        values.update(row)
        self.conn.execute(insert(table(kind)), [values])
        self.by_id[kind][ident] = list(key)
        self.by_key[kind][tuple(key)] = ident
        self.created += 1
        return ident


# --- reading changed records --------------------------------------------------------------------------------


def changed_ids(conn: Connection, after: int, upto: int, tables: tuple[str, ...], *, local_only: bool) -> dict:
    """table → ids of records changed in (after, upto]."""
    found: dict[str, list[str]] = defaultdict(list)
    outbox = table("sync_outbox")
    query = (
        select(outbox.c.entity, outbox.c.entity_id)
        .distinct()
        .where(outbox.c.change_no > after, outbox.c.change_no <= upto, outbox.c.entity.in_(list(tables)))
    )
    if local_only:
        query = query.where(outbox.c.local == 1)
    for entity, ident in conn.execute(query):  # Core: the driver's own placeholders on either engine
        found[entity].append(ident)
    return found


def all_ids(conn: Connection, tables: tuple[str, ...], owner: str | None) -> dict:
    found: dict[str, list[str]] = {}
    for name in tables:
        where, args = (" WHERE office_id = ?", (owner,)) if owner and name in OWNED else ("", ())
        found[name] = [r[0] for r in _sql(conn, f"SELECT id FROM {name}{where}", args)]
    return found


def _stamps(conn: Connection, entity: str, ids: list[str]) -> dict[tuple[str, str], tuple]:
    marks = ",".join("?" for _ in ids)
    rows = _sql(
        conn,
        f"SELECT entity_id, field, hlc, origin, base, deleted FROM sync_stamps WHERE entity = ? "
        f"AND entity_id IN ({marks})",
        (entity, *ids),
    )
    return {(r[0], r[1]): (r[2], r[3], r[4], r[5]) for r in rows}


def _fallback(row: dict) -> list:
    """Records written before sync existed carry no stamp: their last change time and office stand in."""
    at = row.get("updated_at")
    at = datetime.fromisoformat(at) if isinstance(at, str) else at
    ms = int(at.timestamp() * 1000) if at else 0
    return [ms << 16, row.get("office_id") or "", 0]


def _lists(conn: Connection, entity: str, ids: list[str], refs: References) -> dict[tuple[str, str], list]:
    out: dict[tuple[str, str], list] = {}
    for (owner, name), (link, parent, child, kind) in LISTS.items():
        if owner != entity:
            continue
        for ident in ids:
            out[(ident, name)] = []
        rows = conn.execute(select(link.c[parent], link.c[child]).where(link.c[parent].in_(ids)))
        for parent_id, child_id in rows:
            key = refs.key(kind, child_id)
            if key is not None:
                out[(parent_id, name)].append(key)
        for ident in ids:
            out[(ident, name)].sort()
    return out


def iter_records(conn: Connection, ids_by_table: dict[str, list[str]], office: str) -> Iterator[dict]:
    """Plain records of the given ids, table by table in apply order, a chunk at a time (a package of millions of
    records never sits in memory). In each table, removed records come first as tombstones: a member moved to another
    household must leave the old row before the new one (same person) arrives."""
    refs = References(conn, office)
    order = [t for t in (*REFERENCE, "associations", *OWNED) if ids_by_table.get(t)]
    for name in order:
        ids = ids_by_table[name]
        tbl = table(name)
        removable = name not in REFERENCE and name != "associations"
        for start in range(0, len(ids), _CHUNK) if removable else ():
            chunk = ids[start : start + _CHUNK]
            marks = ",".join("?" for _ in chunk)
            for ident, hlc, origin, base in _sql(
                conn,
                f"SELECT entity_id, hlc, origin, base FROM sync_stamps WHERE entity = ? AND field = '' AND deleted = 1 "
                f"AND entity_id IN ({marks})",
                (name, *chunk),
            ):
                yield {"t": name, "id": ident, "row": None, "s": [hlc, origin, base]}
        for start in range(0, len(ids), _CHUNK):
            chunk = ids[start : start + _CHUNK]
            rows = {r["id"]: dict(r) for r in conn.execute(select(tbl).where(tbl.c.id.in_(chunk))).mappings()}
            stamps = _stamps(conn, name, list(rows))
            lists = _lists(conn, name, list(rows), refs)
            for ident in chunk:
                if ident in rows:
                    yield _record(name, ident, rows[ident], stamps, lists, refs)


def _record(name, ident, row, stamps, lists, refs) -> dict:
    plain = {k: _plain(v) for k, v in row.items() if k not in _LOCAL_COLUMNS}
    for (tname, column), kind in REF_COLUMNS.items():
        if tname == name:
            plain[column] = refs.key(kind, plain.get(column))
    for (tname, list_name), _spec in LISTS.items():
        if tname == name:
            plain[list_name] = lists.get((ident, list_name), [])
    row_stamp = stamps.get((ident, ""))
    stamp = list(row_stamp[:3]) if row_stamp else _fallback(plain)
    if name in REFERENCE:
        key = refs.key(name, ident)
        del plain["id"]
        return {"t": name, "k": key, "row": plain, "s": stamp}
    if name == "associations":
        fallback = _fallback(plain)
        fields = {f: list(stamps[(ident, f)][:3]) if (ident, f) in stamps else fallback for f in ASSOCIATION_FIELDS}
        return {"t": name, "id": ident, "row": plain, "fs": fields}
    return {"t": name, "id": ident, "row": plain, "s": stamp}


# --- applying records ---------------------------------------------------------------------------------------


@dataclass
class Applied:
    applied: int = 0
    skipped: int = 0
    conflicts: list[dict] = field(default_factory=list)
    newest: int = 0
    extras: list[dict] = field(default_factory=list)
    foreign: int = 0  # records of another office this package tried to change or remove (the package is refused)
    foreign_conflicts: list[dict] = field(default_factory=list)


def _stamp_of(values: list) -> Stamp:
    if not isinstance(values, list | tuple) or not 2 <= len(values) <= 3 or not isinstance(values[1], str):
        raise ValueError("stamp")
    return Stamp(int(values[0]), values[1], int(values[2]) if len(values) > 2 else 0)


class RecordError(Exception):
    """A package whose records this database cannot take: `reason` is "content" (a record of the wrong shape, or one
    that breaks a constraint) or "references" (more new reference rows than a package may add); `table` names the
    kind of record (never a value). The caller's transaction rolls back; services refuse the package in Arabic."""

    def __init__(self, reason: str, table: str = "", count: int = 0) -> None:
        super().__init__(reason)
        self.reason, self.table, self.count = reason, table, count


_BROKEN = (AttributeError, KeyError, TypeError, ValueError, IndexError, OverflowError)
_REFUSED_BY_DATABASE = (IntegrityError, InterfaceError, DataError, ProgrammingError)


def _shape(record: dict) -> None:
    """The shape of a record, checked before anything of it is used (ValueError otherwise)."""
    name = record.get("t")
    if name in REFERENCE:
        key = record.get("k")
        if not isinstance(key, list) or not key or not all(isinstance(k, str) for k in key):
            raise ValueError("key")
        if not isinstance(record.get("row"), dict):
            raise ValueError("row")
        _stamp_of(record.get("s"))
        return
    ident, row = record.get("id"), record.get("row")
    if not isinstance(ident, str) or not 0 < len(ident) <= 36:
        raise ValueError("id")
    if name == "associations":
        fields = record.get("fs")
        if not isinstance(row, dict) or not isinstance(fields, dict) or not fields:
            raise ValueError("row")
        for fld, stamp in fields.items():
            if fld not in ASSOCIATION_FIELDS:
                raise ValueError("field")
            _stamp_of(stamp)
    else:
        if row is not None and not isinstance(row, dict):
            raise ValueError("row")
        _stamp_of(record.get("s"))
    if row is not None and row.get("id", ident) != ident:
        raise ValueError("id")


def _write_stamp(conn: Connection, entity: str, ident: str, fld: str, stamp: Stamp, deleted: int = 0) -> None:
    _put_stamps(conn, [(entity, ident, fld, stamp.hlc, stamp.origin, stamp.base, deleted)])


def _put_stamps(conn: Connection, rows: list[tuple]) -> None:
    """Write (entity, entity_id, field, hlc, origin, base, deleted) stamps, replacing those of the same field."""
    names = ("entity", "entity_id", "field", "hlc", "origin", "base", "deleted")
    stmt = dialect.insert(conn, table("sync_stamps"))
    stmt = stmt.on_conflict_do_update(index_elements=list(names[:3]), set_={n: stmt.excluded[n] for n in names[3:]})
    conn.execute(stmt, [dict(zip(names, row, strict=True)) for row in rows])


def _current(conn: Connection, entity: str, ident: str, fld: str = "") -> Stamp | None:
    row = _sql(
        conn,
        "SELECT hlc, origin, base FROM sync_stamps WHERE entity = ? AND entity_id = ? AND field = ?",
        (entity, ident, fld),
    ).first()
    return Stamp(row[0], row[1], row[2]) if row else None


class Applier:
    """Applies plain records in one transaction; the caller commits or rolls back."""

    def __init__(self, session: Session, *, sender: str, at_hq: bool) -> None:
        self.session = session
        self.conn = session.connection()
        self.sender = sender
        self.at_hq = at_hq
        self.me = office_id(self.conn)
        self.refs = References(self.conn, self.me)
        self.result = Applied()
        if not dialect.is_postgresql(self.conn):
            _sql(self.conn, "PRAGMA defer_foreign_keys = ON")  # records may point at later ones

    def apply(
        self, sized: Iterable[tuple[int, dict]], package_id: str, check: Callable[[dict], None] | None = None
    ) -> Applied:
        """Apply records (each with the size of its line) as they are read; owned records gather in chunks of one
        table, bounded in number and in bytes. `check` may refuse a record (an exception leaves the caller's
        transaction to roll back). Flags from headquarters are kept aside in the result; other kinds are skipped.
        Records of another office are not applied but counted in `foreign` (the caller refuses the package). A record
        of the wrong shape, or one the database refuses (a constraint, a value of the wrong type), raises RecordError,
        as does a package adding more than MAX_NEW_REFERENCES reference rows at headquarters."""
        self.package_id = package_id
        self._table = ""
        self._pointers: dict[str, set[str]] = defaultdict(set)  # parent table → ids the written rows point at
        try:
            return self._apply(sized, check)
        except _BROKEN + _REFUSED_BY_DATABASE as exc:
            log.warning("package refused: a %s record it cannot take (%s)", self._table or "?", type(exc).__name__)
            raise RecordError("content", self._table) from exc

    def _apply(self, sized: Iterable[tuple[int, dict]], check: Callable[[dict], None] | None) -> Applied:
        buffer: list[dict] = []
        buffered = 0

        def flush() -> None:
            nonlocal buffered
            if buffer:
                self._table = buffer[0]["t"]
                self._owned(buffer[0]["t"], list(buffer))
                buffer.clear()
                buffered = 0

        for size, record in sized:
            name = record.get("t")
            if name not in REFERENCE and name != "associations" and name not in OWNED:
                if name == "flags" and not self.at_hq:
                    self.result.extras.append(record)
                else:
                    self.result.skipped += 1  # an office sends no flags; a kind this version does not know
                continue
            self._table = name
            _shape(record)
            if check is not None:
                check(record)
            stamps = [record["s"]] if "s" in record else list(record.get("fs", {}).values())
            for stamp in stamps:
                self.result.newest = max(self.result.newest, int(stamp[0]))
            if name in OWNED:
                if buffer and (buffer[0]["t"] != name or len(buffer) >= _APPLY_CHUNK or buffered >= _APPLY_BYTES):
                    flush()
                buffer.append(record)
                buffered += size
                continue
            flush()
            if name in REFERENCE:
                self._reference(name, record)
            else:
                self._association(record)
            self._count_references()
        flush()
        self._count_references()
        self._check_pointers()
        # Rows written here came from elsewhere: stamped already, not local, but they travel on from headquarters.
        dialect.lock_writers(self.conn)  # held since the first write: the rows past the mark are this package's
        mark, newest = _number(self.conn, STAMPED_SETTING), newest_change(self.conn)
        _sql(self.conn, "UPDATE sync_outbox SET local = 0 WHERE change_no > ?", (mark,))
        _set_number(self.conn, STAMPED_SETTING, newest)
        observe(self.conn, self.result.newest)
        return self.result

    def _check_pointers(self) -> None:
        """Every record a written row points at exists (checked here, for the rows of this package only: SQLite would
        refuse at the commit, where a refusal can no longer be told from a failure of the disk)."""
        for parent, ids in self._pointers.items():
            wanted = sorted(ids)
            tbl = table(parent)
            for begin in range(0, len(wanted), _CHUNK):
                part = wanted[begin : begin + _CHUNK]
                found = self.conn.execute(select(func.count()).select_from(tbl).where(tbl.c.id.in_(part))).scalar()
                if found != len(part):
                    raise RecordError("content", self._table)

    def _count_references(self) -> None:
        """Headquarters keeps its reference lists: a package may add a few places or codes of its office's own, not
        thousands (they would travel on to every office)."""
        if self.at_hq and self.refs.created > MAX_NEW_REFERENCES:
            raise RecordError("references", self._table, self.refs.created)

    def _conflict(self, entity, ident, fld, kept, kept_stamp: Stamp, lost, lost_stamp: Stamp) -> None:
        self.result.conflicts.append(
            {
                "id": m.new_id(),
                "entity": entity,
                "entity_id": ident,
                "field": fld,
                "kept_value": kept,
                "kept_origin": kept_stamp.origin,
                "kept_hlc": kept_stamp.hlc,
                "lost_value": lost,
                "lost_origin": lost_stamp.origin,
                "lost_hlc": lost_stamp.hlc,
                "package_id": self.package_id,
                "status": "open",
                "created_at": m.utcnow(),
            }
        )

    def _values(self, name: str, row: dict) -> dict:
        """A plain row as this database stores it: typed values, local ids for natural keys, list fields left out."""
        out = {}
        for key, value in row.items():
            convert = _converters(name).get(key)
            if convert is None:
                continue
            if isinstance(convert, str):
                out[key] = self.refs.resolve(convert, value)
            else:
                out[key] = value if value is None else convert(value)
        return out

    def _reference(self, name: str, record: dict) -> None:
        key, incoming = record["k"], _stamp_of(record["s"])
        ident = self.refs.find(name, key)
        row = self._values(name, record["row"])
        row.pop("office_id", None)
        if ident is None:
            self.refs.insert(name, key, row)
            ident = self.refs.find(name, key)
        elif self.at_hq:
            self.result.skipped += 1  # headquarters keeps its reference lists; an office's additions only add
            return
        else:
            current = _current(self.conn, name, ident)
            if current is not None and incoming.key() <= current.key():
                self.result.skipped += 1
                return
            for column in ("id", "created_at"):
                row.pop(column, None)
            self.conn.execute(update(table(name)).where(table(name).c.id == ident).values(**row))
        _write_stamp(self.conn, name, ident, "", incoming)
        self.result.applied += 1

    def _exists(self, name: str, ident: str) -> dict | None:
        tbl = table(name)
        found = self.conn.execute(select(tbl).where(tbl.c.id == ident)).mappings().first()
        return dict(found) if found else None

    def _owned(self, name: str, records: list[dict]) -> None:
        # Removals first: a member moved to another household leaves a removed row and a new one with the same
        # person, and the new one must not meet the old one's unique key.
        records = sorted(records, key=lambda r: r["row"] is not None)
        for begin in range(0, len(records), _APPLY_CHUNK):
            self._owned_chunk(name, records[begin : begin + _APPLY_CHUNK])

    def _owned_chunk(self, name: str, records: list[dict]) -> None:
        """Records of one owned table, a chunk at a time: their stamps and present rows read in one query each, new
        rows inserted together (persons with their index and blocking keys)."""
        tbl = table(name)
        ids = [r["id"] for r in records]
        stamps = _stamps(self.conn, name, ids)
        existing = {r["id"]: dict(r) for r in self.conn.execute(select(tbl).where(tbl.c.id.in_(ids))).mappings()}
        new_rows: list[dict] = []
        stamp_rows: list[tuple] = []
        listed: list[tuple[str, dict]] = []
        strangers = self._foreign_parents(name, records)
        for record in records:
            ident, incoming, row = record["id"], _stamp_of(record["s"]), record["row"]
            current = stamps.get((ident, ""))
            present = existing.get(ident)
            if self._foreign(name, ident, row, incoming, present, current):
                continue
            if ident in strangers:
                column, owner = strangers[ident]
                self._note_foreign(name, ident, column, owner, self.sender, incoming, current)
                continue
            if current is not None and incoming.key() <= (current[0], current[1]):
                self.result.skipped += 1
                continue
            if row is None:
                if present is not None and name not in ("distributions", "distribution_lines", "aid_refusals"):
                    self.conn.execute(delete(tbl).where(tbl.c.id == ident))
                stamp_rows.append((name, ident, "", incoming.hlc, incoming.origin, incoming.base, 1))
                self.result.applied += 1
                continue
            values = self._values(name, row)
            if present is None:
                values["version"] = 1
                new_rows.append(values)
            elif name == "distribution_lines":
                # Append-only: the one change a line may take is listed → received / not received.
                if present["status"] == "listed" and values["status"] in ("received", "not_received"):
                    self.conn.execute(update(tbl).where(tbl.c.id == ident).values(status=values["status"]))
            else:
                values.pop("id")
                values["version"] = present["version"] + 1
                self.conn.execute(update(tbl).where(tbl.c.id == ident).values(**values))
                if name == "persons":
                    self._refresh_person_keys(present["search_rowid"])
            listed.append((ident, row))
            for column, parent in _pointer_columns(name):
                if values.get(column) is not None:
                    self._pointers[parent].add(values[column])
            stamp_rows.append((name, ident, "", incoming.hlc, incoming.origin, incoming.base, 0))
            self.result.applied += 1
        if new_rows and name == "persons":
            first = search.next_search_rowid(self.session)
            for offset, values in enumerate(new_rows):
                values["search_rowid"] = first + offset
            with search.index_after_bulk_insert(self.conn, first):
                insert_rows(self.conn, tbl, new_rows)
            keys = rows_for_dicts(new_rows)
            if keys:
                self.conn.execute(dialect.insert_ignore(self.conn, m.MatchKey.__table__), keys)
        elif new_rows:
            insert_rows(self.conn, tbl, new_rows)
        self._set_lists(name, listed)
        if stamp_rows:
            _put_stamps(self.conn, stamp_rows)

    def _foreign(self, name: str, ident: str, row: dict | None, incoming: Stamp, present, current) -> bool:
        """Each record has an owning office, and only that office changes or removes it. The owner is read from the
        row stored here (or, for a removed row, from the stamp of its removal), never only from what the package
        claims: a package may carry only its sender's records, stamped by its sender. Anything else is counted and
        noted for the conflict queue, not applied. A record headquarters has never seen, whose id says another office
        made it, is that office's too (an id read off a card, claimed or removed before its office sent it)."""
        owner = present["office_id"] if present is not None else (current[1] if current is not None else None)
        claimed = row.get("office_id") if row is not None else None
        unseen = present is None and current is None
        if (
            owner in (None, self.sender)
            and (row is None or claimed == self.sender)
            and incoming.origin == self.sender
            and not (unseen and made_elsewhere(ident, self.sender))
        ):
            return False
        if owner is None and unseen:
            owner = self._maker(ident)
        fld = "office_id" if row is not None else "deleted"
        self._note_foreign(name, ident, fld, owner, claimed, incoming, current)
        return True

    def _foreign_parents(self, name: str, records: list[dict]) -> dict[str, tuple[str, str | None]]:
        """Child rows (present or new) that hang from a record of another office: id → (column, that owner). A parent
        this database lacks is judged by its id (one made by another office), or else must come in this package."""
        parents = PARENTS.get(name)
        if not parents:
            return {}
        out: dict[str, tuple[str, str | None]] = {}
        for column, parent in parents.items():
            rows = [r["row"] for r in records if r["row"] is not None]
            ids = sorted({row[column] for row in rows if isinstance(row.get(column), str)})
            owners: dict[str, str] = {}
            for begin in range(0, len(ids), _CHUNK):
                part = ids[begin : begin + _CHUNK]
                tbl = table(parent)
                owners.update(self.conn.execute(select(tbl.c.id, tbl.c.office_id).where(tbl.c.id.in_(part))).all())
            for record in records:
                pid = record["row"].get(column) if record["row"] is not None else None
                if not isinstance(pid, str) or record["id"] in out:
                    continue
                owner = owners.get(pid)
                if owner is None and made_elsewhere(pid, self.sender):
                    out[record["id"]] = (column, self._maker(pid))
                elif owner is not None and owner != self.sender:
                    out[record["id"]] = (column, owner)
        return out

    def _note_foreign(self, name, ident, fld, owner, claimed, incoming: Stamp, current) -> None:
        """A record of another office (or hanging from one) counted, and kept for the conflict queue."""
        self.result.foreign += 1
        if len(self.result.foreign_conflicts) < _FOREIGN_KEPT:
            kept = Stamp(current[0], current[1], current[2]) if current is not None else Stamp(0, owner or "", 0)
            self.result.foreign_conflicts.append(
                {
                    "id": m.new_id(),
                    "entity": name,
                    "entity_id": ident,
                    "field": fld,
                    "kept_value": owner,
                    "kept_origin": owner or "",
                    "kept_hlc": kept.hlc,
                    "lost_value": claimed,
                    "lost_origin": self.sender,
                    "lost_hlc": incoming.hlc,
                    "package_id": self.package_id,
                    "status": "open",
                    "created_at": m.utcnow(),
                }
            )

    def _queued(self, entity: str, ident: str, fld: str, lost: Stamp) -> bool:
        """The same change already waits in the conflict queue (a package sent again, or a full one)."""
        return (
            _sql(
                self.conn,
                "SELECT 1 FROM sync_conflicts WHERE entity = ? AND entity_id = ? AND field = ? AND lost_origin = ? "
                "AND lost_hlc = ? AND status = 'open' LIMIT 1",
                (entity, ident, fld, lost.origin, lost.hlc),
            ).first()
            is not None
        )

    def _maker(self, ident: str) -> str | None:
        """The enrolled office (or this one) whose tag the id carries."""
        if not hasattr(self, "_tags"):
            offices = {r[0] for r in _sql(self.conn, "SELECT office_id FROM sync_peers")} | {self.me}
            self._tags = {office_tag(o): o for o in offices}
        tag = id_tag(ident)
        return self._tags.get(tag) if tag is not None else None

    def _set_lists(self, name: str, rows: list[tuple[str, dict]], only: tuple[str, ...] | None = None) -> None:
        """Replace the list fields (link rows) of the given records by those in their rows (`only`: these fields)."""
        for (tname, list_name), (link, parent, child, kind) in LISTS.items():
            if tname != name or not rows or (only is not None and list_name not in only):
                continue
            parents = [ident for ident, row in rows if list_name in row]
            for begin in range(0, len(parents), _CHUNK):
                self.conn.execute(delete(link).where(link.c[parent].in_(parents[begin : begin + _CHUNK])))
            pairs = {(ident, self.refs.resolve(kind, key)) for ident, row in rows for key in (row.get(list_name) or [])}
            if pairs:
                self.conn.execute(insert(link), [{parent: p, child: c} for p, c in sorted(pairs)])

    def _refresh_person_keys(self, rowid: int) -> None:
        person = self.conn.execute(select(m.Person.__table__).where(m.Person.search_rowid == rowid)).mappings().one()
        self.conn.execute(delete(m.MatchKey.__table__).where(m.MatchKey.person_rowid == rowid))
        keys = rows_for_dicts([dict(person)])
        if keys:
            self.conn.execute(dialect.insert_ignore(self.conn, m.MatchKey.__table__), keys)

    def _association(self, record: dict) -> None:
        """An association is registered by one office, and is seen and visited by all. At headquarters, a new one is
        taken only as its sender's (its id and every field written by the sender); another office's change to what
        names it or its standing (OWNER_FIELDS), or a change the package says someone else wrote, waits in the
        conflict queue instead of being applied and sent on."""
        ident, row, fields = record["id"], record["row"], record["fs"]
        existing = self._exists("associations", ident)
        if existing is None and self.at_hq:
            stamps = [_stamp_of(s) for s in fields.values()]
            origins = {s.origin for s in stamps}
            newest = max(s.hlc for s in stamps)
            claim = Stamp(newest, self.sender if origins == {self.sender} else "", 0)
            if self._foreign("associations", ident, row, claim, None, None):
                return
        if existing is None:
            clash = _sql(
                self.conn, "SELECT id FROM associations WHERE registration_number = ?", (row["registration_number"],)
            ).scalar()
            if clash:
                # The same association registered twice under two records: refused whole, with the number (not
                # personal data) so that a person can settle it; taking one over the other would orphan the
                # other's projects, visits and board.
                raise UserError(
                    f"رقم الإشهار {row['registration_number']} مسجّل لدى هذه الجهة لجمعية في سجل آخر: لم يُطبَّق "
                    "شيء من الحزمة. صحّحوا رقم الإشهار في المكتب المرسل، أو وحّدوا السجلين، ثم أعيدوا التصدير."
                )
            values = self._values("associations", row)
            values["version"] = 1
            self.conn.execute(insert(table("associations")), [values])
            self._set_lists("associations", [(ident, row)])
            for fld, stamp in fields.items():
                _write_stamp(self.conn, "associations", ident, fld, _stamp_of(stamp))
            self.result.applied += 1
            return
        current_row = {k: _plain(v) for k, v in existing.items()}
        lists = _lists(self.conn, "associations", [ident], self.refs)
        for (_eid, list_name), value in lists.items():
            current_row[list_name] = value
        for (tname, column), kind in REF_COLUMNS.items():
            if tname == "associations":
                current_row[column] = self.refs.key(kind, current_row.get(column))
        stored = _stamps(self.conn, "associations", [ident])
        fallback = _stamp_of(_fallback(current_row))
        take: dict = {}
        for fld, stamp_values in fields.items():
            incoming = _stamp_of(stamp_values)
            found = stored.get((ident, fld))
            current = Stamp(found[0], found[1], found[2]) if found else fallback
            mine, theirs = current_row.get(fld), row.get(fld)
            outcome = merge(current, incoming, mine == theirs)
            guarded = incoming.origin != self.sender or (fld in OWNER_FIELDS and existing["office_id"] != self.sender)
            if outcome in (Outcome.TAKE, Outcome.TAKE_CONFLICT) and self.at_hq and guarded:
                if not self._queued("associations", ident, fld, incoming):
                    self._conflict("associations", ident, fld, mine, current, theirs, incoming)
            elif outcome in (Outcome.TAKE, Outcome.TAKE_CONFLICT):
                take[fld] = incoming
                if outcome is Outcome.TAKE_CONFLICT:
                    self._conflict("associations", ident, fld, theirs, incoming, mine, current)
            elif outcome is Outcome.KEEP_CONFLICT:
                self._conflict("associations", ident, fld, mine, current, theirs, incoming)
        if not take:
            self.result.skipped += 1
            return
        columns = {f: row[f] for f in take if (("associations", f) not in LISTS)}
        if "name" in columns:
            columns["name_norm"] = row["name_norm"]
        values = self._values("associations", columns)
        # Record-level stamps follow the newer side whatever the order of arrival (Core would set updated_at to
        # now, and each order would leave another time).
        incoming_at = _typed(table("associations").c.updated_at, row["updated_at"])
        if incoming_at > existing["updated_at"]:
            values.update(updated_at=incoming_at, changed_by=row.get("changed_by"))
        else:
            values.update(updated_at=existing["updated_at"])
        if values:
            values["version"] = existing["version"] + 1
            self.conn.execute(update(table("associations")).where(table("associations").c.id == ident).values(**values))
        self._set_lists("associations", [(ident, row)], only=tuple(f for f in take if ("associations", f) in LISTS))
        for fld, stamp in take.items():
            _write_stamp(self.conn, "associations", ident, fld, stamp)
        self.result.applied += 1


def save_conflicts(conn: Connection, conflicts: list[dict]) -> None:
    if conflicts:
        conn.execute(insert(m.SyncConflict.__table__), conflicts)


# --- headquarters: cross-office duplicate flags ---------------------------------------------------------------


def cross_office_pairs(conn: Connection, office: str) -> list[dict]:
    """Open duplicate pairs between a person of `office` and a person of another office: the pair id, this office's
    person, the other office's code and the score (nothing else about the other person)."""
    rows = _sql(
        conn,
        "SELECT d.id, pa.id, pa.office_id, pb.id, pb.office_id, d.score FROM duplicate_pairs d "
        "JOIN persons pa ON pa.id = d.person_a_id JOIN persons pb ON pb.id = d.person_b_id "
        "WHERE d.status = 'open' AND pa.office_id <> pb.office_id AND (pa.office_id = ? OR pb.office_id = ?)",
        (office, office),
    )
    codes = {r[0]: r[1] for r in _sql(conn, "SELECT office_id, office_code FROM sync_peers")}
    out = []
    for pair, a, a_office, b, b_office, score in rows:
        mine, other = (a, b_office) if a_office == office else (b, a_office)
        out.append(
            {"t": "flag", "id": pair, "person_id": mine, "other_office": codes.get(other, "?"), "score": float(score)}
        )
    return out


def cross_office_overview(conn: Connection, limit: int = 2000) -> list[tuple]:
    """At headquarters: open pairs across offices, best first (names, office codes, score)."""
    return _sql(
        conn,
        "SELECT pa.full_name, coalesce(ca.office_code, '?'), pb.full_name, coalesce(cb.office_code, '?'), d.score "
        "FROM duplicate_pairs d JOIN persons pa ON pa.id = d.person_a_id JOIN persons pb ON pb.id = d.person_b_id "
        "LEFT JOIN (SELECT DISTINCT office_id, office_code FROM sync_peers) ca ON ca.office_id = pa.office_id "
        "LEFT JOIN (SELECT DISTINCT office_id, office_code FROM sync_peers) cb ON cb.office_id = pb.office_id "
        "WHERE d.status = 'open' AND pa.office_id <> pb.office_id ORDER BY d.score DESC LIMIT ?",
        (limit,),
    ).all()


def replace_flags(conn: Connection, flags: list[dict]) -> None:
    conn.execute(delete(m.SyncFlag.__table__))
    known = {r[0] for r in _sql(conn, "SELECT id FROM persons")} if flags else set()
    rows = [
        {
            "id": f["id"],
            "person_id": f["person_id"],
            "other_office": f["other_office"],
            "score": f["score"],
            "received_at": m.utcnow(),
        }
        for f in flags
        if f["person_id"] in known
    ]
    if rows:
        conn.execute(insert(m.SyncFlag.__table__), rows)
