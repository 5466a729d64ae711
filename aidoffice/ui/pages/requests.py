"""RequestsPage: the supervisor's queue of requests (approve and do, or refuse with a note) and a clerk's own requests
with the decisions taken on them."""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from aidoffice.domain.display import DEFAULT_STYLE, DisplayStyle
from aidoffice.errors import UserError
from aidoffice.services.context import ServiceContext
from aidoffice.services.requests import (
    RequestRecord,
    RequestStatus,
    approve_request,
    can_decide,
    list_requests,
    mark_seen,
    refuse_request,
)
from aidoffice.ui import tasks
from aidoffice.ui.ops import ServiceOp

COLUMNS = ("التاريخ", "الطلب", "سبب الموظف", "من", "الحالة", "القرار")
SCOPE_LABELS = {"queue": "بانتظار قراري", "mine": "طلباتي", "all": "كل الطلبات"}
EMPTY = {
    "queue": "لا طلبات بانتظار قرارك. تصل هنا طلبات الموظفين: إبقاء من استلم من قبل، والدمج، والتصدير.",
    "mine": "لم ترسل طلباً بعد. حين يحتاج عملٌ موافقةَ المشرف يُعرض عليك «إرسال طلب إلى المشرف» مع سببك.",
    "all": "لا طلبات بعد.",
}


def _local(at: datetime | None, style: DisplayStyle = DEFAULT_STYLE) -> str:
    """A stored UTC stamp as the office's local time."""
    if at is None:
        return ""
    return style.datetime(at.replace(tzinfo=UTC).astimezone())


def _decision(r: RequestRecord, style: DisplayStyle = DEFAULT_STYLE) -> str:
    if r.status == RequestStatus.PENDING:
        return ""
    parts = [f"{r.decided_by or '—'} {_local(r.decided_at, style)}"]
    parts += [text for text in (r.note, r.outcome) if text]
    return " — ".join(parts)


class RequestsPage(QWidget):
    """A supervisor sees the queue first; a clerk sees «طلباتي». Approving runs off the GUI thread (an export may be
    long); the table and the home page follow the decision."""

    decided = Signal(str)  # request id

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.records: list[RequestRecord] = []
        self.decide_task: tasks.BackgroundTask | None = None
        self.decides = can_decide(ctx)
        title = QLabel("الطلبات والموافقات")
        title.setObjectName("pageTitle")
        self.scope = QComboBox()
        for scope in ("queue", "mine", "all") if self.decides else ("mine",):
            self.scope.addItem(SCOPE_LABELS[scope], scope)
        self.scope.currentIndexChanged.connect(lambda _i: self.refresh())
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(QLabel("عرض:"))
        top.addWidget(self.scope)
        self.empty = QLabel()
        self.empty.setWordWrap(True)
        self.empty.setObjectName("message")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column in (1, 2, 5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._show_buttons)
        self.note = QLineEdit()
        self.note.setPlaceholderText("ملاحظة للموظف (مطلوبة عند الرفض)…")
        self.approve_button = QPushButton("موافقة وتنفيذ")
        self.approve_button.setObjectName("primary")
        self.approve_button.setToolTip("يُنفَّذ الطلب باسمك الآن: يُبقى السطر بسبب الموظف، أو يُدمج السجلان، أو يُكتب الملف.")
        self.refuse_button = QPushButton("رفض")
        self.approve_button.clicked.connect(self.approve)
        self.refuse_button.clicked.connect(self.refuse)
        decide_row = QHBoxLayout()
        decide_row.addWidget(self.note, 1)
        decide_row.addWidget(self.approve_button)
        decide_row.addWidget(self.refuse_button)
        self.decide_box = QWidget()
        self.decide_box.setLayout(decide_row)
        decide_row.setContentsMargins(0, 0, 0, 0)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("message")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.empty)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.decide_box)
        layout.addWidget(self.message)
        self._show_buttons()

    # --- showing ---
    def ensure_loaded(self) -> None:
        self.refresh()

    def current_scope(self) -> str:
        return self.scope.currentData() or "mine"

    def set_filters(self, filters: dict) -> None:
        """From the home page's box: the queue, or the user's own requests."""
        index = self.scope.findData(filters.get("scope", "queue"))
        if index >= 0:
            self.scope.setCurrentIndex(index)
        self.refresh()

    def refresh(self) -> None:
        scope = self.current_scope()
        op = ServiceOp(self, lambda: list_requests(self.ctx, scope), message=self.message)
        if not op.run():
            return
        self.records = op.result
        self.table.setRowCount(len(self.records))
        for row, r in enumerate(self.records):
            style = self.ctx.style
            values = (
                _local(r.requested_at, style),
                r.summary,
                r.reason,
                r.requested_by,
                r.status_label,
                _decision(r, style),
            )
            for column, text in enumerate(values):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                item.setData(Qt.ItemDataRole.UserRole, r.id)
                self.table.setItem(row, column, item)
        self.table.resizeRowsToContents()
        self.empty.setText("" if self.records else EMPTY[scope])
        self.empty.setVisible(not self.records)
        if scope == "mine":
            mark_seen(self.ctx)  # read now: the home page stops announcing these decisions
        self._show_buttons()

    def current(self) -> RequestRecord | None:
        row = self.table.currentRow()
        return self.records[row] if 0 <= row < len(self.records) and self.table.selectedItems() else None

    def _show_buttons(self) -> None:
        self.decide_box.setVisible(self.decides and self.current_scope() != "mine")
        chosen = self.current()
        pending = chosen is not None and chosen.status == RequestStatus.PENDING and self.decide_task is None
        self.approve_button.setEnabled(pending)
        self.refuse_button.setEnabled(pending)

    # --- deciding ---
    def refuse(self) -> None:
        chosen = self.current()
        if chosen is None:
            self.message.setText("اختر طلباً من القائمة أولاً.")
            return
        note = self.note.text()
        op = ServiceOp(self, lambda: refuse_request(self.ctx, chosen.id, note), message=self.message)
        if op.success(lambda _r: self._decided(chosen.id, "رُفض الطلب، ويرى الموظف ملاحظتك.")).run():
            return
        self.note.setFocus()  # a refusal needs its note

    def approve(self) -> tasks.BackgroundTask | None:
        chosen = self.current()
        if chosen is None:
            self.message.setText("اختر طلباً من القائمة أولاً.")
            return None
        ctx, request_id, note = self.ctx, chosen.id, self.note.text()
        op = ServiceOp(self, lambda: approve_request(ctx, request_id, note), message=self.message, busy="جارٍ التنفيذ…")
        op.after(self._on_approve_over).success(self._on_approved).on(UserError, self._on_approve_refused)
        self.decide_task = op.run_in_background()
        self._show_buttons()
        return self.decide_task

    def _on_approve_over(self) -> None:
        self.decide_task = None
        self._show_buttons()

    def _on_approved(self, record: RequestRecord) -> None:
        if record.status == RequestStatus.APPROVED:
            self._decided(record.id, f"نُفّذ الطلب: {record.outcome}")
        else:
            self._decided(record.id, f"أُغلق الطلب دون تنفيذ: {record.outcome}")

    def _on_approve_refused(self, exc: UserError) -> None:
        """Already decided by another supervisor, or gone: said, and the list shows the request as it now is."""
        self.refresh()
        self.message.setText(exc.message)

    def _decided(self, request_id: str, text: str) -> None:
        self.note.clear()
        self.refresh()
        self.message.setText(text)
        self.decided.emit(request_id)
