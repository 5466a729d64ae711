"""Encryption at rest: the file unreadable without a user's password, every user unlocking with their own,
search and backups working on the encrypted file, and a wrong password opening nothing."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import pytest

from aidoffice.domain.persons import PersonInput
from aidoffice.errors import UserError
from aidoffice.formats import keyring
from aidoffice.services import backups, users
from aidoffice.services.encryption import encrypt_database, is_encrypted, open_encrypted
from aidoffice.services.persons import add_person, search_persons

NAME = "زكريا منصور سالم القعيطي"


@pytest.fixture
def encrypted(file_ctx):
    ctx = file_ctx  # a SQLite file: the test is about the file itself
    users.create_user(ctx, "admin", "كلمة-سر-قوية", "admin")
    users.login(ctx, "admin", "كلمة-سر-قوية")
    add_person(ctx, PersonInput(full_name=NAME, national_id="01015551234"))
    enc = encrypt_database(ctx, "كلمة-سر-قوية")
    yield enc
    enc.close()


def test_the_file_says_nothing_without_the_key(encrypted):
    path = encrypted.db.path
    assert is_encrypted(path)
    raw = path.read_bytes()
    assert not raw.startswith(b"SQLite format 3") and "القعيطي".encode() not in raw and b"01015551234" not in raw
    conn = sqlite3.connect(path)
    try:
        with pytest.raises(sqlite3.DatabaseError, match="not a database"):
            conn.execute("SELECT count(*) FROM persons").fetchone()
    finally:
        conn.close()
    assert "wrapped" in keyring.path_for(path).read_text() and "كلمة" not in keyring.path_for(path).read_text()


def test_each_user_unlocks_with_their_own_password(encrypted):
    assert [p.full_name for p in search_persons(encrypted, "القعيطي")] == [NAME]
    users.create_user(encrypted, "clerk1", "كلمة-سر-الموظف", "clerk")
    path = encrypted.db.path
    encrypted.close()
    clerk = open_encrypted(path, "clerk1", "كلمة-سر-الموظف")
    try:
        assert clerk.role == "clerk" and len(search_persons(clerk, "0101555")) == 1
        add_person(clerk, PersonInput(full_name="هدى عبدالله باحميش"))
    finally:
        clerk.close()
    for name, password in (("clerk1", "wrong-password"), ("nobody", "كلمة-سر-الموظف")):
        with pytest.raises(UserError, match="غير صحيحة"):
            open_encrypted(path, name, password)


def test_backups_of_an_encrypted_database_stay_encrypted_and_restore(encrypted, tmp_path):
    record = backups.make_backup(encrypted, tmp_path / "usb")
    assert not record.path.read_bytes().startswith(b"SQLite format 3")
    assert keyring.exists(record.path)  # the keyring travels with the copy
    add_person(encrypted, PersonInput(full_name="سالم عوض بامطرف"))
    path = encrypted.db.path
    restored = backups.restore_backup(encrypted, record.path).ctx
    try:
        assert search_persons(restored, "بامطرف") == [] and len(search_persons(restored, "القعيطي")) == 1
    finally:
        restored.close()
    again = open_encrypted(path, "admin", "كلمة-سر-قوية")
    again.close()


def test_an_encryption_cut_short_leaves_the_plain_database_in_use(file_ctx):
    ctx = file_ctx  # a SQLite file: the test is about the file itself
    users.create_user(ctx, "admin", "كلمة-سر-قوية", "admin")
    keyring.set_user(ctx.db.path, "admin", "كلمة-سر-قوية", b"k" * 32)  # the keyring written, the file not yet
    assert not is_encrypted(ctx.db.path)
    with pytest.raises(UserError, match="مشفرة بالفعل"):
        encrypt_database(replace(ctx, db=replace(ctx.db, key=b"k" * 32)), "كلمة-سر-قوية")


def test_command_line_on_an_encrypted_database(encrypted, tmp_path, capsys, monkeypatch):
    from aidoffice.cli import main

    path = str(encrypted.db.path)
    encrypted.close()
    monkeypatch.setenv("AIDOFFICE_PASSWORD", "كلمة-سر-قوية")
    assert main(["search", "القعيطي", "--db", path, "--user", "admin", "--json"]) == 0
    assert NAME in capsys.readouterr().out
    assert main(["backup", "--to", str(tmp_path / "usb"), "--db", path, "--user", "admin"]) == 0
    copy = backups.list_backups(tmp_path / "usb")[0].path
    assert main(["restore", str(copy), "--db", path, "--user", "admin"]) == 0
    monkeypatch.setenv("AIDOFFICE_PASSWORD", "wrong-password")
    assert main(["stats", "--db", path, "--user", "admin"]) == 2
    assert "غير صحيحة" in capsys.readouterr().err


def test_the_command_line_encrypts_a_database(file_ctx, capsys, monkeypatch):
    ctx = file_ctx  # a SQLite file: the test is about the file itself
    from aidoffice.cli import main

    users.create_user(ctx, "admin", "كلمة-سر-قوية", "admin")
    path = str(ctx.db.path)
    ctx.close()
    monkeypatch.setenv("AIDOFFICE_PASSWORD", "كلمة-سر-قوية")
    assert main(["encrypt", "--db", path, "--user", "admin"]) == 0
    assert is_encrypted(path)
    assert main(["stats", "--db", path, "--user", "admin"]) == 0
