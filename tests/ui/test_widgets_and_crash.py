"""Number and date fields that accept Arabic input safely; the crash dialog and its report without personal data."""

from __future__ import annotations

import logging
import sys

import pytest
from PySide6.QtGui import QValidator

from aidoffice.app import make_application
from aidoffice.domain.arabic import parse_decimal
from aidoffice.ui import crash
from aidoffice.ui.widgets import DateField, ltr_edit


@pytest.fixture
def app(qapp):
    return make_application()


@pytest.mark.parametrize("typed", ["12.5", "١٢٫٥", "۱۲٫۵", "12٫5"])
def test_decimal_fields_never_turn_twelve_and_a_half_into_125(app, typed):
    edit = ltr_edit(decimals=True)
    state, text, _ = edit.validator().validate(typed, len(typed))
    assert state == QValidator.State.Acceptable and text == typed
    edit.setText(typed)
    assert str(parse_decimal(edit.text())) == "12.5"


@pytest.mark.parametrize("typed", ["12a", "١٢-", "1.2.3", "سبعة"])
def test_number_fields_refuse_letters(app, typed):
    assert ltr_edit(decimals=True).validator().validate(typed, 0)[0] == QValidator.State.Invalid


def test_ids_and_phones_are_left_to_right_islands(app):
    from PySide6.QtCore import Qt

    edit = ltr_edit(digits=True)
    assert edit.layoutDirection() == Qt.LayoutDirection.LeftToRight
    assert edit.validator().validate("٠٧٧٧", 4)[0] == QValidator.State.Acceptable


def test_date_field_reads_any_digits_and_shows_the_hijri_date(qtbot, app):
    field = DateField()
    qtbot.addWidget(field)
    field.edit.setText("١/٣/٢٠٢٦")
    assert field.value().isoformat() == "2026-03-01"
    assert field.hijri.text() == "1447/09/12 هـ"
    field.edit.setText("31/02/2026")
    assert field.hijri.text() == ""
    with pytest.raises(ValueError):
        field.value()
    field.edit.setText("01/01/2095")  # a typo far in the future: no Hijri twin, no error
    assert field.hijri.text() == ""


def test_crash_report_holds_no_personal_data(app, qtbot, caplog):
    who = "سالم عوض بامطرف ذو البطاقة 01010012345 (Salem Awad Bamatraf, +967777123456)"
    try:
        raise RuntimeError(f"فشل حفظ {who}")  # the stack shows this line of code, not the value
    except RuntimeError:
        report = crash.crash_report(*sys.exc_info())
    assert "سالم" not in report and "01010012345" not in report
    assert "Salem" not in report and "777123456" not in report
    assert "RuntimeError" in report and "test_widgets_and_crash.py" in report
    with caplog.at_level(logging.ERROR, logger="aidoffice.crash"):
        phone = "777123456"
        try:
            raise ValueError(f"رقم {phone}")
        except ValueError:
            crash.handle_exception(*sys.exc_info())
    dialog = crash._open_dialogs[-1]
    qtbot.addWidget(dialog)
    assert dialog.isVisible() and "ValueError" in dialog.report.toPlainText()
    assert "777123456" not in caplog.text and "ValueError" in caplog.text
    dialog.copy()
    from PySide6.QtWidgets import QApplication

    assert QApplication.clipboard().text() == dialog.report.toPlainText()
    dialog.reject()
    assert dialog not in crash._open_dialogs


def test_garbage_is_collected_on_the_gui_thread_only(app):
    import gc

    from aidoffice.ui.tasks import GuiThreadCollector, collect_on_gui_thread

    collector = collect_on_gui_thread(app)
    assert isinstance(collector, GuiThreadCollector) and collect_on_gui_thread(app) is collector
    assert not gc.isenabled() and collector.timer.isActive()
    for _ in range(gc.get_threshold()[0] + 10):
        cycle = []
        cycle.append(cycle)
    assert gc.get_count()[0] > gc.get_threshold()[0]
    collector.check()
    assert gc.get_count()[0] < gc.get_threshold()[0]
