"""An edit form opened, then changed by another clerk on another PC: the save says who changed what, in Arabic, and
keeps everything typed; a second save, once told, goes ahead."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from aidoffice.app import make_application
from aidoffice.domain.persons import PersonInput
from aidoffice.services.associations import (
    AssociationInput,
    get_association,
    register_association,
    update_association,
)
from aidoffice.services.context import open_context
from aidoffice.services.persons import add_person, get_person, update_person
from aidoffice.ui.pages.associations import AssociationDialog
from aidoffice.ui.pages.persons import PersonDialog


@pytest.fixture
def other_clerk(ctx):
    """The same database opened as another clerk's PC."""
    where = ctx.db.path if ctx.db.path is not None else ctx.db.engine.url.render_as_string(hide_password=False)
    other = open_context(where, username="clerk2")
    yield other
    other.close()


def _type(widget, text: str) -> None:
    widget.clear()
    QTest.keyClicks(widget, text)  # digits: ASCII


def test_association_file_changed_meanwhile_says_so_and_keeps_the_typed_values(qtbot, ctx, other_clerk):
    make_application()
    assoc = register_association(ctx, AssociationInput(name="جمعية الإحسان", registration_number="55/2015"))
    dialog = AssociationDialog(ctx, assoc.id)
    qtbot.addWidget(dialog)
    dialog.show()
    # Meanwhile, on another PC: the address.
    update_association(
        other_clerk,
        assoc.id,
        AssociationInput(name="جمعية الإحسان", registration_number="55/2015", address="المكلا — الديس"),
        expected_version=assoc.version,
    )
    phone = dialog.form.fields["phone"]
    _type(phone, "777654321")
    QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    message = dialog.form.general
    assert message.isVisible()
    text = message.text()
    assert "عدّل clerk2 ملف الجمعية" in text and "العنوان" in text and "لم يُحفظ تعديلك" in text
    assert phone.text() == "777654321"  # nothing typed is lost
    assert get_association(ctx, assoc.id).phone == ""  # nor written over the other clerk's change

    # Told, the clerk saves again on purpose: it goes ahead.
    QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not message.isVisible()
    assert get_association(ctx, assoc.id).phone == "777654321"


def test_person_changed_meanwhile_says_so_and_keeps_the_typed_values(qtbot, ctx, other_clerk):
    make_application()
    person = add_person(ctx, PersonInput(full_name="سعيد مبارك عمر باسلامة", national_id="01020030045"))
    dialog = PersonDialog(ctx, person.id)
    qtbot.addWidget(dialog)
    dialog.show()
    update_person(
        other_clerk,
        person.id,
        PersonInput(full_name="سعيد مبارك عمر باسلامة", national_id="01020030045", phone="777123456"),
        expected_version=person.version,
    )
    notes = dialog.form.fields["notes"]
    notes.setPlainText("يسكن مع أخيه")
    QTest.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    text = dialog.form.general.text()
    assert "عدّل clerk2 سجل المستفيد" in text and "الهاتف" in text, text
    assert notes.toPlainText() == "يسكن مع أخيه"
    assert get_person(ctx, person.id).notes == ""
