"""The crash dialog: any uncaught error is logged and shown with a copyable report that holds no personal data."""

from __future__ import annotations

import logging
import platform
import sys
from types import TracebackType

from PySide6 import __version__ as pyside_version
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QDialogButtonBox, QLabel, QPlainTextEdit, QVBoxLayout

from aidoffice import __version__, texts
from aidoffice.logs import safe_traceback

log = logging.getLogger("aidoffice.crash")


def crash_report(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> str:
    """Program version, platform, the exception's type and stack (and its causes'), never its message: a message can
    carry a name in any script, an ID or a phone (see logs.safe_traceback)."""
    if exc.__traceback__ is None:
        exc = exc.with_traceback(tb)
    return "\n".join(
        [
            f"AidOffice {__version__} — Python {platform.python_version()} — PySide6 {pyside_version}",
            f"{platform.system()} {platform.release()} {platform.machine()}",
            safe_traceback(exc),
        ]
    )


class CrashDialog(QDialog):
    def __init__(self, report: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("خطأ غير متوقع")
        self.resize(640, 420)
        intro = QLabel(
            "حدث خطأ غير متوقع ولم يكتمل الإجراء الأخير. ما حُفظ من قبل محفوظ.\n"
            "انسخ التقرير التالي وأرسله للدعم الفني (لا يحتوي على بيانات المستفيدين)."
        )
        intro.setWordWrap(True)
        self.report = QPlainTextEdit(report)
        self.report.setReadOnly(True)
        self.report.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.copy_button = buttons.addButton("نسخ التقرير", QDialogButtonBox.ButtonRole.ActionRole)
        self.copy_button.clicked.connect(self.copy)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.report, 1)
        layout.addWidget(buttons)

    def copy(self) -> None:
        QApplication.clipboard().setText(self.report.toPlainText())


_open_dialogs: list[CrashDialog] = []


def handle_exception(exc_type, exc, tb) -> None:
    """sys.excepthook: log the report, then show it (the application keeps running)."""
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    report = crash_report(exc_type, exc, tb)
    log.error("unexpected error\n%s", report)
    if QApplication.instance() is None:
        sys.stderr.write(texts.UNEXPECTED_ERROR.format(log="") + "\n" + report + "\n")
        return
    dialog = CrashDialog(report)
    _open_dialogs.append(dialog)
    dialog.finished.connect(lambda _result: _open_dialogs.remove(dialog))
    dialog.open()


def install() -> None:
    sys.excepthook = handle_exception
