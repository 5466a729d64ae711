"""From a person's record to what a clerk does next: add to a round, refer, the household, print the card."""

from __future__ import annotations

from datetime import date

import pytest

from aidoffice.app import make_application
from aidoffice.domain.persons import PersonInput
from aidoffice.services.aid import DistributionInput, ProjectInput, create_distribution, create_project
from aidoffice.services.associations import AssociationInput, register_association
from aidoffice.services.persons import add_person, aid_history, create_household
from aidoffice.services.tables import TableQuery, page_rows
from aidoffice.ui.pages.persons import PersonDialog


@pytest.fixture
def record(qtbot, ctx):
    make_application()
    assoc = register_association(ctx, AssociationInput(name="جمعية الخير", registration_number="12/2020"))
    project = create_project(
        ctx, ProjectInput(association_id=assoc.id, title="سلال يناير", aid_type="food_basket", start_date="01/01/2026")
    )
    dist = create_distribution(ctx, DistributionInput(project_id=project.id, distribution_date=date(2026, 12, 1)))
    person = add_person(ctx, PersonInput(full_name="سعيد مبارك عمر باسلامة", national_id="01020030045"))
    create_household(ctx, person.id, size=5)
    dialog = PersonDialog(ctx, person.id)
    qtbot.addWidget(dialog)
    dialog.show()
    return ctx, assoc, dist, person, dialog


def test_a_person_goes_onto_an_open_round_from_the_record(qtbot, record):
    ctx, _assoc, dist, person, dialog = record
    chooser = dialog.add_to_round()
    choice = chooser.choice
    assert choice.count() == 2 and "جمعية الخير" in choice.itemText(1)
    choice.setCurrentIndex(1)
    chooser.accept()
    sheet = dialog.round_dialog
    assert sheet is not None and sheet.distribution_id == dist.id and sheet.lines.rowCount() == 1
    assert [h.association for h in aid_history(ctx, person.id)] == ["جمعية الخير"]
    sheet.reject()


def test_a_referral_starts_with_the_person_chosen(qtbot, record):
    ctx, assoc, _dist, person, dialog = record
    referral = dialog.refer()
    assert referral.picker.current_id() == person.id
    f = referral.form.fields
    f["association_id"].setCurrentIndex(f["association_id"].findData(assoc.id))
    f["need"].setPlainText("علاج طبيعي")
    assert referral.save()
    rows = page_rows(ctx, "referrals", TableQuery(), 0, 10)
    assert len(rows) == 1 and "سعيد مبارك" in " ".join(str(v) for v in rows[0].values)
    assert dialog.next_message.text() == "سُجّلت الإحالة."


def test_the_household_and_the_card_are_one_click_away(qtbot, record, tmp_path, monkeypatch):
    _ctx, _assoc, _dist, _person, dialog = record
    dialog.household_button.click()
    assert dialog.tabs.currentWidget() is dialog.household_tab
    opened = []
    monkeypatch.setattr("aidoffice.ui.widgets.QDesktopServices.openUrl", lambda url: opened.append(url))
    monkeypatch.setattr(
        "aidoffice.ui.widgets.QFileDialog.getSaveFileName", lambda *_a, **_k: (str(tmp_path / "card.pdf"), "")
    )
    dialog.card_button.click()  # the button itself (it once passed False as the file)
    qtbot.waitUntil(lambda: bool(opened), timeout=20_000)
    assert (tmp_path / "card.pdf").read_bytes().startswith(b"%PDF")


def test_a_new_persons_form_offers_no_next_step_until_saved(qtbot, ctx):
    make_application()
    dialog = PersonDialog(ctx, None)
    qtbot.addWidget(dialog)
    assert not dialog.to_round_button.isEnabled() and not dialog.card_button.isEnabled()
