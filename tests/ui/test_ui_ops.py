"""ServiceOp: a service call off the GUI thread, its refusal beside the field that caused it, its button back."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import shiboken6
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from aidoffice.errors import NotFoundError
from aidoffice.services.associations import AssociationInput, register_association
from aidoffice.services.overview import stats
from aidoffice.services.persons import get_person
from aidoffice.ui import ops
from aidoffice.ui.ops import ServiceOp
from aidoffice.ui.widgets import Form

UI = Path(__file__).resolve().parents[2] / "aidoffice" / "ui"


class Screen(QWidget):
    """What a page has: a form, a message line and the button that starts the call."""

    def __init__(self) -> None:
        super().__init__()
        self.form = Form()
        self.form.add("name", "اسم الجمعية", QLineEdit())
        self.form.add("registration_number", "رقم الإشهار", QLineEdit())
        self.form.finish()
        self.message = QLabel()
        self.button = QPushButton("حفظ")
        layout = QVBoxLayout(self)
        for widget in (self.form, self.message, self.button):
            layout.addWidget(widget)


def _screen(qtbot) -> Screen:
    screen = Screen()
    qtbot.addWidget(screen)
    screen.show()
    return screen


def _done(op: ServiceOp) -> bool:
    return op not in ops._in_flight


def test_a_refusal_naming_fields_is_shown_beside_them_and_the_button_comes_back(qtbot, ctx):
    screen = _screen(qtbot)
    screen.message.setText("رسالة قديمة")
    op = ServiceOp(
        screen,
        lambda: register_association(ctx, AssociationInput(name="", registration_number="")),
        form=screen.form,
        message=screen.message,
        buttons=[screen.button],
        busy="جارٍ الحفظ…",
    )
    op.run_in_background()
    assert not screen.button.isEnabled() and screen.message.text() == "جارٍ الحفظ…"
    qtbot.waitUntil(lambda: _done(op), timeout=10_000)
    assert screen.button.isEnabled()
    assert screen.form.errors["name"].text() == "اسم الجمعية مطلوب."
    assert screen.form.errors["registration_number"].text() == "رقم الإشهار مطلوب."
    assert screen.form.errors["name"].isVisible() and screen.message.text() == ""
    assert screen.form.fields["name"].hasFocus()  # the cursor on the first field to correct
    assert stats(ctx)["associations"] == 0


def test_a_refusal_for_no_field_goes_to_the_message_line_and_old_reasons_go(qtbot, ctx):
    screen = _screen(qtbot)
    screen.form.set_error("name", "سبب قديم")
    op = ServiceOp(screen, lambda: get_person(ctx, "غير-موجود"), form=screen.form, message=screen.message)
    assert op.run() is False
    assert screen.message.text() == "المستفيد غير موجود."
    assert not screen.form.errors["name"].isVisible()


def test_without_a_message_line_the_reason_goes_below_the_form(qtbot, ctx):
    screen = _screen(qtbot)
    assert not ServiceOp(screen, lambda: get_person(ctx, "غير-موجود"), form=screen.form).run()
    assert screen.form.general.text() == "المستفيد غير موجود." and not screen.form.general.isHidden()


def test_the_work_runs_off_the_gui_thread_and_the_answer_comes_back_on_it(qtbot, ctx):
    screen = _screen(qtbot)
    threads = {}

    def work():
        threads["work"] = QThread.currentThread()
        return register_association(ctx, AssociationInput(name="جمعية الخير", registration_number="12/2010"))

    def saved(record) -> None:
        threads["answer"] = QThread.currentThread()
        screen.message.setText(f"حُفظت {record.name}")

    op = ServiceOp(screen, work, form=screen.form, message=screen.message, buttons=[screen.button]).success(saved)
    op.run_in_background()
    qtbot.waitUntil(lambda: _done(op), timeout=10_000)
    gui = screen.thread()
    assert threads["answer"] is gui and threads["work"] is not gui
    assert screen.message.text() == "حُفظت جمعية الخير" and screen.button.isEnabled()
    assert op.result.name == "جمعية الخير" and stats(ctx)["associations"] == 1


def test_the_caller_answers_its_own_kind_of_refusal(qtbot, ctx):
    screen = _screen(qtbot)
    answered = []
    op = ServiceOp(screen, lambda: get_person(ctx, "غير-موجود"), message=screen.message)
    op.on(NotFoundError, answered.append).after(lambda: answered.append("after"))
    op.run_in_background()
    qtbot.waitUntil(lambda: _done(op), timeout=10_000)
    assert answered[0] == "after" and isinstance(answered[1], NotFoundError)
    assert screen.message.text() == ""  # answered by the caller, not shown twice


def test_an_answer_for_a_closed_screen_is_dropped(qtbot, ctx):
    screen = Screen()
    release = threading.Event()
    answered = []

    def work():
        release.wait(10)
        return get_person(ctx, "غير-موجود")

    op = ServiceOp(screen, work, message=screen.message, buttons=[screen.button]).on(NotFoundError, answered.append)
    op.run_in_background()
    shiboken6.delete(screen)  # the clerk closed the dialog meanwhile
    release.set()
    qtbot.waitUntil(lambda: _done(op), timeout=10_000)
    assert answered == []


def test_a_bug_reaches_the_crash_handler_and_the_button_comes_back(qtbot):
    screen = _screen(qtbot)

    def work():
        raise RuntimeError("a bug")

    op = ServiceOp(screen, work, message=screen.message, buttons=[screen.button])
    with qtbot.captureExceptions() as raised:
        op.run_in_background()
        qtbot.waitUntil(lambda: _done(op), timeout=10_000)
    assert screen.button.isEnabled()
    assert [type(exc) for _type, exc, _tb in raised] == [RuntimeError]


def test_a_service_op_needs_a_place_for_its_refusal(qtbot):
    screen = _screen(qtbot)
    try:
        ServiceOp(screen, lambda: None)
    except ValueError:
        return
    raise AssertionError("a ServiceOp without a form or a message line was accepted")


def test_screens_show_refusals_only_through_the_one_helper():
    """No screen catches a UserError to write its text on a widget by hand: ServiceOp places every refusal."""
    by_hand = re.compile(r"except UserError[^\n]*\n(?:[^\n]*\n){0,3}?[^\n]*(setText|show_error|showMessage)\(")
    found = [
        f"{path.relative_to(UI)}:{source[: match.start()].count(chr(10)) + 1}"
        for path in sorted(UI.rglob("*.py"))
        if path.name != "ops.py"
        for source in [path.read_text(encoding="utf-8")]
        for match in by_hand.finditer(source)
    ]
    assert found == []
