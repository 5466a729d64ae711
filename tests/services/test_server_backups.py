"""Backups of a database on the PostgreSQL test server: pg_dump archives through the same services as a file's copies
(naming, rotation, the daily one), checked before a restore, restored in one transaction with a new sync identity."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import uuid
from datetime import datetime, timedelta

import pytest
from sqlalchemy import make_url

from aidoffice.cli import main
from aidoffice.domain.persons import PersonInput
from aidoffice.errors import PermissionDeniedError, StorageError, UserError
from aidoffice.services import backups, users
from aidoffice.services.context import open_context
from aidoffice.services.persons import add_person, search_persons
from aidoffice.store import migrate, server_backup
from tests.helpers.databases import new_office
from tests.helpers.postgres import SERVER, SERVER_USER, create_database, drop_database, libpq, needs_server, sql

pytestmark = needs_server

ADMIN_PW, CLERK_PW = "كلمة-سر-المدير", "كلمة-سر-الموظف"
NAME = "زكريا منصور سالم القعيطي"


@pytest.fixture
def office_url():
    """An office on the server with an administrator and a clerk."""
    url = create_database()
    ctx = new_office(url)
    try:
        users.create_user(ctx, "admin", ADMIN_PW, "admin")
        users.login(ctx, "admin", ADMIN_PW)
        users.create_user(ctx, "clerk1", CLERK_PW, "clerk")
    finally:
        ctx.close()
    yield url
    drop_database(url)


def _as(url: str, username: str, password: str):
    ctx = open_context(url, username=username, create=False)
    users.login(ctx, username, password)
    return ctx


@pytest.fixture
def admin(office_url):
    ctx = _as(office_url, "admin", ADMIN_PW)
    yield ctx
    ctx.close()


def _persons(url: str) -> list[str]:
    return [row[0] for row in sql(url, "SELECT full_name FROM persons ORDER BY full_name")]


def _identity(url: str) -> tuple:
    return tuple(sql(url, "SELECT key, value FROM settings WHERE key IN ('sync.identity', 'sync.epoch') ORDER BY key"))


def _tools():
    return server_backup.find_tools(15)


def test_backup_then_restore_brings_back_a_deleted_person_with_a_new_identity(admin, office_url, tmp_path):
    person = add_person(admin, PersonInput(full_name=NAME))
    with admin.uow() as uow:
        uow.repo.set_setting(backups.IDENTITY_SETTING, "the-old-identity")
        uow.commit()
    record = backups.make_backup(admin, tmp_path / "usb")
    assert record.path.parent == tmp_path / "usb" and record.kind == "manual" and record.path.suffix == ".pgdump"
    assert "القعيطي" not in record.path.name and "زكريا" not in record.path.name
    assert server_backup.readable(record.path, _tools())
    assert server_backup.office_identity(record.path, _tools()) == admin.office_id
    assert backups.list_backups(tmp_path / "usb")[0].path == record.path
    assert not list((tmp_path / "usb").glob("*.partial"))

    sql(office_url, "DELETE FROM persons WHERE id = %s", (person.id,))  # a row lost on the server
    assert _persons(office_url) == []
    done = backups.restore_backup(admin, record.path)
    restored = done.ctx
    try:
        assert _persons(office_url) == [NAME]
        assert len(search_persons(restored, "القعيطي")) == 1  # the search's keys came back with the row
        with restored.uow() as uow:
            assert uow.repo.setting(backups.IDENTITY_SETTING) not in (None, "the-old-identity")
            assert uow.repo.setting(backups.EPOCH_SETTING) == 1
        assert restored.role == "nobody"  # the restored database's own users log in again
        assert restored.db.on_server
        # the data as they were before the restore (the person gone) dumped into the backup folder first
        assert done.kept.parent == backups.backup_folder(restored) and done.kept.suffix == ".pgdump"
        assert done.kept.name.endswith("-before-restore.pgdump")
        assert server_backup.table_rows(done.kept, _tools(), "persons") == []
        assert sql(office_url, "SELECT count(*) FROM audit_log WHERE action = 'restore'") == [(1,)]
    finally:
        restored.close()


def test_the_daily_backup_on_a_server(admin):
    first = backups.backup_if_due(admin)
    assert first is not None and first.kind == "daily" and first.path.suffix == ".pgdump"
    assert backups.backup_if_due(admin) is None  # today's is there
    assert [r.path for r in backups.list_backups(backups.backup_folder(admin))] == [first.path]


def test_a_backup_of_another_office_is_refused(admin, office_url, tmp_path):
    other_url = create_database()
    try:
        other = new_office(other_url)
        try:
            add_person(other, PersonInput(full_name="سالم عوض بامطرف"))
            foreign = backups.make_backup(other, tmp_path / "other")
        finally:
            other.close()
        add_person(admin, PersonInput(full_name=NAME))
        before = _identity(office_url)
        with pytest.raises(UserError) as refused:
            backups.restore_backup(admin, foreign.path)
        assert "ليست من قاعدة بيانات هذا المكتب" in refused.value.message
        assert _persons(office_url) == [NAME] and _identity(office_url) == before
        assert not list(backups.backup_folder(admin).glob("*before-restore*"))  # refused before anything was done
    finally:
        drop_database(other_url)


def test_a_clerk_cannot_restore(admin, office_url, tmp_path):
    record = backups.make_backup(admin, tmp_path / "usb")
    clerk = _as(office_url, "clerk1", CLERK_PW)
    try:
        with pytest.raises(PermissionDeniedError):
            backups.restore_backup(clerk, record.path)
    finally:
        clerk.close()
    nobody = open_context(office_url, create=False)  # the program's own role before anyone logs in
    try:
        with pytest.raises(PermissionDeniedError):
            backups.restore_backup(nobody, record.path)
    finally:
        nobody.close()


def test_a_damaged_dump_is_refused_in_arabic_and_the_data_are_untouched(admin, office_url, tmp_path):
    add_person(admin, PersonInput(full_name=NAME))
    good = backups.make_backup(admin, tmp_path / "usb").path
    data = good.read_bytes()
    before = (_persons(office_url), _identity(office_url))
    cut_short = tmp_path / "aidoffice-20260101-000000-manual.pgdump"
    for length in (len(data) // 2, len(data) * 9 // 10, 20):  # no table of contents; no office in it; a header only
        cut_short.write_bytes(data[:length])
        with pytest.raises(StorageError) as refused:
            backups.restore_backup(admin, cut_short)
        assert "تالف" in refused.value.message and "لم يُستعد شيء" in refused.value.message
    sqlite_copy = tmp_path / "aidoffice-20260101-000000-daily.sqlite3"
    sqlite_copy.write_bytes(b"SQLite format 3\x00" + b"\x00" * 5000)
    with pytest.raises(UserError) as refused:
        backups.restore_backup(admin, sqlite_copy)
    assert ".pgdump" in refused.value.message
    assert (_persons(office_url), _identity(office_url)) == before


def test_a_restore_that_fails_midway_leaves_the_data_as_they_were(admin, office_url, tmp_path, monkeypatch):
    """Another PC holds the persons table: pg_restore gives up on its lock and its one transaction rolls back."""
    import psycopg

    add_person(admin, PersonInput(full_name=NAME))
    record = backups.make_backup(admin, tmp_path / "usb")
    add_person(admin, PersonInput(full_name="سالم عوض بامطرف"))
    before = (_persons(office_url), _identity(office_url))
    monkeypatch.setattr(server_backup, "LOCK_WAIT_S", 0.5)
    with psycopg.connect(libpq(office_url)) as other_pc:  # a transaction open on another PC
        other_pc.execute("SELECT count(*) FROM persons").fetchone()
        with pytest.raises(StorageError) as refused:
            backups.restore_backup(admin, record.path)
        other_pc.rollback()
    assert "أجهزة أخرى" in refused.value.message and "بقيت قاعدة البيانات كما كانت" in refused.value.message
    assert (_persons(office_url), _identity(office_url)) == before
    kept = [r for r in backups.list_backups(backups.backup_folder(admin)) if r.kind == "before-restore"]
    assert len(kept) == 1  # the safety dump was written before the attempt
    assert len(search_persons(admin, "بامطرف")) == 1  # the program goes on with the database as it was


def _touch(folder, when, kind="daily", suffix=".pgdump"):
    path = folder / f"aidoffice-{when:%Y%m%d-%H%M%S}-{kind}{suffix}"
    path.write_bytes(b"x")
    return path


def test_rotation_keeps_the_same_counts_as_for_files(tmp_path):
    now = datetime(2026, 11, 24, 22, 0)
    times = [now - timedelta(days=d, hours=h) for d in range(0, 400) for h in (0, 5)]
    files, dumps = tmp_path / "files", tmp_path / "dumps"
    files.mkdir()
    dumps.mkdir()
    for when in times:
        _touch(files, when, suffix=".sqlite3")
        _touch(dumps, when, suffix=".pgdump")
        _touch(dumps, when, suffix=".sqlite3")  # a file's copies in the same folder are not the server's to thin
    safety = _touch(dumps, now - timedelta(days=300), kind="before-restore")
    backups.rotate(files, now)
    backups.rotate(dumps, now, ".pgdump")
    kept_files = [r.taken_at for r in backups.list_backups(files)]
    kept_dumps = [r.taken_at for r in backups.list_backups(dumps, ".pgdump") if r.kind != "before-restore"]
    assert kept_dumps == kept_files and 7 <= len(kept_dumps) <= 7 + 4 + 12
    assert len(backups.list_backups(dumps, ".sqlite3")) == len(times)
    assert safety.exists()  # the data as they were before a restore: removed only by hand


def test_the_password_goes_to_the_child_s_environment_only(admin, office_url, tmp_path, monkeypatch, caplog):
    password = make_url(SERVER).password
    assert password
    calls = []

    class RecordingPopen(subprocess.Popen):  # subprocess.run starts its children through Popen too
        def __init__(self, argv, *args, **kwargs):
            calls.append(([str(a) for a in argv], dict(kwargs.get("env") or {})))
            super().__init__(argv, *args, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", RecordingPopen)
    caplog.set_level(logging.DEBUG)
    add_person(admin, PersonInput(full_name=NAME))
    record = backups.make_backup(admin, tmp_path / "usb")
    backups.restore_backup(admin, record.path).ctx.close()
    names = {os.path.basename(argv[0]) for argv, _env in calls}
    assert {"pg_dump", "pg_restore"} <= names
    assert all(password not in " ".join(argv) for argv, _env in calls)
    connecting = [
        env for argv, env in calls if "--list" not in argv and "--version" not in argv and "--file=-" not in argv
    ]
    assert connecting and all(env.get("PGPASSWORD") == password for env in connecting)
    assert password not in caplog.text


def _fake_pg_dump(folder, version: str) -> None:
    folder.mkdir()
    for name in ("pg_dump", "pg_restore"):
        tool = folder / name
        tool.write_text(f"#!/bin/sh\necho '{name} (PostgreSQL) {version}'\n")
        tool.chmod(tool.stat().st_mode | stat.S_IEXEC)


@pytest.mark.skipif(os.name == "nt", reason="a shell script stands in for the tools")
def test_missing_or_older_tools_are_said_in_arabic(admin, tmp_path):
    with pytest.raises(StorageError) as missing:
        server_backup.find_tools(15, tmp_path)
    assert "لم توجد أداتا pg_dump" in missing.value.message
    _fake_pg_dump(tmp_path / "old", "12.3")
    backups.set_tools_folder(admin, tmp_path / "old")
    with pytest.raises(StorageError) as older:
        backups.make_backup(admin, tmp_path / "usb")
    assert "من الإصدار 12" in older.value.message and "الإصدار 15" in older.value.message
    assert not (tmp_path / "usb").exists() or not list((tmp_path / "usb").iterdir())
    backups.set_tools_folder(admin, None)
    assert backups.make_backup(admin, tmp_path / "usb").path.is_file()


def test_restore_needs_the_owner_s_account(admin, office_url, tmp_path):
    """The office PCs' least-privilege account cannot drop and make the tables again: refused before anything."""
    record = backups.make_backup(admin, tmp_path / "usb")
    role = f"pc_{uuid.uuid4().hex[:12]}"
    sql(office_url, f"CREATE ROLE {role} LOGIN PASSWORD 'pc-pass-123456'")
    try:
        sql(office_url, f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
        sql(office_url, f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
        pc_url = make_url(office_url).set(username=role, password="pc-pass-123456").render_as_string(False)
        pc = _as(pc_url, "admin", ADMIN_PW)
        try:
            before = _identity(office_url)
            with pytest.raises(PermissionDeniedError) as refused:
                backups.restore_backup(pc, record.path)
            assert "حساب مالكها" in refused.value.message and _identity(office_url) == before
        finally:
            pc.close()
    finally:
        sql(office_url, f"REASSIGN OWNED BY {role} TO {SERVER_USER}")
        sql(office_url, f"DROP OWNED BY {role}")
        sql(office_url, f"DROP ROLE {role}")


def test_backup_and_restore_from_the_command_line(office_url, tmp_path, capsys, monkeypatch):
    ctx = _as(office_url, "admin", ADMIN_PW)
    try:
        add_person(ctx, PersonInput(full_name=NAME))
    finally:
        ctx.close()
    monkeypatch.setenv("AIDOFFICE_PASSWORD", ADMIN_PW)
    assert main(["backup", "--to", str(tmp_path / "usb"), "--db", office_url, "--user", "admin"]) == 0
    copy = backups.list_backups(tmp_path / "usb")[0].path
    sql(office_url, "DELETE FROM persons")
    assert main(["restore", str(copy), "--db", office_url, "--user", "admin"]) == 0
    out = capsys.readouterr().out
    assert "before-restore" in out and make_url(SERVER).password not in out
    assert _persons(office_url) == [NAME]
    before = _identity(office_url)
    monkeypatch.setenv("AIDOFFICE_PASSWORD", CLERK_PW)
    assert main(["restore", str(copy), "--db", office_url, "--user", "clerk1"]) == 2
    assert capsys.readouterr().err.strip() and _identity(office_url) == before


def _archive_at(revision: str, source, tmp_path, name: str):
    """An archive of the office as a database of another schema revision would hold it (here: 0011's table and
    0012's sequence gone)."""
    url = create_database()
    try:
        server_backup.restore(url, source, _tools(), clean=False)
        sql(url, "DROP TABLE requests")
        sql(url, "DROP SEQUENCE persons_search_rowid_seq")
        sql(url, "UPDATE alembic_version SET version_num = %s", (revision,))
        target = tmp_path / name
        done = subprocess.run(
            [str(_tools().pg_dump), "--format=custom", f"--file={target}", libpq(url)], capture_output=True
        )
        assert done.returncode == 0, done.stderr
        return target
    finally:
        drop_database(url)


def test_an_archive_of_an_older_schema_is_brought_up_to_date_then_restored(admin, office_url, tmp_path):
    add_person(admin, PersonInput(full_name=NAME))
    current = backups.make_backup(admin, tmp_path / "usb").path
    older = _archive_at("0010", current, tmp_path, "aidoffice-20250101-000000-manual.pgdump")
    assert server_backup.revision(older, _tools()) == "0010"
    sql(office_url, "DELETE FROM persons")
    done = backups.restore_backup(admin, older)
    try:
        assert _persons(office_url) == [NAME]
        assert sql(office_url, "SELECT version_num FROM alembic_version") == [(migrate.head_revision(),)]
        assert sql(office_url, "SELECT count(*) FROM requests") == [(0,)]  # migrated again in the scratch database
        scratch = f"{make_url(office_url).database}_restore_%"
        assert sql(office_url, "SELECT count(*) FROM pg_database WHERE datname LIKE %s", (scratch,)) == [(0,)]
        with done.ctx.uow() as uow:
            assert uow.repo.setting(backups.EPOCH_SETTING) == 1
    finally:
        done.ctx.close()


def _keys(url: str) -> list[int]:
    return [row[0] for row in sql(url, "SELECT search_rowid FROM persons ORDER BY search_rowid")]


def test_after_a_restore_new_persons_take_keys_of_their_own(admin, office_url, tmp_path):
    """The archive carries the search keys' sequence as it stood: persons added after the backup are gone with the
    restore, and persons added after it take keys past the restored ones."""
    add_person(admin, PersonInput(full_name=NAME))
    record = backups.make_backup(admin, tmp_path / "usb")
    add_person(admin, PersonInput(full_name="سالم عوض مبارك باوزير"))
    add_person(admin, PersonInput(full_name="خالد سعيد صالح العمودي"))
    done = backups.restore_backup(admin, record.path)
    try:
        users.login(done.ctx, "admin", ADMIN_PW)
        kept = _keys(office_url)
        assert len(kept) == 1
        add_person(done.ctx, PersonInput(full_name="فهد حسين ناصر الكثيري"))
        add_person(done.ctx, PersonInput(full_name="عمر مبارك جمال الجفري"))
        keys = _keys(office_url)
        assert len(keys) == len(set(keys)) == 3 and min(keys[1:]) > max(kept)
        assert [p.full_name for p in search_persons(done.ctx, "الجفري")] == ["عمر مبارك جمال الجفري"]
    finally:
        done.ctx.close()


def test_an_archive_from_before_the_keys_sequence_is_restored_with_it_past_every_key(admin, office_url, tmp_path):
    """An archive of 0011 has no sequence: the upgrade in the scratch database makes it, past the archive's keys, so
    the next person added after the restore takes a key of its own."""
    add_person(admin, PersonInput(full_name=NAME))
    add_person(admin, PersonInput(full_name="سالم عوض مبارك باوزير"))
    current = backups.make_backup(admin, tmp_path / "usb").path
    older = _archive_at("0011", current, tmp_path, "aidoffice-20250101-000000-manual.pgdump")
    sql(office_url, "DELETE FROM persons")
    done = backups.restore_backup(admin, older)
    try:
        users.login(done.ctx, "admin", ADMIN_PW)
        kept = _keys(office_url)
        assert len(kept) == 2
        add_person(done.ctx, PersonInput(full_name="فهد حسين ناصر الكثيري"))
        keys = _keys(office_url)
        assert len(set(keys)) == 3 and keys[-1] == max(kept) + 1
        assert [p.full_name for p in search_persons(done.ctx, "الكثيري")] == ["فهد حسين ناصر الكثيري"]
    finally:
        done.ctx.close()


def test_an_archive_of_a_newer_program_is_refused(admin, office_url, tmp_path):
    add_person(admin, PersonInput(full_name=NAME))
    current = backups.make_backup(admin, tmp_path / "usb").path
    newer = _archive_at("9999", current, tmp_path, "aidoffice-20250101-000000-manual.pgdump")
    before = (_persons(office_url), _identity(office_url))
    with pytest.raises(UserError) as refused:
        backups.restore_backup(admin, newer)
    assert "أحدث" in refused.value.message
    assert (_persons(office_url), _identity(office_url)) == before


def test_other_pcs_saves_wait_while_a_restore_keeps_the_writers_out(admin, office_url, monkeypatch):
    """From the dump aside to the end of the restore another PC's save waits, then reads "busy": a save made in
    between would be in neither the kept archive nor the restored database. Reading goes on."""
    monkeypatch.setenv("AIDOFFICE_BUSY_TIMEOUT_MS", "300")
    other_pc = _as(office_url, "clerk1", CLERK_PW)
    try:
        with server_backup.writers_kept_out(admin.db):
            with pytest.raises(StorageError, match="مشغولة"):
                add_person(other_pc, PersonInput(full_name=NAME))
            assert search_persons(other_pc, "زكريا") == []
        add_person(other_pc, PersonInput(full_name=NAME))  # let go: saves go in again
    finally:
        other_pc.close()
    assert _persons(office_url) == [NAME]


def test_a_restore_kept_waiting_by_another_pcs_reading_stops_with_nothing_changed(
    admin, office_url, tmp_path, monkeypatch
):
    """A table an earlier restore by a superuser left its own is handed back to the owner before the restore: that
    waits for every other PC's open reading of it, for LOCK_WAIT_S, then stops with a message and nothing changed
    (it waited for ever)."""
    import psycopg

    add_person(admin, PersonInput(full_name=NAME))
    record = backups.make_backup(admin, tmp_path / "usb")
    role = f"old_{uuid.uuid4().hex[:12]}"
    sql(office_url, f"CREATE ROLE {role}")
    sql(office_url, f"ALTER TABLE households OWNER TO {role}")
    monkeypatch.setattr(server_backup, "LOCK_WAIT_S", 0.5)
    reader = psycopg.connect(libpq(office_url))
    try:
        reader.execute("SELECT count(*) FROM households")  # another PC's transaction, still open
        before = _identity(office_url)
        with pytest.raises(StorageError, match="أجهزة أخرى تعمل على قاعدة البيانات الآن"):
            backups.restore_backup(admin, record.path)
        assert _identity(office_url) == before and _persons(office_url) == [NAME]
        owner = sql(office_url, "SELECT tableowner FROM pg_tables WHERE tablename = 'households'")
        assert owner == [(role,)]  # rolled back whole
    finally:
        reader.close()
        sql(office_url, f"REASSIGN OWNED BY {role} TO {SERVER_USER}")
        sql(office_url, f"DROP OWNED BY {role}")
        sql(office_url, f"DROP ROLE {role}")
