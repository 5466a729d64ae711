"""MainWindow: the office's window — person search over the registry and a status bar with the counts."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aidoffice import texts
from aidoffice.errors import UserError
from aidoffice.services import overview
from aidoffice.services.context import ServiceContext
from aidoffice.services.exports import EXPORTS, export_list, write_import_template
from aidoffice.services.office import get_office
from aidoffice.services.persons import search_persons
from aidoffice.ui import tasks
from aidoffice.ui.models.persons import PersonSearchTableModel
from aidoffice.ui.pages.import_page import ImportPage
from aidoffice.ui.pages.review import ReviewPage

SEARCH_DELAY_MS = 250


class MainWindow(QMainWindow):
    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle(texts.APP_TITLE)
        self.resize(1100, 700)

        self.search_edit = QLineEdit()
        self.search_edit.setPlaceholderText("ابحث بالاسم أو رقم البطاقة أو الهاتف…")
        self.search_edit.setClearButtonEnabled(True)
        self.results = PersonSearchTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.results)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.message = QLabel()
        self.message.setObjectName("message")

        persons = QWidget()
        layout = QVBoxLayout(persons)
        layout.addWidget(self.search_edit)
        layout.addWidget(self.message)
        layout.addWidget(self.table)
        self.review_page = ReviewPage(ctx)
        self.tabs = QTabWidget()
        self.tabs.addTab(persons, "المستفيدون")
        self.tabs.addTab(self.review_page, "مراجعة التكرار")
        self.import_page = ImportPage(ctx)
        self.tabs.addTab(self.import_page, "استيراد قائمة")
        self.setCentralWidget(self.tabs)

        self.status_office = QLabel()
        self.status_counts = QLabel()
        self.status_file = QLabel(str(ctx.db.path))
        self.status_file.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        for label in (self.status_office, self.status_counts, self.status_file):
            self.statusBar().addPermanentWidget(label)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.run_search)
        self.search_edit.textChanged.connect(self._on_search_edit_text_changed)
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self.search_edit.setFocus)
        self.export_menu = self.menuBar().addMenu("تصدير")
        for kind, (title, _columns) in EXPORTS.items():
            action = self.export_menu.addAction(f"{title} إلى Excel…")
            action.triggered.connect(lambda _checked=False, kind=kind: self.export(kind))
        self.export_menu.addSeparator()
        template = self.export_menu.addAction("نموذج قائمة مستفيدين فارغ…")
        template.triggered.connect(lambda _checked=False: self.export("template"))
        self.export_task: tasks.BackgroundTask | None = None
        self.refresh_status()

    def export(self, kind: str, target: Path | None = None) -> None:
        """Ask where (unless given), then write the workbook in the background."""
        if target is None:
            title = EXPORTS[kind][0] if kind in EXPORTS else "نموذج"
            name, _ = QFileDialog.getSaveFileName(self, "تصدير", f"{title}.xlsx", "Excel (*.xlsx)")
            if not name:
                return
            target = Path(name)

        def work(_progress, _cancelled):
            if kind == "template":
                write_import_template(self.ctx, target)
                return 0
            return export_list(self.ctx, kind, target)

        task = tasks.BackgroundTask(work)
        task.signals.finished.connect(lambda count: self._on_export_finished(target, count))
        task.signals.failed.connect(self._on_export_failed)
        self.statusBar().showMessage("جارٍ التصدير…")
        self.export_task = tasks.start(task)

    def _on_export_finished(self, target: Path, count: int) -> None:
        self.export_task = None
        self.statusBar().showMessage(f"تم التصدير: {count:,} صف — {target.name}", 10_000)

    def _on_export_failed(self, text: str) -> None:
        self.export_task = None
        self.statusBar().showMessage(text, 10_000)

    def _on_search_edit_text_changed(self, _text: str) -> None:
        self._search_timer.start()

    def run_search(self) -> None:
        try:
            rows = search_persons(self.ctx, self.search_edit.text(), limit=200)
        except UserError as exc:
            self.message.setText(exc.message)
            return
        self.results.set_rows(rows)
        text = self.search_edit.text().strip()
        self.message.setText(f"{len(rows)} نتيجة" if text else "")

    def refresh_status(self) -> None:
        office = get_office(self.ctx)
        self.status_office.setText(office.name if office else "")
        counts = overview.stats(self.ctx)
        self.status_counts.setText(
            f"الجمعيات: {counts['associations']:,} — المستفيدون: {counts['persons']:,} — "
            f"الأسر: {counts['households']:,}"
        )
