"""AidOffice on a PostgreSQL server: the migration chain on an empty database, alembic check, the command line, and
refusals (server down, wrong password, another program's database, a newer one) that leave the database as it was.

The server is named by AIDOFFICE_TEST_PG (a URL whose account may create and drop databases; .ci/run starts one).
"""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest
from alembic import command
from sqlalchemy import make_url

from aidoffice.errors import StorageError
from aidoffice.store import migrate
from aidoffice.store.engine import open_database
from aidoffice.store.migrate import alembic_config
from tests.helpers.postgres import fresh_database, libpq, needs_server
from tests.helpers.postgres import sql as _sql
from tests.test_cli import run


@pytest.fixture
def pg_url():
    """A fresh, empty database on the test server, dropped afterwards: its SQLAlchemy URL as text."""
    with fresh_database() as url:
        yield url


def _tables(url: str) -> set[str]:
    return {r[0] for r in _sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


@needs_server
def test_empty_database_upgrades_to_head_and_models_agree(pg_url):
    migrate.upgrade(pg_url)
    assert migrate.current_revision(pg_url) == migrate.head_revision()
    command.check(alembic_config(pg_url))  # raises if autogenerate finds a difference, as for SQLite
    indexes = dict(_sql(pg_url, "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'persons'"))
    assert "gin_trgm_ops" in indexes["ix_persons_name_norm_trgm"]
    assert "WHERE (merged_into_id IS NULL)" in indexes["ix_persons_live"]
    assert "WHERE (merged_into_id IS NOT NULL)" in indexes["ix_persons_merged_into_id"]
    types = dict(
        _sql(
            pg_url,
            "SELECT table_name || '.' || column_name, data_type FROM information_schema.columns "
            "WHERE column_name IN ('key_hash', 'hlc', 'base', 'kept_hlc', 'lost_hlc')",
        )
    )
    assert set(types.values()) == {"bigint"} and len(types) == 5
    default = _sql(
        pg_url, "SELECT column_default FROM information_schema.columns WHERE column_name = 'consent_sharing'"
    )
    assert default == [("false",)]


@needs_server
def test_chain_goes_down_to_nothing_and_up_again(pg_url):
    migrate.upgrade(pg_url)
    command.downgrade(alembic_config(pg_url), "base")
    assert _tables(pg_url) <= {"alembic_version"}
    ours = "SELECT proname FROM pg_proc WHERE pronamespace = 'public'::regnamespace AND prorettype = 'trigger'::regtype"
    assert _sql(pg_url, ours) == []
    migrate.upgrade(pg_url)
    assert migrate.current_revision(pg_url) == migrate.head_revision()


@needs_server
def test_command_line_on_a_server(pg_url, capsys):
    code, out, err = run(capsys, "--db", pg_url, "init", "--office-name", "مكتب عدن", "--governorate", "عدن")
    assert code == 0 and "مكتب عدن" in out, err
    assert make_url(pg_url).password not in out  # the address is shown without its password
    code, out, err = run(
        capsys, "person", "add", "--db", pg_url, "--name", "محمد أحمد علي صالح", "--national-id", "01010101",
        "--birth-year", "1980",
    )  # fmt: skip
    assert code == 0, err
    # The same person again: the entry check found him through the stored 64-bit blocking keys.
    code, out, err = run(
        capsys, "person", "add", "--db", pg_url, "--name", "محمد احمد علي صالح", "--national-id", "01010101"
    )
    assert code == 2 and "مسجّل من قبل" in err
    code, out, err = run(capsys, "search", "محم عل", "--db", pg_url, "--json")  # every token starts a name part
    assert code == 0 and [p["national_id"] for p in json.loads(out)] == ["01010101"], err
    code, out, _ = run(capsys, "search", "حمد", "--db", pg_url, "--json")  # inside a part only: no match, as FTS5
    assert code == 0 and json.loads(out) == []
    code, out, err = run(capsys, "stats", "--db", pg_url, "--json")
    assert code == 0 and json.loads(out)["persons"] == 1, err
    stamped = _sql(pg_url, "SELECT count(*) FROM sync_stamps WHERE entity = 'persons'")[0][0]
    keys = _sql(pg_url, "SELECT count(*), min(key_hash), max(key_hash) FROM match_keys")[0]
    assert stamped == 1 and keys[0] > 0 and (keys[1] < -(2**31) or keys[2] > 2**31)
    code, out, err = run(capsys, "audit", "verify", "--db", pg_url)
    assert code == 0 and "سليمة" in out, err


@needs_server
def test_audit_trail_and_rounds_stay_append_only_on_a_server(pg_url, capsys):
    assert run(capsys, "init", "--db", pg_url, "--office-name", "مكتب لحج")[0] == 0
    for statement in ("DELETE FROM audit_log", "UPDATE audit_log SET username = 'x'", "TRUNCATE audit_log",
                      "TRUNCATE distribution_lines", "TRUNCATE distributions CASCADE"):  # fmt: skip
        with pytest.raises(psycopg.errors.IntegrityConstraintViolation, match="append-only"):
            _sql(pg_url, statement)
    code, out, err = run(capsys, "audit", "verify", "--db", pg_url)
    assert code == 0 and "سليمة" in out, err


@needs_server
def test_newer_database_is_refused_untouched(pg_url, capsys):
    assert run(capsys, "init", "--db", pg_url, "--office-name", "مكتب تعز")[0] == 0
    _sql(pg_url, "UPDATE alembic_version SET version_num = '9999_future'")
    before = _sql(pg_url, "SELECT count(*) FROM audit_log")
    code, _out, err = run(capsys, "stats", "--db", pg_url)
    assert code == 2 and "إصدار أحدث" in err
    assert _sql(pg_url, "SELECT count(*) FROM audit_log") == before


@needs_server
def test_database_of_another_program_is_refused_untouched(pg_url, capsys):
    _sql(pg_url, "CREATE TABLE notes (x integer)")
    code, _out, err = run(capsys, "init", "--db", pg_url, "--office-name", "مكتب إب")
    assert code == 2 and "برنامج آخر" in err
    assert _tables(pg_url) == {"notes"}


@needs_server
def test_failed_upgrade_leaves_no_half_made_schema(pg_url):
    # Something in the way of migration 0008 (a function of the same name): the chain fails past 0001…0007.
    _sql(pg_url, "CREATE FUNCTION sync_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$")
    with pytest.raises(Exception):  # noqa: B017 - whichever error the server gives, nothing may be left
        open_database(pg_url)
    assert _tables(pg_url) == set()


@needs_server
def test_wrong_password_is_refused_in_arabic(pg_url, capsys):
    wrong = make_url(pg_url).set(password=f"wrong-{uuid.uuid4().hex}")
    try:
        psycopg.connect(libpq(wrong), connect_timeout=5).close()
    except psycopg.OperationalError:
        pass
    else:
        pytest.skip("the test server trusts every password (no password authentication on this address)")
    address = wrong.render_as_string(hide_password=False)
    code, out, err = run(capsys, "init", "--db", address, "--office-name", "مكتب عدن")
    assert code == 2 and "رفض الخادم" in err and "كلمة المرور" in err
    assert wrong.password not in out + err
    assert _tables(pg_url) == set()


def test_a_server_that_is_down_gets_an_arabic_message_and_nothing_is_made(tmp_path, capsys, monkeypatch):
    work = tmp_path / "work"  # the folder the command runs in: no file or folder named after the address
    work.mkdir()
    monkeypatch.chdir(work)
    address = "postgresql+psycopg://aidoffice:secret-word@127.0.0.1:1/office"  # nothing listens on port 1
    code, out, err = run(capsys, "init", "--db", address, "--office-name", "مكتب عدن")
    assert code == 2 and "تعذر الاتصال" in err and "127.0.0.1:1" in err
    assert "secret-word" not in out + err
    assert list(work.iterdir()) == []


def test_the_server_error_is_a_storage_error(tmp_path):
    with pytest.raises(StorageError) as refused:
        open_database("postgresql+psycopg://aidoffice@127.0.0.1:1/office")
    assert "تعذر الاتصال" in refused.value.message


@needs_server
def test_first_administrator_on_a_server_logs_in_and_what_is_file_only_is_refused(pg_url, capsys, monkeypatch):
    monkeypatch.setenv("AIDOFFICE_NEW_PASSWORD", "كلمة-سر-المدير")
    code, _out, err = run(capsys, "init", "--db", pg_url, "--office-name", "مكتب عدن", "--admin", "admin")
    assert code == 0, err  # no SQLCipher on a server: the first administrator does not encrypt it
    monkeypatch.setenv("AIDOFFICE_PASSWORD", "كلمة-سر-المدير")
    code, out, err = run(capsys, "stats", "--json", "--db", pg_url, "--user", "admin")
    assert code == 0 and json.loads(out)["persons"] == 0, err
    users = _sql(pg_url, "SELECT username, role, seal IS NOT NULL FROM users")
    assert users == [("admin", "admin", True)]
    for command_line in (("encrypt",), ("backup",)):
        last = _sql(pg_url, "SELECT max(seq) FROM audit_log")[0][0]
        code, _out, err = run(capsys, *command_line, "--db", pg_url, "--user", "admin")
        assert code == 2 and ("TLS" in err or "pg_dump" in err), command_line
        written = set(_sql(pg_url, f"SELECT DISTINCT action, entity FROM audit_log WHERE seq > {last}"))
        # the command's own login (its trail entry, the user's row, the administrator's anchor), then nothing
        assert {action for action, _entity in written} <= {"login", "audit_anchor", "update"}, written
        assert {entity for action, entity in written if action == "update"} == {"users"}, written
    code, out, err = run(capsys, "audit", "verify", "--db", pg_url, "--user", "admin")
    assert code == 0 and "سليمة" in out, err
