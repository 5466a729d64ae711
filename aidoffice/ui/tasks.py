"""One way to run a service call off the GUI thread, with progress, cancel and a result back on the GUI thread."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from aidoffice.errors import UserError


class _Signals(QObject):
    progressed = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)
    crashed = Signal(object)


class BackgroundTask(QRunnable):
    """Runs `work(progress, should_cancel)` on the thread pool. UserErrors arrive as `failed` (their Arabic text);
    anything else as `crashed`, for the crash handler."""

    def __init__(self, work: Callable[[Callable[[int, int], None], Callable[[], bool]], object]) -> None:
        super().__init__()
        self.work = work
        self.signals = _Signals()
        self._cancel = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    def run(self) -> None:
        try:
            result = self.work(self.signals.progressed.emit, self._cancel.is_set)
        except UserError as exc:
            self.signals.failed.emit(exc.message)
        except Exception as exc:
            self.signals.crashed.emit(exc)
        else:
            self.signals.finished.emit(result)


def start(task: BackgroundTask) -> BackgroundTask:
    QThreadPool.globalInstance().start(task)
    return task
