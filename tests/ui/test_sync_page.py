"""The Sync page offscreen: keys and enrolment, a package out to headquarters and its reply back, a refused
package's reason on screen, and the conflict queue decided by a person."""

from __future__ import annotations

from aidoffice.domain.persons import PersonInput
from aidoffice.services import associations, persons, sync
from aidoffice.services.associations import AssociationInput
from aidoffice.ui.main_window import MainWindow
from tests.helpers.sync import installation


def _window(qtbot, ctx) -> MainWindow:
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    window.go("sync")
    return window


def _idle(qtbot, page) -> None:
    qtbot.waitUntil(lambda: page.task is None, timeout=20_000)


def test_enrol_export_import_and_decide_a_conflict_from_the_page(qtbot, tmp_path):
    hq = installation(tmp_path / "hq.sqlite3", "HQ", hq=True)
    office = installation(tmp_path / "a.sqlite3", "HDR-01")
    hq_window, office_window = _window(qtbot, hq), _window(qtbot, office)
    hq_page, office_page = hq_window.sync_page, office_window.sync_page
    assert "الديوان" in hq_page.identity_label.text() and "مكتب" in office_page.identity_label.text()
    assert len(office_page.fingerprint_label.text().replace(" ", "")) == 25

    # identities both ways; a mistyped fingerprint is refused on screen
    office_id = office_page.export_identity(tmp_path / "ids")
    hq_id = hq_page.export_identity(tmp_path / "ids")
    hq_page.enrol(office_id, "12345 12345 12345 12345 12345")
    assert "البصمة لا تطابق" in hq_page.message.text() and hq_page.peers_table.rowCount() == 0
    hq_page.enrol(office_id, office_page.fingerprint_label.text())
    office_page.enrol(hq_id, "")
    assert "البصمة مطلوبة" in office_page.message.text() and office_page.peers_table.rowCount() == 0
    office_page.enrol(hq_id, hq_page.fingerprint_label.text())
    assert hq_page.peers_table.rowCount() == 1 and office_page.peers_table.rowCount() == 1
    assert hq_page.office_choice.count() == 1 and not office_page.office_choice.isVisibleTo(office_page)
    # re-stamping after a clock slip is the office's way out; headquarters has none to offer
    assert not office_page.restamp_button.isHidden() and hq_page.restamp_button.isHidden()
    office_page.restamp()
    assert "لا يوجد رد من الديوان" in office_page.message.text()

    assoc = associations.register_association(hq, AssociationInput(name="جمعية النور", registration_number="N-1"))
    hq_page.export_to(tmp_path / "usb")
    _idle(qtbot, hq_page)
    reply = sorted((tmp_path / "usb").glob("HQ-*.aidpkg"))[0]
    office_page.import_file(reply)
    _idle(qtbot, office_page)
    assert "طُبّقت الحزمة HQ رقم 1" in office_page.message.text()

    persons.add_person(office, PersonInput(full_name="ناصر سالم بن حويل", national_id="01234567890"))
    associations.update_association(
        office, assoc.id, AssociationInput(name="جمعية النور", registration_number="N-1", phone="700")
    )
    associations.update_association(
        hq, assoc.id, AssociationInput(name="جمعية النور", registration_number="N-1", phone="711")
    )
    office_page.export_to(tmp_path / "usb")
    _idle(qtbot, office_page)
    assert "كُتبت الحزمة HDR-01-e0-000001.aidpkg" in office_page.message.text()
    package = tmp_path / "usb" / "HDR-01-e0-000001.aidpkg"
    hq_page.import_file(package)
    _idle(qtbot, hq_page)
    assert "تعارض" in hq_page.message.text() and hq_page.history_table.rowCount() == 2
    assert hq_page.conflicts_table.rowCount() == 1 and "(1)" in hq_page.tabs.tabText(1)
    assert {hq_page.conflicts_table.item(0, c).text() for c in (2, 4)} == {"700", "711"}
    kept, other = hq_page.conflicts_table.item(0, 2).text(), hq_page.conflicts_table.item(0, 4).text()
    hq_page.conflicts_table.setCurrentCell(0, 0)
    hq_page.resolve_selected(take_other=True)
    assert hq_page.conflicts_table.rowCount() == 0 and kept != other
    assert associations.get_association(hq, assoc.id).phone == other

    # the same package again: nothing changes; a damaged one: the reason on screen
    hq_page.import_file(package)
    _idle(qtbot, hq_page)
    assert "سبق استيراد" in hq_page.message.text()
    damaged = tmp_path / "damaged.aidpkg"
    data = bytearray(package.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    hq_page.import_file(damaged)
    _idle(qtbot, hq_page)
    assert "معدَّلة" in hq_page.message.text() or "تالف" in hq_page.message.text()
    assert len(sync.history(hq)) == 2
    hq.close()
    office.close()


def test_a_person_flagged_by_headquarters_says_so_in_the_record(qtbot, tmp_path):
    from aidoffice.services import duplicates
    from aidoffice.ui.pages.persons import PersonDialog
    from tests.helpers.sync import introduce

    hq = installation(tmp_path / "hq.sqlite3", "HQ", hq=True)
    a = installation(tmp_path / "a.sqlite3", "A-01")
    b = installation(tmp_path / "b.sqlite3", "B-01")
    introduce(hq, a, tmp_path)
    introduce(hq, b, tmp_path)
    mine = persons.add_person(a, PersonInput(full_name="عبدالله محمد سالم باعشن", national_id="07070707070"))
    other = persons.add_person(a, PersonInput(full_name="سعيد علي الكثيري", national_id="08080808080"))
    persons.add_person(b, PersonInput(full_name="عبد الله محمد سالم باعشن", national_id="07070707070"))
    for office in (a, b):
        sync.import_package(hq, sync.export_package(office, tmp_path / "usb").path)
    duplicates.scan_registry(hq)
    sync.import_package(a, sync.export_package(hq, tmp_path / "r", to_office="A-01").path)
    flagged = PersonDialog(a, mine.id)
    qtbot.addWidget(flagged)
    assert not flagged.elsewhere.isHidden() and "B-01" in flagged.elsewhere.text()
    plain = PersonDialog(a, other.id)
    qtbot.addWidget(plain)
    assert plain.elsewhere.isHidden()
    for ctx in (hq, a, b):
        ctx.close()
