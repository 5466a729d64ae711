"""Databases on the PostgreSQL test server (AIDOFFICE_TEST_PG): fresh empty ones, and copies of prepared ones."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import make_url

SERVER = os.environ.get("AIDOFFICE_TEST_PG", "")
# The test server's account (as .ci/run or a developer names it), for tests that type it into a form or hand objects
# back to it.
SERVER_USER = make_url(SERVER).username or "" if SERVER else ""
SERVER_PASSWORD = make_url(SERVER).password or "" if SERVER else ""
needs_server = pytest.mark.skipif(not SERVER, reason="AIDOFFICE_TEST_PG names no PostgreSQL server")


def libpq(url) -> str:
    """The same address for psycopg itself (no +psycopg driver suffix)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _server():
    return make_url(SERVER).set(drivername="postgresql+psycopg")


def _admin(statement: str) -> None:
    import psycopg

    with psycopg.connect(libpq(_server()), autocommit=True) as admin:
        admin.execute(statement)


def create_database(template: str | None = None) -> str:
    """A new database on the test server (empty, or a copy of `template`): its SQLAlchemy URL as text."""
    name = f"aidoffice_test_{uuid.uuid4().hex[:12]}"
    source = f'"{make_url(template).database}"' if template else "template0"
    _admin(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE {source}")
    return _server().set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    _admin(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


@contextmanager
def fresh_database(template: str | None = None) -> Iterator[str]:
    url = create_database(template)
    try:
        yield url
    finally:
        drop_database(url)


def sql(url: str, statement: str, params: tuple = ()) -> list[tuple]:
    """One statement on a connection of its own, committed (what another program on the server would do)."""
    import psycopg

    with psycopg.connect(libpq(url), autocommit=True) as conn:
        cur = conn.execute(statement, params)
        return cur.fetchall() if cur.description else []


def server_copy(templates: dict[str, str], kind: str, build) -> str:
    """A new database copied from the one prepared for `kind` (made by `build(url)` the first time): CREATE DATABASE
    … TEMPLATE copies files, far faster than migrating and filling a database again."""
    if kind not in templates:
        url = create_database()
        templates[kind] = url
        build(url)
    return create_database(template=templates[kind])
