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
    assert sheet.message.text() == ""
    assert sheet.lines.index(0, 3).data() == "استلم"
    sheet.approve()
    assert not sheet.approve_button.isEnabled()

    other = _new_round(qtbot, page, second.id, "سلال البر", date(2026, 3, 20))
    _pick(other, "01010012345")
    other.add_selected()
    warning = other.reason_dialog
    assert warning is not None and warning.isVisible()
    assert "جمعية الإحسان" in warning.message.text() and "2026/03/02" in warning.message.text()
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
    assert other.lines.rowCount() == 2
    assert "reversed" in other.lines.index(0, 0).data(FLAGS_ROLE)
