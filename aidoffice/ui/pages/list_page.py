"""ListPage: a registry table with search as you type, filters (drop-downs and column headers), paging from SQL,
the view's count and sums, its export and print, and its layout remembered."""

from __future__ import annotations

from pathlib import Path

import shiboken6
from PySide6.QtCore import QEvent, QPoint, QSettings, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from aidoffice import APP_NAME
from aidoffice.domain.access import Permission
from aidoffice.services.context import ServiceContext
from aidoffice.services.exports import export_view, print_view
from aidoffice.services.tables import (
    FILTER_TITLES,
    SORT_ANY_UP_TO,
    ColumnFilter,
    TableQuery,
    column_values,
    filter_choices,
    view_totals,
)
from aidoffice.ui import tasks
from aidoffice.ui.models.paged import PagedTableModel
from aidoffice.ui.ops import ServiceOp
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
    """Title, search box, one drop-down per filter, action buttons, the table, the column filters in force and a
    line with the view's count and sums. A right click on a column's title (or on a cell) filters by that column."""

    opened = Signal(str)  # a record's id: double-click or Enter
    new_requested = Signal()
    summary_changed = Signal(str)  # the view's row count and sums, for the status bar

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
        self.message = QLabel()
        self.message.setObjectName("message")
        self.empty_hint = QLabel()  # what to do when the table is empty: add the first record, or loosen the search
        self.empty_hint.setObjectName("hint")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.hide()
        self.filters: dict[str, QComboBox] = {}
        self.fixed_filters: dict[str, str] = {}  # set by the page that holds the list (the audit's views)
        self.column_filters: dict[str, ColumnFilter] = {}
        self.summary = ""
        self.output_task: tasks.BackgroundTask | None = None
        self._totals_task: tasks.BackgroundTask | None = None
        self._totals_generation = 0

        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        self.buttons = QHBoxLayout()
        top.addLayout(self.buttons)
        self.new_button: QPushButton | None = None
        if new_label:
            self.new_button = self.add_button(new_label, self.new_requested.emit, primary=True)
            self.new_button.setToolTip(f"{new_label.rstrip('…')} — Ctrl+N")
        self.add_button("فتح", self._open_current).setToolTip("فتح السجل المحدد — Enter أو نقر مزدوج")
        self.output_button = QToolButton()
        self.output_button.setText("تصدير وطباعة")
        self.output_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        output = QMenu(self.output_button)
        output.addAction("القائمة المعروضة إلى جدول بيانات…", lambda: self.export_view())
        output.addAction("طباعة القائمة المعروضة… (Ctrl+P)", lambda: self.print_view())
        self.output_button.setMenu(output)
        allowed = ctx.can(Permission.EXPORT)  # a clerk's choice becomes a request to the supervisor
        self.output_button.setToolTip(
            "ما في الجدول الآن (البحث والتصفية والترتيب)"
            if allowed
            else "ما في الجدول الآن؛ يُرسل طلباً إلى المشرف فيُكتب الملف عند موافقته"
        )
        self.buttons.addWidget(self.output_button)

        bar = QHBoxLayout()
        bar.addWidget(self.search, 3)
        for key in filter_choices(ctx, kind):
            box = QComboBox()
            box.setObjectName(f"filter_{key}")
            box.currentIndexChanged.connect(self.reload)
            self.filters[key] = box
            bar.addWidget(box, 1)
        self.refresh_choices()

        self.chips_bar = QWidget()
        self.chips = QHBoxLayout(self.chips_bar)
        self.chips.setContentsMargins(0, 0, 0, 0)
        self.chips_bar.hide()

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(bar)
        layout.addWidget(self.chips_bar)
        layout.addWidget(self.empty_hint)
        layout.addWidget(self.table, 1)
        bottom = QHBoxLayout()
        bottom.addWidget(self.count_label)
        bottom.addStretch(1)
        bottom.addWidget(self.message)
        layout.addLayout(bottom)

        header = self.table.horizontalHeader()
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._on_header_menu_requested)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_table_menu_requested)

        self._timer = debounce(self, SEARCH_DELAY_MS, self.reload)
        self.search.textChanged.connect(self._on_search_text_changed)
        self.search.returnPressed.connect(self._on_search_return_pressed)
        self.search.installEventFilter(self)
        self.search.setToolTip("اكتب للبحث (Ctrl+F)؛ ↓ أو Enter للانتقال إلى النتائج، Esc لمسح البحث")
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

    def eventFilter(self, watched, event) -> bool:
        if watched is self.search and event.type() == QEvent.Type.KeyPress and event.key() == Qt.Key.Key_Down:
            self.focus_results()
            return True
        return super().eventFilter(watched, event)

    def _on_search_return_pressed(self) -> None:
        self.focus_results()

    def focus_results(self) -> None:
        """From the search box into the results (Down or Enter): the first row chosen, Enter then opens it. What was
        typed and not yet searched is searched first."""
        if self._timer.isActive() or not self.loaded:
            self.reload()
        if self.model.rowCount() == 0:
            return
        self.table.setFocus()
        index = self.table.currentIndex()
        if not index.isValid():
            index = self.model.index(0, 0)
        self.table.setCurrentIndex(index)  # rows are selected whole: this selects the row too (selectRow() here
        # would clear the current index of a right-to-left table)

    def query(self) -> TableQuery:
        """The view on screen: search text, drop-down and header filters, and the order of the table."""
        return TableQuery(
            text=self.search.text(),
            filters={**{k: box.currentData() or "" for k, box in self.filters.items()}, **self.fixed_filters},
            sort=self.model.query.sort,
            descending=self.model.query.descending,
            columns=dict(self.column_filters),
        )

    # --- column header filters ------------------------------------------------------------------------------
    def set_column_filter(self, key: str, wanted: ColumnFilter | None) -> None:
        """Filter the column `key` (None: stop filtering it), and show the filters in force."""
        if wanted is None:
            self.column_filters.pop(key, None)
        else:
            self.column_filters[key] = wanted
        self._show_chips()
        self.reload()

    def clear_filters(self) -> None:
        """Every filter off: the header filters, the drop-downs and the search box (the order stays)."""
        self.column_filters.clear()
        for box in self.filters.values():
            box.blockSignals(True)
            box.setCurrentIndex(0)
            box.blockSignals(False)
        self.search.blockSignals(True)
        self.search.clear()
        self.search.blockSignals(False)
        self._show_chips()
        self.reload()

    def _show_chips(self) -> None:
        while self.chips.count():
            item = self.chips.takeAt(0)
            if item.widget() is not None:
                item.widget().deleteLater()
        titles = {c.key: c.title for c in self.model.spec.columns}
        for key, wanted in self.column_filters.items():
            shown = wanted.label or ("(فارغ)" if wanted.value is None else str(wanted.value))
            text = f"{titles[key]} يحتوي «{shown}»" if wanted.op == "contains" else f"{titles[key]}: {shown}"
            chip = QToolButton()
            chip.setObjectName(f"chip_{key}")
            chip.setText(f"{text}  ✕")
            chip.setToolTip("إزالة هذه التصفية")
            chip.clicked.connect(lambda _checked=False, key=key: self.set_column_filter(key, None))
            self.chips.addWidget(chip)
        if self.column_filters:
            clear = QPushButton("مسح كل التصفيات")
            clear.setObjectName("clear_filters")
            clear.clicked.connect(lambda _checked=False: self.clear_filters())
            self.chips.addWidget(clear)
        self.chips.addStretch(1)
        self.chips_bar.setVisible(bool(self.column_filters))
        self.model.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, len(self.model.spec.columns) - 1)

    def column_menu(self, section: int) -> QMenu:
        """What a right click on a column's title offers: its values in the view (with how many rows hold each),
        "contains…", and removing its filter. Values are listed when the view is small enough to count them."""
        column = self.model.spec.columns[section]
        menu = QMenu(self)
        if column.computed:
            menu.addAction("لا يُصفّى الجدول بهذا العمود").setEnabled(False)
            return menu
        key = column.key
        if self.model.total() <= SORT_ANY_UP_TO:
            query = self.query()
            op = ServiceOp(self, lambda: column_values(self.ctx, self.model.kind, query, key), message=self.message)
            values = op.result if op.run() else []
            for found in values:
                action = menu.addAction(f"{found.label}  ({self.model.style.number(found.count)})")
                action.setCheckable(True)
                current = self.column_filters.get(key)
                action.setChecked(current is not None and current.op == "is" and current.value == found.value)
                action.triggered.connect(
                    lambda _checked=False, v=found.value, label=found.label: self.set_column_filter(
                        key, ColumnFilter("is", v, label)
                    )
                )
        else:
            menu.addAction("القائمة طويلة: ابحث أو صفِّ أولاً لتظهر قيم العمود").setEnabled(False)
        menu.addSeparator()
        menu.addAction("يحتوي على…", lambda: self._ask_contains(key, column.title))
        if key in self.column_filters:
            menu.addAction("إزالة تصفية هذا العمود", lambda: self.set_column_filter(key, None))
        if self.column_filters:
            menu.addAction("مسح كل التصفيات", self.clear_filters)
        return menu

    def cell_menu(self, row: int, section: int) -> QMenu:
        """A right click on a cell: show only the rows with this value (spreadsheets' "filter by selection")."""
        menu = QMenu(self)
        column = self.model.spec.columns[section]
        found = self.model.row_at(row)
        if found is not None and not column.computed and found.raw:
            raw, shown = found.raw[section], found.values[section]
            label = "(فارغ)" if shown in (None, "") else str(self.model.index(row, section).data())
            menu.addAction(
                f"إظهار ما يساوي «{label}» فقط",
                lambda: self.set_column_filter(column.key, ColumnFilter("is", None if raw == "" else raw, label)),
            )
        menu.addAction("تصفية هذا العمود…", lambda: self.column_menu(section).exec(self.cursor().pos()))
        if self.column_filters:
            menu.addAction("مسح كل التصفيات", self.clear_filters)
        return menu

    def _ask_contains(self, key: str, title: str) -> None:
        current = self.column_filters.get(key)
        text, ok = QInputDialog.getText(
            self,
            "تصفية",
            f"أظهر الصفوف التي يحتوي عمود «{title}» فيها على:",
            text=str(current.value) if current is not None and current.op == "contains" else "",
        )
        if ok:
            text = text.strip()
            self.set_column_filter(key, ColumnFilter("contains", text, text) if text else None)

    def _on_header_menu_requested(self, pos: QPoint) -> None:
        header = self.table.horizontalHeader()
        section = header.logicalIndexAt(pos)
        if section >= 0:
            self.column_menu(section).exec(header.mapToGlobal(pos))

    def _on_table_menu_requested(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if index.isValid():
            self.cell_menu(index.row(), index.column()).exec(self.table.viewport().mapToGlobal(pos))

    # --- the view out: Excel and print -----------------------------------------------------------------------
    def export_view(self, target: Path | None = None) -> tasks.BackgroundTask | None:
        """The table as it is on screen to an Excel file (asked for unless given), written in the background."""
        return self._output(export_view, target, "xlsx", "جدول بيانات (*.xlsx)", "صُدّر")

    def print_view(self, target: Path | None = None) -> tasks.BackgroundTask | None:
        """The table as it is on screen to a PDF to print (opened when the clerk chose where to save it)."""
        return self._output(print_view, target, "pdf", "ملف للطباعة (*.pdf)", "طُبع")

    def _output(self, work, target: Path | None, suffix: str, pattern: str, done: str):
        chosen = target is None
        if target is None:
            name, _ = QFileDialog.getSaveFileName(self, "حفظ", f"{self.model.spec.title}.{suffix}", pattern)
            if not name:
                return None
            target = Path(name)
        query, ctx, kind = self.query(), self.ctx, self.kind
        if not ctx.can(Permission.EXPORT):
            return self._ask_to_export(query, target)

        def finished(count: int) -> None:
            self.message.setText(f"{done} {self.model.style.number(count)} صف في {target.name}")
            if chosen and suffix == "pdf":
                QDesktopServices.openUrl(QUrl.fromLocalFile(str(target)))

        op = ServiceOp(
            self,
            lambda: work(ctx, kind, query, target),
            message=self.message,
            buttons=[self.output_button],
            busy="جارٍ التحضير…",
        )
        self.output_task = op.after(self._on_output_over).success(finished).run_in_background()
        return self.output_task

    def _ask_to_export(self, query, target: Path):
        """A clerk may not export alone: the view as it is on screen goes to the supervisor as a request."""
        from aidoffice.services.requests import request_export_view
        from aidoffice.ui.pages.distributions import RequestDialog

        ctx, kind = self.ctx, self.kind
        self.request_dialog = RequestDialog(
            "تصدير القائمة المعروضة",
            f"{'طباعة' if target.suffix.lower() == '.pdf' else 'تصدير'} «{self.model.spec.title}» كما هي معروضة "
            f"(بحثها وتصفيتها وترتيبها) إلى {target.name}.",
            lambda reason: request_export_view(ctx, kind, query, target, reason=reason),
            self,
        )
        self.request_dialog.sent.connect(lambda _r: self.message.setText("أُرسل الطلب إلى المشرف."))
        self.request_dialog.open()
        return None

    def _on_output_over(self) -> None:
        self.output_task = None

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

    def _show_empty_hint(self, total: int) -> None:
        if total or self.model.error:
            self.empty_hint.hide()
            return
        narrowed = bool(
            self.search.text().strip() or self.column_filters or any(b.currentData() for b in self.filters.values())
        )
        if narrowed:
            text = "لا نتيجة لهذا البحث أو التصفية: غيّر ما كتبت، أو امسح البحث (Esc) والتصفيات."
        elif self.new_button is not None:
            text = f"لا سجلات هنا بعد. اضغط «{self.new_button.text().rstrip('…')}» (Ctrl+N) لإضافة أول سجل."
        else:
            text = "لا سجلات هنا بعد."
        self.empty_hint.setText(text)
        self.empty_hint.show()

    def _show_count(self) -> None:
        self._totals_generation += 1
        self._show_empty_hint(self.model.total())
        if self.model.error:
            self._set_summary(self.model.error)
            return
        total = self.model.total()
        more = "أكثر من " if self.model.capped else ""
        count = f"{more}{self.model.style.number(total)} سجل"
        self._set_summary(count)
        summed = [c for c in self.model.spec.columns if c.summed]
        if not summed or not total:
            return
        generation, query = self._totals_generation, self.query()
        task = tasks.BackgroundTask(lambda _p, _c: view_totals(self.ctx, self.kind, query))

        def finished(totals) -> None:
            if shiboken6.isValid(self) and generation == self._totals_generation:  # still the view on screen
                sums = " — ".join(f"مجموع {c.title}: {self.model.style.number(totals.sums[c.key])}" for c in summed)
                self._set_summary(f"{count} — {sums}")

        task.signals.finished.connect(finished)
        task.signals.failed.connect(self.message.setText)
        self._totals_task = tasks.start(task)

    def _set_summary(self, text: str) -> None:
        self.summary = text
        self.count_label.setText(text)
        self.summary_changed.emit(text)

    def _open_current(self) -> None:
        ident = self.table.current_id()
        if ident:
            self.opened.emit(ident)

    def _open_row(self, row: int) -> None:
        ident = self.model.id_at(row)
        if ident:
            self.opened.emit(ident)
