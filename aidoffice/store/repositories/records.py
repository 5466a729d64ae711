"""Generic records: add, get, find and count any model, lock records, bulk inserts and statistics."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from aidoffice.store import bulk, dialect, locks, sync

T = TypeVar("T")


class Records:
    """Queries that work on any model, for the services and for every aggregate's repository (its base)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, obj: T) -> T:
        self.session.add(obj)
        return obj

    def get(self, model: type[T], ident: str) -> T | None:
        return self.session.get(model, ident)

    def first(self, model: type[T], **where: Any) -> T | None:
        return self.session.scalars(select(model).filter_by(**where).limit(1)).first()

    def all(self, model: type[T], *, order_by=None, limit: int | None = None, **where: Any) -> list[T]:
        stmt = select(model).filter_by(**where)
        if order_by is not None:
            stmt = stmt.order_by(order_by)
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(self.session.scalars(stmt))

    def refresh(self, obj: object) -> None:
        """Read `obj`'s row again (after waiting for a lock, what another transaction committed meanwhile)."""
        self.session.refresh(obj)

    def count(self, model: type, *, at_most: int | None = None, **where: Any) -> int:
        """How many rows match; with `at_most`, a server stops counting there (min(count, at_most)): it counts a
        million persons by reading them all, and "more than 50,000" needs only 50,001 of them. SQLite counts a whole
        table from its b-tree faster than it reads 50,001 rows, so it counts them all."""
        if at_most is None or not dialect.is_postgresql(self.session):
            return int(self.session.scalar(select(func.count()).select_from(model).filter_by(**where)) or 0)
        rows = select(literal(1)).select_from(model).filter_by(**where).limit(at_most).subquery()
        return int(self.session.scalar(select(func.count()).select_from(rows)) or 0)

    def count_by(self, column) -> dict[Any, int]:
        rows = self.session.execute(select(column, func.count()).group_by(column))
        return {key: int(n) for key, n in rows}

    def delete(self, obj: object) -> None:
        self.session.delete(obj)

    def lock(self, *keys: int) -> None:
        """Hold these 64-bit keys until the transaction ends (store/locks.py): a check made after it is race-free."""
        locks.lock_keys(self.session, keys)

    def lock_records(self, kind: str, idents: Iterable[str]) -> None:
        """Hold these records' locks ("household", their ids) until the transaction ends."""
        locks.lock_keys(self.session, [locks.key_for(kind, ident) for ident in idents])

    def bulk_insert(self, model: type, rows: list[dict], chunk: int = 10_000) -> None:
        """Core executemany in chunks (no ORM bookkeeping, bounded parameter memory)."""
        if not rows:
            return
        table = model.__table__ if hasattr(model, "__table__") else model
        connection = self.session.connection()
        if dialect.is_postgresql(connection):
            # COPY fires the PL/pgSQL outbox triggers row by row (migration 0008): every new row is listed there.
            bulk.insert_rows(connection, table, rows, chunk)
            return
        fresh = self.session.info.setdefault("sync_fresh", set())  # new rows of this transaction, for link tables
        with sync.outbox_after_bulk_insert(connection, table.name, rows, fresh):
            bulk.insert_rows(connection, table, rows, chunk)

    def optimize(self) -> None:
        """Refresh the planner's statistics after a bulk load (SQLite's recommended PRAGMA optimize, PostgreSQL's
        ANALYZE: autovacuum would get there, but only after the first queries were planned on empty tables)."""
        if not dialect.is_postgresql(self.session):
            self.session.connection().exec_driver_sql("PRAGMA optimize")
            return
        # On a connection of its own, committed: statistics written in a transaction that is rolled back are lost.
        with self.session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
