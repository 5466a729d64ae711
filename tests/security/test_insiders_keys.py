"""Insiders (issue 15, items 6 and 7): a clerk who holds the database key edits the file with sqlite3 — their own
role, another user's password, an audit row with every hash recomputed, the end of the chain cut off — and the
command line refuses or reports it, on an encrypted office and on a plain one."""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from aidoffice.formats import keyring
from aidoffice.store.audit import GENESIS, entry_hash
from aidoffice.store.engine import raw_connect
from tests.test_cli import run

PASSWORDS = {"admin": "كلمة-سر-المدير", "clerk1": "كلمة-سر-الموظف"}
PERSON = "زكريا منصور سالم القعيطي"


class Office:
    """An office made with the command line, and what its clerk can do to the file with the key their password
    opens."""

    def __init__(self, db, encrypted, capsys, monkeypatch):
        self.db, self.encrypted, self.capsys, self.monkeypatch = db, encrypted, capsys, monkeypatch

    def cli(self, user, *argv, new_password=None):
        self.monkeypatch.setenv("AIDOFFICE_PASSWORD", PASSWORDS.get(user, "not-a-password"))
        if new_password is not None:
            self.monkeypatch.setenv("AIDOFFICE_NEW_PASSWORD", new_password)
        return run(self.capsys, *argv, "--db", str(self.db), "--user", user)

    def clerk_key(self):
        """The database key, unwrapped from the keyring with the clerk's own password (None: a plain file)."""
        return keyring.unlock(self.db, "clerk1", PASSWORDS["clerk1"]) if self.encrypted else None

    def sql(self, *statements):
        conn = raw_connect(self.db, self.clerk_key())
        try:
            for statement in statements:
                conn.execute(*statement) if isinstance(statement, tuple) else conn.execute(statement)
            conn.commit()
        finally:
            conn.close()

    def rows(self, query, *args):
        conn = raw_connect(self.db, self.clerk_key())
        try:
            return conn.execute(query, args).fetchall()
        finally:
            conn.close()

    def edit_audit(self, action):
        """Drop the append-only triggers, do `action(conn)`, then recompute every hash with the program's own
        algorithm and move the stored head to the new end: the chain alone holds again."""
        conn = raw_connect(self.db, self.clerk_key())
        try:
            conn.execute("DROP TRIGGER audit_log_no_update")
            conn.execute("DROP TRIGGER audit_log_no_delete")
            action(conn)
            prev = GENESIS
            query = "SELECT seq, at, username, action, entity, entity_id, before, after FROM audit_log ORDER BY seq"
            for seq, at, username, act, entity, entity_id, before, after in conn.execute(query).fetchall():
                entry = {
                    "at": datetime.fromisoformat(at).isoformat(),
                    "username": username,
                    "action": act,
                    "entity": entity,
                    "entity_id": entity_id,
                    "before": json.loads(before) if before is not None else None,
                    "after": json.loads(after) if after is not None else None,
                }
                digest = entry_hash(prev, entry)
                conn.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, seq))
                prev = digest
            conn.execute("UPDATE settings SET value = ? WHERE key = 'audit.head'", (json.dumps(prev),))
            conn.commit()
        finally:
            conn.close()


@pytest.fixture(params=["encrypted", "plain"])
def office(request, tmp_path, capsys, monkeypatch):
    """Administrator and clerk, a person the clerk entered, and an administrator's `audit verify` (which anchors)."""
    db = tmp_path / "office.sqlite3"
    encrypted = request.param == "encrypted"
    monkeypatch.setenv("AIDOFFICE_NEW_PASSWORD", PASSWORDS["admin"])
    init = ["init", "--db", str(db), "--admin", "admin", "--office-code", "ABY-01", "--governorate", "أبين"]
    assert run(capsys, *init, *([] if encrypted else ["--no-encrypt"]))[0] == 0
    here = Office(db, encrypted, capsys, monkeypatch)
    assert keyring.exists(db) == encrypted
    code, _, err = here.cli("admin", "user", "add", "clerk1", "--role", "clerk", new_password=PASSWORDS["clerk1"])
    assert code == 0, err
    code, _, err = here.cli("clerk1", "person", "add", "--name", PERSON, "--national-id", "01015551234")
    assert code == 0, err
    code, out, err = here.cli("admin", "audit", "verify")
    assert code == 0 and "سليمة" in out, err
    return here


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_a_clerk_who_raises_their_own_role_with_sqlite_is_refused(office, role, tmp_path):
    office.sql(("UPDATE users SET role = ? WHERE username = 'clerk1'", (role,)))
    code, _, err = office.cli("clerk1", "user", "add", "mallory", "--role", "admin", new_password="كلمة-سر-دخيلة")
    assert code == 2 and "توقيع مدير النظام" in err
    out_file = tmp_path / "persons.xlsx"
    code, _, err = office.cli("clerk1", "export", "persons", "--out", str(out_file))
    assert code == 2 and "توقيع مدير النظام" in err and not out_file.exists()
    assert office.rows("SELECT count(*) FROM users WHERE username = 'mallory'") == [(0,)]
    refused = office.rows("SELECT after FROM audit_log WHERE action = 'login_refused'")
    assert [json.loads(r[0]) for r in refused] == [{"reason": "seal"}] * 2
    code, out, err = office.cli("admin", "user", "list")  # the administrator still works and sees the stored row
    assert code == 0 and {"username": "clerk1", "role": role, "active": True} in json.loads(out), err


def test_a_clerk_who_takes_the_administrators_name_with_their_own_password_is_refused(office):
    """The clerk copies their own password hash onto the administrator's row (and, on an encrypted file, wraps the
    database key under the administrator's name with their own password): still no administrator's key."""
    office.sql(
        "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = 'clerk1') "
        "WHERE username = 'admin'"
    )
    if office.encrypted:
        keyring.set_user(office.db, "admin", PASSWORDS["clerk1"], office.clerk_key())
    office.monkeypatch.setitem(PASSWORDS, "admin", PASSWORDS["clerk1"])
    code, _, err = office.cli("admin", "user", "add", "mallory", "--role", "admin", new_password="كلمة-سر-دخيلة")
    assert code == 2 and "مدير النظام" in err and "رُفض الدخول" in err
    assert office.rows("SELECT count(*) FROM users WHERE username = 'mallory'") == [(0,)]


def test_an_audit_row_edited_and_every_hash_recomputed_is_caught(office):
    def frame_the_administrator(conn):
        conn.execute("UPDATE audit_log SET username = 'admin' WHERE action = 'create' AND entity = 'persons'")

    office.edit_audit(frame_the_administrator)
    for user in ("admin", "clerk1"):
        code, _, err = office.cli(user, "audit", "verify")
        assert code == 2 and "ختمها مدير النظام" in err and "أُعيد حساب بصماتها" in err


@pytest.mark.parametrize("cut", [1, 3])
def test_the_cut_end_of_the_audit_chain_is_caught_from_the_command_line(office, cut):
    last = office.rows("SELECT max(seq) FROM audit_log")[0][0]

    def cut_the_tail(conn):
        conn.execute("DELETE FROM audit_log WHERE seq > ?", (last - cut,))

    if office.encrypted:  # and the head in the database moved with it: only the keyring's copy tells
        office.edit_audit(cut_the_tail)
    else:  # a plain file has no keyring: the stored head tells, read before the command's own login moves it
        office.sql("DROP TRIGGER audit_log_no_delete", ("DELETE FROM audit_log WHERE seq > ?", (last - cut,)))
    code, _, err = office.cli("admin", "audit", "verify")
    assert code == 2 and "حُذفت أحدث القيود" in err
    assert office.cli("clerk1", "stats")[0] == 0  # more entries appended after the cut do not paper over it
    code, _, err = office.cli("clerk1", "audit", "verify")
    assert code == 2 and "حُذفت أحدث القيود" in err


# --- passwords (issue 16, item 10): a user changes their own; an administrator's reset makes them choose one ----------


def test_a_clerk_changes_their_own_password_without_an_administrator(office):
    new = "كلمة-سر-جديدة-للموظف"
    code, out, err = office.cli("clerk1", "password", new_password=new)
    assert code == 0 and "تغيّرت" in out, err
    code, _, err = office.cli("clerk1", "stats")
    assert code == 2  # the old password no longer opens anything
    office.monkeypatch.setitem(PASSWORDS, "clerk1", new)
    code, _, err = office.cli("clerk1", "stats")
    assert code == 0, err
    assert office.rows("SELECT count(*) FROM audit_log WHERE action = 'password_changed'") == [(1,)]


def test_an_administrators_reset_makes_the_user_choose_a_new_password(office):
    temporary = "مؤقتة-من-المدير"
    code, _, err = office.cli("admin", "user", "reset", "clerk1", new_password=temporary)
    assert code == 0, err
    office.monkeypatch.setitem(PASSWORDS, "clerk1", temporary)
    code, _, err = office.cli("clerk1", "stats")
    assert code == 2 and "مؤقتة" in err and "aidoffice-cli password" in err
    code, _, err = office.cli("clerk1", "password", new_password=temporary)
    assert code == 2 and "غير الحالية" in err
    code, _, err = office.cli("clerk1", "password", new_password="اختيار-الموظف-نفسه")
    assert code == 0, err
    office.monkeypatch.setitem(PASSWORDS, "clerk1", "اختيار-الموظف-نفسه")
    assert office.cli("clerk1", "stats")[0] == 0


def test_a_clerk_who_puts_their_own_password_on_a_supervisor_is_refused(office):
    """With own keys the administrators' seal no longer covers the hash: the supervisor's own signature does."""
    code, _, err = office.cli("admin", "user", "add", "super1", "--role", "supervisor", new_password="كلمة-سر-المشرف")
    assert code == 0, err
    office.sql(
        "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE username = 'clerk1') "
        "WHERE username = 'super1'"
    )
    if office.encrypted:
        keyring.set_user(office.db, "super1", PASSWORDS["clerk1"], office.clerk_key())
    office.monkeypatch.setitem(PASSWORDS, "super1", PASSWORDS["clerk1"])
    code, _, err = office.cli("super1", "stats")
    assert code == 2 and "توقيع مدير النظام" in err
