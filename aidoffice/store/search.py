"""Search over the stored normalised name: SQLite's FTS5 index, PostgreSQL's trigram index (pg_trgm)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, event, func, or_, select, text
from sqlalchemy.orm import Session, sessionmaker

from aidoffice.errors import StorageError
from aidoffice.store import dialect
from aidoffice.store.models import Person

# The FTS5 table `persons_fts` and the triggers that keep it current are created by migration 0001. It reads
# names from `persons` (external content), so any program writing the file keeps the index right as long as it
# fills `name_norm` and `search_rowid`. A later batch migration that rebuilds `persons` must recreate the triggers.


# On PostgreSQL the keys come from a sequence (migration 0012), never from max + 1: a key handed out is never handed
# out again, whatever a transaction sees or leaves uncommitted. SQLite keeps max + 1 (one writer at a time on a
# file, and the FTS5 index is rebuilt from one unbroken run of keys after a bulk insert).
SEARCH_ROWID_SEQUENCE = "persons_search_rowid_seq"
_RESERVE_TRIES = 3


def reserve_search_rowids(session: Session, count: int) -> int:
    """The first of `count` new index keys in one unbroken run (first, first + 1, … first + count - 1), never given
    before. Taken under the writer lock (held to the commit), so a bulk insert's keys stay one run; on a server the
    sequence's nextval (the PCs' role may use a sequence, not set it), so no two transactions share a key."""
    if count < 1:
        return 0  # no keys asked for (an import whose rows are all known already): none drawn
    connection = session.connection()
    dialect.lock_writers(connection)
    if not dialect.is_postgresql(connection):
        return int(session.execute(select(func.coalesce(func.max(Person.search_rowid), 0))).scalar_one()) + 1
    draw = text(
        f"SELECT min(k), max(k) FROM (SELECT nextval('{SEARCH_ROWID_SEQUENCE}') AS k FROM generate_series(1, :n)) s"
    )
    for _ in range(_RESERVE_TRIES):
        first, last = connection.execute(draw, {"n": count}).one()
        # Every writer of this program draws keys under the writer lock, so the run is unbroken; a nextval from
        # elsewhere in between leaves a gap (harmless) and the run is drawn again.
        if last - first == count - 1:
            return int(first)
    raise StorageError(
        "تعذر حجز أرقام فهرس البحث للمستفيدين الجدد: برنامج آخر يسحب من تسلسل persons_search_rowid_seq على الخادم. "
        "لم يُحفظ شيء."
    )


@contextmanager
def index_after_bulk_insert(connection: Connection, first_rowid: int) -> Iterator[None]:
    """Inside one transaction: the insert trigger is set aside while persons are bulk-inserted, then every person
    from `first_rowid` on is indexed in one statement and the trigger is put back.

    FTS5 work per trigger call dominates a bulk insert (100,000 persons: 4.2 s with the trigger, 1.6 s this way).
    SQLite's DDL is transactional: on any failure the rollback restores the trigger with everything else, and no
    other connection can write persons while this transaction holds the write lock. `first_rowid` must come from
    `reserve_search_rowids` in the same transaction, so every person at or above it is one of the new ones.

    PostgreSQL keeps its trigram index over `name_norm` itself: nothing to set aside there.
    """
    if dialect.is_postgresql(connection):
        yield
        return
    trigger_sql = connection.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'persons_fts_ai'"
    ).scalar_one()
    connection.exec_driver_sql("DROP TRIGGER persons_fts_ai")
    yield
    connection.exec_driver_sql(
        "INSERT INTO persons_fts (rowid, name_norm) "
        "SELECT search_rowid, name_norm FROM persons WHERE search_rowid >= ?",
        (first_rowid,),
    )
    connection.exec_driver_sql(trigger_sql)


def _assign_search_rowids(session: Session, _context, _instances) -> None:
    new_people = [obj for obj in session.new if isinstance(obj, Person) and obj.search_rowid is None]
    if not new_people:
        return
    start = reserve_search_rowids(session, len(new_people))
    for offset, person in enumerate(new_people):
        person.search_rowid = start + offset


def install(sessions: sessionmaker[Session]) -> None:
    """Give every new person its index key before it is written."""
    # Unconditionally: every database gets a new sessionmaker. (An event.contains() guard here once skipped the
    # listener when a new sessionmaker class reused a collected one's id, leaving search_rowid NULL.)
    event.listen(sessions, "before_flush", _assign_search_rowids)


def match_expression(tokens: list[tuple[str, ...]]) -> str:
    """An FTS5 query: every part must start a name part under one of its spellings; all quoted, none is syntax."""
    groups = []
    for options in tokens:
        quoted = ['"' + opt.replace('"', "") + '"*' for opt in options if opt.replace('"', "")]
        if quoted:
            groups.append(quoted[0] if len(quoted) == 1 else "(" + " OR ".join(quoted) + ")")
    return " AND ".join(groups)


def name_part_starts(column, options: tuple[str, ...]):
    """PostgreSQL: the normalised name has a part starting with one of the spellings (the trigram index over
    `name_norm`, migration 0001, serves both LIKEs); None when no spelling is left."""
    kept = [opt.replace('"', "") for opt in options if opt.replace('"', "")]
    if not kept:
        return None
    return or_(
        *(
            c
            for opt in kept
            for c in (column.startswith(opt, autoescape=True), column.contains(" " + opt, autoescape=True))
        )
    )


def person_rowids_matching(session: Session, tokens: list[tuple[str, ...]], limit: int) -> list[int]:
    """The index keys of persons whose name parts start with every token, in index order."""
    if dialect.is_postgresql(session):
        conditions = [c for c in (name_part_starts(Person.name_norm, options) for options in tokens) if c is not None]
        if not conditions:
            return []
        query = select(Person.search_rowid).where(*conditions).order_by(Person.search_rowid).limit(limit)
        return list(session.scalars(query))
    expression = match_expression(tokens)
    if not expression:
        return []
    rows = session.execute(
        text("SELECT rowid FROM persons_fts WHERE persons_fts MATCH :q LIMIT :n"), {"q": expression, "n": limit}
    )
    return [r[0] for r in rows]
