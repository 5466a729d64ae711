"""Reading changed records as plain data, with reference rows by natural key (References, changed_ids, iter_records)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, insert, select

from aidoffice.store import models as m
from aidoffice.store.sync.schema import (
    _CHUNK,
    _LOCAL_COLUMNS,
    ASSOCIATION_FIELDS,
    LISTS,
    OWNED,
    REF_COLUMNS,
    REFERENCE,
    _plain,
    _sql,
    table,
)

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
