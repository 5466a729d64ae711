"""The office PCs' least-privilege role on a PostgreSQL server (`aidoffice-cli server roles`): it adds, searches and
writes the audit trail, but cannot change the schema or the audit trail; an outdated schema asks for the administrator;
a TLS address to a server without TLS is refused in Arabic."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from alembic import command
from sqlalchemy import make_url

from aidoffice.errors import StorageError
from aidoffice.services.context import open_context
from aidoffice.store import migrate
from aidoffice.store.migrate import alembic_config
from aidoffice.store.server import server_parts, server_url, with_password
from tests.helpers.postgres import _admin, fresh_database, needs_server
from tests.helpers.postgres import sql as _sql
from tests.test_cli import run

PC_PASSWORD = "pc-password-long-enough"


@pytest.fixture
def office(capsys, monkeypatch):
    """An initialised office on a fresh database (owner: the test server's account) and a PC role name, dropped
    afterwards (roles belong to the whole server)."""
    role = f"t_pc_{uuid.uuid4().hex[:10]}"
    with fresh_database() as url:
        code, _out, err = run(capsys, "init", "--db", url, "--office-name", "مكتب عدن")
        assert code == 0, err
        yield url, role
    _admin(f'DROP ROLE IF EXISTS "{role}"')


def _pc(url: str, role: str, password: str = PC_PASSWORD) -> str:
    return make_url(url).set(username=role, password=password).render_as_string(hide_password=False)


@needs_server
def test_pc_role_works_but_cannot_change_schema_or_audit(office, capsys, monkeypatch):
    url, role = office
    monkeypatch.setenv("AIDOFFICE_NEW_PASSWORD", PC_PASSWORD)
    code, out, err = run(capsys, "server", "roles", "--db", url, "--role", role)
    assert code == 0, err
    assert f"{role}@127.0.0.1" in out and PC_PASSWORD not in out and "pgpass" not in out  # the PCs' address
    pc = _pc(url, role)
    code, out, err = run(
        capsys, "person", "add", "--db", pc, "--name", "محمد أحمد علي صالح", "--national-id", "01010101"
    )
    assert code == 0, err
    code, out, err = run(capsys, "search", "محم عل", "--db", pc, "--json")
    assert code == 0 and [p["national_id"] for p in json.loads(out)] == ["01010101"], err
    written = _sql(url, "SELECT count(*) FROM audit_log WHERE entity = 'persons'")[0][0]
    assert written >= 1  # the PC's role wrote the audit trail
    code, out, err = run(capsys, "audit", "verify", "--db", pc)
    assert code == 0 and "سليمة" in out, err
    for statement in (
        "DROP TABLE persons",
        "ALTER TABLE persons ADD COLUMN x integer",
        "CREATE TABLE notes (x integer)",
        "UPDATE audit_log SET username = 'x'",
        "DELETE FROM audit_log",
        "DELETE FROM distribution_lines",
        "TRUNCATE persons",
        "UPDATE alembic_version SET version_num = '0001'",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _sql(pc, statement)
    assert _sql(url, "SELECT count(*) FROM persons") == [(1,)]
    # run again (after an upgrade): idempotent, the password kept unless --new-password
    monkeypatch.delenv("AIDOFFICE_NEW_PASSWORD")
    code, _out, err = run(capsys, "server", "roles", "--db", url, "--role", role)
    assert code == 0, err
    assert _sql(pc, "SELECT count(*) FROM persons") == [(1,)]


@needs_server
def test_roles_refuses_the_pc_role_itself_and_a_short_password(office, capsys, monkeypatch):
    url, role = office
    monkeypatch.setenv("AIDOFFICE_NEW_PASSWORD", "short")
    code, _out, err = run(capsys, "server", "roles", "--db", url, "--role", role)
    assert code == 2 and "12 حرفاً" in err
    assert _sql(url, "SELECT count(*) FROM pg_roles WHERE rolname = %s", (role,)) == [(0,)]
    monkeypatch.setenv("AIDOFFICE_NEW_PASSWORD", PC_PASSWORD)
    assert run(capsys, "server", "roles", "--db", url, "--role", role)[0] == 0
    code, _out, err = run(capsys, "server", "roles", "--db", _pc(url, role), "--role", "t_pc_other")
    assert code == 2 and "مالك قاعدة البيانات" in err
    code, _out, err = run(capsys, "server", "roles", "--db", url, "--role", "Robert'); DROP")
    assert code == 2 and "اسم حساب الأجهزة غير صالح" in err


@needs_server
def test_outdated_schema_with_the_pc_role_asks_the_administrator(office, capsys, monkeypatch):
    url, role = office
    monkeypatch.setenv("AIDOFFICE_NEW_PASSWORD", PC_PASSWORD)
    assert run(capsys, "server", "roles", "--db", url, "--role", role)[0] == 0
    command.downgrade(alembic_config(url), "-1")
    older = migrate.current_revision(url)
    assert older != migrate.head_revision()
    with pytest.raises(StorageError, match="مسؤول الخادم") as refused:
        open_context(_pc(url, role))
    assert "ترقية" in refused.value.message and PC_PASSWORD not in refused.value.message
    assert migrate.current_revision(url) == older  # nothing tried on the schema
    code, _out, err = run(capsys, "stats", "--db", _pc(url, role))
    assert code == 2 and "aidoffice-cli init" in err
    # the owner upgrades (init), then the PCs work again
    assert run(capsys, "init", "--db", url)[0] == 0
    assert run(capsys, "server", "roles", "--db", url, "--role", role)[0] == 0
    code, _out, err = run(capsys, "stats", "--db", _pc(url, role))
    assert code == 0, err


@needs_server
def test_empty_database_with_the_pc_role_is_left_empty(capsys, monkeypatch):
    role = f"t_pc_{uuid.uuid4().hex[:10]}"
    with fresh_database() as url:
        _sql(url, f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{PC_PASSWORD}'")
        try:
            _sql(url, "REVOKE CREATE ON SCHEMA public FROM PUBLIC")
            with pytest.raises(StorageError, match="فارغة") as refused:
                open_context(_pc(url, role))
            assert "init" in refused.value.message
            assert _sql(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]
        finally:
            _sql(url, f'DROP OWNED BY "{role}"')
    _admin(f'DROP ROLE IF EXISTS "{role}"')


@needs_server
def test_tls_required_by_the_address_is_said_in_arabic(office):
    url, _role = office
    parts = server_parts(url)
    address = server_url(parts["host"], parts["database"], parts["user"], port=parts["port"], tls="require")
    assert address.endswith("?sslmode=require")
    if _sql(url, "SHOW ssl") == [("on",)]:
        pytest.skip("the test server speaks TLS: the refusal cannot be shown here")
    with pytest.raises(StorageError, match="TLS") as refused:
        open_context(with_password(address, parts["password"]))
    assert parts["password"] not in refused.value.message


@needs_server
def test_an_owner_without_createrole_grants_a_role_the_server_administrator_made(capsys, monkeypatch):
    """As README says: postgres makes the owner (no CREATEROLE) and, once, the PCs' role; the owner runs init and
    `server roles`, which grants without touching the role itself."""
    tag = uuid.uuid4().hex[:10]
    owner, role, database = f"t_owner_{tag}", f"t_pc_{tag}", f"aidoffice_test_{tag}"
    _admin(f"CREATE ROLE \"{owner}\" LOGIN PASSWORD '{PC_PASSWORD}'")
    _admin(f'CREATE DATABASE "{database}" OWNER "{owner}" ENCODING \'UTF8\' TEMPLATE template0')
    server = make_url(_pc(_admin_url(), owner)).set(database=database).render_as_string(hide_password=False)
    try:
        assert run(capsys, "init", "--db", server, "--office-name", "مكتب إب")[0] == 0
        monkeypatch.setenv("AIDOFFICE_NEW_PASSWORD", PC_PASSWORD)
        code, _out, err = run(capsys, "server", "roles", "--db", server, "--role", role)
        assert code == 2 and "مسؤول الخادم" in err and f"CREATE ROLE {role} LOGIN" in err
        _admin(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{PC_PASSWORD}'")
        code, _out, err = run(capsys, "server", "roles", "--db", server, "--role", role, "--new-password")
        assert code == 2 and "\\password" in err  # a password is the server administrator's to set
        code, out, err = run(capsys, "server", "roles", "--db", server, "--role", role)
        assert code == 0 and f"{role}@" in out, err
        pc = _pc(server, role)
        code, _out, err = run(capsys, "person", "add", "--db", pc, "--name", "علي محمد صالح أحمد")
        assert code == 0, err
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            _sql(pc, "UPDATE audit_log SET username = 'x'")
        # a table a later migration adds (as the owner) reaches the PCs through the default privileges
        _sql(server, "CREATE TABLE later_table (x integer)")
        assert _sql(pc, "SELECT count(*) FROM later_table") == [(0,)]
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        _admin(f'DROP ROLE IF EXISTS "{role}"')
        _admin(f'DROP ROLE IF EXISTS "{owner}"')


def _admin_url() -> str:
    from tests.helpers.postgres import SERVER

    return make_url(SERVER).set(drivername="postgresql+psycopg").render_as_string(hide_password=False)
