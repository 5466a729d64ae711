"""Insiders, second round (review of issue 15): a clerk's own administrators' key written over the office's, a
dropped append-only trigger, plain backups in a folder used with `backup --to`, the registry read out through `list`
and `search`, and the messages (SQLCipher's English lines, a name missing from the keyring, who to ask, a huge clock
gap)."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from aidoffice.formats import keyring
from aidoffice.services import backups
from aidoffice.store.backup import is_plain
from aidoffice.store.engine import raw_connect
from tests.security.test_insiders_keys import PASSWORDS, office  # noqa: F401 - the office fixture
from tests.security.test_insiders_restore import ADMIN_PW, CLERK_PW, _as, _office
from tests.test_cli import run

REPLACED = "استُبدل مفتاح مديري النظام"


def _take_over(office, *, lineage=None):  # noqa: F811 - the fixture's name
    """The reviewer's takeover.py: the clerk makes an administrators' key of their own, writes it into the database
    (wrapped for themselves only) and pins it in the keyring, raises their own role and re-seals every user row with
    it, the way the program seals them. Returns the new public key (hex)."""
    new = Ed25519PrivateKey.generate()
    public = new.public_key().public_bytes_raw().hex()
    conn = raw_connect(office.db, office.clerk_key())
    try:
        me = conn.execute("SELECT id FROM users WHERE username = 'clerk1'").fetchone()[0]
        conn.execute("UPDATE users SET role = 'admin' WHERE id = ?", (me,))
        wrap = keyring.wrap(new.private_bytes_raw(), PASSWORDS["clerk1"], b"aidoffice administrators key v1")
        record = {"public": public, "wraps": {me: wrap}, **({"lineage": lineage} if lineage else {})}
        conn.execute("UPDATE settings SET value = ? WHERE key = 'security.admin_key'", (json.dumps(record),))
        own = json.loads(conn.execute("SELECT value FROM settings WHERE key = 'security.own_keys'").fetchone()[0])
        for uid, name, role, active, digest in conn.execute(
            "SELECT id, username, role, active, password_hash FROM users"
        ).fetchall():
            fields = {"id": uid, "username": name, "role": role, "active": bool(active)}
            mine = own.get(uid)
            if mine and mine.get("public"):
                message = (
                    b"aidoffice user v2\n" + json.dumps({**fields, "own": mine["public"]}, sort_keys=True).encode()
                )
            else:
                fields["password_hash"] = digest
                message = b"aidoffice user v1\n" + json.dumps(fields, sort_keys=True, ensure_ascii=False).encode()
            conn.execute("UPDATE users SET seal = ? WHERE id = ?", (new.sign(message).hex(), uid))
        conn.commit()
    finally:
        conn.close()
    if office.encrypted:
        keyring.set_trust(office.db, admin_public=public)
    return public


def test_a_clerk_who_writes_their_own_administrators_key_everywhere_is_refused(office, tmp_path):  # noqa: F811
    _take_over(office)
    code, _, err = office.cli("clerk1", "user", "add", "evil", "--role", "admin", new_password="كلمة-سر-دخيلة")
    assert code == 2 and REPLACED in err and "clerk1" in err
    out_file = tmp_path / "persons.xlsx"
    code, _, err = office.cli("clerk1", "export", "persons", "--out", str(out_file))
    assert code == 2 and REPLACED in err and not out_file.exists()
    assert office.rows("SELECT count(*) FROM users WHERE username = 'evil'") == [(0,)]
    # the real administrator is told the truth, not that their password does not open the key
    code, _, err = office.cli("admin", "user", "list")
    assert code == 2 and REPLACED in err and "لا تفتح كلمة المرور" not in err
    assert "لا يفتح المفتاح الجديد إلا: clerk1" in err
    code, out, err = office.cli("admin", "audit", "verify")
    assert code == 2 and REPLACED in err and "clerk1" in err and "سليمة" not in out
    refused = [json.loads(r[0]) for r in office.rows("SELECT after FROM audit_log WHERE action = 'login_refused'")]
    assert {"reason": "replaced"} in refused


def test_a_clerk_who_claims_an_escrow_recovery_for_their_key_is_refused(office):  # noqa: F811
    old = office.rows("SELECT value FROM settings WHERE key = 'security.admin_key'")[0][0]
    secret = os.urandom(32)
    claim = {
        "public": json.loads(old)["public"],
        "by": "escrow",
        "recipient": "00" * 32,
        "hash": hashlib.sha256(secret).hexdigest(),
        "secret": secret.hex(),
        "sig": "00" * 64,
    }
    _take_over(office, lineage=[claim])
    code, _, err = office.cli("clerk1", "user", "add", "evil", "--role", "admin", new_password="كلمة-سر-دخيلة")
    assert code == 2 and REPLACED in err
    code, _, err = office.cli("admin", "stats")
    assert code == 2 and REPLACED in err


@pytest.mark.parametrize("office", ["encrypted"], indirect=True)
def test_a_clerk_who_also_wipes_every_trace_of_the_old_key_is_still_caught_at_the_administrators_login(office):  # noqa: F811
    """The thorough clerk: the keyring's pins and anchor rewritten, their own keyring wrap made again under the new
    key, every anchor removed from the chain and every hash recomputed. Only the administrator's own keyring wrap,
    sealed under a password the clerk does not know, still names the old key: that is enough to tell."""
    public = _take_over(office)
    key = office.clerk_key()
    keyring.set_user(office.db, "clerk1", PASSWORDS["clerk1"], key, bound={"admin_key": public})
    office.edit_audit(lambda conn: conn.execute("DELETE FROM audit_log WHERE action IN ('audit_anchor', 'admin_key')"))
    seq, digest = office.rows("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")[0]
    with keyring._update(office.db) as data:
        data["trust"] = {"admin_public": public, "admin_keys": [public], "audit_head": {"seq": seq, "hash": digest}}
    code, _, err = office.cli("admin", "stats")
    assert code == 2 and REPLACED in err and "clerk1" in err
    code, _, err = office.cli("admin", "audit", "verify")
    assert code == 2 and REPLACED in err


def test_a_dropped_append_only_trigger_is_reported_by_audit_verify(office):  # noqa: F811
    office.sql("DROP TRIGGER audit_log_no_delete", "DROP TRIGGER distributions_no_delete")
    code, out, err = office.cli("admin", "audit", "verify")
    assert code == 2 and "audit_log_no_delete" in err and "distributions_no_delete" in err, out
    # put back as a trigger that refuses nothing: still reported
    office.sql("CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT 1; END")
    code, _, err = office.cli("clerk1", "audit", "verify")
    assert code == 2 and "audit_log_no_delete" in err


def test_encrypt_finds_plain_backups_in_every_folder_used_with_backup_to(tmp_path, capsys, monkeypatch):
    db = _office(tmp_path, capsys, monkeypatch, encrypt=False)
    _as(monkeypatch, ADMIN_PW)
    for folder in ("usb1", "usb2"):
        assert run(capsys, "backup", "--to", str(tmp_path / folder), "--db", db, "--user", "admin")[0] == 0
    (first,) = [b.path for b in backups.list_backups(tmp_path / "usb1")]
    code, _, err = run(capsys, "encrypt", "--db", db, "--user", "admin")
    assert code == 0 and "2 نسخة احتياطية غير مشفرة" in err and "usb1" in err and "usb2" in err
    code, out, err = run(capsys, "encrypt", "--db", db, "--user", "admin", "--old-backups", "encrypt")
    assert code == 0 and "شُفّرت 2" in out, err
    assert not is_plain(first)


def test_a_clerk_cannot_read_the_whole_registry_through_list_search_or_backup(tmp_path, capsys, monkeypatch):
    db = _office(tmp_path, capsys, monkeypatch)
    _as(monkeypatch, CLERK_PW)
    for argv in (("list", "persons", "--limit", "100000", "--json"), ("search", "القعيطي", "--limit", "5000")):
        code, out, err = run(capsys, *argv, "--db", db, "--user", "clerk1")
        assert code == 2 and out == "" and "«التصدير»" in err and "200" in err
    code, out, err = run(capsys, "list", "persons", "--limit", "200", "--json", "--db", db, "--user", "clerk1")
    assert code == 0 and len(json.loads(out)) == 1, err
    code, _, err = run(capsys, "backup", "--to", str(tmp_path / "usb"), "--db", db, "--user", "clerk1")
    assert code == 2 and "«التصدير»" in err and not (tmp_path / "usb").exists()
    assert run(capsys, "backup", "--db", db, "--user", "clerk1")[0] == 0  # the office's own backup folder: as before
    _as(monkeypatch, ADMIN_PW)
    code, out, err = run(capsys, "list", "persons", "--limit", "100000", "--json", "--db", db, "--user", "admin")
    assert code == 0 and len(json.loads(out)) == 1, err


def test_a_wrong_key_or_damaged_file_prints_no_english_sqlcipher_lines(tmp_path, capfd, monkeypatch):
    """What reaches the terminal (file descriptor 2, where SQLCipher writes its own lines) is Arabic only."""
    db = _office(tmp_path, capfd, monkeypatch)
    stranger = _office(tmp_path, capfd, monkeypatch, name="stranger", code="HDR-02")
    _as(monkeypatch, ADMIN_PW)
    code, _, err = run(capfd, "restore", stranger, "--db", db, "--user", "admin")  # another key: cannot open it
    assert code == 2 and "sqlcipher" not in err.lower() and "ERROR CORE" not in err, err
    size = os.path.getsize(db)
    with open(db, "r+b") as fh:  # the office's file damaged after its first page
        fh.seek(4096)
        fh.write(os.urandom(size - 4096))
    code, _, err = run(capfd, "stats", "--db", db, "--user", "admin")
    assert code == 2 and "sqlcipher" not in err.lower() and "ERROR CORE" not in err, err


def test_a_damaged_office_with_a_name_not_in_its_keyring_says_so(tmp_path, capsys, monkeypatch):
    db = _office(tmp_path, capsys, monkeypatch)
    _as(monkeypatch, ADMIN_PW)
    assert run(capsys, "backup", "--to", str(tmp_path / "usb"), "--db", db, "--user", "admin")[0] == 0
    copy = str(backups.list_backups(tmp_path / "usb")[0].path)
    with open(db, "r+b") as fh:
        fh.seek(8192)
        fh.write(os.urandom(4096))
    code, _, err = run(capsys, "restore", copy, "--db", db, "--user", "clerk9")
    assert code == 2 and "غير صحيحة" not in err and keyring.path_for(db).name in err and "لا مفتاح" in err


@pytest.mark.parametrize("argv", [("restore", "backup.sqlite3"), ("encrypt",), ("user", "list")])
def test_a_clerks_refusal_for_an_administrators_action_names_the_administrator(tmp_path, capsys, monkeypatch, argv):
    db = _office(tmp_path, capsys, monkeypatch, encrypt=False)
    (tmp_path / "backup.sqlite3").write_bytes(b"")
    _as(monkeypatch, CLERK_PW)
    argv = [str(tmp_path / a) if a.endswith(".sqlite3") else a for a in argv]
    code, _, err = run(capsys, *argv, "--db", db, "--user", "clerk1")
    assert code == 2 and "مدير النظام" in err and "المشرف" not in err, err


def test_a_huge_clock_gap_is_said_in_words_not_in_seventeen_digits():
    from aidoffice.services.sync import _clock_refusal

    now_ms = 1_700_000_000_000
    text = _clock_refusal(10**30, now_ms)
    digits = "".join(c if c.isdigit() else " " for c in text).split()
    assert "أكثر من سنة" in text and max(map(len, digits), default=0) <= 4
    assert "الفارق بالأيام: 3)" in _clock_refusal((now_ms + 3 * 86_400_000) << 16, now_ms)
