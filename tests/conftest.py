"""Shared fixtures: every test gets its own user folder, offscreen Qt, and its database on each engine under test.

`ctx` and `demo_ctx` are parametrised over the engines: a real SQLite file, and a real database on the PostgreSQL
test server when AIDOFFICE_TEST_PG names one (then every test using them runs on both; none is skipped).
`file_ctx` and `file_demo_ctx` are SQLite files only, for tests about the file itself (encryption, file copies,
damaged files, file locks, keyrings beside the file).
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.helpers.databases import build_demo, demo_copy, new_office
from tests.helpers.postgres import SERVER

ENGINES = ["sqlite", "postgresql"] if SERVER else ["sqlite"]


@pytest.fixture(autouse=True)
def aidoffice_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("AIDOFFICE_HOME", str(home))
    monkeypatch.setenv("AIDOFFICE_BUSY_TIMEOUT_MS", "300")
    return home


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    os.environ.setdefault("AIDOFFICE_HOME", str(folder / "home"))
    return build_demo(folder / "demo.sqlite3")


@pytest.fixture
def file_ctx(tmp_path):
    """An initialised office in a SQLite file (tests about the file itself)."""
    context = new_office(tmp_path / "office.sqlite3")
    yield context
    context.close()


@pytest.fixture
def file_demo_ctx(demo_template, tmp_path):
    """A private copy of the tests' demo office (2,500 persons, seed 7) in a SQLite file."""
    context = demo_copy(demo_template, tmp_path / "demo.sqlite3")
    yield context
    context.close()


# --- the same test on a SQLite file and on the PostgreSQL test server (AIDOFFICE_TEST_PG) ---------------------


@pytest.fixture(scope="session")
def pg_templates():
    """Databases prepared once per session on the test server, copied for each test (CREATE DATABASE … TEMPLATE)."""
    from tests.helpers import postgres

    made: dict[str, str] = {}
    yield made
    for url in made.values():
        postgres.drop_database(url)


@pytest.fixture(params=ENGINES)
def engine(request):
    """The engine under test: "sqlite", or "postgresql" (only when AIDOFFICE_TEST_PG names a server)."""
    return request.param


@pytest.fixture
def ctx(engine, pg_templates, tmp_path):
    """An initialised office on the engine under test."""
    from aidoffice.services.context import open_context
    from tests.helpers import postgres

    if engine == "sqlite":
        context = new_office(tmp_path / "office.sqlite3")
        yield context
        context.close()
        return
    url = postgres.server_copy(pg_templates, "office", lambda u: new_office(u).close())
    context = open_context(url, username="tester")
    yield context
    context.close()
    postgres.drop_database(url)


@pytest.fixture
def demo_ctx(engine, pg_templates, request, tmp_path):
    """The tests' demo office (2,500 persons, seed 7) on the engine under test."""
    from aidoffice.services.context import open_context
    from tests.helpers import postgres

    if engine == "sqlite":
        context = demo_copy(request.getfixturevalue("demo_template"), tmp_path / "demo.sqlite3")
        yield context
        context.close()
        return
    url = postgres.server_copy(pg_templates, "demo", build_demo)
    context = open_context(url, username="tester")
    yield context
    context.close()
    postgres.drop_database(url)


@pytest.fixture
def hq_where(engine, pg_templates, tmp_path):
    """Where a headquarters' database goes: a SQLite file, or a new database on the PostgreSQL test server (offices
    stay on SQLite files, as in the field); the server's databases are dropped after the test."""
    from aidoffice.services.context import open_context
    from tests.helpers import postgres

    made: list[str] = []

    def where(name: str = "hq"):
        if engine == "sqlite":
            return tmp_path / f"{name}.sqlite3"
        made.append(postgres.server_copy(pg_templates, "migrated", lambda url: open_context(url).close()))
        return made[-1]

    yield where
    for url in made:
        postgres.drop_database(url)
