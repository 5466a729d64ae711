"""Backups: a checked copy through the online backup API, rotation 7/4/12, restore with a new sync identity,
and a damaged database never silently replaced."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta

import pytest

from aidoffice.cli import main
from aidoffice.domain.persons import PersonInput
from aidoffice.errors import StorageError, UserError
from aidoffice.services import backups
from aidoffice.services.context import open_context
from aidoffice.services.persons import add_person, search_persons
from aidoffice.store.backup import integrity


def test_backup_is_a_checked_copy_and_is_audited(file_ctx, tmp_path):
    ctx = file_ctx  # a SQLite file: the test is about the file itself
    add_person(ctx, PersonInput(full_name="خالد سعيد الجابري"))
    record = backups.make_backup(ctx, tmp_path / "usb")
    assert record.path.parent == tmp_path / "usb" and record.kind == "manual"
    assert integrity(record.path) == "ok"
    assert "الجابري" not in record.path.name and "خالد" not in record.path.name
    conn = sqlite3.connect(record.path)
    try:
        assert conn.execute("SELECT count(*) FROM persons").fetchone()[0] == 1
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        conn.close()
    assert backups.list_backups(tmp_path / "usb")[0].path == record.path
    assert backups.backup_if_due(ctx) is not None  # the default folder had none yet
    assert backups.backup_if_due(ctx) is None  # and now has today's


def _touch(folder, when, kind="daily"):
    path = folder / f"aidoffice-{when:%Y%m%d-%H%M%S}-{kind}.sqlite3"
    path.write_bytes(b"x")
    return path


def test_rotation_keeps_seven_daily_four_weekly_twelve_monthly(tmp_path):
    now = datetime(2026, 11, 24, 22, 0)
    made = [_touch(tmp_path, now - timedelta(days=d, hours=h)) for d in range(0, 400) for h in (0, 5)]
    (tmp_path / "notes.txt").write_text("not ours")
    removed = backups.rotate(tmp_path, now)
    kept = backups.list_backups(tmp_path)
    assert len(removed) + len(kept) == len(made)
    days = {r.taken_at.date() for r in kept}
    assert all((now - timedelta(days=d)).date() in days for d in range(7))  # every one of the last 7 days
    assert len({r.taken_at.date() for r in kept if (now.date() - r.taken_at.date()).days < 7}) == 7
    assert len(kept) <= 7 + 4 + 12
    assert all((now.date() - r.taken_at.date()).days < 12 * 31 for r in kept)
    assert (tmp_path / "notes.txt").exists()


def test_restore_puts_the_copy_back_with_a_new_identity(file_ctx, tmp_path):
    ctx = file_ctx  # a SQLite file: the test is about the file itself
    add_person(ctx, PersonInput(full_name="خالد سعيد الجابري"))
    record = backups.make_backup(ctx, tmp_path / "usb")
    with ctx.uow() as uow:
        uow.repo.set_setting(backups.IDENTITY_SETTING, "the-old-identity")
        uow.commit()
    add_person(ctx, PersonInput(full_name="سالم عوض بامطرف"))
    db_path = ctx.db.path
    done = backups.restore_backup(ctx, record.path)
    restored = done.ctx
    try:
        assert [p.full_name for p in search_persons(restored, "بامطرف")] == []
        assert len(search_persons(restored, "الجابري")) == 1
        with restored.uow() as uow:
            assert uow.repo.setting(backups.IDENTITY_SETTING) not in (None, "the-old-identity")
            assert uow.repo.setting(backups.EPOCH_SETTING) == 1
        assert done.kept.parent == db_path.parent and "before-restore" in done.kept.name  # kept beside the file
        assert integrity(done.kept) == "ok"
    finally:
        restored.close()


def test_a_damaged_backup_is_refused_and_nothing_changes(file_ctx, tmp_path):
    ctx = file_ctx  # a SQLite file: the test is about the file itself
    add_person(ctx, PersonInput(full_name="خالد سعيد الجابري"))
    bad = tmp_path / "aidoffice-20260101-000000-manual.sqlite3"
    bad.write_bytes(b"SQLite format 3\x00" + b"\x00" * 5000)
    db_path = ctx.db.path
    ctx.close()
    before = db_path.read_bytes()
    ctx = open_context(db_path, create=False)
    with pytest.raises((StorageError, UserError)):
        backups.restore_backup(ctx, bad)
    ctx.close()
    assert db_path.read_bytes() == before


def test_a_damaged_database_is_named_and_not_copied(file_ctx, tmp_path):
    ctx = file_ctx  # a SQLite file: the test is about the file itself
    db_path = ctx.db.path
    add_person(ctx, PersonInput(full_name="خالد سعيد الجابري"))
    ctx.close()
    data = bytearray(db_path.read_bytes())
    for page in range(1, len(data) // 4096):  # scribble over every b-tree page header after the first
        data[page * 4096 : page * 4096 + 12] = b"\xff" * 12
    db_path.write_bytes(bytes(data))
    assert backups.check_database(db_path) != "ok"


def test_backup_and_restore_from_the_command_line(file_ctx, tmp_path, capsys, monkeypatch):
    ctx = file_ctx  # a SQLite file: the test is about the file itself
    add_person(ctx, PersonInput(full_name="خالد سعيد الجابري"))
    db = str(ctx.db.path)
    ctx.close()
    assert main(["backup", "--to", str(tmp_path / "usb"), "--db", db]) == 0
    copy = backups.list_backups(tmp_path / "usb")[0].path
    assert main(["restore", str(copy), "--db", db]) == 0
    assert main(["restore", str(tmp_path / "missing.sqlite3"), "--db", db]) == 2
    assert "غير موجود" in capsys.readouterr().err
