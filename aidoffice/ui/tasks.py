"""One way to run a service call off the GUI thread, with progress, cancel and a result back on the GUI thread."""

from __future__ import annotations

import gc
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal

from aidoffice.errors import UserError


class _Signals(QObject):
    progressed = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str)
    refused = Signal(object)  # the UserError itself, for a caller that places it beside a field (ui/ops.py)
    crashed = Signal(object)


class BackgroundTask(QRunnable):
    """Runs `work(progress, should_cancel)` on the thread pool. UserErrors arrive as `failed` (their Arabic text)
    and as `refused` (the error, with its field); anything else as `crashed`, for the crash handler."""

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
            self.signals.refused.emit(exc)
            self.signals.failed.emit(exc.message)
        except Exception as exc:
            self.signals.crashed.emit(exc)
        else:
            self.signals.finished.emit(result)


def start(task: BackgroundTask) -> BackgroundTask:
    QThreadPool.globalInstance().start(task)
    return task


class GuiThreadCollector(QObject):
    """Python's cyclic garbage collector runs in whichever thread happens to allocate. If a worker thread collects
    a cycle that holds a Qt widget (a lambda slot that refers to its own dialog is enough), Qt destroys the widget
    off the GUI thread and the process crashes. So automatic collection is switched off and the GUI thread collects
    on a timer instead, generation by generation as the thresholds say (the approach pyqtgraph takes)."""

    def __init__(self, parent: QObject, interval_ms: int = 500) -> None:
        super().__init__(parent)
        gc.disable()
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(interval_ms)

    def check(self) -> None:
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if counts[generation] > thresholds[generation]:
                gc.collect(generation)
                return


def collect_on_gui_thread(app: QObject) -> GuiThreadCollector:
    """Install the collector once per application."""
    existing = app.findChild(GuiThreadCollector)
    return existing if existing is not None else GuiThreadCollector(app)
