"""Full-text search over the stored normalised name: SQLite FTS5, kept here so another engine can replace it."""

from __future__ import annotations

from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session, sessionmaker

from aidoffice.store.models import Person

# The FTS5 table `persons_fts` and the triggers that keep it current are created by migration 0001. It reads
# names from `persons` (external content), so any program writing the file keeps the index right as long as it
# fills `name_norm` and `search_rowid`. A later batch migration that rebuilds `persons` must recreate the triggers.


def next_search_rowid(session: Session) -> int:
    return int(session.execute(select(func.coalesce(func.max(Person.search_rowid), 0))).scalar_one()) + 1


def _assign_search_rowids(session: Session, _context, _instances) -> None:
    new_people = [obj for obj in session.new if isinstance(obj, Person) and obj.search_rowid is None]
    if not new_people:
        return
    start = next_search_rowid(session)
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


def person_rowids_matching(session: Session, tokens: list[tuple[str, ...]], limit: int) -> list[int]:
    """The index keys of persons whose name parts start with every token, in index order."""
    expression = match_expression(tokens)
    if not expression:
        return []
    rows = session.execute(
        text("SELECT rowid FROM persons_fts WHERE persons_fts MATCH :q LIMIT :n"), {"q": expression, "n": limit}
    )
    return [r[0] for r in rows]
