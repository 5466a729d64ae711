"""Insiders (issue 15, items 8-10): lock-out with and without encryption, restore that cannot destroy the office,
encryption by default, old plain backups, a lost keyring, dedup-file on an encrypted registry, commands at once."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import os
import re
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from aidoffice.errors import StorageError, UserError
from aidoffice.formats import keyring
from aidoffice.services import backups, users
from aidoffice.services.context import open_context
from aidoffice.services.encryption import is_encrypted, open_encrypted
from aidoffice.store.backup import is_plain
from aidoffice.store.engine import raw_connect
from tests.test_cli import run

ADMIN_PW, CLERK_PW = "كلمة-سر-المدير", "كلمة-سر-الموظف"
FAMILY = "القعيطي"


def _office(tmp_path, capsys, monkeypatch, *, name="office", encrypt=True, code="HDR-01") -> str:
    """An office made from the command line: admin, clerk1, one person."""
    db = str(tmp_path / f"{name}.sqlite3")
    monkeypatch.setenv("AIDOFFICE_NEW_PASSWORD", ADMIN_PW)
    init = ["init", "--db", db, "--office-code", code, "--admin", "admin"] + ([] if encrypt else ["--no-encrypt"])
    assert run(capsys, *init)[0] == 0
    monkeypatch.setenv("AIDOFFICE_PASSWORD", ADMIN_PW)
    monkeypatch.setenv("AIDOFFICE_NEW_PASSWORD", CLERK_PW)
    assert run(capsys, "user", "add", "clerk1", "--role", "clerk", "--db", db, "--user", "admin")[0] == 0
    _person(capsys, db, f"زكريا منصور سالم {FAMILY}")
    return db


def _person(capsys, db: str, name: str, *more: str) -> None:
    code, _, err = run(capsys, "person", "add", "--name", name, *more, "--db", db, "--user", "admin")
    assert code == 0, err


def _as(monkeypatch, password: str) -> None:
    monkeypatch.setenv("AIDOFFICE_PASSWORD", password)


def _open_as_admin(db):
    if is_encrypted(db):
        return open_encrypted(db, "admin", ADMIN_PW)
    ctx = open_context(db, create=False)
    users.login(ctx, "admin", ADMIN_PW)
    return ctx


def _rows(db, sql: str, *args):
    """What is really in the file, read with its key if it is encrypted."""
    key = keyring.unlock(db, "admin", ADMIN_PW) if is_encrypted(db) else None
    conn = raw_connect(db, key)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _fingerprint(db) -> tuple[str, ...]:
    """The database file and its keyring, byte for byte."""
    return tuple(
        hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else "" for p in (Path(db), keyring.path_for(db))
    )


def _office_state(db) -> tuple:
    """What a restore would replace (the refused user's own login entry aside): records, users, identity, keyring."""
    return (
        _rows(db, "SELECT id, full_name FROM persons ORDER BY id"),
        _rows(db, "SELECT username, role FROM users ORDER BY username"),
        _rows(db, "SELECT id FROM office_profile"),
        _rows(db, "SELECT count(*) FROM audit_log WHERE action = 'restore'"),
        keyring.read(db).get("users") if keyring.exists(db) else None,  # the wraps (logins move other entries)
        is_encrypted(db),
    )


def _persons_named(db, family: str = FAMILY) -> int:
    return _rows(db, "SELECT count(*) FROM persons WHERE full_name LIKE ?", f"%{family}%")[0][0]


# --- 8. lock-out ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("encrypt", [True, False], ids=["encrypted", "plain"])
def test_five_wrong_passwords_lock_the_account_with_or_without_encryption(tmp_path, capsys, monkeypatch, encrypt):
    db = _office(tmp_path, capsys, monkeypatch, encrypt=encrypt)
    assert is_encrypted(db) == encrypt
    _as(monkeypatch, "not-the-password")
    for _ in range(users.MAX_FAILED_LOGINS):
        code, _, err = run(capsys, "stats", "--db", db, "--user", "clerk1")
        assert code == 2 and "غير صحيحة" in err
    _as(monkeypatch, CLERK_PW)
    code, _, err = run(capsys, "stats", "--db", db, "--user", "clerk1")
    assert code == 2 and "مقفل" in err  # the right password no longer opens it
    _as(monkeypatch, ADMIN_PW)
    assert run(capsys, "stats", "--db", db, "--user", "admin")[0] == 0  # another account is not locked
    (clerk_id,) = _rows(db, "SELECT id FROM users WHERE username = 'clerk1'")[0]
    failed = _rows(db, "SELECT count(*) FROM audit_log WHERE action = 'login_failed' AND entity_id = ?", clerk_id)
    assert failed[0][0] == users.MAX_FAILED_LOGINS
    ctx = _open_as_admin(db)
    try:
        users.update_user(ctx, "clerk1", unlock=True)
    finally:
        ctx.close()
    _as(monkeypatch, CLERK_PW)
    assert run(capsys, "stats", "--db", db, "--user", "clerk1")[0] == 0


def test_the_service_counts_wrong_passwords_before_the_key_opens(tmp_path, capsys, monkeypatch):
    db = _office(tmp_path, capsys, monkeypatch)
    for _ in range(users.MAX_FAILED_LOGINS):
        with pytest.raises(UserError, match="غير صحيحة"):
            open_encrypted(db, "clerk1", "not-the-password")
    ring = keyring.path_for(db).read_text(encoding="utf-8")
    assert "not-the-password" not in ring and CLERK_PW not in ring
    with pytest.raises(UserError, match="مقفل"):
        open_encrypted(db, "clerk1", CLERK_PW)
    with pytest.raises(UserError, match="غير صحيحة"):  # a name with no wrap is not counted, nor written down
        open_encrypted(db, "nobody", "not-the-password")
    assert "nobody" not in keyring.path_for(db).read_text(encoding="utf-8")
    ctx = open_encrypted(db, "admin", ADMIN_PW)  # the failures reach the audit trail at the next open
    ctx.close()
    rows = _rows(db, "SELECT after FROM audit_log WHERE action = 'login_failed'")
    assert len(rows) == users.MAX_FAILED_LOGINS and all('"keyring"' in r[0] for r in rows)
    with pytest.raises(UserError, match="مقفل"):  # still locked: the administrator's open lifted nothing
        open_encrypted(db, "clerk1", CLERK_PW)


# --- 9. restore ---------------------------------------------------------------------------------------------------


def test_a_clerk_cannot_restore_a_database_of_their_own_over_the_office(tmp_path, capsys, monkeypatch):
    db = _office(tmp_path, capsys, monkeypatch)
    evil = str(tmp_path / "mine.sqlite3")
    monkeypatch.setenv("AIDOFFICE_NEW_PASSWORD", CLERK_PW)
    assert run(capsys, "init", "--db", evil, "--admin", "clerk1", "--no-encrypt")[0] == 0
    (office_id,) = _rows(db, "SELECT id FROM office_profile")[0]
    conn = sqlite3.connect(evil)  # even with the office's identity forged into it
    conn.execute("UPDATE office_profile SET id = ?", (office_id,))
    conn.commit()
    conn.close()
    before = _office_state(db)
    _as(monkeypatch, CLERK_PW)
    code, _, err = run(capsys, "restore", evil, "--db", db, "--user", "clerk1")
    assert code == 2 and "صلاحية" in err
    assert _office_state(db) == before
    assert not list(tmp_path.glob("office-before-restore-*"))


def test_an_administrator_cannot_restore_another_offices_backup(tmp_path, capsys, monkeypatch):
    db = _office(tmp_path, capsys, monkeypatch)
    other = _office(tmp_path, capsys, monkeypatch, name="other", code="ABY-02")  # same admin name and password
    _as(monkeypatch, ADMIN_PW)
    assert run(capsys, "backup", "--to", str(tmp_path / "usb"), "--db", other, "--user", "admin")[0] == 0
    copy = backups.list_backups(tmp_path / "usb")[0].path
    before = _office_state(db)
    code, _, err = run(capsys, "restore", str(copy), "--db", db, "--user", "admin")
    assert code == 2 and "ليست من قاعدة بيانات هذا المكتب" in err
    assert _office_state(db) == before


def test_a_backup_from_before_encryption_never_silently_unencrypts_the_office(tmp_path, capsys, monkeypatch):
    db = _office(tmp_path, capsys, monkeypatch, encrypt=False)
    _as(monkeypatch, ADMIN_PW)
    assert run(capsys, "backup", "--to", str(tmp_path / "usb"), "--db", db, "--user", "admin")[0] == 0
    plain_copy = str(backups.list_backups(tmp_path / "usb")[0].path)
    assert run(capsys, "encrypt", "--db", db, "--user", "admin")[0] == 0
    _person(capsys, db, "هدى عبدالله باحميش")
    before = _office_state(db)
    code, _, err = run(capsys, "restore", plain_copy, "--db", db, "--user", "admin")
    assert code == 2 and "--allow-unencrypted" in err
    assert _office_state(db) == before
    code, out, err = run(capsys, "restore", plain_copy, "--db", db, "--user", "admin", "--allow-unencrypted")
    assert code == 0, err
    assert is_plain(db) and not keyring.exists(db)
    (kept,) = tmp_path.glob("office-before-restore-*.sqlite3")
    assert str(kept) in out and not is_plain(kept) and keyring.exists(kept)  # the encrypted original, whole
    assert _persons_named(kept, "باحميش") == 1 and _persons_named(db, "باحميش") == 0


def test_restore_keeps_the_current_file_beside_it_and_takes_a_new_identity(tmp_path, capsys, monkeypatch):
    db = _office(tmp_path, capsys, monkeypatch)
    _as(monkeypatch, ADMIN_PW)
    assert run(capsys, "backup", "--to", str(tmp_path / "usb"), "--db", db, "--user", "admin")[0] == 0
    copy = str(backups.list_backups(tmp_path / "usb")[0].path)
    _person(capsys, db, "هدى عبدالله باحميش")
    identity = _rows(db, "SELECT value FROM settings WHERE key = ?", backups.IDENTITY_SETTING)
    code, _, err = run(capsys, "restore", copy, "--db", db, "--user", "admin")
    assert code == 0, err
    (kept,) = tmp_path.glob("office-before-restore-*.sqlite3")
    assert re.fullmatch(r"office-before-restore-\d{8}-\d{6}\.sqlite3", kept.name)  # time only, no personal data
    assert keyring.exists(kept) and _persons_named(kept, "باحميش") == 1
    assert is_encrypted(db) and _persons_named(db, "باحميش") == 0 and _persons_named(db) == 1
    assert _rows(db, "SELECT value FROM settings WHERE key = ?", backups.IDENTITY_SETTING) not in ([], identity)
    assert run(capsys, "stats", "--db", db, "--user", "admin")[0] == 0


def test_the_desktop_asks_before_a_plain_backup_replaces_an_encrypted_database(qtbot, file_ctx, tmp_path):
    """An encrypted SQLite file and a plain file backup of it."""
    ctx = file_ctx
    from aidoffice.services.encryption import encrypt_database
    from aidoffice.ui.main_window import MainWindow

    users.create_user(ctx, "admin", ADMIN_PW, "admin")
    users.login(ctx, "admin", ADMIN_PW)
    plain = backups.make_backup(ctx, tmp_path / "usb").path
    enc = encrypt_database(ctx, ADMIN_PW)
    db = enc.db.path
    window = MainWindow(enc)
    qtbot.addWidget(window)
    asked = []
    window.confirm_unencrypted = lambda: asked.append(1) or False
    emitted = []
    window.replaced.connect(emitted.append)
    window.restore_from(plain)
    assert asked and not emitted and is_encrypted(db)
    window.confirm_unencrypted = lambda: True
    window.restore_from(plain)
    assert len(emitted) == 1 and is_plain(db)
    emitted[0].close()
    (kept,) = db.parent.glob(f"{db.stem}-before-restore-*.sqlite3")
    assert not is_plain(kept) and keyring.exists(kept)


def test_the_desktop_offers_to_encrypt_the_plain_backups_when_it_encrypts(qtbot, file_ctx):
    """A SQLite file encrypted, and its plain file backups."""
    ctx = file_ctx
    from aidoffice.ui.login import AdminDialog

    old = backups.make_backup(ctx).path  # taken before the office had users, in the default folder
    dialog = AdminDialog(ctx)
    qtbot.addWidget(dialog)
    asked = []
    dialog.ask_old_backups = lambda count: asked.append(count) or "encrypt"
    dialog.username.setText("admin")
    dialog.password.setText(ADMIN_PW)
    dialog.confirm.setText(ADMIN_PW)
    assert dialog.create()
    try:
        assert asked == [1] and is_encrypted(dialog.ctx.db.path)
        assert not is_plain(old) and keyring.exists(old)
    finally:
        dialog.ctx.close()


# --- 10. other points ---------------------------------------------------------------------------------------------


def test_init_with_an_administrator_encrypts_by_default(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("AIDOFFICE_NEW_PASSWORD", ADMIN_PW)
    default, opted_out = str(tmp_path / "a.sqlite3"), str(tmp_path / "b.sqlite3")
    assert run(capsys, "init", "--db", default, "--admin", "admin")[0] == 0
    assert run(capsys, "init", "--db", opted_out, "--admin", "admin", "--no-encrypt")[0] == 0
    assert is_encrypted(default) and not is_plain(default)
    assert is_plain(opted_out) and not keyring.exists(opted_out)


@pytest.mark.parametrize("choice", ["encrypt", "delete"])
def test_plain_backups_from_before_encryption_are_reported_then_encrypted_or_deleted(
    tmp_path, capsys, monkeypatch, choice
):
    db = _office(tmp_path, capsys, monkeypatch, encrypt=False)
    _as(monkeypatch, ADMIN_PW)
    assert run(capsys, "backup", "--to", str(tmp_path / "usb"), "--db", db, "--user", "admin")[0] == 0
    (old,) = [b.path for b in backups.list_backups(tmp_path / "usb")]
    ctx = _open_as_admin(db)
    backups.set_backup_folder(ctx, tmp_path / "usb")
    ctx.close()
    assert FAMILY.encode() in old.read_bytes()
    if choice == "encrypt":
        code, _, err = run(capsys, "encrypt", "--db", db, "--user", "admin")
        assert code == 0 and "1 نسخة احتياطية غير مشفرة" in err and "--old-backups" in err
        assert is_plain(old)  # reported, not touched without being asked
    code, out, err = run(capsys, "encrypt", "--db", db, "--user", "admin", "--old-backups", choice)
    assert code == 0, err
    assert is_encrypted(db)
    if choice == "encrypt":
        assert "شُفّرت 1" in out and not is_plain(old) and FAMILY.encode() not in old.read_bytes()
        assert _persons_named(old) == 1  # still a backup: it opens with the office's key
    else:
        assert "حُذفت 1" in out and not old.exists()


def test_a_missing_key_file_is_named_and_never_taken_for_a_damaged_database(tmp_path, capsys, monkeypatch):
    db = _office(tmp_path, capsys, monkeypatch)
    _as(monkeypatch, ADMIN_PW)
    assert run(capsys, "backup", "--to", str(tmp_path / "usb"), "--db", db, "--user", "admin")[0] == 0
    copy = str(backups.list_backups(tmp_path / "usb")[0].path)
    ring = keyring.path_for(db)
    ring.rename(tmp_path / "elsewhere.keys")
    before = _fingerprint(db)
    for argv in (("stats",), ("restore", copy)):
        code, _, err = run(capsys, *argv, "--db", db, "--user", "admin")
        assert code == 2 and "مفقود" in err and ring.name in err and str(tmp_path) in err
        assert "ليس قاعدة بيانات SQLite" not in err
    with pytest.raises(StorageError, match="مفقود"):  # the desktop's check at start-up
        backups.check_database(db)
    assert _fingerprint(db) == before


def test_dedup_file_checks_a_list_against_an_encrypted_registry(tmp_path, capsys, monkeypatch):
    db = _office(tmp_path, capsys, monkeypatch)
    _person(capsys, db, "سالم عوض سعيد بامطرف", "--national-id", "01010012345", "--birth-year", "1980")
    source = tmp_path / "list.csv"
    source.write_text(
        "record_id,full_name,national_id,phone,birth_year,sex,district\n"
        "1,سالم بن عوض سعيد با مطرف,٠١٠١٠٠١٢٣٤٥,,١٩٨٠,ذكر,المكلا\n"
        "2,محمد علي الكثيري,,,1990,ذكر,الشحر\n",
        encoding="utf-8",
    )
    out = tmp_path / "clusters.csv"
    _as(monkeypatch, ADMIN_PW)
    code, _, err = run(capsys, "dedup-file", str(source), "--out", str(out), "--db", db, "--user", "admin")
    assert code == 0, err
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert rows[0]["cluster_id"].startswith("registry:") and rows[1]["cluster_id"] == "2"
    _as(monkeypatch, "not-the-password")
    code, _, err = run(capsys, "dedup-file", str(source), "--out", str(tmp_path / "x.csv"), "--db", db)
    assert code == 2 and "غير صحيحة" in err and not (tmp_path / "x.csv").exists()


def test_commands_started_together_wait_their_turn(tmp_path, capsys, monkeypatch):
    db = _office(tmp_path, capsys, monkeypatch)
    env = {**os.environ, "AIDOFFICE_PASSWORD": ADMIN_PW, "AIDOFFICE_BUSY_TIMEOUT_MS": "60000"}
    names = ["سالم عوض باوزير", "خالد سعيد الجابري", "عمر صالح بامطرف", "هدى عبدالله باحميش"]
    started = [
        subprocess.Popen(
            [sys.executable, "-m", "aidoffice.cli", "person", "add", "--name", name, "--db", db, "--user", "admin"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
        )
        for name in names
    ]
    results = [(p.wait(timeout=300), p.stderr.read()) for p in started]
    for p in started:
        p.stdout.close()
        p.stderr.close()
    assert [code for code, _ in results] == [0] * len(names), [err for _, err in results]
    assert _rows(db, "SELECT count(*) FROM persons")[0][0] == 1 + len(names)


def test_a_command_waits_for_a_writer_then_says_so_in_arabic(tmp_path, capsys, monkeypatch):
    db = _office(tmp_path, capsys, monkeypatch, encrypt=False)
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")  # another program in the middle of writing
    try:
        code, _, err = run(capsys, "stats", "--db", db, "--user", "admin")  # the tests' busy timeout: 0.3 s
    finally:
        holder.execute("ROLLBACK")
    assert code == 2 and "مشغولة" in err and "انتظار" in err and "Traceback" not in err
    monkeypatch.setenv("AIDOFFICE_BUSY_TIMEOUT_MS", "60000")
    holder.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.5, lambda: holder.execute("COMMIT"))
    release.start()  # the writer finishes while the command waits: it goes on
    try:
        code, _, err = run(capsys, "stats", "--db", db, "--user", "admin")
    finally:
        release.join()
        holder.close()
    assert code == 0, err


def _many_login_states(db: str, prefix: str, n: int) -> None:
    for i in range(n):
        keyring.set_login_state(Path(db), f"{prefix}{i}", {"count": 1, "pending": []})


def test_two_writers_on_the_keyring_lose_nothing(tmp_path):
    """Two commands writing the .keys file at once (failed logins, the audit head): each change survives."""
    import multiprocessing

    db = tmp_path / "office.sqlite3"
    keyring.write(db, {"version": 1, "users": {}})
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_many_login_states, args=(str(db), p, 40)) for p in ("a", "b")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert [w.exitcode for w in workers] == [0, 0]
    assert len(keyring.login_states(db)) == 80


def _wrong_passwords(db: str, n: int) -> None:
    from aidoffice.services.encryption import unlock

    for _ in range(n):
        with contextlib.suppress(UserError):
            unlock(Path(db), "admin", "not-the-password")


def test_wrong_passwords_typed_at_once_are_all_counted(tmp_path, capsys, monkeypatch):
    """Two processes trying passwords at once: each failure counts (the count was read before Argon2 and written
    after it, so parallel tries overwrote each other's and slipped the lock-out)."""
    import multiprocessing

    db = _office(tmp_path, capsys, monkeypatch)
    spawn = multiprocessing.get_context("spawn")
    workers = [spawn.Process(target=_wrong_passwords, args=(db, 2)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(180)
    assert [w.exitcode for w in workers] == [0, 0]
    state = keyring.login_state(Path(db), "admin")
    assert state["count"] == 4 and len(state["pending"]) == 4
