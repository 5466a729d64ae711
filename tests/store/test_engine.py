"""Opening files: pragmas on every connection, refusals that leave the file untouched, copy before migration."""

from __future__ import annotations

import hashlib
import sqlite3
import stat
from pathlib import Path

import pytest
from alembic import command

from aidoffice.errors import StorageError
from aidoffice.store import migrate
from aidoffice.store.engine import copy_database, open_database
from aidoffice.store.migrate import alembic_config


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_connection_gets_the_pragmas(tmp_path):
    db = open_database(tmp_path / "a.sqlite3")
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 300
    finally:
        db.close()


def test_new_file_is_created_and_migrated(tmp_path):
    db = open_database(tmp_path / "sub" / "new.sqlite3")
    db.close()
    assert db.created
    assert migrate.current_revision(db.path) == migrate.head_revision()


@pytest.mark.parametrize("content", [b"not a database at all", b"", b"PK\x03\x04 an xlsx file really"])
def test_not_a_database_is_refused_and_untouched(tmp_path, content):
    path = tmp_path / "x.sqlite3"
    path.write_bytes(content)
    before = _digest(path)
    with pytest.raises(StorageError) as err:
        open_database(path)
    assert "ليس قاعدة بيانات" in err.value.message
    assert _digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.sqlite3"]


def test_foreign_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes(x)")
    conn.commit()
    conn.close()
    before = _digest(path)
    with pytest.raises(StorageError) as err:
        open_database(path)
    assert "ليست من قواعد AidOffice" in err.value.message
    assert _digest(path) == before


def test_newer_version_is_refused_and_untouched(tmp_path):
    path = tmp_path / "newer.sqlite3"
    open_database(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE alembic_version SET version_num='9999_future'")
    conn.commit()
    conn.close()
    before = _digest(path)
    with pytest.raises(StorageError) as err:
        open_database(path)
    assert "إصدار أحدث" in err.value.message
    assert _digest(path) == before


def test_read_only_file_is_refused(tmp_path):
    path = tmp_path / "ro.sqlite3"
    open_database(path).close()
    before = _digest(path)
    path.chmod(stat.S_IRUSR | stat.S_IRGRP)
    try:
        with pytest.raises(StorageError) as err:
            open_database(path)
        assert "للقراءة فقط" in err.value.message
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert _digest(path) == before


def test_locked_file_gives_a_clear_message(tmp_path):
    path = tmp_path / "locked.sqlite3"
    open_database(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(StorageError) as err:
            open_database(path)
        assert "مقفلة" in err.value.message or "مشغولة" in err.value.message
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_write_that_waits_past_the_busy_timeout_is_told_in_arabic(tmp_path, monkeypatch):
    from aidoffice.store.uow import UnitOfWork

    monkeypatch.setenv("AIDOFFICE_BUSY_TIMEOUT_MS", "200")
    path = tmp_path / "busy.sqlite3"
    db = open_database(path)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another clerk's program is writing
    try:
        with pytest.raises(StorageError) as err, UnitOfWork(db, "clerk", write_first=True):
            pass
        assert "مقفلة" in err.value.message or "مشغولة" in err.value.message
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    with UnitOfWork(db, "clerk", write_first=True) as uow:  # the lock released, the same program writes
        uow.commit()
    db.close()


def test_missing_file_is_not_created_when_asked_not_to(tmp_path):
    with pytest.raises(StorageError):
        open_database(tmp_path / "nope.sqlite3", create=False)
    assert not (tmp_path / "nope.sqlite3").exists()


def test_copy_is_taken_before_a_migration(tmp_path, monkeypatch):
    path = tmp_path / "old.sqlite3"
    open_database(path).close()
    current = migrate.current_revision(path)
    upgraded = []
    # Pretend the program ships a newer head than the file's revision.
    monkeypatch.setattr(migrate, "head_revision", lambda: "0002_next")
    monkeypatch.setattr(migrate, "upgrade", lambda p, revision="head", key=None: upgraded.append(p))
    db = open_database(path, backups=tmp_path / "backups")
    db.close()
    assert upgraded == [path.resolve()]
    copies = list((tmp_path / "backups").iterdir())
    assert len(copies) == 1 and copies[0].name.startswith(f"pre-migration-{current}-")
    conn = sqlite3.connect(copies[0])
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT version_num FROM alembic_version").fetchone()[0] == current
    conn.close()


def test_copy_database_is_consistent_with_wal(tmp_path):
    source = tmp_path / "src.sqlite3"
    open_database(source).close()
    target = tmp_path / "copy" / "dst.sqlite3"
    copy_database(source, target)
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    conn.close()
    assert not target.with_name(target.name + ".partial").exists()


def test_alembic_check_models_and_migrations_agree(tmp_path):
    path = tmp_path / "check.sqlite3"
    open_database(path).close()
    command.check(alembic_config(path))  # raises if autogenerate finds a difference


def test_empty_file_upgrades_to_head_and_back(tmp_path):
    path = tmp_path / "empty.sqlite3"
    conn = sqlite3.connect(path)  # an SQLite file with no tables, as another tool might leave it
    conn.execute("PRAGMA user_version=1")
    conn.close()
    assert path.read_bytes()[:15] == b"SQLite format 3"
    migrate.upgrade(path)
    assert migrate.current_revision(path) == migrate.head_revision()
    cfg = alembic_config(path)
    command.downgrade(cfg, "base")
    conn = sqlite3.connect(path)
    left = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table','trigger')")}
    conn.close()
    assert left <= {"alembic_version"}
    migrate.upgrade(path)
    assert migrate.current_revision(path) == migrate.head_revision()


def test_migration_runs_with_foreign_keys_off(tmp_path, monkeypatch):
    """Batch rebuilds of parent tables must not cascade-delete children (ARABIC.md)."""
    seen = []
    original = command.upgrade

    def spy(cfg, revision):
        conn = cfg.attributes["connection"]
        seen.append(conn.exec_driver_sql("PRAGMA foreign_keys").scalar())
        return original(cfg, revision)

    monkeypatch.setattr(command, "upgrade", spy)
    migrate.upgrade(tmp_path / "fk.sqlite3")
    assert seen == [0]


def test_broken_constraints_on_an_encrypted_file_are_sorted_as_on_a_plain_one(file_ctx):
    """SQLCipher's driver reports only SQLITE_CONSTRAINT (no extended codes): a repeated unique key and a missing
    reference still leave as the same Arabic UserError as on a plain file, and nothing is written."""
    ctx = file_ctx
    from aidoffice.errors import UserError
    from aidoffice.services import users
    from aidoffice.services.encryption import encrypt_database
    from aidoffice.store import models as m

    users.create_user(ctx, "admin", "كلمة-سر-قوية", "admin")
    users.login(ctx, "admin", "كلمة-سر-قوية")
    encrypted = encrypt_database(ctx, "كلمة-سر-قوية")
    try:
        assert encrypted.db.key is not None
        with encrypted.uow() as uow:
            district = uow.repo.districts()[0]
            governorate, name = district.governorate_id, district.name
            uow.repo.add(m.District(governorate_id=governorate, name=name, office_id="x"))
            with pytest.raises(UserError, match="نفس القيمة الفريدة"):
                uow.commit()
        with encrypted.uow() as uow:
            uow.repo.add(m.District(governorate_id="no-such-governorate", name="مديرية بلا محافظة", office_id="x"))
            with pytest.raises(UserError, match="سجلات غير موجودة"):
                uow.commit()
        with encrypted.uow() as uow:
            assert uow.repo.first(m.District, name="مديرية بلا محافظة") is None
            assert len([d for d in uow.repo.districts() if d.name == name]) == 1
    finally:
        encrypted.close()
