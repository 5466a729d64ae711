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
    for command_line in (("encrypt",),):
        last = _sql(pg_url, "SELECT max(seq) FROM audit_log")[0][0]
        code, _out, err = run(capsys, *command_line, "--db", pg_url, "--user", "admin")
        assert code == 2 and "TLS" in err, command_line
        written = set(_sql(pg_url, f"SELECT DISTINCT action, entity FROM audit_log WHERE seq > {last}"))
        # the command's own login (its trail entry, the user's row, the administrator's anchor), then nothing
        assert {action for action, _entity in written} <= {"login", "audit_anchor", "update"}, written
        assert {entity for action, entity in written if action == "update"} == {"users"}, written
    code, out, err = run(capsys, "backup", "--db", pg_url, "--user", "admin")  # pg_dump: test_server_backups.py
    assert code == 0 and ".pgdump" in out, err
    code, out, err = run(capsys, "audit", "verify", "--db", pg_url, "--user", "admin")
    assert code == 0 and "سليمة" in out, err


# --- phase 2: the bulk paths, reports, tables and error mapping on a server --------------------------------------


def _cli_json(capsys, *argv):
    code, out, err = run(capsys, *argv)
    assert code == 0, err
    return json.loads(out)


@needs_server
def test_demo_on_a_server(pg_url, tmp_path, capsys):
    """A demo office written by COPY on the server: every record listed for sync by the triggers, blocking keys
    stored, statistics refreshed, search and lists answering, the monthly report printed, the audit chain whole."""
    summary = _cli_json(capsys, "demo", "--db", pg_url, "--persons", "400", "--seed", "3")
    assert summary["persons"] == 400 and summary["distribution_lines"] > 0
    stats = _cli_json(capsys, "stats", "--db", pg_url, "--json")
    assert {k: stats[k] for k in summary} == summary
    persons = _sql(pg_url, "SELECT count(DISTINCT entity_id) FROM sync_outbox WHERE entity = 'persons'")[0][0]
    assert persons == 400  # COPY fired the outbox trigger of every row
    assert _sql(pg_url, "SELECT count(DISTINCT person_rowid) FROM match_keys") == [(400,)]
    analysed = "SELECT count(*) FROM pg_stat_user_tables WHERE relname = 'persons' AND last_analyze IS NOT NULL"
    assert _sql(pg_url, analysed) == [(1,)]  # the planner's statistics were refreshed after the load, and kept
    name = _sql(pg_url, "SELECT name_parts ->> 0, name_parts ->> -1 FROM persons LIMIT 1")[0]
    found = _cli_json(capsys, "search", " ".join(name), "--db", pg_url, "--json")
    assert found and all(name[0][:2] in p["full_name"] for p in found)
    code, out, err = run(capsys, "list", "persons", "--db", pg_url, "--limit", "5")
    assert code == 0 and out.strip(), err
    month = _sql(pg_url, "SELECT to_char(max(distribution_date), 'YYYY-MM') FROM distributions WHERE status <> 'draft'")
    target = tmp_path / "monthly.pdf"
    code, out, err = run(capsys, "report", "monthly", "--db", pg_url, "--month", month[0][0], "--out", str(target))
    assert code == 0 and target.read_bytes().startswith(b"%PDF"), err
    code, out, err = run(capsys, "audit", "verify", "--db", pg_url)
    assert code == 0 and "سليمة" in out, err


def _copy_to_server(path, url: str) -> None:
    """Every row of a SQLite database into an empty one on the server (migrated first), table by table in the order
    of their references; the server's outbox triggers list the rows again, so the file's outbox is left behind."""
    from sqlalchemy import create_engine, literal_column, select

    from aidoffice.store import bulk
    from aidoffice.store.base import Base

    open_database(url).close()
    source, target = create_engine(f"sqlite:///{path}"), create_engine(url)
    try:
        with source.connect() as read, target.begin() as write:
            for table in Base.metadata.sorted_tables:
                if table.name == "sync_outbox":
                    continue
                query = select(*table.columns)
                if table.name in ("persons", "distribution_lines"):  # rows that point at earlier rows of their table
                    query = query.order_by(literal_column("rowid"))
                rows = [dict(zip([c.key for c in table.columns], r, strict=True)) for r in read.execute(query)]
                bulk.insert_rows(write, table, rows)
            write.exec_driver_sql("ANALYZE")
    finally:
        source.dispose()
        target.dispose()


@needs_server
def test_the_same_records_give_the_same_answers_on_both_engines(demo_template, pg_url):
    """The tests' demo office copied row for row onto the server: the monthly figures of every month, the
    indicators, name searches, and sorted, filtered, paged lists answer the same on PostgreSQL as on SQLite."""
    from aidoffice.services import reports
    from aidoffice.services.context import open_context
    from aidoffice.services.indicators import IndicatorFilter, indicators
    from aidoffice.services.persons import search_persons
    from aidoffice.services.tables import TABLES, TableQuery, count_rows, page_rows

    _copy_to_server(demo_template, pg_url)
    server, local = open_context(pg_url, username="tester"), open_context(demo_template, username="tester")
    both = (server, local)
    try:
        months = sorted(
            {r.values[0].strftime("%Y-%m") for r in page_rows(local, "distributions", TableQuery(), 0, 999)}
        )
        for month in months:
            a, b = (reports.monthly_data(c, month) for c in both)
            assert a.figures == b.figures and a.previous == b.previous, month
            assert (a.districts, sorted(a.associations)) == (b.districts, sorted(b.associations)), month
            assert (sorted(a.by_aid_type), sorted(a.referrals)) == (sorted(b.by_aid_type), sorted(b.referrals)), month
        a, b = (indicators(c, IndicatorFilter(first_month=months[0], last_month=months[-1])) for c in both)
        assert a.households_reached == b.households_reached > 0 and a.distributions == b.distributions
        for part in ("amounts", "by_aid_type", "by_district"):  # ties may come in either order
            assert sorted(getattr(a, part)) == sorted(getattr(b, part)), part
        hits = 0
        for words in ("محمد", "عبد الله سالم", "فاطمه", "با", "ابو بكر", "0101", "77"):
            found = [p.id for p in search_persons(local, words)]
            assert [p.id for p in search_persons(server, words)] == found, words
            hits += bool(found)
        assert hits >= 5
        views = [TableQuery(), TableQuery(text="محمد"), TableQuery(filters={"sex": "F"}, sort="birth_year")]
        views += [TableQuery(sort="full_name", descending=True), TableQuery(text="علي", sort="district")]
        for view in views:
            assert count_rows(server, "persons", view) == count_rows(local, "persons", view), view
            rows = [page_rows(c, "persons", view, 0, 100_000) for c in both]
            assert sorted(r.id for r in rows[0]) == sorted(r.id for r in rows[1]), view
            if view.sort is None:  # registration order: the same persons in the same order
                assert [r.id for r in rows[0]] == [r.id for r in rows[1]], view
            else:  # a sort with ties: the same sequence of sorted values
                at = [c.key for c in TABLES["persons"].columns].index(view.sort)
                assert [r.values[at] for r in rows[0]] == [r.values[at] for r in rows[1]], view
        for kind in TABLES:
            if kind != "lines":
                assert count_rows(server, kind, TableQuery()) == count_rows(local, kind, TableQuery()), kind
    finally:
        server.close()
        local.close()


@needs_server
def test_a_failed_bulk_insert_on_a_server_writes_nothing(pg_url):
    from sqlalchemy import select
    from sqlalchemy.exc import IntegrityError

    from aidoffice.domain.persons import PersonInput
    from aidoffice.services.persons import add_person, search_persons
    from aidoffice.store import models as m
    from tests.helpers.databases import new_office

    ctx = new_office(pg_url)
    try:
        add_person(ctx, PersonInput(full_name="خالد سعيد الجابري"))
        with ctx.uow() as uow:
            row = dict(uow.session.execute(select(m.Person.__table__)).mappings().one())
            fresh = {**row, "id": "another", "search_rowid": row["search_rowid"] + 1}
            with pytest.raises(IntegrityError):  # COPY's failure, as SQLAlchemy's error of its kind
                uow.repo.bulk_insert_persons([fresh, row])
        assert _sql(pg_url, "SELECT count(*) FROM persons") == [(1,)]
        add_person(ctx, PersonInput(full_name="سالم عوض بامطرف"))
        assert [r.full_name for r in search_persons(ctx, "بامطرف")] == ["سالم عوض بامطرف"]
    finally:
        ctx.close()


def test_header_filters_on_numbers_and_empty_cells(demo_ctx):
    """A header filter on a number column ("contains" 19…, "is empty") works on both engines: PostgreSQL has no LIKE
    on integers and no integer equals ''."""
    from aidoffice.services.tables import ColumnFilter, TableQuery, count_rows, page_rows

    ctx = demo_ctx
    everyone = page_rows(ctx, "persons", TableQuery(), 0, 100_000)
    born_in_the_80s = TableQuery(columns={"birth_year": ColumnFilter("contains", "198")})
    rows = page_rows(ctx, "persons", born_in_the_80s, 0, 100_000)
    expected = {r.id for r in everyone if r.values[4] is not None and "198" in str(r.values[4])}
    assert rows and {r.id for r in rows} == expected
    unknown_year = TableQuery(columns={"birth_year": ColumnFilter("is", None)})
    assert count_rows(ctx, "persons", unknown_year) == sum(1 for r in everyone if r.values[4] is None)
    women = TableQuery(filters={"sex": "F"}, columns={"birth_year": ColumnFilter("contains", "19")}, sort="full_name")
    names = [r.values[0] for r in page_rows(ctx, "persons", women, 0, 100_000)]
    assert (
        names
        and len(names) == count_rows(ctx, "persons", women)
        and {r.values[3] for r in page_rows(ctx, "persons", women, 0, 50)} == {"أنثى"}
    )
    pages = [r.id for offset in range(0, len(names), 37) for r in page_rows(ctx, "persons", women, offset, 37)]
    assert len(pages) == len(set(pages)) == len(names)  # ties in the sort never repeat or lose a row between pages


def test_broken_constraints_are_sorted_by_code_into_arabic(demo_ctx):
    """A write that breaks a unique key, a reference or the append-only rule of distributions leaves as the same
    Arabic UserError on SQLite (result code) and on PostgreSQL (SQLSTATE), and changes nothing."""
    from sqlalchemy import func, select

    from aidoffice.errors import UserError
    from aidoffice.store import models as m

    ctx = demo_ctx

    def counted(model) -> int:
        with ctx.uow() as uow:
            return uow.session.scalar(select(func.count()).select_from(model))

    with ctx.uow() as uow:
        district = uow.repo.districts()[0]
        twin = m.District(governorate_id=district.governorate_id, name=district.name, office_id=district.office_id)
        uow.repo.add(twin)
        with pytest.raises(UserError, match="نفس القيمة الفريدة"):
            uow.commit()
    with ctx.uow() as uow:
        uow.repo.add(m.District(governorate_id="no-such-governorate", name="مديرية بلا محافظة", office_id="x"))
        with pytest.raises(UserError, match="سجلات غير موجودة"):
            uow.commit()
    lines = counted(m.DistributionLine)
    with ctx.uow() as uow:
        line = uow.repo.first(m.DistributionLine, status="received")
        line.amount = 999
        with pytest.raises(UserError, match="لا تُحذف ولا تُعدَّل"):
            uow.commit()
    with ctx.uow() as uow:
        uow.repo.delete(uow.repo.first(m.DistributionLine, status="received"))
        with pytest.raises(UserError, match="لا تُحذف ولا تُعدَّل"):
            uow.commit()
    assert counted(m.DistributionLine) == lines
    with ctx.uow() as uow:
        assert uow.session.scalar(select(func.count()).where(m.DistributionLine.amount == 999)) == 0
        assert uow.session.scalar(select(func.count()).where(m.District.name == "مديرية بلا محافظة")) == 0
