"""Locks a unit of work takes before a check that its own write depends on ("already received", the duplicate
check on entry), so two clerks doing the same thing at once are served one after the other.

PostgreSQL: transaction-scoped advisory locks on 64-bit keys (released by the commit or the rollback). SQLite: one
writer per file; the unit of work holds the file's write lock from its first statement (UnitOfWork(write_first=True)),
or takes it here."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from aidoffice.store import dialect
from aidoffice.store.dialect import BIG_INTEGER

# Keys in ascending order, one statement: two transactions wanting overlapping sets never wait for each other.
_ADVISORY = text("SELECT count(pg_advisory_xact_lock(k)) FROM unnest(:keys) AS k").bindparams(
    bindparam("keys", type_=ARRAY(BIG_INTEGER))
)
# A write that changes nothing, but makes SQLite take the file's write lock (as BEGIN IMMEDIATE would have).
_SQLITE_WRITE_LOCK = text("UPDATE settings SET key = key WHERE 0")


def key_for(kind: str, ident: str) -> int:
    """A signed 64-bit key for a record's lock ("household", id): the same on every PC of the office."""
    digest = hashlib.blake2b(f"{kind}:{ident}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_keys(session: Session, keys: Iterable[int]) -> None:
    """Hold these keys until the transaction ends; waits while another transaction holds any of them."""
    ordered = sorted(set(keys))
    if not ordered:
        return
    connection = session.connection()
    if dialect.is_postgresql(connection):
        # Waits no longer than the busy timeout, as for the writers' lock: then the Arabic "busy", nothing written.
        connection.exec_driver_sql(dialect.bounded_lock_wait())
        connection.execute(_ADVISORY, {"keys": ordered})
        connection.exec_driver_sql(dialect.RESET_LOCK_WAIT)
    else:  # nothing more when the unit of work began with it (write_first), as it should to read after it
        connection.execute(_SQLITE_WRITE_LOCK)
