"""ServiceOp: the one way a screen calls a service — off the GUI thread or at once — and shows a refusal beside the
widget that caused it (Anki's `aqt.operations.CollectionOp`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

import shiboken6
from PySide6.QtWidgets import QAbstractButton, QLabel, QWidget

from aidoffice.errors import UserError, ValidationError
from aidoffice.ui import tasks
from aidoffice.ui.widgets import Form

T = TypeVar("T")
Line = QLabel | Callable[[str], object]  # a page's message line, or anything that shows one line (a status bar)

_in_flight: set[ServiceOp] = set()  # an operation on the thread pool is kept alive until its answer is shown


def _say(line: Line | None, text: str) -> None:
    if line is None:
        return
    if isinstance(line, QLabel):
        if shiboken6.isValid(line):
            line.setText(text)
    else:
        line(text)


def show_refusal(exc: UserError, *, form: Form | None = None, message: Line | None = None) -> None:
    """Where a refusal is shown, decided once: reasons naming a field of the form go under that field (the first
    one gets the cursor); any other reason goes to the page's message line, or below the form when there is none."""
    if form is not None and (isinstance(exc, ValidationError) or (exc.field and exc.field in form.fields)):
        form.show_error(exc)
        _say(message, "")
        return
    if message is not None:
        if form is not None:
            form.clear_errors()
        _say(message, exc.message)
    elif form is not None:
        form.show_error(exc)


class ServiceOp(Generic[T]):
    """A service call made for a screen.

    `op` takes no argument and must not touch a widget (it may run on the thread pool). On success `success(result)`
    runs on the GUI thread; a `UserError` is shown by `show_refusal` beside the form's field or on the message line,
    unless the caller answers that kind itself with `on(kind, handler)` (a likely duplicate, a line already
    received). The buttons are disabled while the call runs in the background and enabled again whatever the
    outcome; `busy` is shown on the message line meanwhile. Anything but a `UserError` is a bug and reaches the crash
    handler. If the screen was closed meanwhile, the answer is dropped.

        ServiceOp(self, lambda: approve_distribution(ctx, id), message=self.message, buttons=[self.approve_button])
            .success(lambda _record: self.reload())
            .run_in_background()
    """

    def __init__(
        self,
        parent: QWidget,
        op: Callable[[], T],
        *,
        form: Form | None = None,
        message: Line | None = None,
        buttons: Iterable[QAbstractButton] = (),
        busy: str = "",
    ) -> None:
        if form is None and message is None:
            raise ValueError("a ServiceOp needs a form or a message line to show a refusal")
        self.parent = parent
        self.op = op
        self.form = form
        self.message = message
        self.buttons = list(buttons)
        self.busy = busy
        self.result: T | None = None
        self.task: tasks.BackgroundTask | None = None
        self._success: Callable[[T], Any] | None = None
        self._after: Callable[[], Any] | None = None
        self._handlers: list[tuple[type[UserError], Callable[[Any], Any]]] = []

    # --- building -------------------------------------------------------------------------------------------
    def success(self, fn: Callable[[T], Any]) -> ServiceOp[T]:
        self._success = fn
        return self

    def on(self, kind: type[UserError], handler: Callable[[Any], Any]) -> ServiceOp[T]:
        """This kind of refusal is answered by `handler(exc)` instead of being shown (first match wins)."""
        self._handlers.append((kind, handler))
        return self

    def after(self, fn: Callable[[], Any]) -> ServiceOp[T]:
        """Runs first when the call is over, whatever the outcome (forget a task, refresh a table)."""
        self._after = fn
        return self

    # --- running --------------------------------------------------------------------------------------------
    def run(self) -> bool:
        """At once, on the GUI thread, for a dialog that must know the outcome now: True when it succeeded."""
        self._start()
        try:
            result = self.op()
        except UserError as exc:
            self._finish()
            self._refuse(exc)
            return False
        self._finish()
        self._succeed(result)
        return True

    def run_in_background(self) -> tasks.BackgroundTask:
        """On the thread pool; the answer comes back on the GUI thread."""
        op = self.op
        self.task = tasks.BackgroundTask(lambda _progress, _cancelled: op())
        self.task.signals.finished.connect(self._on_task_finished)
        self.task.signals.refused.connect(self._on_task_refused)
        self.task.signals.crashed.connect(self._on_task_crashed)
        self._start()
        for button in self.buttons:
            button.setEnabled(False)
        _in_flight.add(self)
        return tasks.start(self.task)

    # --- outcomes -------------------------------------------------------------------------------------------
    def _start(self) -> None:
        if self.form is not None:
            self.form.clear_errors()
        _say(self.message, self.busy)

    def _finish(self) -> None:
        for button in self.buttons:
            if shiboken6.isValid(button):
                button.setEnabled(True)
        if self._after is not None:
            self._after()

    def _refuse(self, exc: UserError) -> None:
        for kind, handler in self._handlers:
            if isinstance(exc, kind):
                handler(exc)
                return
        show_refusal(exc, form=self.form, message=self.message)

    def _succeed(self, result: T) -> None:
        self.result = result
        if self._success is not None:
            self._success(result)

    def _alive(self) -> bool:
        _in_flight.discard(self)
        return shiboken6.isValid(self.parent)

    def _on_task_finished(self, result: T) -> None:
        if self._alive():
            self._finish()
            self._succeed(result)

    def _on_task_refused(self, exc: UserError) -> None:
        if self._alive():
            self._finish()
            self._refuse(exc)

    def _on_task_crashed(self, exc: BaseException) -> None:
        if self._alive():
            self._finish()
        raise exc  # a bug: the crash handler (sys.excepthook) shows it and writes the log
