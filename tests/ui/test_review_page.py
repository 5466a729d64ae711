"""The review page offscreen: a pair side by side with differences highlighted, decided with F5/F6/F7 and undone."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox

from aidoffice.app import make_application
from aidoffice.domain.persons import PersonInput
from aidoffice.services.duplicates import scan_registry
from aidoffice.services.persons import add_person, get_person
from aidoffice.services.review import MERGE_FIELDS, review_queue
from aidoffice.ui.pages.review import DIFFERENT, ReviewPage
from tests.helpers.legacy import entered_before_the_check

SALEM = dict(
    full_name="سالم عوض سعيد بامطرف", national_id="01010012345", birth_year="1980", sex="ذكر", district="المكلا"
)


@pytest.fixture
def two_pairs(ctx):
    # Open pairs as an upgraded office's registry holds them: the second of each was entered before the check on
    # entry (typed today, it would be stopped, or remembered «شخص آخر», and never reach the queue).
    a = add_person(ctx, PersonInput(**SALEM))
    b = entered_before_the_check(ctx, PersonInput(**{**SALEM, "full_name": "سالم عوض بامطرف", "phone": "777123456"}))
    c = add_person(ctx, PersonInput(full_name="فاطمة علي صالح العمودي", national_id="02020012345", sex="أنثى"))
    d = entered_before_the_check(
        ctx, PersonInput(full_name="فاطمه علي صالح العمودي", national_id="02020012345", sex="أنثى")
    )
    scan_registry(ctx)
    return a, b, c, d


@pytest.fixture
def page(qtbot, ctx, two_pairs):
    make_application()
    widget = ReviewPage(ctx)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _row(field: str) -> int:
    return list(MERGE_FIELDS).index(field)


def test_pair_is_shown_side_by_side_with_differences_highlighted(page):
    assert page.pair is not None and page.reasons.count() > 0
    assert "احتمال أن يكونا شخصاً واحداً" in page.header.text() and "٪" in page.header.text()
    assert "تنتظر المراجعة: 2" in page.counts.text() and "شبه مؤكد" in page.counts.text()
    name_row = _row("full_name")
    assert page.table.item(name_row, 1).background().color() == DIFFERENT
    assert page.table.item(_row("national_id"), 1).background().color() != DIFFERENT
    assert page.table.item(_row("national_id"), 1).textAlignment() & Qt.AlignmentFlag.AlignLeft


def test_keyboard_merge_with_a_chosen_field_then_undo(qtbot, page, ctx, two_pairs):
    if "777123456" not in (page.pair.a.values["phone"], page.pair.b.values["phone"]):
        qtbot.keyClick(page, Qt.Key.Key_F7)  # the queue is ordered by the engine's score: skip to Salem's pair
    first = page.pair
    assert "777123456" in (first.a.values["phone"], first.b.values["phone"])
    phone_box = page.table.cellWidget(_row("phone"), 3)
    assert isinstance(phone_box, QCheckBox)
    keep_is_a = first.a.values["phone"] == ""
    if not keep_is_a:
        qtbot.keyClick(page, Qt.Key.Key_F8)
    assert page.table.cellWidget(_row("phone"), 3).isChecked()  # an empty field is filled from the other record
    survivor = first.a.id if keep_is_a else first.b.id
    qtbot.keyClick(page, Qt.Key.Key_F5)
    assert get_person(ctx, survivor).phone == "777123456"
    assert page.pair is None or page.pair.id != first.id
    qtbot.keyClick(page, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert get_person(ctx, survivor).phone == ""
    assert {p.id for p in review_queue(ctx)} >= {first.id}


def test_distinct_and_skip(qtbot, page, ctx):
    first = page.pair
    qtbot.keyClick(page, Qt.Key.Key_F7)
    assert page.pair.id != first.id
    second = page.pair
    qtbot.keyClick(page, Qt.Key.Key_F6)
    assert second.id not in {p.id for p in review_queue(ctx)}
    assert page.pair is None  # the skipped pair waits for the next session


def test_scan_runs_in_the_background(qtbot, page):
    page.start_scan()
    qtbot.waitUntil(lambda: page.scan_task is None, timeout=10_000)
    assert "انتهى الفحص" in page.message.text()
    assert page.scan_button.isEnabled()
