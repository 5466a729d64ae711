"""The reports page: choose a printed report and its parameters, generate it in the background, open it to preview
and print; and every registry to Excel."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aidoffice.services import reports
from aidoffice.services.context import ServiceContext
from aidoffice.services.exports import EXPORTS
from aidoffice.services.tables import TableQuery, filter_choices, page_rows
from aidoffice.ui import tasks
from aidoffice.ui.pages.indicators import IndicatorsPanel
from aidoffice.ui.pages.persons import PersonPicker
from aidoffice.ui.widgets import MonthField, combo

FILE_NAMES = {  # no personal data in file names: the kind, and a month or a date
    "monthly": "التقرير-الشهري-{month}.pdf",
    "sheet": "كشف-توزيع-{today}.pdf",
    "association": "ملف-جمعية-{today}.pdf",
    "letter": "خطاب-إحالة-{today}.pdf",
    "cards": "بطاقات-{today}.pdf",
}


def _previous_month(today: date) -> str:
    return f"{today.year - (today.month == 1)}-{(today.month - 2) % 12 + 1:02d}"


class ReportsPage(QWidget):
    export_requested = Signal(str)
    report_written = Signal(str)

    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        title = QLabel("التقارير والتصدير")
        title.setObjectName("pageTitle")

        self.kind = combo(list(reports.REPORTS.items()))
        self.month = MonthField(ctx.today(), style=ctx.style)
        self.month.setText(_previous_month(ctx.today()))
        self.distribution = QComboBox()
        self.association = QComboBox()
        self.referral = QComboBox()
        self.card_picker = PersonPicker(ctx)
        self.card_list = QListWidget()
        self.card_list.setMaximumHeight(110)
        add_card = QPushButton("إضافة إلى البطاقات")
        add_card.clicked.connect(self._add_card)
        cards = QWidget()
        column = QVBoxLayout(cards)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.card_picker)
        column.addWidget(add_card)
        column.addWidget(self.card_list)
        self.parameters = QStackedWidget()
        for label, widget in (
            ("الشهر:", self.month),
            ("التوزيع:", self.distribution),
            ("الجمعية:", self.association),
            ("الإحالة:", self.referral),
            ("المستفيدون:", cards),
        ):
            page = QWidget()
            row = QHBoxLayout(page)
            row.setContentsMargins(0, 0, 0, 0)
            row.addWidget(QLabel(label))
            row.addWidget(widget, 1)
            self.parameters.addWidget(page)
        self.kind.currentIndexChanged.connect(self.parameters.setCurrentIndex)

        self.generate_button = QPushButton("إنشاء التقرير…")
        self.generate_button.setObjectName("primary")
        self.generate_button.clicked.connect(lambda _checked=False: self.generate())
        self.open_button = QPushButton("فتح للمعاينة والطباعة")
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self.open_last)
        self.progress = QProgressBar()
        self.progress.setRange(0, 0)
        self.progress.hide()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("message")
        report_box = QGroupBox("تقرير للطباعة")
        grid = QVBoxLayout(report_box)
        top = QHBoxLayout()
        top.addWidget(QLabel("التقرير:"))
        top.addWidget(self.kind, 1)
        grid.addLayout(top)
        grid.addWidget(self.parameters)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.open_button)
        buttons.addWidget(self.progress, 1)
        grid.addLayout(buttons)
        grid.addWidget(self.message)

        export_box = QGroupBox("تصدير القوائم إلى جداول بيانات (من اليمين إلى اليسار، بعناوين عربية)")
        export_grid = QGridLayout(export_box)
        self.buttons: dict[str, QPushButton] = {}
        for i, kind in enumerate([*EXPORTS, "template"]):
            label = EXPORTS[kind][0] if kind in EXPORTS else "نموذج قائمة مستفيدين فارغ"
            button = QPushButton(label)
            button.clicked.connect(lambda _checked=False, kind=kind: self.export_requested.emit(kind))
            export_grid.addWidget(button, i // 3, i % 3)
            self.buttons[kind] = button

        printing = QWidget()
        column = QVBoxLayout(printing)
        column.addWidget(report_box)
        column.addWidget(export_box)
        column.addStretch(1)
        self.indicators = IndicatorsPanel(ctx)
        self.tabs = QTabWidget()
        self.tabs.addTab(printing, "الطباعة والتصدير")
        self.tabs.addTab(self.indicators, "المؤشرات")
        self.tabs.currentChanged.connect(lambda _i: self.ensure_loaded())
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.tabs, 1)
        self.task: tasks.BackgroundTask | None = None
        self.last: Path | None = None

    def ensure_loaded(self) -> None:
        """The tab in view reads the database again."""
        if self.tabs.currentWidget() is self.indicators:
            self.indicators.ensure_loaded()
        else:
            self.load_choices()

    def load_choices(self) -> None:
        """The choices of the parameters, newest first (the latest 300 rounds and referrals)."""
        style = self.ctx.style
        for box, kind, text in (
            (
                self.distribution,
                "distributions",
                lambda r: f"{style.date(r.values[0])} — {r.values[1]} — {r.values[2]}",
            ),
            (self.referral, "referrals", lambda r: f"{style.date(r.values[4])} — {r.values[0]} — {r.values[1]}"),
        ):
            current = box.currentData()
            box.clear()
            for row in page_rows(self.ctx, kind, TableQuery(), 0, 300):
                box.addItem(text(row), row.id)
            box.setCurrentIndex(max(0, box.findData(current)))
        current = self.association.currentData()
        self.association.clear()
        for value, label in filter_choices(self.ctx, "projects")["association"]:
            self.association.addItem(label, value)
        self.association.setCurrentIndex(max(0, self.association.findData(current)))

    def _add_card(self) -> None:
        person_id = self.card_picker.current_id()
        if person_id and not any(
            self.card_list.item(i).data(Qt.ItemDataRole.UserRole) == person_id for i in range(self.card_list.count())
        ):
            item = QListWidgetItem(self.card_picker.results.currentItem().text())
            item.setData(Qt.ItemDataRole.UserRole, person_id)
            self.card_list.addItem(item)

    def generate(self, target: Path | None = None) -> None:
        kind = self.kind.currentData()
        if target is None:
            name = FILE_NAMES[kind].format(month=self.month.text().strip(), today=self.ctx.today().isoformat())
            chosen, _ = QFileDialog.getSaveFileName(self, "حفظ التقرير", name, "ملف للطباعة (*.pdf)")
            if not chosen:
                return
            target = Path(chosen)
        month, distribution = self.month.text(), self.distribution.currentData() or ""
        association, referral = self.association.currentData() or "", self.referral.currentData() or ""
        people = [self.card_list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.card_list.count())]
        writers = {
            "monthly": lambda: reports.write_monthly_report(self.ctx, month, target),
            "sheet": lambda: reports.write_distribution_sheet(self.ctx, distribution, target),
            "association": lambda: reports.write_association_profile(self.ctx, association, target),
            "letter": lambda: reports.write_referral_letter(self.ctx, referral, target),
            "cards": lambda: reports.write_cards(self.ctx, people, target),
        }
        task = tasks.BackgroundTask(lambda _progress, _cancelled: writers[kind]())
        task.signals.finished.connect(self._on_task_finished)
        task.signals.failed.connect(self._on_task_failed)
        task.signals.crashed.connect(self._on_task_crashed)
        self.generate_button.setEnabled(False)
        self.progress.show()
        self.message.setText("جارٍ إنشاء التقرير…")
        self.task = tasks.start(task)

    def _done(self) -> None:
        self.task = None
        self.generate_button.setEnabled(True)
        self.progress.hide()

    def _on_task_finished(self, path: Path) -> None:
        self._done()
        self.last = Path(path)
        self.open_button.setEnabled(True)
        self.message.setText(f"حُفظ التقرير: {self.last}")
        self.report_written.emit(str(self.last))

    def _on_task_failed(self, text: str) -> None:
        self._done()
        self.message.setText(text)

    def _on_task_crashed(self, exc: BaseException) -> None:
        self._done()
        raise exc

    def open_last(self) -> None:
        """The system's PDF viewer previews and prints (Qt's own PDF module is not in the Essentials wheel)."""
        if self.last is not None:
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.last)))
