"""Projects and distribution rounds offscreen: create, add recipients, the "already received" warning and its
written override, receipt and reversal."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt

from aidoffice.app import make_application
from aidoffice.domain.persons import PersonInput
from aidoffice.services.associations import AssociationInput, register_association
from aidoffice.services.persons import add_person, create_household
from aidoffice.store import models as m
from aidoffice.ui.models.paged import FLAGS_ROLE
from aidoffice.ui.pages.distributions import AidPage


@pytest.fixture
def office(ctx):
    make_application()
    first = register_association(ctx, AssociationInput(name="جمعية الإحسان", registration_number="55/2015"))
    second = register_association(ctx, AssociationInput(name="جمعية البر", registration_number="77/2019"))
    head = add_person(ctx, PersonInput(full_name="سالم عوض بامطرف", national_id="01010012345"))
    create_household(ctx, head.id, size=6)
    return ctx, first, second, head


def _new_round(qtbot, page, association_id, title, day):
    project = page.new_project()
    f = project.form.fields
    f["association_id"].setCurrentIndex(f["association_id"].findData(association_id))
    f["title"].setText(title)
    f["aid_type"].setCurrentIndex(f["aid_type"].findData("food_basket"))
    f["budget"].setText("١٢٬٥٠٠٫٥")
    assert project.save()
    dist = page.new_distribution()
    g = dist.form.fields
    g["project_id"].setCurrentIndex(g["project_id"].findText(title, flags=Qt.MatchFlag.MatchStartsWith))
    g["distribution_date"].edit.setText(day.strftime("%d/%m/%Y"))
    g["item"].setText("سلة غذائية")
    assert dist.save()
    sheet = page.dialog
    qtbot.addWidget(sheet)
    return sheet


def _pick(sheet, national_id):
    sheet.picker.edit.setText(national_id)
    sheet.picker.search()
    sheet.picker.results.setCurrentRow(0)


def test_already_received_is_said_at_once_and_kept_only_with_a_reason(qtbot, office):
    ctx, first, second, _head = office
    page = AidPage(ctx)
    qtbot.addWidget(page)
    page.ensure_loaded()

    sheet = _new_round(qtbot, page, first.id, "سلال مارس", date(2026, 3, 2))
    _pick(sheet, "01010012345")
    sheet.add_selected()
    assert sheet.lines.rowCount() == 1 and "في الكشف 1 أسرة" in sheet.details.text()
    sheet.table.setCurrentIndex(sheet.lines.index(0, 0))
    sheet.mark(True)
    _wait(qtbot, sheet)
    assert sheet.message.text() == ""
    assert sheet.lines.index(0, 3).data() == "استلم"
    sheet.approve()
    _wait(qtbot, sheet)
    assert not sheet.approve_button.isEnabled()

    other = _new_round(qtbot, page, second.id, "سلال البر", date(2026, 3, 20))
    _pick(other, "01010012345")
    other.add_selected()
    warning = other.reason_dialog
    assert warning is not None and warning.isVisible()
    assert "جمعية الإحسان" in warning.message.text() and "02/03/2026" in warning.message.text()
    assert "سالم عوض بامطرف" in warning.message.text()  # who is being added
    assert other.lines.rowCount() == 0
    assert not warning.confirm_button.isEnabled()  # no reason, no line
    warning.reason.setPlainText("أسرة نازحة فقدت مسكنها")
    assert warning.confirm_button.isEnabled()
    warning.confirm_button.click()
    assert other.lines.rowCount() == 1
    assert other.lines.index(0, 4).data() == "أسرة نازحة فقدت مسكنها"
    with ctx.uow() as uow:
        line = uow.repo.first(m.DistributionLine, override_reason="أسرة نازحة فقدت مسكنها")
        assert line.overridden_by == ctx.username

    # a reversal needs its reason too; the original stays and is shown as reversed
    other.table.setCurrentIndex(other.lines.index(0, 0))
    other.reverse()
    other.reason_dialog.reason.setPlainText("أُدرجت بالخطأ")
    other.reason_dialog.confirm_button.click()
    _wait(qtbot, other)
    assert other.lines.rowCount() == 2
    assert "reversed" in other.lines.index(0, 0).data(FLAGS_ROLE)


def _listed_round(qtbot, ctx, page, association_id, heads):
    sheet = _new_round(qtbot, page, association_id, "سلال نوفمبر", date(2026, 11, 2))
    for head in heads:
        assert sheet.add_person(head.id)
    return sheet


def _more_heads(ctx, n):
    heads = []
    for i, name in enumerate(("فرج سعيد عمر العمودي", "مبارك صالح سالم الكثيري", "عوض محمد أحمد باعباد")[:n]):
        head = add_person(ctx, PersonInput(full_name=name, birth_year=str(1970 + 9 * i)))
        create_household(ctx, head.id)
        heads.append(head)
    return heads


def _wait(qtbot, sheet):
    """Marking, approving and cancelling run off the GUI thread: wait for the answer."""
    qtbot.waitUntil(lambda: sheet.task is None, timeout=10_000)


def _status_column(sheet):
    return [sheet.lines.index(r, 3).data() for r in range(sheet.lines.rowCount())]


def test_many_lines_are_marked_at_once(qtbot, office):
    ctx, first, _second, head = office
    page = AidPage(ctx)
    qtbot.addWidget(page)
    page.ensure_loaded()
    sheet = _listed_round(qtbot, ctx, page, first.id, [head, *_more_heads(ctx, 3)])
    assert sheet.lines.rowCount() == 4
    sheet.show()
    rect = sheet.table.visualRect(sheet.lines.index(0, 1))
    qtbot.mouseClick(sheet.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # the clerk clicks a row
    assert len(sheet.selected_lines()) == 1
    sheet.received_button.click()
    _wait(qtbot, sheet)
    assert _status_column(sheet).count("استلم") == 1
    qtbot.keyClick(sheet.table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)  # then select all four
    assert len(sheet.selected_lines()) == 4
    sheet.received_button.click()
    _wait(qtbot, sheet)
    assert _status_column(sheet) == ["استلم"] * 4
    assert "3" in sheet.message.text() and "من قبل" in sheet.message.text()


def test_a_scanned_card_marks_its_line_and_a_forged_one_is_refused(qtbot, office, monkeypatch):
    from aidoffice.domain.cards import card_payload
    from aidoffice.services.reports import _card_key

    ctx, first, _second, head = office
    page = AidPage(ctx)
    qtbot.addWidget(page)
    page.ensure_loaded()
    others = _more_heads(ctx, 1)
    sheet = _listed_round(qtbot, ctx, page, first.id, [head, *others])
    beeps = []
    monkeypatch.setattr("aidoffice.ui.pages.distributions.QApplication.beep", lambda: beeps.append(1))
    payload = card_payload(others[0].id, _card_key(ctx))
    sheet.show()
    rect = sheet.table.visualRect(sheet.lines.index(0, 1))  # a line selected, as a clerk leaves it
    qtbot.mouseClick(sheet.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert len(sheet.selected_lines()) == 1
    sheet.scan.setFocus()
    qtbot.keyClicks(sheet.scan, payload)  # a USB scanner types the QR's text, then Enter
    qtbot.keyClick(sheet.scan, Qt.Key.Key_Return)
    assert sheet.lines.rowCount() == 2 and _status_column(sheet).count("استلم") == 1
    assert "سُجّل استلام" in sheet.scan_result.text() and sheet.scan.text() == ""
    forged = payload[:-1] + ("0" if payload[-1] != "0" else "1")
    for scanned, said in ((forged, "مرفوضة"), ("garbage-123%$", "مرفوضة"), (payload, "من قبل")):
        qtbot.keyClicks(sheet.scan, scanned)  # forged, garbage, and the same card a second time
        qtbot.keyClick(sheet.scan, Qt.Key.Key_Return)
        assert said in sheet.message.text() and sheet.lines.rowCount() == 2
    # the Enter of a refused scan pressed no button: the selected line is still only listed
    assert len(beeps) == 3 and _status_column(sheet).count("استلم") == 1


def test_the_sheet_prints_from_the_round(qtbot, office, tmp_path, monkeypatch):
    ctx, first, _second, head = office
    page = AidPage(ctx)
    qtbot.addWidget(page)
    page.ensure_loaded()
    sheet = _listed_round(qtbot, ctx, page, first.id, [head])
    opened = []
    monkeypatch.setattr("aidoffice.ui.widgets.QDesktopServices.openUrl", lambda url: opened.append(url.toLocalFile()))
    monkeypatch.setattr(
        "aidoffice.ui.widgets.QFileDialog.getSaveFileName",
        lambda *_a, **_k: (str(tmp_path / "sheet.pdf"), ""),
    )
    sheet.print_button.click()  # the button, as the clerk presses it (it once passed False as the file)
    qtbot.waitUntil(lambda: bool(opened), timeout=20_000)
    assert (tmp_path / "sheet.pdf").read_bytes().startswith(b"%PDF") and opened == [str(tmp_path / "sheet.pdf")]


def test_the_picker_adds_on_enter_never_on_a_stray_click(qtbot, office):
    ctx, first, _second, _head = office
    page = AidPage(ctx)
    qtbot.addWidget(page)
    page.ensure_loaded()
    sheet = _new_round(qtbot, page, first.id, "سلال ديسمبر", date(2026, 12, 1))
    sheet.show()
    sheet.picker.edit.setText("سالم عوض")  # (QTest types ASCII only)
    qtbot.keyClick(sheet.picker.edit, Qt.Key.Key_Down)  # the search runs and the cursor goes into the results
    assert sheet.picker.results.count() == 1 and "رب الأسرة" in sheet.picker.results.item(0).text()
    assert "1 نتيجة" in sheet.picker.count.text()
    rect = sheet.picker.results.visualItemRect(sheet.picker.results.item(0))
    qtbot.mouseDClick(sheet.picker.results.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert sheet.lines.rowCount() == 0  # a double click only highlights
    qtbot.keyClick(sheet.picker.results, Qt.Key.Key_Return)
    assert sheet.lines.rowCount() == 1
