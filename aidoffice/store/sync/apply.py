"""Applying another installation's records in the caller's transaction (Applier, RecordError)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, ProgrammingError
from sqlalchemy.orm import Session

from aidoffice.domain.sync import Outcome, Stamp, id_tag, made_elsewhere, merge, office_tag
from aidoffice.errors import UserError
from aidoffice.store import bulk, dialect, search
from aidoffice.store import models as m
from aidoffice.store.bulk import insert_rows
from aidoffice.store.matching_keys import rows_for_dicts
from aidoffice.store.sync.records import References, _fallback, _lists, _stamps
from aidoffice.store.sync.schema import (
    _APPLY_BYTES,
    _APPLY_CHUNK,
    _CHUNK,
    _FOREIGN_KEPT,
    ASSOCIATION_FIELDS,
    LISTS,
    MAX_NEW_REFERENCES,
    OWNED,
    OWNER_FIELDS,
    PARENTS,
    REF_COLUMNS,
    REFERENCE,
    STAMPED_SETTING,
    _converters,
    _plain,
    _pointer_columns,
    _sql,
    _typed,
    table,
)
from aidoffice.store.sync.stamps import _number, _set_number, newest_change, observe, office_id

log = logging.getLogger("aidoffice.sync")


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


_STAMP_COLUMNS = ("entity", "entity_id", "field", "hlc", "origin", "base", "deleted")
_KEY_COLUMNS = ("key_hash", "person_rowid")
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
    """Write (entity, entity_id, field, hlc, origin, base, deleted) stamps, replacing those of the same field (the
    last of one field wins)."""
    bulk.upsert_rows(conn, table("sync_stamps"), _STAMP_COLUMNS, _STAMP_COLUMNS[:3], rows)


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
            first = search.reserve_search_rowids(self.session, len(new_rows))
            for offset, values in enumerate(new_rows):
                values["search_rowid"] = first + offset
            with search.index_after_bulk_insert(self.conn, first):
                insert_rows(self.conn, tbl, new_rows)
            keys = rows_for_dicts(new_rows)
            if keys:
                bulk.insert_ignoring_duplicates(
                    self.conn, m.MatchKey.__table__, _KEY_COLUMNS, [(k["key_hash"], k["person_rowid"]) for k in keys]
                )
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
