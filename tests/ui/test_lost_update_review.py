"""The review page shows two records side by side; one of them is corrected on another PC before the reviewer
merges: the merge is refused with who changed what, the pair is shown again with the change, the record kept and the
fields chosen stay where the values did not change, and a second merge takes what is shown now."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox

from aidoffice.app import make_application
from aidoffice.domain.persons import PersonInput
from aidoffice.services.context import open_context
from aidoffice.services.duplicates import scan_registry
from aidoffice.services.persons import add_person, get_person, update_person
from aidoffice.services.review import MERGE_FIELDS, review_queue
from aidoffice.ui.pages.review import ReviewPage
from tests.helpers.legacy import entered_before_the_check

SALEM = dict(
    full_name="سالم عوض سعيد بامطرف", national_id="01010012345", birth_year="1980", sex="ذكر", district="المكلا"
)


@pytest.fixture
def other_clerk(ctx):
    """The same database opened as another clerk's PC."""
    where = ctx.db.path if ctx.db.path is not None else ctx.db.engine.url.render_as_string(hide_password=False)
    other = open_context(where, username="clerk2")
    yield other
    other.close()


def _box(page: ReviewPage, field: str) -> QCheckBox:
    box = page.table.cellWidget(list(MERGE_FIELDS).index(field), 3)
    assert isinstance(box, QCheckBox)
    return box


def test_a_record_corrected_since_the_pair_was_shown_is_shown_again_before_the_merge(qtbot, ctx, other_clerk):
    make_application()
    add_person(ctx, PersonInput(**SALEM))
    entered_before_the_check(ctx, PersonInput(**{**SALEM, "full_name": "سالم عوض بامطرف", "phone": "777123456"}))
    scan_registry(ctx)
    page = ReviewPage(ctx)
    qtbot.addWidget(page)
    page.show()
    shown = page.pair
    if shown.a.values["phone"]:  # keep the record without the phone, and fill it from the other
        qtbot.mouseClick(page.swap_button, Qt.MouseButton.LeftButton)
    keep, survivor, other = page.keep, *((shown.a, shown.b) if page.keep == "a" else (shown.b, shown.a))
    assert _box(page, "phone").isChecked()
    _box(page, "full_name").setChecked(True)  # the reviewer also takes the other record's spelling of the name

    # Meanwhile, on another PC: the record to be merged away gets its birth date.
    person = get_person(other_clerk, other.id)
    update_person(
        other_clerk,
        other.id,
        PersonInput(**{**SALEM, "full_name": person.full_name, "phone": person.phone, "birth_date": "15/03/1980"}),
        expected_version=person.version,
    )
    qtbot.mouseClick(page.merge_button, Qt.MouseButton.LeftButton)

    text = page.message.text()
    assert "عدّل clerk2 سجل المستفيد" in text and "تاريخ الميلاد" in text, text
    assert page.pair is not None and page.pair.id == shown.id  # the same pair, shown again
    column = 2 if keep == "a" else 1
    assert page.table.item(list(MERGE_FIELDS).index("birth_date"), column).text() == "15/03/1980"  # their change
    assert page.keep == keep and _box(page, "phone").isChecked() and _box(page, "full_name").isChecked()
    # the kept record has no birth date and the other now has one: taken, as a pair shown afresh would (the
    # reviewer's earlier "no" was about an empty field)
    assert _box(page, "birth_date").isChecked()
    assert "لم يُدمج شيء" in text and "F5" in text and page.message.wordWrap()
    assert [p.id for p in review_queue(ctx)] == [shown.id]  # nothing merged

    qtbot.mouseClick(page.merge_button, Qt.MouseButton.LeftButton)  # told, the reviewer merges what is shown
    assert "تم الدمج" in page.message.text()
    kept = get_person(ctx, survivor.id)
    assert kept.phone == "777123456" and kept.full_name == person.full_name
    assert str(kept.birth_date) == "1980-03-15"  # the other clerk's change is not lost by the merge
    assert review_queue(ctx) == []
