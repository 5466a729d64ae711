"""Headquarters, second round (review of issue 15): a hostile enrolled office signs packages with its own real key to
put another office's person in a household, to claim or bury ids another office has not sent yet, to rename and
dissolve another office's association or flood the reference lists, or to send records of a broken shape; a clerk's
own administrators' key and a cut audit chain reach headquarters in the package; replies for two offices share a
folder; an escrow file that is a named pipe or an endless device."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from aidoffice.domain.sync import made_elsewhere
from aidoffice.formats import package as pkg
from aidoffice.services import associations, persons, sync, sync_audit, trust
from aidoffice.services.associations import AssociationInput
from aidoffice.services.audit import describe, verify_audit
from aidoffice.services.context import ServiceContext
from aidoffice.store.sync import MAX_NEW_REFERENCES
from tests.helpers.databases import address
from tests.helpers.sync import forge_package, installation, introduce, now_stamp, office_id_of
from tests.security.test_packages import _run_guarded, add, cli, columns, offices, refusals, row_of, rows

__all__ = ["offices"]  # the fixture, shared with the first round's attacks


def stamp_now() -> int:
    return now_stamp() + 1000


def import_cli(capsys, hq: ServiceContext, path: Path) -> tuple[int, str, str]:
    return cli(capsys, "import-package", str(path), "--db", address(hq))


def applied_from(hq: ServiceContext, office: str) -> int:
    found = rows(hq, "SELECT count(*) FROM sync_packages WHERE direction = 'in' AND sender_id = ?", office)
    return found[0][0]


# --- 1b. a row of one's own that hangs from another office's records --------------------------------------------


def test_a_member_put_into_another_offices_household_is_refused_and_that_office_still_syncs(offices, tmp_path, capsys):
    hq, a, b, b_people = offices
    a_id, b_id = office_id_of(a), office_id_of(b)
    household = persons.create_household(b, b_people[0].id, size=3, address="الحوطة")
    sync.import_package(hq, sync.export_package(b, tmp_path / "usb").path)
    now = "2026-01-01T10:00:00"
    member = {
        "id": "",
        "household_id": household.id,
        "person_id": b_people[1].id,
        "relation": "ابن",
        "office_id": a_id,
        "created_at": now,
        "updated_at": now,
        "changed_by": "admin",
    }
    member["id"] = ident = trust_free_id(a_id)
    record = {"t": "household_members", "id": ident, "row": member, "s": [stamp_now(), a_id, 0]}
    path = forge_package(a, hq, tmp_path / "forged", [record], sequence=1)
    code, _, err = import_cli(capsys, hq, path)
    assert code == 2 and "يملكه مكتب آخر" in err and "لم يُطبَّق منها شيء" in err
    assert rows(hq, "SELECT count(*) FROM household_members WHERE id = ?", ident) == [(0,)]
    assert [(c.field, c.kept_value) for c in sync.conflicts(hq)] == [("household_id", "B-01")]
    assert refusals(hq, "ownership")[0]["records"] == 1
    # B's own next package, with that person as the head of a household of B's, still goes in
    persons.create_household(b, b_people[1].id, size=2, address="الحوطة")
    assert sync.import_package(hq, sync.export_package(b, tmp_path / "usb").path).status == "applied"
    code, _, err = cli(capsys, "export-package", "--full", "--to", str(tmp_path / "usb2"), "--db", address(b))
    assert code == 0, err
    assert import_cli(capsys, hq, next((tmp_path / "usb2").iterdir()))[0] == 0
    members = rows(hq, "SELECT office_id FROM household_members WHERE person_id = ?", b_people[1].id)
    assert members == [(b_id,)]


def trust_free_id(office: str) -> str:
    """A fresh id made by `office` (as its own installation would make it)."""
    from aidoffice.store.base import new_id

    return new_id(office)


# --- 1c. ids another office made and has not sent yet -------------------------------------------------------------


def _unsent_person(b: ServiceContext) -> str:
    return add(b, "شخص سجله المكتب الثاني", "31313131313").id


def test_an_office_that_claims_another_offices_unsent_id_is_refused_and_the_owner_still_syncs(
    offices, tmp_path, capsys
):
    hq, a, b, _b_people = offices
    a_id, b_id = office_id_of(a), office_id_of(b)
    unsent = _unsent_person(b)  # its id can be read off the person's card
    assert made_elsewhere(unsent, a_id) and not made_elsewhere(unsent, b_id)
    squat = {**row_of(b, unsent), "office_id": a_id, "full_name": "شخص وهمي", "national_id": "09999999999"}
    path = forge_package(
        a,
        hq,
        tmp_path / "forged",
        [{"t": "persons", "id": unsent, "row": squat, "s": [stamp_now(), a_id, 0]}],
        sequence=1,
    )
    code, _, err = import_cli(capsys, hq, path)
    assert code == 2 and "يملكه مكتب آخر" in err
    assert rows(hq, "SELECT count(*) FROM persons WHERE id = ?", unsent) == [(0,)]
    assert [(c.field, c.kept_value, c.lost_office) for c in sync.conflicts(hq)] == [("office_id", "B-01", "A-01")]
    assert sync.import_package(hq, sync.export_package(b, tmp_path / "usb").path).status == "applied"
    assert rows(hq, "SELECT office_id FROM persons WHERE id = ?", unsent) == [(b_id,)]


def test_an_office_that_buries_another_offices_unsent_id_is_refused_and_the_owner_still_syncs(
    offices, tmp_path, capsys
):
    hq, a, b, _b_people = offices
    a_id, b_id = office_id_of(a), office_id_of(b)
    unsent = _unsent_person(b)
    path = forge_package(
        a,
        hq,
        tmp_path / "forged",
        [{"t": "persons", "id": unsent, "row": None, "s": [stamp_now(), a_id, 0]}],
        sequence=1,
    )
    code, _, err = import_cli(capsys, hq, path)
    assert code == 2 and "يملكه مكتب آخر" in err
    assert rows(hq, "SELECT count(*) FROM sync_stamps WHERE entity_id = ?", unsent) == [(0,)]
    assert sync.import_package(hq, sync.export_package(b, tmp_path / "usb").path).status == "applied"
    assert rows(hq, "SELECT office_id FROM persons WHERE id = ?", unsent) == [(b_id,)]


# --- 1d. another office's association, and the reference lists ---------------------------------------------------


def test_another_offices_rename_and_dissolution_of_an_association_wait_in_the_conflict_queue(offices, tmp_path, capsys):
    hq, a, b, _b_people = offices
    a_id = office_id_of(a)
    assoc = associations.register_association(
        b, AssociationInput(name="جمعية الخير للتنمية", registration_number="LH-77")
    )
    sync.import_package(hq, sync.export_package(b, tmp_path / "usb").path)
    found = rows(hq, "SELECT * FROM associations WHERE id = ?", assoc.id)[0]
    names = columns(hq, "associations")
    row = {k: v for k, v in zip(names, found, strict=True) if k != "version"}
    row.update(
        name="جمعية مزوّرة", name_norm="جمعيه مزوره", status="dissolved", district_id=None, fields=[], districts=[]
    )
    stamp = stamp_now()
    record = {"t": "associations", "id": assoc.id, "row": row, "fs": {f: [stamp, a_id, 0] for f in ("name", "status")}}
    code, _, err = import_cli(capsys, hq, forge_package(a, hq, tmp_path / "forged", [record], sequence=1))
    assert code == 0, err  # the package itself goes in: only the association's change waits
    at_hq = associations.get_association(hq, assoc.id)
    assert (at_hq.name, at_hq.status) == ("جمعية الخير للتنمية", "active")
    queued = sync.conflicts(hq)
    assert sorted((c.field, c.lost_office) for c in queued) == [("name", "A-01"), ("status", "A-01")]
    # nothing of it travels on to the owner's own database
    reply = sync.export_package(hq, tmp_path / "replies", to_office="B-01").path
    sync.import_package(b, reply)
    assert associations.get_association(b, assoc.id).name == "جمعية الخير للتنمية"
    # the same package's change sent again does not fill the queue twice
    record2 = dict(record, row=dict(row, phone="777"))
    assert import_cli(capsys, hq, forge_package(a, hq, tmp_path / "forged2", [record2], sequence=2))[0] == 0
    assert len(sync.conflicts(hq)) == 2
    # a person at headquarters may confirm it: then it is a change of headquarters', and travels on
    name_conflict = next(c for c in queued if c.field == "name")
    sync.resolve_conflict(hq, name_conflict.id, take_other=True)
    assert associations.get_association(hq, assoc.id).name == "جمعية مزوّرة"


def test_a_package_that_floods_the_reference_lists_is_refused(offices, tmp_path, capsys):
    hq, a, _b, _b_people = offices
    a_id = office_id_of(a)
    before = rows(hq, "SELECT count(*) FROM aid_types")
    now = "2026-01-01T10:00:00"
    floods = [
        {
            "t": "aid_types",
            "k": [f"FAKE-{i:04d}"],
            "row": {
                "code": f"FAKE-{i:04d}",
                "name": "نوع وهمي",
                "window": "none",
                "office_id": a_id,
                "created_at": now,
                "updated_at": now,
            },
            "s": [stamp_now(), a_id, 0],
        }
        for i in range(2000)
    ]
    floods.append(
        {
            "t": "governorates",
            "k": ["محافظة وهمية"],
            "row": {"name": "محافظة وهمية", "office_id": a_id, "created_at": now, "updated_at": now},
            "s": [stamp_now(), a_id, 0],
        }
    )
    code, _, err = import_cli(capsys, hq, forge_package(a, hq, tmp_path / "forged", floods, sequence=1))
    assert code == 2 and f"{MAX_NEW_REFERENCES:,}" in err and "لم يُطبَّق منها شيء" in err
    assert rows(hq, "SELECT count(*) FROM aid_types") == before
    assert rows(hq, "SELECT count(*) FROM governorates WHERE name = 'محافظة وهمية'") == [(0,)]
    assert refusals(hq, "references")
    assert applied_from(hq, a_id) == 0


# --- 1e. records of a broken shape ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape",
    ["row_is_a_list", "id_is_a_number", "stamp_is_text", "reference_row_missing_its_parent", "dangling_parent"],
)
def test_a_package_of_malformed_records_is_refused_in_arabic_and_audited(offices, tmp_path, capsys, shape):
    hq, a, _b, _b_people = offices
    a_id = office_id_of(a)
    ident, now = trust_free_id(a_id), "2026-01-01T10:00:00"
    s = [stamp_now(), a_id, 0]
    record = {
        "row_is_a_list": {"t": "persons", "id": ident, "row": [1, 2], "s": s},
        "id_is_a_number": {"t": "persons", "id": 5, "row": {"office_id": a_id, "id": 5}, "s": s},
        "stamp_is_text": {"t": "persons", "id": ident, "row": {"office_id": a_id, "id": ident}, "s": "x"},
        "reference_row_missing_its_parent": {"t": "districts", "k": ["x"], "row": {"name": 5}, "s": s},
        "dangling_parent": {
            "t": "household_members",
            "id": ident,
            "s": s,
            "row": {
                "id": ident,
                "household_id": trust_free_id(a_id),
                "person_id": trust_free_id(a_id),
                "relation": "ابن",
                "office_id": a_id,
                "created_at": now,
                "updated_at": now,
            },
        },
    }[shape]
    code, _, err = import_cli(capsys, hq, forge_package(a, hq, tmp_path / "forged", [record], sequence=1))
    assert code == 2, err
    assert "رُفضت كلها" in err and "غير متوقع" not in err
    assert refusals(hq, "content")
    assert applied_from(hq, a_id) == 0


# --- 6b/7b. what headquarters remembers of an office's administrators' key and audit chain --------------------------


@pytest.fixture
def pair(tmp_path, hq_where):
    """Headquarters and one office with an administrators' key, whose first package headquarters has applied."""
    hq = installation(hq_where(), "HQ", hq=True)
    a = installation(tmp_path / "a.sqlite3", "A-01")
    introduce(hq, a, tmp_path)
    with a.uow() as uow:
        trust.new_key(a, uow.repo)
        uow.commit()
    add(a, "مستفيد أول في المكتب", "41414141414")
    assert sync.import_package(hq, sync.export_package(a, tmp_path / "usb").path).status == "applied"
    yield hq, a
    hq.close()
    a.close()


def test_a_clerks_own_administrators_key_is_refused_at_headquarters(pair, tmp_path, capsys):
    hq, a = pair
    # the clerk's own key written over the office's (their own sqlite3, the database key their password opens)
    public = pkg.KeyPair.generate().sign_public.hex()  # any Ed25519 key of theirs
    conn = sqlite3.connect(a.db.path)
    conn.execute(
        "UPDATE settings SET value = ? WHERE key = ?", (json.dumps({"public": public, "wraps": {}}), trust.KEY_SETTING)
    )
    conn.commit()
    conn.close()
    add(a, "مستفيد ثان في المكتب", "42424242424")
    path = sync.export_package(a, tmp_path / "usb").path
    code, _, err = import_cli(capsys, hq, path)
    assert code == 2 and "مفتاح مديري النظام" in err and "استُبدل" in err
    assert refusals(hq, "admin_key")
    assert rows(hq, "SELECT count(*) FROM persons WHERE national_id = '42424242424'") == [(0,)]
    # a forged statement (signed by the clerk's own key, not the one headquarters knows) does not help
    statement = {"by": "previous", "public": public, "sig": "00" * 64}
    forged = forge_package(
        a,
        hq,
        tmp_path / "forged",
        [],
        sequence=9,
        extra={"audit": {"admin_key": public, "head": [10_000, "x"], "anchor": None, "key_change": [statement]}},
    )
    assert import_cli(capsys, hq, forged)[0] == 2


def _cut_chain(db: Path, keep: int) -> None:
    """What a clerk can do with sqlite3: drop the append-only triggers, cut the chain after `keep`, point the stored
    head at the new end and put the triggers back."""
    conn = sqlite3.connect(db)
    triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")
    triggers = triggers.fetchall()
    for name, _sql in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    conn.execute("DELETE FROM audit_log WHERE seq > ?", (keep,))
    head = conn.execute("SELECT hash FROM audit_log WHERE seq = ?", (keep,)).fetchone()[0]
    conn.execute("UPDATE settings SET value = ? WHERE key = 'audit.head'", (json.dumps(head),))
    for _name, sql in triggers:
        conn.execute(sql)
    conn.commit()
    conn.close()


def test_an_audit_chain_cut_behind_what_headquarters_saw_is_refused_there_and_caught_by_verify(pair, tmp_path, capsys):
    hq, a = pair
    sync.import_package(a, sync.export_package(hq, tmp_path / "replies", to_office="A-01").path)
    with a.uow() as uow:
        seen = sync_audit.seen_by_hq(a, uow.repo)
    assert seen is not None
    report = verify_audit(a)
    assert report.reason == "" and report.broken_at is None
    _cut_chain(a.db.path, seen[0] - 3)
    for i in range(4):  # the chain grows again past what headquarters saw
        add(a, f"مستفيد جديد رقم {i}", f"5{i}5{i}5{i}5{i}5{i}5")
    report = verify_audit(a)
    assert report.reason == "hq" and report.at == seen[0]
    assert "الديوان" in describe(report)
    path = sync.export_package(a, tmp_path / "usb").path
    code, _, err = import_cli(capsys, hq, path)
    assert code == 2 and "سجل التدقيق" in err and f"{seen[0]}" in err
    assert refusals(hq, "audit")


def test_a_package_without_the_audit_head_is_refused_once_the_office_sent_it(pair, tmp_path, capsys):
    hq, a = pair
    path = forge_package(a, hq, tmp_path / "forged", [], sequence=5)  # an older version's manifest, or one cut down
    code, _, err = import_cli(capsys, hq, path)
    assert code == 2 and "رأس سجل التدقيق" in err


# --- replies for two offices in one folder ----------------------------------------------------------------------


def test_replies_for_two_offices_written_to_one_folder_both_stay(offices, tmp_path, capsys):
    hq, _a, _b, _b_people = offices
    folder = tmp_path / "replies"
    for code in ("A-01", "B-01"):
        assert cli(capsys, "export-package", "--office", code, "--to", str(folder), "--db", address(hq))[0] == 0
    written = sorted(p.name for p in folder.iterdir())
    assert len(written) == 2 and all(("-to-A-01-" in n) != ("-to-B-01-" in n) for n in written)
    # a file already there by the name of the next package is kept, never replaced
    name = sync.package_name("HQ", 0, 2, "A-01")
    (folder / name).write_bytes(b"kept")
    code, _, err = cli(capsys, "export-package", "--office", "A-01", "--to", str(folder), "--db", address(hq))
    assert code == 2 and "لم تُكتب فوقها" in err
    assert (folder / name).read_bytes() == b"kept"


# --- 5b. an escrow file that is a named pipe, or never ends ---------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are a POSIX thing")
def test_recovery_refuses_an_escrow_file_that_is_a_named_pipe_or_an_endless_device(tmp_path, capsys, monkeypatch):
    db = tmp_path / "office.sqlite3"
    monkeypatch.setenv("AIDOFFICE_ESCROW_PASSPHRASE", "عبارة-مرور-طويلة")
    monkeypatch.setenv("AIDOFFICE_NEW_PASSWORD", "كلمة-سر-جديدة")
    fifo = tmp_path / "escrow.key"
    os.mkfifo(fifo)
    code, _, err = _run_guarded(capsys, fifo, "recover", "--escrow", str(fifo), "--name", "admin", "--db", str(db))
    assert code == 2 and "ليس ملفاً عادياً" in err
    if Path("/dev/zero").exists():
        code, _, err = cli(capsys, "recover", "--escrow", "/dev/zero", "--name", "admin", "--db", str(db))
        assert code == 2 and "ليس ملفاً عادياً" in err
    big = tmp_path / "big.key"
    big.write_bytes(b"0" * (1 << 20))
    code, _, err = cli(capsys, "recover", "--escrow", str(big), "--name", "admin", "--db", str(db))
    assert code == 2 and "أكبر من أي ملف مفتاح ضمان" in err
