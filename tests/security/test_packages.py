"""Attacks on headquarters through sync packages and enrolment (issue 15, items 1-5): a hostile enrolled office signs
packages with its own real key, a clock slips, a package unfolds to gigabytes, an identity is enrolled unchecked, a
named pipe stands where a package should be. Each goes through the command line or the services, as a real one."""

from __future__ import annotations

import json
import os
import threading
import time
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from aidoffice.cli import main
from aidoffice.domain.persons import PersonInput
from aidoffice.errors import UserError
from aidoffice.formats import package as pkg
from aidoffice.formats.package import PackageError
from aidoffice.services import persons, sync
from aidoffice.services.context import ServiceContext
from tests.helpers.databases import address, raw_connect
from tests.helpers.sync import forge_package, installation, introduce, now_stamp, office_id_of

THREE_YEARS_MS = 3 * 365 * 86_400_000


def cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _plain(value):
    """A value as SQLite's driver gives it: a server's typed dates, times, numbers and JSON as their text."""
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (datetime, date)):
        return str(value)
    if isinstance(value, Decimal):
        return float(value)
    return value


def rows(where, sql: str, *args) -> list[tuple]:
    """Rows read with a connection of its own from an installation's database (a file, or headquarters' server)."""
    with raw_connect(where) as conn:
        return [tuple(_plain(v) for v in row) for row in conn.rows(sql, args)]


def columns(where, table: str) -> list[str]:
    with raw_connect(where) as conn:
        return conn.columns(table)


def persons_of(where, office: str) -> list[tuple]:
    return sorted(
        rows(where, "SELECT id, office_id, full_name, national_id, version FROM persons WHERE office_id = ?", office)
    )


def refusals(where, reason: str) -> list[dict]:
    found = rows(where, "SELECT after FROM audit_log WHERE action = 'sync-refused'")
    return [d for d in (json.loads(r[0]) for r in found) if d.get("reason") == reason]


def add(ctx: ServiceContext, name: str, national_id: str):
    return persons.add_person(ctx, PersonInput(full_name=name, national_id=national_id))


@pytest.fixture
def offices(tmp_path, hq_where):
    """Headquarters with two enrolled offices; B's five persons are already at headquarters."""
    hq = installation(hq_where(), "HQ", hq=True)
    a = installation(tmp_path / "a.sqlite3", "A-01")
    b = installation(tmp_path / "b.sqlite3", "B-01")
    introduce(hq, a, tmp_path)
    introduce(hq, b, tmp_path)
    b_people = [add(b, f"مستفيد المكتب الثاني رقم {i}", "3" + f"{i:02d}" * 5) for i in range(5)]
    sync.import_package(hq, sync.export_package(b, tmp_path / "usb").path)
    yield hq, a, b, b_people
    for ctx in (hq, a, b):
        ctx.close()


# --- 1. an enrolled office rewrites or removes another office's records ----------------------------------------


def test_an_office_that_passes_off_anothers_persons_as_its_own_is_refused_whole(offices, tmp_path, capsys):
    hq, a, b, b_people = offices
    a_id, b_id = office_id_of(a), office_id_of(b)
    before = persons_of(hq, b_id)
    stamp = now_stamp() + 1000
    records = [
        {
            "t": "persons",
            "id": p.id,
            "row": {**row_of(hq, p.id), "office_id": a_id, "full_name": "اسم مزوّر"},
            "s": [stamp, a_id, 0],
        }
        for p in b_people
    ]
    mine = add(a, "شخص يملكه المكتب الأول", "40404040404")  # a record A may send: refused with the rest
    records.append({"t": "persons", "id": mine.id, "row": row_of(a, mine.id), "s": [stamp, a_id, 0]})
    path = forge_package(a, hq, tmp_path / "forged", records, sequence=1)
    code, _, err = cli(capsys, "import-package", str(path), "--db", address(hq))
    assert code == 2 and "يملكه مكتب آخر" in err and "لم يُطبَّق منها شيء" in err
    assert persons_of(hq, b_id) == before  # B's rows unchanged, still B's
    assert persons_of(hq, a_id) == []  # nothing of the package applied
    assert rows(hq, "SELECT count(*) FROM sync_packages WHERE direction = 'in' AND sender_id = ?", a_id) == [(0,)]
    queued = sync.conflicts(hq)
    assert sorted(c.entity_id for c in queued) == sorted(p.id for p in b_people)
    assert {(c.field, c.kept_value, c.lost_office) for c in queued} == {("office_id", "B-01", "A-01")}
    assert refusals(hq, "ownership")[0]["records"] == 5
    # the same package again: refused again, the queue not doubled
    assert cli(capsys, "import-package", str(path), "--db", address(hq))[0] == 2
    assert len(sync.conflicts(hq)) == 5


def test_an_office_that_deletes_anothers_persons_is_refused_and_deletes_nothing(offices, tmp_path, capsys):
    hq, a, b, b_people = offices
    a_id, b_id = office_id_of(a), office_id_of(b)
    before = persons_of(hq, b_id)
    tombstones = [{"t": "persons", "id": p.id, "row": None, "s": [now_stamp() + 1000, a_id, 0]} for p in b_people]
    # a removal stamped as if B wrote it is no better
    tombstones[0]["s"][1] = b_id
    path = forge_package(a, hq, tmp_path / "forged", tombstones, sequence=1)
    code, _, err = cli(capsys, "import-package", str(path), "--db", address(hq))
    assert code == 2 and "يملكه مكتب آخر" in err
    assert persons_of(hq, b_id) == before and len(before) == 5
    assert {c.field for c in sync.conflicts(hq)} == {"deleted"}
    assert rows(hq, "SELECT count(*) FROM sync_stamps WHERE entity = 'persons' AND deleted = 1") == [(0,)]
    # B's own next package still goes in: nothing of A's attempt stands in its way
    persons.update_person(b, b_people[0].id, PersonInput(full_name="اسم صححه مكتبه", national_id="30000000000"))
    assert sync.import_package(hq, sync.export_package(b, tmp_path / "usb").path).status == "applied"
    assert persons.get_person(hq, b_people[0].id).full_name == "اسم صححه مكتبه"


def row_of(ctx: ServiceContext, person_id: str) -> dict:
    """A person's row as a package carries it (plain values), read from the installation's own database."""
    found = rows(ctx, "SELECT * FROM persons WHERE id = ?", person_id)[0]
    names = columns(ctx, "persons")
    plain = {k: v for k, v in zip(names, found, strict=True) if k not in ("version", "search_rowid")}
    plain.update(district_id=None, categories=[])
    return plain


# --- 2. a clock slip blocks an office for good ---------------------------------------------------------------


def test_an_office_whose_clock_slipped_is_let_back_in_by_restamping(tmp_path, capsys, monkeypatch, hq_where):
    hq = installation(hq_where(), "HQ", hq=True)
    a = installation(tmp_path / "a.sqlite3", "A-01")
    introduce(hq, a, tmp_path)
    person = add(a, "سالم عوض بن طالب", "50505050505")
    sync.import_package(hq, sync.export_package(a, tmp_path / "usb").path)
    sync.import_package(a, sync.export_package(hq, tmp_path / "r", to_office="A-01").path)  # the acknowledgement

    real = time.time
    with monkeypatch.context() as slipped:  # the PC's clock runs three years ahead while a clerk edits
        slipped.setattr(time, "time", lambda: real() + THREE_YEARS_MS / 1000)
        persons.update_person(a, person.id, PersonInput(full_name="سالم عوض بن طالب", national_id="50505050506"))
    # the clock is set right again; every later edit still carries a stamp after the slipped one
    other = add(a, "فاطمة سعيد", "51515151515")
    office_db, hq_db = address(a), address(hq)
    for full in ([], ["--full"]):
        code, out, _ = cli(capsys, "export-package", "--to", str(tmp_path / "usb"), "--db", office_db, *full)
        assert code == 0
        package = out.split()[1]
        code, _, err = cli(capsys, "import-package", package, "--db", hq_db)
        assert code == 2 and "ساعة الجهاز المرسل متقدمة" in err and "--restamp" in err
    assert persons.get_person(hq, person.id).national_id == "50505050505"

    code, out, _ = cli(capsys, "export-package", "--to", str(tmp_path / "usb"), "--db", office_db, "--restamp")
    assert code == 0 and "أُعيد ختم" in out and "سجل التدقيق" in out
    restamped = [json.loads(r[0]) for r in rows(a, "SELECT after FROM audit_log WHERE action = 'sync-restamp'")]
    assert len(restamped) == 1 and restamped[0]["records"] >= 2
    assert restamped[0]["ahead_until"][:4] == str(time.gmtime(real() + THREE_YEARS_MS / 1000).tm_year)
    package = out.strip().splitlines()[-1].split()[1]
    code, out, _ = cli(capsys, "import-package", package, "--db", hq_db)
    assert code == 0, out
    assert persons.get_person(hq, person.id).national_id == "50505050506"
    assert persons.get_person(hq, other.id).full_name == "فاطمة سعيد"
    # headquarters' guarantee holds: nothing it now holds is stamped in the future
    newest = rows(hq, "SELECT max(hlc) FROM sync_stamps")[0][0]
    assert newest >> 16 <= int(real() * 1000) + 60_000
    # and the office is no longer blocked: an ordinary edit later goes in as usual
    persons.update_person(a, other.id, PersonInput(full_name="فاطمة سعيد علي", national_id="51515151515"))
    assert sync.import_package(hq, sync.export_package(a, tmp_path / "usb").path).status == "applied"
    assert persons.get_person(hq, other.id).full_name == "فاطمة سعيد علي"
    hq.close()
    a.close()


def test_restamping_needs_a_time_from_headquarters(tmp_path, hq_where):
    hq = installation(hq_where(), "HQ", hq=True)
    a = installation(tmp_path / "a.sqlite3", "A-01")
    introduce(hq, a, tmp_path)
    with pytest.raises(UserError, match="لا يوجد رد من الديوان"):
        sync.restamp(a)
    with pytest.raises(UserError, match="للمكتب"):
        sync.restamp(hq)
    hq.close()
    a.close()


# --- 3. a small package that unfolds to gigabytes -------------------------------------------------------------


def test_a_package_with_one_oversized_record_is_refused(offices, tmp_path, capsys):
    hq, a, _b, _people = offices
    a_id = office_id_of(a)
    huge = {
        "t": "persons",
        "id": "x" * 36,
        "row": {"office_id": a_id, "notes": "ا" * pkg.MAX_RECORD},
        "s": [now_stamp(), a_id, 0],
    }
    path = forge_package(a, hq, tmp_path / "forged", [huge], sequence=1)
    assert path.stat().st_size < 64 * 1024  # a few kilobytes on the stick
    code, _, err = cli(capsys, "import-package", str(path), "--db", address(hq))
    assert code == 2 and "سجل أكبر من الحد" in err
    assert persons_of(hq, a_id) == [] and refusals(hq, "content")


def test_a_compression_bomb_is_refused_before_it_unfolds(offices, tmp_path, capsys):
    hq, a, _b, _people = offices
    # 300 MB of records that squeeze into a few hundred kilobytes: all of them inside the first 1 MiB chunk
    bomb = ({"t": "padding", "n": i, "fill": "0" * 100_000} for i in range(3000))
    path = forge_package(a, hq, tmp_path / "forged", bomb, sequence=1)
    assert path.stat().st_size < 2 * 1024 * 1024
    code, _, err = cli(capsys, "import-package", str(path), "--db", address(hq))
    assert code == 2 and "بعد فك ضغطه أكبر من الحد" in err
    assert sync.history(hq)[0].direction == "in" and len(sync.history(hq)) == 1  # only B's earlier package


def test_the_whole_payload_is_bounded_too(offices, tmp_path, capsys, monkeypatch):
    hq, a, _b, _people = offices
    # random text does not compress: three chunks, each within its own limit, 4.3 MB in all
    records = ({"t": "padding", "fill": os.urandom(700).hex()} for _ in range(3000))
    path = forge_package(a, hq, tmp_path / "forged", records, sequence=1)
    monkeypatch.setattr(pkg, "MAX_PAYLOAD", 3 << 20)
    code, _, err = cli(capsys, "import-package", str(path), "--db", address(hq))
    assert code == 2 and "بعد فك ضغطه أكبر من الحد" in err
    monkeypatch.setattr(pkg, "MAX_PAYLOAD", 8 << 20)  # under the limit the same package is read to its end
    assert cli(capsys, "import-package", str(path), "--db", address(hq))[0] == 0


# --- 4. enrolment without a fingerprint, a second office under one code, a revoked office back -----------------


def test_enrolment_without_the_fingerprint_is_refused(tmp_path, capsys, hq_where):
    hq = installation(hq_where(), "HQ", hq=True)
    a = installation(tmp_path / "a.sqlite3", "A-01")
    identity, _ = sync.export_identity(a, tmp_path / "ids")
    code, _, err = cli(capsys, "keys", "enrol", str(identity), "--db", address(hq))
    assert code == 2 and "البصمة مطلوبة" in err
    assert sync.peers(hq) == []
    hq.close()
    a.close()


def test_a_second_office_under_an_enrolled_code_is_refused(tmp_path, capsys, hq_where):
    hq = installation(hq_where(), "HQ", hq=True)
    a = installation(tmp_path / "a.sqlite3", "A-01")
    introduce(hq, a, tmp_path)
    impostor = installation(tmp_path / "impostor.sqlite3", "A-01")  # another installation, the same code
    identity, fingerprint = sync.export_identity(impostor, tmp_path / "ids-impostor")
    code, _, err = cli(capsys, "keys", "enrol", str(identity), "--db", address(hq), "--fingerprint", fingerprint)
    assert code == 2 and "مسجّل لجهة أخرى" in err
    assert [(p.office_id, p.status) for p in sync.peers(hq)] == [(office_id_of(a), "active")]
    for ctx in (hq, a, impostor):
        ctx.close()


def test_a_revoked_office_comes_back_only_by_a_confirmed_reenrolment(tmp_path, capsys, hq_where):
    hq = installation(hq_where(), "HQ", hq=True)
    a = installation(tmp_path / "a.sqlite3", "A-01")
    introduce(hq, a, tmp_path)
    hq_db = address(hq)
    old_identity, old_fp = sync.export_identity(a, tmp_path / "ids-old")
    assert cli(capsys, "keys", "revoke", "A-01", "--db", hq_db)[0] == 0
    new_fp = sync.rotate_keys(a)  # a new key, endorsed by the revoked one: not enough
    identity, _ = sync.export_identity(a, tmp_path / "ids-new")
    code, _, err = cli(capsys, "keys", "enrol", str(identity), "--db", hq_db, "--fingerprint", new_fp)
    assert code == 2 and "ملغاة" in err and "--reenrol" in err
    assert {p.status for p in sync.peers(hq)} == {"revoked"}
    add(a, "بعد الإلغاء", "60606060606")
    package = sync.export_package(a, tmp_path / "usb").path
    with pytest.raises(PackageError, match="ملغى"):
        sync.import_package(hq, package)
    # the revoked key itself never comes back, even on purpose
    code, _, err = cli(capsys, "keys", "enrol", str(old_identity), "--db", hq_db, "--fingerprint", old_fp, "--reenrol")
    assert code == 2 and "أُلغي" in err
    # the administrator's explicit re-enrolment, after the phone call: taken and audited
    code, _, _ = cli(capsys, "keys", "enrol", str(identity), "--db", hq_db, "--fingerprint", new_fp, "--reenrol")
    assert code == 0
    assert sorted(p.status for p in sync.peers(hq)) == ["active", "revoked"]
    audited = rows(hq, "SELECT after FROM audit_log WHERE action = 'sync-reenrol'")
    assert len(audited) == 1 and json.loads(audited[0][0])["office_code"] == "A-01"
    assert sync.import_package(hq, package).status == "applied"
    hq.close()
    a.close()


# --- 5. a named pipe where a package should be ---------------------------------------------------------------


def _run_guarded(capsys, pipe: Path, *argv: str) -> tuple[int, str, str]:
    """Run the command in a thread; if it blocks on the pipe, a writer opens and closes it so the test still ends."""
    result: dict = {}
    worker = threading.Thread(target=lambda: result.update(code=main(list(argv))), daemon=True)
    worker.start()
    worker.join(timeout=60)
    if worker.is_alive():
        os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
        worker.join(timeout=10)
        pytest.fail(f"{argv[0]} blocked on a named pipe")
    out, err = capsys.readouterr()
    return result["code"], out, err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_a_named_pipe_is_refused_as_a_package_and_as_an_identity(tmp_path, capsys, hq_where):
    hq = installation(hq_where(), "HQ", hq=True)
    hq_db = address(hq)
    package, identity = tmp_path / "A-01-e0-000001.aidpkg", tmp_path / "A-01.aidid"
    os.mkfifo(package)
    os.mkfifo(identity)
    code, _, err = _run_guarded(capsys, package, "import-package", str(package), "--db", hq_db)
    assert code == 2 and "ليس ملفاً عادياً" in err
    fingerprint = "00000 00000 00000 00000 00000"
    code, _, err = _run_guarded(
        capsys, identity, "keys", "enrol", str(identity), "--db", hq_db, "--fingerprint", fingerprint
    )
    assert code == 2 and "ليس ملفاً عادياً" in err
    with pytest.raises(UserError, match="ليس ملفاً عادياً"):
        pkg.read_manifest(package)  # the format's own reader refuses it too
    assert sync.history(hq) == [] and sync.peers(hq) == []
    hq.close()
