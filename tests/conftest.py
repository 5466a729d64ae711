"""Shared fixtures: every test gets its own user folder, real SQLite files, and offscreen Qt."""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from tests.helpers.databases import build_demo, demo_copy, new_office


@pytest.fixture(autouse=True)
def aidoffice_home(tmp_path, monkeypatch):
    home = tmp_path / "home"
    monkeypatch.setenv("AIDOFFICE_HOME", str(home))
    monkeypatch.setenv("AIDOFFICE_BUSY_TIMEOUT_MS", "300")
    return home


@pytest.fixture
def ctx(tmp_path):
    context = new_office(tmp_path / "office.sqlite3")
    yield context
    context.close()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    os.environ.setdefault("AIDOFFICE_HOME", str(folder / "home"))
    return build_demo(folder / "demo.sqlite3")


@pytest.fixture
def demo_ctx(demo_template, tmp_path):
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


def _server_copy(pg_templates, kind: str, build) -> str:
    from tests.helpers import postgres

    if kind not in pg_templates:
        url = postgres.create_database()
        pg_templates[kind] = url
        build(url)
    return postgres.create_database(template=pg_templates[kind])


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request):
    """The engine under test: "sqlite", or "postgresql" (skipped when no test server is named)."""
    from tests.helpers.postgres import SERVER

    if request.param == "postgresql" and not SERVER:
        pytest.skip("AIDOFFICE_TEST_PG names no PostgreSQL server")
    return request.param


@pytest.fixture
def engine_ctx(engine, pg_templates, tmp_path):
    """An initialised office on either engine."""
    from aidoffice.services.context import open_context
    from tests.helpers import postgres

    if engine == "sqlite":
        context = new_office(tmp_path / "office.sqlite3")
        yield context
        context.close()
        return
    url = _server_copy(pg_templates, "office", lambda u: new_office(u).close())
    context = open_context(url, username="tester")
    yield context
    context.close()
    postgres.drop_database(url)


@pytest.fixture
def engine_demo_ctx(engine, pg_templates, request, tmp_path):
    """The tests' demo office (2,500 persons, seed 7) on either engine."""
    from aidoffice.services.context import open_context
    from tests.helpers import postgres

    if engine == "sqlite":
        context = demo_copy(request.getfixturevalue("demo_template"), tmp_path / "demo.sqlite3")
        yield context
        context.close()
        return
    url = _server_copy(pg_templates, "demo", build_demo)
    context = open_context(url, username="tester")
    yield context
    context.close()
    postgres.drop_database(url)
