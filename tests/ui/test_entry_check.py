"""The check on entry offscreen: the candidates panel fills while the clerk types, save is refused until «شخص آخر»,
«هو نفسه» opens the registered record, and new household members and recipients go through the same check."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QThreadPool
from PySide6.QtWidgets import QApplication

from aidoffice.domain.persons import PersonInput
from aidoffice.services.aid import DistributionInput, ProjectInput, create_distribution, create_project
from aidoffice.services.associations import AssociationInput, register_association
from aidoffice.services.duplicates import scan_registry
from aidoffice.services.persons import add_person, create_household, get_household, get_person
from aidoffice.services.review import review_queue
from aidoffice.ui.pages.distributions import DistributionDialog
from aidoffice.ui.pages.persons import PersonDialog, PersonPicker, PersonsPage
from aidoffice.ui.widgets import select_value
from tests.helpers.databases import count_persons

AMNA = dict(full_name="آمنة أحمد حسين الجابري", sex="أنثى", birth_year="1960", district="المكلا", phone="777123456")


def _type_amna_again(dialog: PersonDialog) -> None:
    """What the clerk typed: her name without hamza or ta marbuta, and the rest as on her card."""
    f = dialog.form.fields
    f["full_name"].setText("امنه احمد حسين الجابري")
    f["phone"].setText("777123456")
    select_value(f["sex"], "F")
    f["birth_year"].setText("١٩٦٠")
    f["district"].setCurrentIndex(f["district"].findText("المكلا"))


def _card_names(dialog: PersonDialog) -> list[str]:
    return [card.name.text() for card in dialog.candidates.cards]


@pytest.fixture
def amna(ctx):
    return add_person(ctx, PersonInput(**AMNA))


@pytest.fixture
def page(qtbot, ctx):
    widget = PersonsPage(ctx)
    qtbot.addWidget(widget)
    yield widget
    QThreadPool.globalInstance().waitForDone(5_000)  # no check left running against a closed database


def test_candidates_show_while_typing_save_is_refused_then_saved_as_someone_else(qtbot, ctx, amna, page):
    dialog = page.open_person(None)
    qtbot.addWidget(dialog)
    assert dialog.width() <= 1000 and dialog.height() <= 700
    _type_amna_again(dialog)
    # Before saving: the panel already shows who she may be, with the reasons and the decision.
    qtbot.waitUntil(lambda: _card_names(dialog) == ["آمنة أحمد حسين الجابري"], timeout=5_000)
    card = dialog.candidates.card_of(amna.id)
    assert card.decision.text().startswith("تكرار مرجح")
    assert "مواليد 1960" in card.facts.text() and "المكلا" in card.facts.text()
    assert card.reasons.text().startswith("لماذا:")
    assert card.aid.text() == "لا مساعدات مسجلة."
    assert "تكرار مرجح" in dialog.candidates.status.text()

    assert not dialog.save()
    assert dialog.candidates.message.isVisible() and "«شخص آخر»" in dialog.candidates.message.text()
    assert dialog.form.fields["full_name"].text() == "امنه احمد حسين الجابري"  # nothing typed is lost
    assert dialog.person_id is None and count_persons(ctx) == 1
    assert dialog.candidates.card_of(amna.id).property("attention") is True  # the card that stopped the save

    dialog.candidates.card_of(amna.id).other_button.click()
    assert dialog.candidates.card_of(amna.id).other_button.text() == "✓ شخص آخر"
    assert dialog.candidates.card_of(amna.id).property("attention") is False
    assert "اضغط «حفظ»" in dialog.candidates.message.text()
    assert dialog.save()
    assert dialog.person_id is not None and count_persons(ctx) == 2
    assert get_person(ctx, dialog.person_id).full_name == "امنه احمد حسين الجابري"
    scan_registry(ctx)
    assert review_queue(ctx) == []  # the clerk's «شخص آخر» is remembered
    qtbot.waitUntil(lambda: dialog.check_task is None, timeout=5_000)


def test_same_person_opens_the_registered_record_and_adds_nothing(qtbot, ctx, amna, page):
    dialog = page.open_person(None)
    qtbot.addWidget(dialog)
    _type_amna_again(dialog)
    qtbot.waitUntil(lambda: dialog.candidates.card_of(amna.id) is not None, timeout=5_000)
    dialog.candidates.card_of(amna.id).same_button.click()
    assert not dialog.isVisible()
    opened = dialog.existing
    assert opened is not None and opened.isVisible() and opened.person_id == amna.id
    qtbot.addWidget(opened)
    assert opened.form.fields["full_name"].text() == "آمنة أحمد حسين الجابري"
    assert count_persons(ctx) == 1


def test_a_late_answer_to_older_typing_is_dropped(qtbot, ctx, amna, page):
    dialog = page.open_person(None)
    qtbot.addWidget(dialog)
    _type_amna_again(dialog)
    dialog.check_entry()  # the check for Amna is on its way…
    dialog.form.fields["full_name"].setText("خالد محمد علي العمودي")  # …and the clerk types another name
    QThreadPool.globalInstance().waitForDone(5_000)
    QApplication.processEvents()
    assert _card_names(dialog) == []  # Amna's answer arrived late: not shown beside Khalid
    qtbot.waitUntil(lambda: "لا يوجد سجل مشابه" in dialog.candidates.status.text(), timeout=5_000)
    assert _card_names(dialog) == []


def test_a_new_household_member_goes_through_the_check_then_joins(qtbot, ctx, amna, page):
    household = create_household(ctx, amna.id, size=3)
    dialog = page.open_person(amna.id)
    qtbot.addWidget(dialog)
    dialog.tabs.setCurrentIndex(1)
    assert dialog.new_member_button.isEnabled()
    select_value(dialog.relation, "daughter")
    child = dialog.add_new_member()
    qtbot.addWidget(child)
    child.form.fields["full_name"].setText("مريم سالم عوض الجابري")
    select_value(child.form.fields["sex"], "F")
    child.form.fields["birth_year"].setText("2010")
    qtbot.waitUntil(lambda: "لا يوجد سجل مشابه" in child.candidates.status.text(), timeout=5_000)
    assert child.save()
    assert not child.isVisible()
    members = get_household(ctx, household.id).members
    assert [(name, relation) for _id, name, relation in members if _id != amna.id] == [
        ("مريم سالم عوض الجابري", "daughter")
    ]
    assert dialog.members_table.rowCount() == 2 and dialog.household_message.text() == ""


def test_a_new_recipient_goes_through_the_check_and_the_registered_one_is_listed(qtbot, ctx, amna, page):
    assoc = register_association(ctx, AssociationInput(name="جمعية الإحسان", registration_number="55/2015"))
    project = create_project(ctx, ProjectInput(association_id=assoc.id, title="سلال", aid_type="food_basket"))
    dist = create_distribution(ctx, DistributionInput(project_id=project.id, distribution_date=date(2026, 3, 2)))
    sheet = DistributionDialog(ctx, dist.id)
    qtbot.addWidget(sheet)
    # A person not registered yet: saved through the check, then listed.
    new = sheet.add_new_person()
    qtbot.addWidget(new)
    new.form.fields["full_name"].setText("خالد محمد علي العمودي")
    qtbot.waitUntil(lambda: "لا يوجد سجل مشابه" in new.candidates.status.text(), timeout=5_000)
    assert new.save() and not new.isVisible()
    assert sheet.lines.rowCount() == 1 and sheet.message.text() == ""
    # Amna typed again: refused, then «هو نفسه» lists the registered Amna and adds no one to the registry.
    again = sheet.add_new_person()
    qtbot.addWidget(again)
    _type_amna_again(again)
    qtbot.waitUntil(lambda: again.candidates.card_of(amna.id) is not None, timeout=5_000)
    assert not again.save()
    again.candidates.card_of(amna.id).same_button.click()
    assert not again.isVisible() and again.existing is None
    assert sheet.lines.rowCount() == 2 and count_persons(ctx) == 2
    QThreadPool.globalInstance().waitForDone(5_000)


def test_pick_list_tells_namesakes_apart(qtbot, ctx, amna):
    add_person(ctx, PersonInput(**{**AMNA, "phone": "", "birth_year": "1994", "district": "الشحر"}))
    picker = PersonPicker(ctx)
    qtbot.addWidget(picker)
    picker.edit.setText("آمنة الجابري")
    picker.search()
    labels = sorted(picker.results.item(i).text() for i in range(picker.results.count()))
    assert labels == ["آمنة أحمد حسين الجابري — مواليد 1960 — المكلا", "آمنة أحمد حسين الجابري — مواليد 1994 — الشحر"]
