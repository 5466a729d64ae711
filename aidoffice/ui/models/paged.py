"""PagedTableModel: any registry table, fetched a page at a time from the service as the view scrolls."""

from __future__ import annotations

import logging
from collections import OrderedDict
from datetime import date

import shiboken6
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from aidoffice.domain.dates import hijri_text
from aidoffice.domain.display import DEFAULT_STYLE
from aidoffice.errors import UserError
from aidoffice.services.context import ServiceContext
from aidoffice.services.tables import (
    COUNT_CAP,
    SORT_ANY_UP_TO,
    TABLES,
    TableQuery,
    TableRow,
    cell_text,
    count_rows,
    page_rows,
)
from aidoffice.ui import tasks

log = logging.getLogger("aidoffice.ui")
Index = QModelIndex | QPersistentModelIndex

PAGE = 200
KEPT_PAGES = 20  # at most 4,000 rows in memory whatever the table's size
ID_ROLE = Qt.ItemDataRole.UserRole + 1
FLAGS_ROLE = Qt.ItemDataRole.UserRole + 2
_FLAG_COLOURS = {
    "dormant": "#fff4e5",
    "expiring": "#fdecea",
    "overdue": "#fdecea",
    "reversed": "#eeeeee",
    "reversal": "#eeeeee",
}


class PagedTableModel(QAbstractTableModel):
    """Rows come from `services.tables` a page of 200 at a time; sorting and filtering are SQL (a new query resets
    the model). At most KEPT_PAGES pages are kept, so memory stays flat at a million rows.

    `data()` never queries: a page the view scrolls to is fetched on the thread pool and shown when it arrives
    (its rows are blank meanwhile). The count and the first page are read when the query changes."""

    notice = Signal(str)  # something the clerk should read (a refused sort, a storage error)
    page_loaded = Signal(int)  # a page fetched in the background is in place

    def __init__(self, ctx: ServiceContext, kind: str, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.kind = kind
        self.spec = TABLES[kind]
        self.query = TableQuery()
        self._count = 0
        self._pages: OrderedDict[int, list[TableRow]] = OrderedDict()
        self._fetching: dict[int, tasks.BackgroundTask] = {}
        self._generation = 0  # bumped at every reset: a page fetched for an older query is dropped
        self.error = ""
        self.capped = False
        self.style = DEFAULT_STYLE  # the office's digits and date order, read again with every new query

    # --- queries --------------------------------------------------------------------------------------------
    def set_query(self, query: TableQuery) -> None:
        self.query = query
        self.refresh()

    def refresh(self) -> None:
        self.beginResetModel()
        self._forget_pages()
        try:
            self.style = self.ctx.style
            self._count = count_rows(self.ctx, self.kind, self.query)
            self.error = ""
        except UserError as exc:  # a locked or damaged file: an empty table and the reason, never a crash
            self._count, self.error = 0, exc.message
        self.capped = bool(self.query.text.strip()) and self._count > COUNT_CAP
        if self.capped:
            self._count = COUNT_CAP
        self._first_page()
        self.endResetModel()

    def _forget_pages(self) -> None:
        self._pages.clear()
        self._fetching.clear()
        self._generation += 1

    def _first_page(self) -> None:
        """The rows a new query shows first, read with it (so the table never opens blank)."""
        if self._count and not self.error:
            self._page(0)

    def total(self) -> int:
        return self._count

    def _page(self, number: int) -> list[TableRow]:
        if number in self._pages:
            self._pages.move_to_end(number)
            return self._pages[number]
        try:
            rows = page_rows(self.ctx, self.kind, self.query, number * PAGE, PAGE)
        except UserError as exc:
            self.notice.emit(exc.message)
            rows = []
        self._store(number, rows)
        return rows

    def _store(self, number: int, rows: list[TableRow]) -> None:
        self._pages[number] = rows
        self._pages.move_to_end(number)
        while len(self._pages) > KEPT_PAGES:
            self._pages.popitem(last=False)

    def _cached(self, row: int) -> TableRow | None:
        """The row if its page is in memory; otherwise None, and the page is asked for in the background."""
        if not 0 <= row < self._count:
            return None
        number = row // PAGE
        rows = self._pages.get(number)
        if rows is None:
            self._fetch(number)
            return None
        self._pages.move_to_end(number)
        offset = row % PAGE
        return rows[offset] if offset < len(rows) else None

    def _fetch(self, number: int) -> None:
        if number in self._fetching:
            return
        query, generation = self.query.copy(), self._generation
        task = tasks.BackgroundTask(lambda _p, _c: page_rows(self.ctx, self.kind, query, number * PAGE, PAGE))
        task.signals.finished.connect(lambda rows: self._on_page_fetched(generation, number, rows))
        task.signals.failed.connect(self.notice.emit)
        task.signals.crashed.connect(lambda exc: log.error("a page of %s failed: %s", self.kind, type(exc).__name__))
        self._fetching[number] = task
        tasks.start(task)

    def _on_page_fetched(self, generation: int, number: int, rows: list[TableRow]) -> None:
        if not shiboken6.isValid(self) or generation != self._generation:
            return  # the table was closed, or its query changed meanwhile: these rows belong to nothing on screen
        self._fetching.pop(number, None)
        self._store(number, rows)
        first, last = number * PAGE, min(self._count, (number + 1) * PAGE) - 1
        if last >= first:
            self.dataChanged.emit(self.index(first, 0), self.index(last, len(self.spec.columns) - 1))
        self.page_loaded.emit(number)

    def row_at(self, row: int) -> TableRow | None:
        """The row, read now if its page is not in memory (for a click or a key; painting uses `_cached`)."""
        if not 0 <= row < self._count:
            return None
        rows = self._page(row // PAGE)
        offset = row % PAGE
        return rows[offset] if offset < len(rows) else None

    def id_at(self, row: int) -> str | None:
        found = self.row_at(row)
        return found.id if found else None

    # --- Qt model -------------------------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.spec.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.column() < len(self.spec.columns)):
            return None
        found = self._cached(index.row())
        if found is None:
            return None
        column = self.spec.columns[index.column()]
        value = found.values[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(value, column, self.style)
        if role == Qt.ItemDataRole.ToolTipRole and isinstance(value, date):
            return self.style.digits_of(hijri_text(value))
        if role == Qt.ItemDataRole.TextAlignmentRole and column.kind in ("code", "number", "year", "date"):
            # Numbers, codes and dates are left-to-right islands: their digits stay in order.
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.BackgroundRole:
            for flag in found.flags:
                if flag in _FLAG_COLOURS:
                    return QBrush(QColor(_FLAG_COLOURS[flag]))
        if role == ID_ROLE:
            return found.id
        if role == FLAGS_ROLE:
            return sorted(found.flags)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.spec.columns):
            return None
        column = self.spec.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return f"{column.title} ▾" if column.key in self.query.columns else column.title
        if role == Qt.ItemDataRole.ToolTipRole and column.key in self.query.columns:
            return "هذا العمود مُصفّى: انقر بالزر الأيمن على عنوانه لتغيير التصفية أو إزالتها."
        return None

    def can_sort(self, column: int) -> bool:
        return (
            0 <= column < len(self.spec.columns)
            and not self.spec.columns[column].computed
            and (self.spec.columns[column].indexed or self._count <= SORT_ANY_UP_TO)
        )

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if column < 0:  # the header's "no sort": the table's own order
            if self.query.sort is not None:
                self.query.sort, self.query.descending = None, False
                self.reorder()
            return
        if 0 <= column < len(self.spec.columns) and self.spec.columns[column].computed:
            self.notice.emit("لا يُرتب الجدول بهذا العمود.")
            return
        if not self.can_sort(column):  # a million rows sorted on a column without an index: search first
            self.notice.emit("الجدول كبير: ابحث أو صفِّ أولاً ثم رتّب بهذا العمود.")
            return
        self.query.sort = self.spec.columns[column].key
        self.query.descending = order == Qt.SortOrder.DescendingOrder
        self.reorder()

    def reorder(self) -> None:
        """A new order of the same rows: the pages go, the count stays."""
        self.beginResetModel()
        self._forget_pages()
        self._first_page()
        self.endResetModel()
