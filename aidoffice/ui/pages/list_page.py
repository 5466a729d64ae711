"""ListPage: a registry table with search as you type, filters, paging from SQL, and its layout remembered."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from aidoffice import APP_NAME
from aidoffice.services.context import ServiceContext
from aidoffice.services.tables import FILTER_TITLES, TableQuery, filter_choices
from aidoffice.ui.models.paged import PagedTableModel
from aidoffice.ui.widgets import debounce

SEARCH_DELAY_MS = 250


def settings() -> QSettings:
    return QSettings(APP_NAME, APP_NAME)


class RegistryTable(QTableView):
    """A table view over a PagedTableModel whose column widths, order and sort are kept in QSettings."""

    def __init__(self, model: PagedTableModel, parent=None) -> None:
        super().__init__(parent)
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setWordWrap(False)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(28)
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for i, column in enumerate(model.spec.columns):
            self.setColumnWidth(i, column.width)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.setSortingEnabled(True)
        self._key = f"tables/{model.kind}/header"
        state = settings().value(self._key)
        if state is not None:
            header.restoreState(state)
        header.sectionResized.connect(self.save_layout)
        header.sectionMoved.connect(self.save_layout)
        header.sortIndicatorChanged.connect(self.save_layout)
        header.sortIndicatorChanged.connect(lambda *_: self.scrollToTop())  # a new order starts at its beginning

    def save_layout(self, *_args) -> None:
        settings().setValue(self._key, self.horizontalHeader().saveState())

    def current_id(self) -> str | None:
        """The selected row's record (the current row if nothing is selected)."""
        rows = self.selectionModel().selectedRows()
        index = rows[0] if rows else self.currentIndex()
        return self.model().id_at(index.row()) if index.isValid() else None


class ListPage(QWidget):
    """Title, search box, one drop-down per filter, action buttons, the table and a count line."""

    opened = Signal(str)  # a record's id: double-click or Enter
    new_requested = Signal()

    def __init__(
        self,
        ctx: ServiceContext,
        kind: str,
        title: str,
        *,
        placeholder: str = "ابحث…",
        new_label: str | None = "جديد",
        parent=None,
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.kind = kind
        self.model = PagedTableModel(ctx, kind, self)
        self.table = RegistryTable(self.model)
        self.title = QLabel(title)
        self.title.setObjectName("pageTitle")
        self.search = QLineEdit()
        self.search.setPlaceholderText(placeholder)
        self.search.setClearButtonEnabled(True)
        self.count_label = QLabel()
        self.count_label.setObjectName("message")
        self.filters: dict[str, QComboBox] = {}

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        self.buttons = QHBoxLayout()
        top.addLayout(self.buttons)
        self.new_button: QPushButton | None = None
        if new_label:
            self.new_button = self.add_button(new_label, self.new_requested.emit, primary=True)
        self.add_button("فتح", self._open_current)

        bar = QHBoxLayout()
        bar.addWidget(self.search, 3)
        for key in filter_choices(ctx, kind):
            box = QComboBox()
            box.setObjectName(f"filter_{key}")
            box.currentIndexChanged.connect(self.reload)
            self.filters[key] = box
            bar.addWidget(box, 1)
        self.refresh_choices()

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)

        self._timer = debounce(self, SEARCH_DELAY_MS, self.reload)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.search.returnPressed.connect(self.reload)
        self.table.doubleClicked.connect(lambda index: self._open_row(index.row()))
        self.table.activated.connect(lambda index: self._open_row(index.row()))
        self.model.modelReset.connect(self._show_count)
        self.model.notice.connect(self.count_label.setText)
        self.loaded = False

    def add_button(self, label: str, slot, *, primary: bool = False) -> QPushButton:
        button = QPushButton(label)
        if primary:
            button.setObjectName("primary")
        button.clicked.connect(lambda _checked=False: slot())
        self.buttons.addWidget(button)
        return button

    def _on_search_text_changed(self, _text: str) -> None:
        self._timer.start()

    def query(self) -> TableQuery:
        return TableQuery(
            text=self.search.text(),
            filters={k: box.currentData() or "" for k, box in self.filters.items()},
            sort=self.model.query.sort,
            descending=self.model.query.descending,
        )

    def set_filters(self, filters: dict[str, str]) -> None:
        """Show the table with these filters (the home page's "show all"); other filters back to "all"."""
        for key, box in self.filters.items():
            box.blockSignals(True)
            box.setCurrentIndex(max(0, box.findData(filters.get(key, ""))))
            box.blockSignals(False)
        self.reload()

    def reload(self) -> None:
        self._timer.stop()
        self.model.set_query(self.query())
        self.loaded = True

    def refresh_choices(self) -> None:
        """Fill the filters from the database again (a new association or project appears), keeping the choice."""
        for key, choices in filter_choices(self.ctx, self.kind).items():
            box = self.filters[key]
            current = box.currentData() or ""
            box.blockSignals(True)
            box.clear()
            box.addItem(f"{FILTER_TITLES.get(key, key)}: الكل", "")
            for value, label in choices:
                box.addItem(label, value)
            box.setCurrentIndex(max(0, box.findData(current)))
            box.blockSignals(False)

    def ensure_loaded(self) -> None:
        """Coming to the page: what others changed meanwhile shows (new records, new filter choices)."""
        self.refresh_choices()
        self.reload()

    def _show_count(self) -> None:
        if self.model.error:
            self.count_label.setText(self.model.error)
            return
        total = self.model.total()
        more = "أكثر من " if self.model.capped else ""
        self.count_label.setText(f"{more}{total:,} سجل")

    def _open_current(self) -> None:
        ident = self.table.current_id()
        if ident:
            self.opened.emit(ident)

    def _open_row(self, row: int) -> None:
        ident = self.model.id_at(row)
        if ident:
            self.opened.emit(ident)
