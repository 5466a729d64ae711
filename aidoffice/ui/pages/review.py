"""ReviewPage: duplicate pairs side by side, differences highlighted, decided from the keyboard in seconds."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from aidoffice.domain.access import Permission
from aidoffice.errors import LostUpdateError, UserError
from aidoffice.services.context import ServiceContext
from aidoffice.services.duplicates import scan_registry
from aidoffice.services.requests import request_merge
from aidoffice.services.review import (
    MERGE_FIELDS,
    ReviewPair,
    decide_distinct,
    get_review_pair,
    merge_pair,
    queue_size,
    review_queue,
    undo_merge,
)
from aidoffice.texts import DUPLICATE_DECISIONS, probability_text
from aidoffice.ui import tasks
from aidoffice.ui.ops import ServiceOp, show_refusal
from aidoffice.ui.pages.distributions import REQUEST_SENT, RequestDialog

DIFFERENT = QColor("#fde2c8")
TAKE_COLUMN = "انقل إلى السجل الباقي"
NOTHING_TO_REVIEW = (
    "لا توجد سجلات مكررة تنتظر المراجعة.\n"
    "اضغط «فحص السجل بحثاً عن التكرار» ليبحث البرنامج عن الأشخاص المسجلين أكثر من مرة (افعل ذلك بعد كل استيراد "
    "قائمة)، ثم راجع هنا كل سجلين متشابهين: «نفس الشخص» أو «شخصان مختلفان»."
)
LTR_FIELDS = {"national_id", "phone", "spouse_national_id", "birth_date", "birth_year"}


class ReviewPage(QWidget):
    """F5 same person (merge), F6 different people, F7 skip, F8 swap which record stays, Ctrl+Z undo last merge."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.pair: ReviewPair | None = None
        self.skipped: set[str] = set()
        self._request_reason: tuple[str, str] | None = None  # (pair, reason) of a merge request refused as stale
        self.keep = "a"
        self.last_merge: str | None = None
        self.scan_task: tasks.BackgroundTask | None = None

        self.counts = QLabel()
        self.scan_button = QPushButton("فحص السجل بحثاً عن التكرار")
        self.scan_button.setObjectName("primary")
        self.scan_button.setToolTip("يبحث في كل السجل عن الأشخاص المسجلين أكثر من مرة؛ قد يستغرق دقائق في سجل كبير.")
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.cancel_button = QPushButton("إلغاء")
        self.cancel_button.setVisible(False)
        top = QHBoxLayout()
        for w in (self.counts, self.scan_button, self.progress, self.cancel_button):
            top.addWidget(w)
        top.addStretch(1)

        self.header = QLabel()
        self.header.setObjectName("pairHeader")
        self.header.setWordWrap(True)
        self.table = QTableWidget(len(MERGE_FIELDS), 4)
        self.table.setHorizontalHeaderLabels(["الحقل", "السجل أ", "السجل ب", TAKE_COLUMN])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.reasons = QListWidget()
        self.reasons.setMaximumHeight(140)
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)  # a refusal names who, what and when: wider than the page on one line
        self.merge_button = QPushButton("نفس الشخص — دمج (F5)")
        self.merge_button.setToolTip("السجلان لشخص واحد: يبقى سجل واحد ويُنقل إليه ما اخترت من الآخر — F5")
        self.distinct_button = QPushButton("شخصان مختلفان (F6)")
        self.distinct_button.setToolTip("شخصان مختلفان رغم التشابه: لا يُعرضان معاً ثانية — F6")
        self.skip_button = QPushButton("تخطي (F7)")
        self.skip_button.setToolTip("اترك هذه الحالة الآن وانتقل إلى التالية — F7")
        self.swap_button = QPushButton("تبديل السجل الباقي (F8)")
        self.swap_button.setToolTip("اختر أي السجلين يبقى بعد الدمج — F8")
        self.undo_button = QPushButton("تراجع عن آخر دمج (Ctrl+Z)")
        self.undo_button.setToolTip("يعيد السجلين كما كانا قبل آخر دمج — Ctrl+Z")
        buttons = QHBoxLayout()
        for b in (self.merge_button, self.distinct_button, self.skip_button, self.swap_button, self.undo_button):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.header)
        layout.addWidget(self.table, 1)
        layout.addWidget(QLabel("الأسباب:"))
        layout.addWidget(self.reasons)
        layout.addLayout(buttons)
        layout.addWidget(self.message)

        self.merge_button.clicked.connect(self.merge_current)
        self.distinct_button.clicked.connect(self.mark_distinct)
        self.skip_button.clicked.connect(self.skip)
        self.swap_button.clicked.connect(self.swap_survivor)
        self.undo_button.clicked.connect(self.undo_last)
        self.scan_button.clicked.connect(self.start_scan)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        for key, slot in (
            ("F5", self.merge_current),
            ("F6", self.mark_distinct),
            ("F7", self.skip),
            ("F8", self.swap_survivor),
            (QKeySequence.StandardKey.Undo, self.undo_last),
        ):
            QShortcut(QKeySequence(key), self, activated=slot)
        self.refresh()

    # --- showing ---
    def refresh(self) -> None:
        sizes = queue_size(self.ctx)
        likely, review = sizes.get("likely", 0), sizes.get("review", 0)
        self.counts.setText(
            f"تنتظر المراجعة: {likely + review:,} حالة — تكرار شبه مؤكد: {likely:,}، وتشابه يحتاج نظراً: {review:,}"
        )
        pending = [p for p in review_queue(self.ctx, limit=len(self.skipped) + 1) if p.id not in self.skipped]
        self.show_pair(pending[0] if pending else None)

    def show_pair(self, pair: ReviewPair | None) -> None:
        self.pair = pair
        self.keep = "a"
        has_pair = pair is not None
        decides = self.ctx.can(Permission.DECIDE_DUPLICATES)  # a courtesy: the service refuses anyway
        for b in (self.merge_button, self.distinct_button, self.swap_button):
            b.setEnabled(has_pair and decides)
        if not decides:  # a clerk asks the supervisor for the merge, with the record kept and the fields chosen
            self.merge_button.setText("نفس الشخص — طلب دمج من المشرف (F5)")
            self.merge_button.setEnabled(has_pair)
            self.swap_button.setEnabled(has_pair)
        self.skip_button.setEnabled(has_pair)
        self.undo_button.setEnabled(self.last_merge is not None and decides)
        self.reasons.clear()
        if pair is None:
            self.header.setText(NOTHING_TO_REVIEW)
            self.table.clearContents()
            return
        self.header.setText(
            f"{DUPLICATE_DECISIONS.get(pair.decision, pair.decision)} — احتمال أن يكونا شخصاً واحداً "
            f"{probability_text(pair.probability)}"
        )
        self.reasons.addItems(list(pair.reasons))
        for row, (field, label) in enumerate(MERGE_FIELDS.items()):
            differs = field in pair.differing
            cells = [
                QTableWidgetItem(label),
                QTableWidgetItem(pair.a.values[field]),
                QTableWidgetItem(pair.b.values[field]),
            ]
            for column, item in enumerate(cells):
                if differs:
                    item.setBackground(QBrush(DIFFERENT))
                if column and field in LTR_FIELDS:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, item)
            box = QCheckBox()
            box.setEnabled(differs or (not pair.a.values[field] and bool(pair.b.values[field])))
            box.setChecked(not pair.a.values[field] and bool(pair.b.values[field]))
            self.table.setCellWidget(row, 3, box)
        self._show_survivor()

    def _show_survivor(self) -> None:
        self.table.setHorizontalHeaderLabels(
            [
                "الحقل",
                "السجل أ (الباقي)" if self.keep == "a" else "السجل أ",
                "السجل ب (الباقي)" if self.keep == "b" else "السجل ب",
                TAKE_COLUMN,
            ]
        )

    def chosen_fields(self) -> tuple[str, ...]:
        out = []
        for row, field in enumerate(MERGE_FIELDS):
            box = self.table.cellWidget(row, 3)
            if isinstance(box, QCheckBox) and box.isChecked():
                out.append(field)
        return tuple(out)

    # --- deciding ---
    def _act(self, action, done, on_lost=None) -> None:
        """A decision at once (the next pair follows from the keyboard); its refusal on the message line."""
        op = ServiceOp(self, action, message=self.message)
        if on_lost is not None:
            op.on(LostUpdateError, on_lost)
        op.success(lambda result: (done(result), self.refresh())).run()

    def merge_current(self) -> None:
        if self.pair is None:
            return
        pair, keep, fields = self.pair, self.keep, self.chosen_fields()
        if not self.ctx.can(Permission.DECIDE_DUPLICATES):
            # after a refused request, the reason the clerk typed for this pair is offered again
            reason = self._request_reason[1] if self._request_reason and self._request_reason[0] == pair.id else ""
            self.ask_merge(pair, keep, fields, reason)
            return

        def done(merge_id: str) -> None:
            self.last_merge = merge_id
            self.message.setText("تم الدمج. يمكن التراجع بـ Ctrl+Z.")

        seen = (pair.a.version, pair.b.version)  # the records as shown side by side: the merge checks them
        self._act(
            lambda: merge_pair(self.ctx, pair.id, survivor=keep, take_from_other=fields, expected_versions=seen),
            done,
            lambda exc: self._on_merge_lost_update(exc, pair.id, keep, fields),
        )

    def _on_merge_lost_update(
        self, exc: LostUpdateError, pair_id: str, keep: str, fields: tuple[str, ...], *, requested: bool = False
    ) -> None:
        """One of the two records was saved by someone else after the pair was shown: the pair is shown again with
        their change (highlighted as any difference), the record kept and the fields chosen stay as the reviewer set
        them where the values did not change — a changed field gets the choice a freshly shown pair would give it, so
        what the other clerk added is not dropped by the reviewer's earlier choice — and the message says who changed
        what; F5 again, once told, merges what is shown now."""
        before = self.pair if self.pair is not None and self.pair.id == pair_id else None
        after = get_review_pair(self.ctx, pair_id)
        self.show_pair(after)
        if keep != self.keep:
            self.swap_survivor()
        for row, field in enumerate(MERGE_FIELDS):
            box = self.table.cellWidget(row, 3)
            changed = before is None or any(
                getattr(before, side).values[field] != getattr(after, side).values[field] for side in ("a", "b")
            )
            if isinstance(box, QCheckBox) and box.isEnabled() and not changed:
                box.setChecked(field in fields)
        who = exc.by or "مستخدم آخر"
        when = f" في {exc.at}" if exc.at else ""
        what = f"؛ غيّر: {'، '.join(exc.fields)}" if exc.fields else ""
        outcome = (
            "لم يُرسل طلب الدمج: الزوج معروض الآن بتعديله، فراجعه ثم اضغط F5 لطلب دمج ما هو معروض."
            if requested
            else "لم يُدمج شيء: الزوج معروض الآن بتعديله، فراجعه ثم اضغط F5 لدمج ما هو معروض."
        )
        show_refusal(UserError(f"عدّل {who} {exc.what}{when} بعد أن عُرض الزوج{what}. {outcome}"), message=self.message)

    def ask_merge(self, pair: ReviewPair, keep: str, fields: tuple[str, ...], reason: str = "") -> RequestDialog:
        """The merge as the clerk set it up (the record kept, the fields taken from the other), sent with a reason."""
        kept = (pair.a if keep == "a" else pair.b).values["full_name"]
        message = f"دمج السجلين مع إبقاء سجل «{kept}»" + (
            f" ونقل {('، '.join(MERGE_FIELDS[f] for f in fields))} إليه من السجل الآخر." if fields else "."
        )

        seen = (pair.a.version, pair.b.version)  # the records as shown side by side: the request checks them

        def send(text: str):
            return request_merge(
                self.ctx, pair.id, reason=text, survivor=keep, take_from_other=fields, expected_versions=seen
            )

        def on_lost(exc: LostUpdateError, text: str) -> None:
            self._request_reason = (pair.id, text)
            self._on_merge_lost_update(exc, pair.id, keep, fields, requested=True)

        self.request_dialog = RequestDialog("طلب دمج", message, send, self, reason=reason)
        self.request_dialog.on_lost = on_lost
        self.request_dialog.sent.connect(lambda _record: self._on_merge_requested(pair.id))
        self.request_dialog.open()
        return self.request_dialog

    def _on_merge_requested(self, pair_id: str) -> None:
        self.skipped.add(pair_id)  # waits for the supervisor: the next pair meanwhile
        self.refresh()
        self.message.setText(REQUEST_SENT)

    def mark_distinct(self) -> None:
        if self.pair is not None:
            pair = self.pair
            said = "سُجّلا شخصين مختلفين."
            self._act(lambda: decide_distinct(self.ctx, pair.id), lambda _r: self.message.setText(said))

    def skip(self) -> None:
        if self.pair is not None:
            self.skipped.add(self.pair.id)
            self.refresh()

    def swap_survivor(self) -> None:
        if self.pair is None:
            return
        self.keep = "b" if self.keep == "a" else "a"
        for row, field in enumerate(MERGE_FIELDS):
            box = self.table.cellWidget(row, 3)
            mine, other = (self.pair.a, self.pair.b) if self.keep == "a" else (self.pair.b, self.pair.a)
            if isinstance(box, QCheckBox):
                box.setEnabled(field in self.pair.differing or (not mine.values[field] and bool(other.values[field])))
                box.setChecked(not mine.values[field] and bool(other.values[field]))
        self._show_survivor()

    def undo_last(self) -> None:
        if self.last_merge is None:
            return
        merge_id = self.last_merge

        def done(kept: tuple[str, ...]) -> None:
            self.last_merge = None
            self.message.setText(
                "تم التراجع عن الدمج."
                + (f" بقي في السجل الباقي ما عُدّل فيه بعد الدمج: {'، '.join(kept)}." if kept else "")
            )

        self._act(lambda: undo_merge(self.ctx, merge_id), done)

    # --- scanning in the background ---
    def start_scan(self) -> None:
        task = tasks.BackgroundTask(
            lambda progress, cancelled: scan_registry(self.ctx, progress=progress, should_cancel=cancelled)
        )
        task.signals.progressed.connect(self._on_scan_progressed)
        task.signals.finished.connect(self._on_scan_finished)
        task.signals.failed.connect(self._on_scan_failed)
        self.scan_button.setEnabled(False)
        self.progress.setVisible(True)
        self.cancel_button.setVisible(True)
        self.scan_task = tasks.start(task)

    def _on_cancel_button_clicked(self) -> None:
        if self.scan_task is not None:
            self.scan_task.cancel()

    def _on_scan_progressed(self, done: int, total: int) -> None:
        self.progress.setMaximum(max(total, 1))
        self.progress.setValue(done)

    def _scan_ended(self) -> None:
        self.scan_task = None
        self.scan_button.setEnabled(True)
        self.progress.setVisible(False)
        self.cancel_button.setVisible(False)

    def _on_scan_finished(self, result) -> None:
        self._scan_ended()
        self.message.setText(f"انتهى الفحص: {result.new_pairs:,} زوجاً جديداً في {result.seconds:.0f} ثانية.")
        self.refresh()

    def _on_scan_failed(self, text: str) -> None:
        self._scan_ended()
        self.message.setText(text)
