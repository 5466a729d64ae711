"""USB sync between offices and headquarters, with real databases, real package files and real keys."""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aidoffice.domain.persons import PersonInput
from aidoffice.errors import UserError
from aidoffice.formats import package as pkg
from aidoffice.formats.package import PackageError
from aidoffice.services import associations, duplicates, office, persons, sync
from aidoffice.services.associations import AssociationInput
from aidoffice.services.context import open_context
from aidoffice.store import sync as store_sync
from aidoffice.store.dialect import is_server_url
from tests.helpers import postgres
from tests.helpers.databases import address, raw_connect
from tests.helpers.sync import forge_package, installation, introduce, keys_of, now_stamp, office_id_of

# Columns that differ between databases by nature (local keys, optimistic-lock counters, local stamps of writing).
_LOCAL = {"search_rowid", "version"}
_DATA_TABLES = (
    "persons",
    "households",
    "household_members",
    "associations",
    "projects",
    "distributions",
    "distribution_lines",
    "referrals",
    "board_members",
)


def _plain(value):
    """A value as compared: JSON columns (decoded by PostgreSQL's driver) as their sorted text."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False) if isinstance(value, (dict, list)) else value


def state(where) -> dict:
    """What a person would compare: every data row (local columns aside) and the open conflicts, read with a
    connection of its own from a context's database, a file or a server's URL."""
    out = {}
    with raw_connect(where) as conn:

        def rows(statement: str) -> list[tuple]:
            return sorted(tuple(_plain(v) for v in row) for row in conn.rows(statement))

        for table in _DATA_TABLES:
            cols = [c for c in conn.columns(table) if c not in _LOCAL]
            out[table] = rows(f"SELECT {', '.join(cols)} FROM {table}")
        out["person_categories"] = rows("SELECT * FROM person_categories")
        out["conflicts"] = rows("SELECT entity_id, field, kept_value, lost_value FROM sync_conflicts")
    return out


def add_person(ctx, name: str, national_id: str = "", **extra):
    return persons.add_person(ctx, PersonInput(full_name=name, national_id=national_id, **extra))


def copy_of(where, n: int, tmp_path: Path):
    """A copy of a closed database: another file, or another database on the same server."""
    if is_server_url(where):
        return postgres.create_database(template=where)
    copy = tmp_path / f"hq-{n}.sqlite3"
    shutil.copyfile(where, copy)
    return copy


@pytest.fixture
def pair(tmp_path, hq_where):
    hq = installation(hq_where(), "HQ", hq=True)
    a = installation(tmp_path / "a.sqlite3", "HDR-01")
    introduce(hq, a, tmp_path)
    yield hq, a, tmp_path
    hq.close()
    a.close()


def test_an_office_sends_its_records_and_headquarters_acknowledges(pair):
    hq, a, tmp = pair
    p = add_person(a, "محمد أحمد علي باوزير", "01010101010")
    household = persons.create_household(a, p.id, size=5)
    first = sync.export_package(a, tmp / "usb")
    assert first.kind == "snapshot" and first.path.name == "HDR-01-e0-000001.aidpkg"
    data = first.path.read_bytes()
    assert "باوزير".encode() not in data and b"01010101010" not in data  # encrypted on the stick
    manifest = pkg.read_manifest(data)
    assert manifest["sender_code"] == "HDR-01" and {w["for"] for w in manifest["wraps"]} == {"recipient"}
    result = sync.import_package(hq, first.path)
    assert result.status == "applied" and result.applied >= 3
    assert persons.get_person(hq, p.id).full_name == "محمد أحمد علي باوزير"
    assert persons.get_household(hq, household.id).size == 5
    # searchable at headquarters, with its blocking keys
    assert [s.id for s in persons.search_persons(hq, "باوزير")] == [p.id]

    # Until headquarters answers, every export repeats everything (a lost stick leaves no gap).
    second = sync.export_package(a, tmp / "usb")
    assert second.kind == "snapshot" and second.records == first.records
    reply = sync.export_package(hq, tmp / "usb", to_office="HDR-01")
    assert sync.import_package(a, reply.path).status == "applied"
    assert {r.status for r in sync.history(a) if r.direction == "out"} == {"acknowledged"}
    # After the acknowledgement, only what changed since.
    q = add_person(a, "فاطمة سالم عمر", "02020202020")
    third = sync.export_package(a, tmp / "usb")
    assert third.kind == "changes" and third.records == 1 and third.change_from == first.change_to
    sync.import_package(hq, third.path)
    assert persons.get_person(hq, q.id).full_name == "فاطمة سالم عمر"


def test_a_replay_is_a_no_op_and_a_late_package_changes_nothing(pair):
    hq, a, tmp = pair
    p = add_person(a, "علي صالح", "03030303030")
    early = sync.export_package(a, tmp / "usb")
    persons.update_person(a, p.id, PersonInput(full_name="علي صالح محمد", national_id="03030303030"))
    late = sync.export_package(a, tmp / "usb")
    sync.import_package(hq, late.path)
    after_late = state(hq)
    assert sync.import_package(hq, late.path).status == "already"
    result = sync.import_package(hq, early.path)  # the lost stick turns up
    assert result.status == "applied" and result.applied == 0
    assert state(hq) == after_late
    assert persons.get_person(hq, p.id).full_name == "علي صالح محمد"


def _hq_with_offices(tmp: Path, codes: list[str], hq_where):
    hq = installation(hq_where(), "HQ", hq=True)
    offices = []
    for code in codes:
        o = installation(tmp / f"{code}.sqlite3", code)
        introduce(hq, o, tmp)
        offices.append(o)
    return hq, offices


def test_all_orders_of_four_packages_from_three_offices_converge(tmp_path, hq_where):
    hq, (a, b, c) = _hq_with_offices(tmp_path, ["A-01", "B-01", "C-01"], hq_where)
    # The association registry comes from headquarters to every office.
    assoc = associations.register_association(
        hq, AssociationInput(name="جمعية البر الخيرية", registration_number="R-100", phone="777")
    )
    for o, code in ((a, "A-01"), (b, "B-01"), (c, "C-01")):
        sync.import_package(o, sync.export_package(hq, tmp_path / "r", to_office=code).path)
        assert associations.get_association(o, assoc.id).name == "جمعية البر الخيرية"
    packages = []
    pa = add_person(a, "سعيد عوض بن بريك", "04040404040")
    packages.append(sync.export_package(a, tmp_path / "usb").path)
    persons.update_person(a, pa.id, PersonInput(full_name="سعيد عوض بن بريك", national_id="04040404041"))
    associations.update_association(
        a, assoc.id, AssociationInput(name="جمعية البر الخيرية", registration_number="R-100", phone="711")
    )
    packages.append(sync.export_package(a, tmp_path / "usb").path)
    add_person(b, "خديجة محمد", "05050505050")
    # B changes the same field concurrently (it never saw A's value): a conflict, whatever the order.
    associations.update_association(
        b, assoc.id, AssociationInput(name="جمعية البر الخيرية", registration_number="R-100", phone="733")
    )
    packages.append(sync.export_package(b, tmp_path / "usb").path)
    add_person(c, "عمر سالم", "06060606060")
    associations.update_association(
        c, assoc.id, AssociationInput(name="جمعية البر والتقوى", registration_number="R-100", phone="777")
    )
    packages.append(sync.export_package(c, tmp_path / "usb").path)
    template = address(hq)
    hq.close()
    states = []
    for n, order in enumerate(itertools.permutations(packages)):
        copy = copy_of(template, n, tmp_path)
        ctx = open_context(copy, username="admin")
        for path in order:
            sync.import_package(ctx, path)
        ctx.close()
        states.append(state(copy))
        if is_server_url(copy):
            postgres.drop_database(copy)
    assert len(states) == 24
    assert all(s == states[0] for s in states)
    final = states[0]
    assert len(final["persons"]) == 3
    conflicts = final["conflicts"]
    # A's 711 against B's 733; C renamed an association headquarters registered: that waits for a person to confirm
    assert sorted(c[1] for c in conflicts) == ["name", "phone"]
    names = {row[0] for row in final["associations"]} | {row[1] for row in final["associations"]}
    assert "جمعية البر الخيرية" in names and "جمعية البر والتقوى" not in names


def test_a_conflict_is_queued_and_resolved_by_a_person(pair, tmp_path):
    hq, a, tmp = pair
    assoc = associations.register_association(hq, AssociationInput(name="جمعية الأمل", registration_number="R-7"))
    sync.import_package(a, sync.export_package(hq, tmp / "r", to_office="HDR-01").path)
    associations.update_association(
        a, assoc.id, AssociationInput(name="جمعية الأمل", registration_number="R-7", address="المكلا - الشرج")
    )
    hq.clock = lambda: time.time() + 1  # headquarters' edit comes a second after A's, without waiting for it
    associations.update_association(
        hq, assoc.id, AssociationInput(name="جمعية الأمل", registration_number="R-7", address="المكلا - الديس")
    )
    sync.import_package(hq, sync.export_package(a, tmp / "usb").path)
    queue = sync.conflicts(hq)
    assert [(c.field, c.kept_value, c.lost_value) for c in queue] == [("address", "المكلا - الديس", "المكلا - الشرج")]
    assert queue[0].lost_office == "HDR-01" and queue[0].record_name == "جمعية الأمل"
    sync.resolve_conflict(hq, queue[0].id, take_other=True)
    assert associations.get_association(hq, assoc.id).address == "المكلا - الشرج"
    assert sync.conflicts(hq) == []
    # The decision travels back as an ordinary change.
    sync.import_package(a, sync.export_package(hq, tmp / "r", to_office="HDR-01").path)
    assert associations.get_association(a, assoc.id).address == "المكلا - الشرج"


def _address_conflict(hq, a, tmp, number: str):
    """An association of headquarters whose address office A and then headquarters changed concurrently: the
    association and the one conflict queued at headquarters (A's address lost)."""
    assoc = associations.register_association(hq, AssociationInput(name="جمعية الأمل", registration_number=number))
    sync.import_package(a, sync.export_package(hq, tmp / "r", to_office="HDR-01").path)
    associations.update_association(
        a, assoc.id, AssociationInput(name="جمعية الأمل", registration_number=number, address="المكلا - الشرج")
    )
    hq.clock = lambda: time.time() + 1
    associations.update_association(
        hq, assoc.id, AssociationInput(name="جمعية الأمل", registration_number=number, address="المكلا - الديس")
    )
    sync.import_package(hq, sync.export_package(a, tmp / "usb").path)
    (conflict,) = sync.conflicts(hq)
    return assoc, conflict


def test_a_conflict_overtaken_by_a_newer_value_is_not_undone_by_its_decision(pair, tmp_path):
    """After the conflict was queued, headquarters corrected the address again: taking the value that lost would put
    an old address over the newest one unseen. Refused, nothing changed; keeping closes it."""
    hq, a, tmp = pair
    assoc, conflict = _address_conflict(hq, a, tmp, "R-8")
    hq.clock = lambda: time.time() + 2
    newest = AssociationInput(name="جمعية الأمل", registration_number="R-8", address="المكلا - فوه، شارع الستين")
    associations.update_association(hq, assoc.id, newest)

    with pytest.raises(UserError, match="تغيّرت قيمة هذا الحقل بعد التعارض"):
        sync.resolve_conflict(hq, conflict.id, take_other=True)
    assert associations.get_association(hq, assoc.id).address == "المكلا - فوه، شارع الستين"
    assert [c.id for c in sync.conflicts(hq)] == [conflict.id]
    sync.resolve_conflict(hq, conflict.id, take_other=False)
    assert sync.conflicts(hq) == []


def test_a_conflict_over_a_field_without_a_stamp_can_still_take_the_other_value(pair):
    """A field written before sync began has no stamp of its own (the kept value was dated by its record): nothing
    says it changed since, so the other value may be taken (it was refused for good)."""
    from sqlalchemy import text

    hq, a, tmp = pair
    assoc, conflict = _address_conflict(hq, a, tmp, "R-9")
    with hq.db.engine.begin() as conn:  # as an association of before sync: no stamp row for the field
        conn.execute(
            text("DELETE FROM sync_stamps WHERE entity = 'associations' AND entity_id = :i AND field = 'address'"),
            {"i": assoc.id},
        )
    sync.resolve_conflict(hq, conflict.id, take_other=True)
    assert associations.get_association(hq, assoc.id).address == "المكلا - الشرج"


def test_reference_data_and_cross_office_flags_come_back_without_others_personal_data(tmp_path, hq_where):
    hq, (a, b) = _hq_with_offices(tmp_path, ["A-01", "B-01"], hq_where)
    pa = add_person(a, "عبدالله محمد سالم باعشن", "07070707070", birth_year=1980)
    add_person(b, "عبد الله محمد سالم باعشن", "07070707070", birth_year=1980)
    for o in (a, b):
        sync.import_package(hq, sync.export_package(o, tmp_path / "usb").path)
    duplicates.scan_registry(hq)
    pairs = sync.cross_office_pairs(hq)
    assert [(p.office_a, p.office_b) for p in pairs] in ([("A-01", "B-01")], [("B-01", "A-01")])
    from aidoffice.services import review

    queue = review.review_queue(hq, limit=10)
    with pytest.raises(UserError, match="يملكه مكتب آخر"):
        review.merge_pair(hq, queue[0].id)  # the owning offices decide; headquarters only flags
    office.set_aid_window(hq, "food_basket", "days", 45)
    reply = sync.export_package(hq, tmp_path / "r", to_office="A-01")
    opened = pkg.open_package(reply.path.read_bytes(), [_sign_public(hq)], [_kx_private(a)])
    assert "عبد الله" not in str(opened.records) and "B-01" in str(opened.records)
    sync.import_package(a, reply.path)
    flags = sync.flags(a)
    assert [(f.person_id, f.other_office) for f in flags] == [(pa.id, "B-01")]
    window = {t.code: t for t in office.list_aid_types(a)}["food_basket"]
    assert (window.window, window.window_days) == ("days", 45)


def _sign_public(ctx) -> bytes:
    return keys_of(ctx).sign_public


def _kx_private(ctx) -> bytes:
    return keys_of(ctx).kx_private


# --- adversarial --------------------------------------------------------------------------------------------


def test_every_single_byte_change_and_every_truncation_is_refused(pair):
    hq, a, tmp = pair
    _acknowledged(hq, a, "HDR-01", tmp)
    add_person(a, "سالم علي", "08080808080")
    path = sync.export_package(a, tmp / "usb").path  # a package of one change: every byte is tried
    data = path.read_bytes()
    sender, private = [_sign_public(a)], [_kx_private(hq)]
    assert len(pkg.open_package(data, sender, private).records) == 1
    for n in range(len(data)):
        with pytest.raises(PackageError):
            pkg.open_package(data[:n], sender, private)
    with pytest.raises(PackageError):
        pkg.open_package(data + b"\x00", sender, private)
    # every single-byte change, through the service on the database: each refused, nothing changed
    before, history = state(hq), sync.history(hq)
    bad = tmp / "bad.aidpkg"
    for i in range(len(data)):
        changed = bytearray(data)
        changed[i] ^= 0x01 if i % 2 else 0xA5
        bad.write_bytes(bytes(changed))
        with pytest.raises(UserError):
            sync.import_package(hq, bad)
    assert state(hq) == before and sync.history(hq) == history
    assert sync.import_package(hq, path).status == "applied"  # the true package still goes in


def test_wrong_recipient_unknown_and_revoked_senders_are_refused(tmp_path, hq_where):
    hq, (a,) = _hq_with_offices(tmp_path, ["A-01"], hq_where)
    other_hq = installation(tmp_path / "hq2.sqlite3", "HQ2", hq=True)
    stranger = installation(tmp_path / "s.sqlite3", "S-01")
    add_person(a, "مريم سعيد", "09090909090")
    path = sync.export_package(a, tmp_path / "usb").path
    # another headquarters that enrolled the same office still cannot open what was sealed for the first one
    ident, fp = sync.export_identity(a, tmp_path / "ids2")
    sync.enrol(other_hq, ident, expected_fingerprint=fp)
    with pytest.raises(PackageError, match="ليست موجّهة"):
        sync.import_package(other_hq, path)
    # an office nobody enrolled
    introduce_only_office_side(hq, stranger, tmp_path)
    add_person(stranger, "شخص غريب", "10101010101")
    with pytest.raises(PackageError, match="غير مسجّلة"):
        sync.import_package(hq, sync.export_package(stranger, tmp_path / "usb").path)
    sync.revoke(hq, "A-01")
    with pytest.raises(PackageError, match="ملغى"):
        sync.import_package(hq, path)
    assert sync.history(hq) == []


def introduce_only_office_side(hq, office_ctx, folder):
    hq_file, hq_fp = sync.export_identity(hq, folder / "ids3")
    sync.enrol(office_ctx, hq_file, expected_fingerprint=hq_fp)


def test_a_fork_is_detected(pair):
    hq, a, tmp = pair
    add_person(a, "حسن علي", "11111111111")
    sync.import_package(hq, sync.export_package(a, tmp / "usb").path)
    # the office's file is copied (not restored through the program, so it keeps its identity and sequence)
    a.close()
    shutil.copyfile(tmp / "a.sqlite3", tmp / "a-copy.sqlite3")
    a1 = open_context(tmp / "a.sqlite3", username="admin")
    a2 = open_context(tmp / "a-copy.sqlite3", username="admin")
    add_person(a1, "شخص أول", "12121212121")
    add_person(a2, "شخص ثان", "13131313131")
    one = sync.export_package(a1, tmp / "usb1").path
    two = sync.export_package(a2, tmp / "usb2").path
    sync.import_package(hq, one)
    before = state(hq)
    with pytest.raises(PackageError, match="تفرّع"):
        sync.import_package(hq, two)
    assert state(hq) == before
    a1.close()
    a2.close()


def test_a_clock_five_years_fast_is_refused(pair):
    hq, a, tmp = pair
    with a.uow() as uow:
        store_sync.observe(uow.session.connection(), (int(time.time() * 1000) + 5 * 365 * 86_400_000) << 16)
        uow.commit()
    add_person(a, "ساعة متقدمة", "14141414141")
    path = sync.export_package(a, tmp / "usb").path
    before = state(hq)
    with pytest.raises(PackageError, match="ساعة الجهاز المرسل متقدمة"):
        sync.import_package(hq, path)
    assert state(hq) == before


KILL_SCRIPT = """
import os, sys
from aidoffice.services import sync
from aidoffice.services.context import open_context
from aidoffice.store import sync as store_sync
from aidoffice.store.dialect import is_server_url
original = store_sync.Applier._owned_chunk
def dying(self, name, records):
    original(self, name, records)  # the persons are written (uncommitted) when the process dies
    os._exit(9)
store_sync.Applier._owned_chunk = dying
ctx = open_context(sys.argv[1], username="admin")
sync.import_package(ctx, sys.argv[2])
"""


def test_a_process_killed_mid_import_leaves_the_old_state(pair):
    hq, a, tmp = pair
    for i in range(60):  # sixty people: IDs five digits apart (one digit apart reads as a mistyped card)
        add_person(a, f"شخص رقم {i}", "2" + f"{i:02d}" * 5)
    path = sync.export_package(a, tmp / "usb").path
    before = state(hq)
    hq_path = address(hq)
    hq.close()
    done = subprocess.run(
        [sys.executable, "-c", KILL_SCRIPT, str(hq_path), str(path)], capture_output=True, timeout=120
    )
    assert done.returncode == 9
    assert state(hq_path) == before
    again = open_context(hq_path, username="admin")
    assert sync.import_package(again, path).status == "applied"  # and it goes in whole afterwards
    assert len(state(hq_path)["persons"]) == 60
    again.close()


# --- keys ---------------------------------------------------------------------------------------------------


def test_enrolment_checks_fingerprint_role_and_rotation(tmp_path):
    hq = installation(tmp_path / "hq.sqlite3", "HQ", hq=True)
    a = installation(tmp_path / "a.sqlite3", "A-01")
    b = installation(tmp_path / "b.sqlite3", "B-01")
    a_file, a_fp = sync.export_identity(a, tmp_path / "ids")
    assert len(a_fp.replace(" ", "")) == 25
    with pytest.raises(UserError, match="البصمة لا تطابق"):
        sync.enrol(hq, a_file, expected_fingerprint="00000 00000 00000 00000 00000")
    b_file, b_fp = sync.export_identity(b, tmp_path / "ids")
    with pytest.raises(UserError, match="النوع الآخر"):
        sync.enrol(a, b_file, expected_fingerprint=b_fp)  # an office does not trust another office
    sync.enrol(hq, a_file, expected_fingerprint=a_fp)
    hq_file, hq_fp = sync.export_identity(hq, tmp_path / "ids")
    sync.enrol(a, hq_file, expected_fingerprint=hq_fp)
    add_person(a, "قبل التدوير", "15151515151")
    old_package = sync.export_package(a, tmp_path / "usb").path
    new_fp = sync.rotate_keys(a)
    assert new_fp != a_fp
    rotated, rotated_fp = sync.export_identity(a, tmp_path / "ids-new")
    assert rotated_fp == new_fp
    # endorsed by the previous key: taken (the fingerprint is still read over the phone, as for every enrolment)
    sync.enrol(hq, rotated, expected_fingerprint=new_fp)
    assert [p.status for p in sync.peers(hq)] == ["retired", "active"]
    sync.import_package(hq, old_package)  # a package signed before the rotation still opens
    add_person(a, "بعد التدوير", "16161616161")
    assert sync.import_package(hq, sync.export_package(a, tmp_path / "usb").path).status == "applied"
    # a tampered identity file is refused
    raw = bytearray(rotated.read_bytes())
    raw[raw.index(b'"name"') + 10] ^= 1
    (tmp_path / "t.aidid").write_bytes(bytes(raw))
    with pytest.raises(UserError):
        sync.read_identity(tmp_path / "t.aidid")


def test_the_escrow_key_opens_a_package_when_headquarters_key_is_lost(tmp_path):
    hq = installation(tmp_path / "hq.sqlite3", "HQ", hq=True)
    escrow_fp = sync.create_escrow(hq, tmp_path / "escrow.key", "عبارة مرور طويلة جدا")
    a = installation(tmp_path / "a.sqlite3", "A-01")
    introduce(hq, a, tmp_path)
    add_person(a, "أمين الضمان", "17171717171")
    path = sync.export_package(a, tmp_path / "usb").path
    manifest = pkg.read_manifest(path.read_bytes())
    assert {w["for"] for w in manifest["wraps"]} == {"recipient", "escrow"} and escrow_fp
    opened = sync.open_with_escrow(path, tmp_path / "escrow.key", "عبارة مرور طويلة جدا", _sign_public(a))
    assert any(r.get("row", {}) and r["row"].get("full_name") == "أمين الضمان" for r in opened.records)
    with pytest.raises(UserError):
        sync.open_with_escrow(path, tmp_path / "escrow.key", "خطأ", _sign_public(a))


def test_sync_needs_its_permissions(pair):
    _hq, a, tmp = pair
    a.role = "clerk"
    with pytest.raises(UserError):
        sync.export_package(a, tmp / "usb")
    with pytest.raises(UserError):
        sync.rotate_keys(a)


def _acknowledged(hq, office_ctx, code: str, tmp: Path) -> None:
    sync.import_package(hq, sync.export_package(office_ctx, tmp / "usb").path)
    sync.import_package(office_ctx, sync.export_package(hq, tmp / "r", to_office=code).path)


def test_removed_rows_travel_and_a_snapshot_comes_on_request(pair):
    hq, a, tmp = pair
    head1 = add_person(a, "صالح أحمد بامحسون", "21212121212")
    head2 = add_person(a, "عوض سالم بن دغار", "22222222222")
    child = add_person(a, "أحمد صالح بامحسون", "23232323232")
    first = persons.create_household(a, head1.id, size=3)
    second = persons.create_household(a, head2.id, size=2)
    persons.add_household_member(a, first.id, child.id, "son")
    _acknowledged(hq, a, "HDR-01", tmp)
    assert {m[0] for m in persons.get_household(hq, first.id).members} == {head1.id, child.id}
    persons.move_household_member(a, child.id, second.id, "other")
    changes = sync.export_package(a, tmp / "usb")
    assert changes.kind == "changes" and changes.records == 2  # the old membership removed, the new one
    sync.import_package(hq, changes.path)
    assert {m[0] for m in persons.get_household(hq, first.id).members} == {head1.id}
    assert {m[0] for m in persons.get_household(hq, second.id).members} == {head2.id, child.id}
    full = sync.export_package(a, tmp / "usb", full=True)
    assert full.kind == "snapshot" and full.records > changes.records
    assert sync.import_package(hq, full.path).applied == 0  # nothing newer in it


def test_a_restored_office_starts_a_new_stream_without_a_fork(pair):
    from aidoffice.services import backups

    hq, a, tmp = pair
    add_person(a, "قبل النسخة الاحتياطية", "24242424242")
    _acknowledged(hq, a, "HDR-01", tmp)
    backup = backups.make_backup(a, tmp / "backups")
    add_person(a, "بعد النسخة الاحتياطية", "25252525252")
    sync.import_package(hq, sync.export_package(a, tmp / "usb").path)
    restored = backups.restore_backup(a, backup.path).ctx
    try:
        add_person(restored, "بعد الاستعادة مباشرة", "26262626262")
        package = sync.export_package(restored, tmp / "usb")
        assert package.kind == "snapshot" and package.path.name == "HDR-01-e1-000002.aidpkg"
        assert sync.import_package(hq, package.path).status == "applied"
        names = {p.full_name for p in persons.search_persons(hq, "النسخة")} | {
            p.full_name for p in persons.search_persons(hq, "الاستعادة")
        }
        assert names == {"قبل النسخة الاحتياطية", "بعد النسخة الاحتياطية", "بعد الاستعادة مباشرة"}
    finally:
        restored.close()


def test_an_unwritable_folder_leaves_no_file_and_only_a_gap(pair):
    hq, a, tmp = pair
    add_person(a, "فجوة التسلسل", "27272727272")
    blocked = tmp / "not-a-folder"
    blocked.write_text("x")
    with pytest.raises(UserError, match="تعذّرت كتابة الحزمة"):
        sync.export_package(a, blocked)
    assert blocked.read_text() == "x" and not list(tmp.glob("**/*.partial"))
    written = sync.export_package(a, tmp / "usb")
    assert written.sequence == 2  # number 1 was never written: a gap, which headquarters accepts
    assert sync.import_package(hq, written.path).status == "applied"


def test_a_record_of_another_office_is_queued_and_its_package_refused(tmp_path, hq_where):
    hq, (a, b) = _hq_with_offices(tmp_path, ["A-01", "B-01"], hq_where)
    person = add_person(a, "ملك المكتب الأول", "28282828282")
    sync.import_package(hq, sync.export_package(a, tmp_path / "usb").path)
    # B claims nothing of its own: the row names A as owner, the stamp names B as writer
    row = {"id": person.id, "office_id": office_id_of(a), "full_name": "اسم مزوّر من مكتب آخر"}
    record = {"t": "persons", "id": person.id, "row": row, "s": [now_stamp(), office_id_of(b), 0]}
    path = forge_package(b, hq, tmp_path / "forged", [record], sequence=7)
    with pytest.raises(PackageError, match="يملكه مكتب آخر"):
        sync.import_package(hq, path)
    assert persons.get_person(hq, person.id).full_name == "ملك المكتب الأول"
    queued = sync.conflicts(hq)
    assert [(c.field, c.kept_value, c.lost_office) for c in queued] == [("office_id", "A-01", "B-01")]
    assert all(r.sequence != 7 for r in sync.history(hq))  # refused whole: not recorded as applied


def test_a_whole_demo_office_arrives_at_headquarters(file_demo_ctx, tmp_path, hq_where):
    """Bulk-loaded records (no stamps of their own) travel like any other, with places and categories by name."""
    demo_ctx = file_demo_ctx
    hq = installation(hq_where(), "HQ", hq=True)
    introduce(hq, demo_ctx, tmp_path)
    package = sync.export_package(demo_ctx, tmp_path / "usb")
    result = sync.import_package(hq, package.path)
    assert result.status == "applied" and result.conflicts == 0

    def summary(ctx):
        conn = raw_connect(ctx)
        counts = {
            t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in (
                "persons",
                "households",
                "household_members",
                "distributions",
                "distribution_lines",
                "referrals",
                "person_categories",
                "associations",
                "projects",
            )
        }
        people = sorted(
            conn.execute(
                "SELECT p.id, p.full_name, p.national_id, d.name, g.name FROM persons p "
                "LEFT JOIN districts d ON d.id = p.district_id LEFT JOIN governorates g ON g.id = d.governorate_id"
            ).fetchall()
        )
        people += sorted(
            conn.execute(
                "SELECT pc.person_id, c.code FROM person_categories pc "
                "JOIN vulnerability_categories c ON c.id = pc.category_id"
            ).fetchall()
        )
        conn.close()
        return counts, people

    office_counts, office_people = summary(demo_ctx)
    hq_counts, hq_people = summary(hq)
    assert office_counts == hq_counts and office_counts["persons"] == 2500
    assert office_people == hq_people
    hq.close()


@pytest.mark.parametrize("encrypt_first", [False, True])
def test_the_escrow_key_reopens_an_encrypted_office_whose_passwords_are_lost(tmp_path, encrypt_first):
    from aidoffice.services import encryption, users

    hq = installation(tmp_path / "hq.sqlite3", "HQ", hq=True)
    sync.create_escrow(hq, tmp_path / "escrow.key", "عبارة مرور طويلة جدا")
    office_ctx = installation(tmp_path / "a.sqlite3", "A-01")
    users.create_user(office_ctx, "admin", "كلمة-سر-قوية", "admin")
    users.login(office_ctx, "admin", "كلمة-سر-قوية")
    hq_file, hq_fp = sync.export_identity(hq, tmp_path / "ids")
    if encrypt_first:
        office_ctx = encryption.encrypt_database(office_ctx, "كلمة-سر-قوية")
        sync.enrol(office_ctx, hq_file, expected_fingerprint=hq_fp)
    else:
        sync.enrol(office_ctx, hq_file, expected_fingerprint=hq_fp)
        office_ctx = encryption.encrypt_database(office_ctx, "كلمة-سر-قوية")
    add_person(office_ctx, "نادر سعيد الكثيري", "29292929292")
    path = office_ctx.db.path
    office_ctx.close()
    with pytest.raises(UserError):
        encryption.recover_with_escrow(path, tmp_path / "escrow.key", "عبارة خاطئة", "admin", "كلمة-جديدة-1")
    encryption.recover_with_escrow(path, tmp_path / "escrow.key", "عبارة مرور طويلة جدا", "admin", "كلمة-جديدة-1")
    reopened = encryption.open_encrypted(path, "admin", "كلمة-جديدة-1")
    try:
        assert [p.full_name for p in persons.search_persons(reopened, "الكثيري")] == ["نادر سعيد الكثيري"]
    finally:
        reopened.close()
    with pytest.raises(UserError):
        encryption.open_encrypted(path, "admin", "كلمة-سر-قوية")  # the lost password no longer opens it
    hq.close()


def test_one_registration_number_from_two_offices_is_refused_whole(tmp_path, hq_where):
    from aidoffice.services import aid

    hq, (a, b) = _hq_with_offices(tmp_path, ["A-01", "B-01"], hq_where)
    for o in (a, b):
        assoc = associations.register_association(o, AssociationInput(name="جمعية السلام", registration_number="R-9"))
        aid.create_project(o, aid.ProjectInput(association_id=assoc.id, title="سلال غذائية", aid_type="food_basket"))
    sync.import_package(hq, sync.export_package(a, tmp_path / "usb").path)
    before = state(hq)
    with pytest.raises(UserError, match="رقم الإشهار R-9 مسجّل"):
        sync.import_package(hq, sync.export_package(b, tmp_path / "usb").path)
    assert state(hq) == before  # nothing half applied; a person must settle the two records
