"""Builders of real SQLite databases for tests: an initialised office, and a small demo office."""

from __future__ import annotations

import shutil
from pathlib import Path

from aidoffice.services.context import ServiceContext, open_context
from aidoffice.services.demo import generate_demo
from aidoffice.services.office import initialise_office
from aidoffice.store.dialect import is_server_url


def new_office(path: Path, *, username: str = "tester", country: str = "YE") -> ServiceContext:
    ctx = open_context(path, username=username)
    initialise_office(ctx, name="مكتب الاختبار", governorate="حضرموت", office_code="TST-01", country=country)
    return ctx


def demo_copy(template: Path, target: Path, *, username: str = "tester") -> ServiceContext:
    """A private copy of a prepared demo database (fast: generated once per test session)."""
    shutil.copyfile(template, target)
    return open_context(target, username=username)


def build_demo(path: Path, persons: int = 2500, seed: int = 7) -> Path:
    ctx = open_context(path, username="demo")
    try:
        generate_demo(ctx, persons, seed=seed)
    finally:
        ctx.close()
    return path


def address(ctx: ServiceContext) -> str:
    """The database as `open_context` and the command line's --db take it: the file, or the server's URL."""
    if ctx.db.path is not None:
        return str(ctx.db.path)
    return ctx.db.engine.url.render_as_string(hide_password=False)


class RawConnection:
    """A connection of the engine's own driver (sqlite3 or psycopg) beside the application's: another program.

    `target` is a ServiceContext, a file's path or a server's URL. Statements are written with `?` placeholders, as
    for sqlite3; on PostgreSQL they become `%s`. Unless `autocommit`, statements wait for `commit()`."""

    def __init__(self, target: ServiceContext | Path | str, *, autocommit: bool = False) -> None:
        where = address(target) if isinstance(target, ServiceContext) else target
        self.on_server = is_server_url(where)
        if self.on_server:
            import psycopg

            from tests.helpers.postgres import libpq

            self.IntegrityError = psycopg.IntegrityError
            self._conn = psycopg.connect(libpq(where), autocommit=autocommit)
        else:
            import sqlite3

            self.IntegrityError = sqlite3.IntegrityError
            self._conn = sqlite3.connect(where, isolation_level=None if autocommit else "")

    def columns(self, table: str) -> list[str]:
        """The table's columns in their order."""
        if self.on_server:
            return [
                r[0]
                for r in self.rows(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                    "AND table_name = ? ORDER BY ordinal_position",
                    (table,),
                )
            ]
        return [r[1] for r in self.rows(f"PRAGMA table_info({table})")]

    def execute(self, statement: str, params: tuple = ()):
        if self.on_server:
            statement = statement.replace("%", "%%").replace("?", "%s")
        return self._conn.execute(statement, params)

    def rows(self, statement: str, params: tuple = ()) -> list[tuple]:
        return [tuple(row) for row in self.execute(statement, params).fetchall()]

    def commit(self) -> None:
        self._conn.commit()

    def rollback(self) -> None:
        self._conn.rollback()

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> RawConnection:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def raw_connect(target: ServiceContext | Path | str, *, autocommit: bool = False) -> RawConnection:
    return RawConnection(target, autocommit=autocommit)


def sql(ctx: ServiceContext | Path | str, statement: str, params: tuple = ()) -> list[tuple]:
    """One statement on a connection of its own, committed: its rows (another program reading or writing)."""
    with raw_connect(ctx, autocommit=True) as conn:
        cur = conn.execute(statement, params)
        return [tuple(row) for row in cur.fetchall()] if cur.description else []


def count_persons(ctx: ServiceContext) -> int:
    """Persons in the database, read with a connection of its own (what was really written, merged records included)."""
    return sql(ctx, "SELECT count(*) FROM persons")[0][0]
