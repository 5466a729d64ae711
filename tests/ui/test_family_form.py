"""A family in one form: eight people typed as rows, each checked on entry, saved all together or not at all."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from aidoffice.app import make_application
from aidoffice.domain.persons import PersonInput
from aidoffice.services.persons import add_person, get_household, get_person
from aidoffice.services.tables import TableQuery, page_rows
from aidoffice.ui.pages.family import CHECK, FamilyDialog
from aidoffice.ui.pages.persons import PersonsPage
from tests.helpers.databases import count_persons

FAMILY = (
    ("عبدالله سالم محمد باحاج", "head", "M", "1975", "01010020001"),
    ("فاطمة عمر أحمد العمودي", "spouse", "F", "1980", "01010020002"),
    ("سالم عبدالله سالم باحاج", "son", "M", "2001", ""),
    ("خديجة عبدالله سالم باحاج", "daughter", "F", "2004", ""),
    ("محمد عبدالله سالم باحاج", "son", "M", "2007", ""),
    ("مريم عبدالله سالم باحاج", "daughter", "F", "15/03/2010", ""),
    ("سعاد عبدالله سالم باحاج", "daughter", "F", "2013", ""),
    ("علي عبدالله سالم باحاج", "son", "M", "2016", ""),
)


@pytest.fixture
def page(qtbot, ctx):
    make_application()
    widget = PersonsPage(ctx)
    qtbot.addWidget(widget)
    widget.select_table("households")
    widget.ensure_loaded()
    return widget


def _type_family(qtbot, dialog, family):
    for i, (name, relation, sex, born, national_id) in enumerate(family):
        row = 0 if i == 0 else dialog.add_row()
        dialog.set_row(row, name, relation=relation, sex=sex, born=born, national_id=national_id)
    for row in range(len(family)):
        dialog.check_row(row)
    qtbot.waitUntil(lambda: all(dialog.table.item(r, CHECK).text() not in ("", "…") for r in range(len(family))))


def test_a_family_of_eight_in_one_form(qtbot, page):
    ctx = page.ctx
    page.households.new_button.click()
    dialog = page.family
    assert isinstance(dialog, FamilyDialog) and dialog.isVisible()
    dialog.address.setText("حي الشرج، خلف المدرسة")
    _type_family(qtbot, dialog, FAMILY)
    assert all("✔" in dialog.table.item(r, CHECK).text() for r in range(8)), [
        dialog.table.item(r, CHECK).text() for r in range(8)
    ] + [dialog.message.text()]
    assert dialog.save()
    household = get_household(ctx, dialog.household_id)
    assert household.size == 8 and len(household.members) == 8
    assert sorted(rel for _pid, _name, rel in household.members).count("daughter") == 3
    head = get_person(ctx, household.head_person_id)
    assert head.full_name == FAMILY[0][0] and head.national_id == "01010020001"
    born_2010 = next(get_person(ctx, pid) for pid, name, _r in household.members if name.startswith("مريم"))
    assert str(born_2010.birth_date) == "2010-03-15"
    rows = page_rows(ctx, "households", TableQuery(), 0, 5)
    assert rows[0].values[-1] == "حي الشرج، خلف المدرسة"  # the address column is filled now


def test_a_registered_member_is_caught_and_nothing_is_half_saved(qtbot, page):
    ctx = page.ctx
    known = add_person(ctx, PersonInput(full_name="فاطمة عمر أحمد العمودي", national_id="01010020002", sex="F",
                                        birth_year=1980))  # fmt: skip
    before = count_persons(ctx)
    dialog = page.open_family()
    _type_family(qtbot, dialog, FAMILY[:3])
    assert "⚠" in dialog.table.item(1, CHECK).text()
    assert not dialog.save()  # the wife is probably registered: refused, and no one of the three is added
    assert count_persons(ctx) == before and dialog.table.currentRow() == 1
    assert "الصف 2" in dialog.message.text()
    card = dialog.candidates.card_of(known.id)
    assert card is not None
    card.same_button.click()  # «هو نفسه»: the registered wife joins the new household
    assert "مسجّل من قبل" in dialog.table.item(1, CHECK).text()
    assert dialog.save()
    household = get_household(ctx, dialog.household_id)
    assert known.id in [pid for pid, _n, _r in household.members]
    assert count_persons(ctx) == before + 2


def test_rows_that_repeat_or_lack_a_head_are_refused_in_arabic(qtbot, page):
    dialog = page.open_family()
    dialog.set_row(0, "عبدالله سالم محمد باحاج", born="1975")
    row = dialog.add_row()
    dialog.set_row(row, "عبدالله سالم محمد باحاج", relation="son", born="1975")
    assert not dialog.save()
    assert "يكرر الصف 1" in dialog.message.text()
    dialog.remove_current_row()
    dialog.table.item(0, 0).setText("")
    assert not dialog.save() and "الاسم" in dialog.message.text()


def test_the_first_letters_typed_go_into_the_heads_name(qtbot, page):
    """Ctrl+N then typing: nothing of the name is lost (the editor opened before the form was shown lost it)."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QKeyEvent
    from PySide6.QtWidgets import QApplication, QLineEdit

    from aidoffice.ui.pages.family import NAME

    dialog = page.open_family()
    dialog.activateWindow()

    def editing() -> bool:  # the name's editor, open in the table, has the keyboard
        focus = QApplication.focusWidget()
        return isinstance(focus, QLineEdit) and dialog.table.isAncestorOf(focus)

    qtbot.waitUntil(editing)
    editor = QApplication.focusWidget()
    for letter in "عوض":  # key events with Arabic text, as the keyboard sends them (QTest types ASCII only)
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(editor, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, letter))
    dialog.table.setFocus()  # the editor commits what was typed
    qtbot.waitUntil(lambda: dialog.table.item(0, NAME).text() == "عوض")


def test_a_son_typed_as_female_is_refused_before_anything_is_saved(qtbot, page):
    ctx = page.ctx
    before = count_persons(ctx)
    dialog = page.open_family()
    dialog.set_row(0, "عبدالله سالم محمد باحاج", sex="M", born="1975")
    row = dialog.add_row()
    dialog.set_row(row, "خديجة عبدالله سالم باحاج", relation="son", sex="F", born="2004")
    assert not dialog.save()
    assert "الصف 2" in dialog.message.text() and "لا يتفقان" in dialog.message.text()
    assert count_persons(ctx) == before


def test_a_saved_family_is_said_and_shown(qtbot, page):
    dialog = page.open_family()
    dialog.set_row(0, "عبدالله سالم محمد باحاج", sex="M", born="1975")
    dialog.check_row(0)
    qtbot.waitUntil(lambda: dialog.check_task is None and not dialog.pending)
    assert dialog.save()
    assert page.households.message.text() == "حُفظت الأسرة: 1 أفراد."
