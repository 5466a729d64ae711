"""The home page: today's work — overdue and pending referrals, dormant associations, licences, approvals."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from aidoffice.domain.dates import hijri_text
from aidoffice.services.context import ServiceContext
from aidoffice.services.home import WorkItem, todays_work
from aidoffice.services.office import get_office
from aidoffice.services.requests import requests_work
from aidoffice.ui.ops import ServiceOp


class WorkCard(QFrame):
    show_all = Signal(str, dict)

    def __init__(self, item: WorkItem, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.item = item
        title = QLabel(item.title)
        title.setWordWrap(True)
        self.count = QLabel(f"{item.count:,}")
        self.count.setObjectName("cardCount")
        self.rows = QListWidget()
        self.rows.setMaximumHeight(150)
        self.rows.setWordWrap(True)
        self.rows.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for line in item.lines:
            self.rows.addItem(line)
        if not item.lines:
            self.rows.addItem("لا شيء هنا اليوم.")
        button = QPushButton("عرض الكل")
        button.clicked.connect(lambda _checked=False: self.show_all.emit(item.table, item.filters))
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.count)
        layout.addWidget(self.rows)
        layout.addWidget(button)


class HomePage(QWidget):
    show_table = Signal(str, dict)
    search_requested = Signal(str)  # find a beneficiary: the persons' list opens with this search
    new_person_requested = Signal()

    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.greeting = QLabel()
        self.greeting.setObjectName("pageTitle")
        self.error = QLabel()
        self.error.setObjectName("fieldError")
        self.search = QLineEdit()
        self.search.setPlaceholderText("ابحث عن مستفيد بالاسم أو رقم البطاقة أو الهاتف ثم اضغط Enter…")
        self.search.setClearButtonEnabled(True)
        self.search.returnPressed.connect(self._on_search)
        self.new_person_button = QPushButton("مستفيد جديد…")
        self.new_person_button.setObjectName("primary")
        self.new_person_button.setToolTip("تسجيل مستفيد مع فحص التكرار أثناء الكتابة (Ctrl+N في صفحة المستفيدين).")
        self.new_person_button.clicked.connect(self.new_person_requested.emit)
        find_row = QHBoxLayout()
        find_row.addWidget(self.search, 1)
        find_row.addWidget(self.new_person_button)
        self.grid = QGridLayout()
        layout = QVBoxLayout(self)
        layout.addWidget(self.greeting)
        layout.addLayout(find_row)
        layout.addWidget(self.error)
        layout.addLayout(self.grid)
        layout.addStretch(1)
        self.cards: dict[str, WorkCard] = {}

    def _on_search(self) -> None:
        text = self.search.text().strip()
        if text:
            self.search_requested.emit(text)
            self.search.clear()

    def ensure_loaded(self) -> None:
        self.refresh()

    def refresh(self) -> None:
        today = self.ctx.today()
        office = get_office(self.ctx)
        style = self.ctx.style
        self.greeting.setText(
            f"{office.name if office else ''} — عمل اليوم {style.date(today)} ({style.digits_of(hijri_text(today))})"
        )
        ServiceOp(self, self._work, message=self.error).success(self._show_work).run()

    def _work(self) -> list[WorkItem]:
        requests = requests_work(self.ctx)  # a supervisor's queue, or a clerk's decisions not yet read: first
        return ([requests] if requests is not None else []) + todays_work(self.ctx)

    def _show_work(self, work: list[WorkItem]) -> None:
        for card in self.cards.values():
            card.setParent(None)
            card.deleteLater()
        self.cards.clear()
        for i, item in enumerate(work):
            card = WorkCard(item)
            card.show_all.connect(self.show_table.emit)
            self.grid.addWidget(card, i // 3, i % 3)
            self.cards[item.key] = card
