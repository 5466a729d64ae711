"""A family in one form: the household and its members as rows, each row checked for duplicates as it is typed."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from aidoffice.domain.persons import PersonInput
from aidoffice.domain.vocab import Housing, IncomeBand, Relation, Sex
from aidoffice.errors import UserError, ValidationError
from aidoffice.services.context import ServiceContext
from aidoffice.services.persons import FamilyDuplicateError, FamilyMember, get_person, register_family
from aidoffice.services.tables import filter_choices
from aidoffice.ui import tasks
from aidoffice.ui.ops import ServiceOp
from aidoffice.ui.pages.persons import CHECK_DELAY_MS, SAME_HINTS, CandidatesPanel, _entry_check
from aidoffice.ui.widgets import combo, debounce, text_of

# Table columns: what a clerk copies from the family's cards.
NAME, RELATION, SEX, BORN, NATIONAL_ID, CHECK = range(6)
HEADERS = ("الاسم الرباعي", "الصلة برب الأسرة", "الجنس", "سنة أو تاريخ الميلاد", "رقم البطاقة", "فحص التكرار")


@dataclass(eq=False)  # rows are told apart by identity: two empty rows are still two rows
class _Row:
    """What the form knows of a row beyond its cells: the check's answer and the clerk's decisions on it."""

    candidates: tuple = ()
    existing_id: str | None = None  # «هو نفسه»: this registered person joins the household
    distinct: set[str] = field(default_factory=set)
    serial: int = 0


class FamilyDialog(QDialog):
    """Head and members as rows (relation, sex, birth year or date, ID), saved all together or not at all."""

    saved = Signal(str)  # the new household's id

    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("أسرة جديدة")
        self.resize(1180, 640)
        self.rows: list[_Row] = []
        self.household_id: str | None = None
        choices = filter_choices(ctx, "households")
        self.district = combo(choices["district"], empty="— المديرية —")
        self.address = QLineEdit()
        self.address.setPlaceholderText("العنوان: الحي، الشارع، أقرب معلم")
        self.income = combo([(b.value, b.label) for b in IncomeBand], empty="— الدخل —")
        self.housing = combo([(h.value, h.label) for h in Housing], empty="— السكن —")
        top = QHBoxLayout()
        for widget, stretch in ((self.district, 1), (self.address, 3), (self.income, 1), (self.housing, 1)):
            top.addWidget(widget, stretch)

        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.verticalHeader().setVisible(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.ResizeMode.Stretch)
        # the name takes what is left, and at least a four-part name's width
        header.setMinimumSectionSize(60)
        for column, width in ((RELATION, 105), (SEX, 70), (BORN, 110), (NATIONAL_ID, 115), (CHECK, 150)):
            self.table.setColumnWidth(column, width)
        self.table.itemChanged.connect(self._on_item_changed)
        self.table.currentCellChanged.connect(lambda row, *_: self._show_row(row))

        self.candidates = CandidatesPanel(same_hint=SAME_HINTS[False])
        self.candidates.setMinimumWidth(320)
        self.candidates.same_chosen.connect(self._on_same_chosen)
        self.candidates.confirmations_changed.connect(self._on_confirmations_changed)

        self.add_button = QPushButton("إضافة فرد (Ctrl+Enter)")
        self.add_button.setShortcut("Ctrl+Return")
        self.add_button.clicked.connect(lambda: self.add_row())
        self.remove_button = QPushButton("حذف الصف")
        self.remove_button.clicked.connect(self.remove_current_row)
        self.save_button = QPushButton("حفظ الأسرة (Ctrl+S)")
        self.save_button.setObjectName("primary")
        self.save_button.setShortcut("Ctrl+S")
        self.save_button.clicked.connect(self.save)
        self.message = QLabel()
        self.message.setObjectName("fieldError")
        self.message.setWordWrap(True)
        hint = QLabel("الصف الأول لرب الأسرة. اكتب كل فرد في صف؛ يظهر بجانب الجدول من قد يكون مسجّلاً من قبل.")
        hint.setWordWrap(True)

        body = QHBoxLayout()
        body.addWidget(self.table, 3)
        body.addWidget(self.candidates, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(hint)
        layout.addLayout(body, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(close)

        self.check_task: tasks.BackgroundTask | None = None
        self.pending: dict[int, tuple] = {}  # rows waiting for their check: id(row state) → (state, serial, input)
        self._timers: list = []
        self.add_row(Relation.HEAD.value)
        self.table.setCurrentCell(0, NAME)

    def showEvent(self, event) -> None:
        """The head's name first, its editor open (Ctrl+N on the households' list): the first key typed is the
        name's first letter. An editor opened before the dialog is shown loses its focus, and that letter."""
        super().showEvent(event)
        if not self.table.item(0, NAME).text():
            QTimer.singleShot(0, self._edit_first_name)

    def _edit_first_name(self) -> None:
        self.table.setCurrentCell(0, NAME)
        self.table.setFocus()
        self.table.editItem(self.table.item(0, NAME))

    # --- rows ---------------------------------------------------------------------------------------------------
    def add_row(self, relation: str | None = None) -> int:
        row = self.table.rowCount()
        self.table.blockSignals(True)
        self.table.insertRow(row)
        for column in (NAME, BORN, NATIONAL_ID):
            self.table.setItem(row, column, QTableWidgetItem(""))
        status = QTableWidgetItem("")
        status.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        self.table.setItem(row, CHECK, status)
        relations = [(r.value, r.label) for r in Relation if r is not Relation.HEAD or row == 0]
        relation_box = combo(relations)
        if relation:
            relation_box.setCurrentIndex(max(0, relation_box.findData(relation)))
        elif row:
            relation_box.setCurrentIndex(max(0, relation_box.findData(Relation.SON.value)))
        sex_box = combo([(s.value, s.label) for s in Sex], empty="—")
        sex_box.currentIndexChanged.connect(lambda _i, box=sex_box: self._on_widget_changed(box))
        self.table.setCellWidget(row, RELATION, relation_box)
        self.table.setCellWidget(row, SEX, sex_box)
        self.table.blockSignals(False)
        self.rows.append(_Row())
        timer = debounce(self, CHECK_DELAY_MS, partial(self._check_by_widget, sex_box))
        self._timers.append(timer)
        self.table.setCurrentCell(row, NAME)
        self.table.editItem(self.table.item(row, NAME))
        return row

    def remove_current_row(self) -> None:
        row = self.table.currentRow()
        if row <= 0:
            self.message.setText("الصف الأول لرب الأسرة ولا يُحذف؛ صحّح بياناته.")
            return
        self.table.removeRow(row)
        del self.rows[row]
        del self._timers[row]
        self._show_row(self.table.currentRow())

    def set_row(self, row: int, name: str, *, relation: str = "", sex: str = "", born: str = "", national_id: str = ""):
        """Fill a row as a clerk would type it (used by the keyboard flow and the tests)."""
        self.table.item(row, BORN).setText(born)
        self.table.item(row, NATIONAL_ID).setText(national_id)
        if relation:
            box: QComboBox = self.table.cellWidget(row, RELATION)
            box.setCurrentIndex(box.findData(relation))
        if sex:
            box = self.table.cellWidget(row, SEX)
            box.setCurrentIndex(box.findData(sex))
        self.table.item(row, NAME).setText(name)

    def _row_of_widget(self, widget) -> int:
        for row in range(self.table.rowCount()):
            if self.table.cellWidget(row, SEX) is widget:
                return row
        return -1

    def _on_widget_changed(self, widget) -> None:
        row = self._row_of_widget(widget)
        if row >= 0:
            self._row_changed(row)

    def _on_item_changed(self, item: QTableWidgetItem) -> None:
        if item.column() != CHECK:
            self._row_changed(item.row())

    def _row_changed(self, row: int) -> None:
        state = self.rows[row]
        state.serial += 1
        if state.existing_id is None:
            state.distinct.clear()
        self._set_status(row, "…")
        self._timers[row].start()

    def _check_by_widget(self, widget) -> None:
        row = self._row_of_widget(widget)
        if row >= 0:
            self.check_row(row)

    # --- the check on entry, row by row ---------------------------------------------------------------------------
    def person_input(self, row: int) -> PersonInput:
        born = self.table.item(row, BORN).text().strip()
        is_date = any(sep in born for sep in "/-.")
        return PersonInput(
            full_name=self.table.item(row, NAME).text(),
            national_id=self.table.item(row, NATIONAL_ID).text(),
            sex=text_of(self.table.cellWidget(row, SEX)),
            birth_date=born if is_date else None,
            birth_year=None if is_date else (born or None),
            district=self.district.currentText() if self.district.currentData() else "",
        )

    def check_row(self, row: int) -> None:
        """Queue the row's check; the checks run one after another off the GUI thread (eight at once would only
        wait on one another for the database)."""
        state = self.rows[row]
        self._timers[row].stop()
        if state.existing_id or not self.table.item(row, NAME).text().strip():
            self._set_status(row, "" if not state.existing_id else "مسجّل من قبل: يُضاف إلى الأسرة")
            return
        self.pending[id(state)] = (state, state.serial, self.person_input(row))
        self._run_checks()

    def _run_checks(self) -> None:
        if self.check_task is not None or not self.pending:
            return
        batch, self.pending = list(self.pending.values()), {}
        ctx = self.ctx

        def work(progress, cancelled):
            answers = []
            for state, serial, data in batch:
                if cancelled():
                    break
                try:
                    answers.append((state, _entry_check(ctx, data, "", serial, (), None, None)))
                except UserError as exc:
                    answers.append((state, exc.message))
            return answers

        task = tasks.BackgroundTask(work)
        task.signals.finished.connect(self._on_batch_checked)
        task.signals.failed.connect(self._on_batch_failed)
        task.signals.crashed.connect(self._on_batch_crashed)
        self.check_task = tasks.start(task)

    def _on_batch_crashed(self, exc: BaseException) -> None:
        """A bug: the checks go on for the other rows, and the crash reaches the crash report."""
        self.check_task = None
        self._run_checks()
        raise exc

    def _on_batch_checked(self, answers: list) -> None:
        self.check_task = None
        for state, answer in answers:
            if isinstance(answer, str):
                self._on_check_failed(state, answer)
            else:
                self._on_checked(state, answer)
        self._run_checks()

    def _on_batch_failed(self, text: str) -> None:
        self.check_task = None
        self.message.setText(text)
        self._run_checks()

    def _on_checked(self, state: _Row, answer: tuple) -> None:
        serial, _key, found = answer
        row = next((i for i, r in enumerate(self.rows) if r is state), -1)
        if row < 0 or serial != state.serial:
            return  # typed on since, or the row was removed
        state.candidates = tuple(found or ())
        likely = [c for c in state.candidates if c.decision == "likely" and c.person_id not in state.distinct]
        if found is None:
            text = "أكمل الاسم"
        elif likely:
            text = f"⚠ قد يكون مسجّلاً ({len(likely)})"
        elif state.candidates:
            text = f"يشبه {len(state.candidates)} — للنظر"
        else:
            text = "✔ لا يشبه أحداً"
        self._set_status(row, text)
        if self.table.currentRow() == row:
            self._show_row(row)

    def _on_check_failed(self, state: _Row, text: str) -> None:
        row = next((i for i, r in enumerate(self.rows) if r is state), -1)
        if row >= 0:
            self._set_status(row, "تعذّر الفحص الآن")
            self.message.setText(text)

    def _set_status(self, row: int, text: str) -> None:
        self.table.blockSignals(True)
        self.table.item(row, CHECK).setText(text)
        self.table.blockSignals(False)

    def _show_row(self, row: int) -> None:
        if not 0 <= row < len(self.rows):
            self.candidates.show_candidates(())
            return
        state = self.rows[row]
        self.candidates.distinct = state.distinct
        self.candidates.show_candidates(state.candidates)
        if not state.candidates:
            self.candidates.set_waiting(f"الصف {row + 1}: لا سجلات مشابهة." if state.serial else "اكتب الاسم الرباعي.")

    def _on_confirmations_changed(self) -> None:
        row = self.table.currentRow()
        if 0 <= row < len(self.rows):
            self.rows[row].distinct = set(self.candidates.distinct)
            self._on_checked(self.rows[row], (self.rows[row].serial, (), list(self.rows[row].candidates)))

    def _on_same_chosen(self, person_id: str) -> None:
        """«هو نفسه»: the registered person takes this row (nobody new is added for it)."""
        row = self.table.currentRow()
        if not 0 <= row < len(self.rows):
            return
        person = get_person(self.ctx, person_id)
        if person.household_id:
            self.message.setText(f"الصف {row + 1}: هذا الشخص عضو في أسرة أخرى؛ انقله منها من سجله.")
            return
        state = self.rows[row]
        state.existing_id = person_id
        state.serial += 1
        self.table.blockSignals(True)
        item = self.table.item(row, NAME)
        item.setText(person.full_name)
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        self.table.item(row, NATIONAL_ID).setText(person.national_id)
        self.table.blockSignals(False)
        self._set_status(row, "مسجّل من قبل: يُضاف إلى الأسرة")
        state.candidates = ()
        self._show_row(row)

    # --- save ---------------------------------------------------------------------------------------------------
    def members(self) -> list[FamilyMember]:
        out = []
        for row, state in enumerate(self.rows):
            relation = text_of(self.table.cellWidget(row, RELATION))
            if state.existing_id:
                out.append(FamilyMember(relation, existing_id=state.existing_id))
            elif self.table.item(row, NAME).text().strip() or row == 0:
                out.append(FamilyMember(relation, person=self.person_input(row), distinct_from=tuple(state.distinct)))
        return out

    def save(self) -> bool:
        members, income, housing = self.members(), text_of(self.income) or None, text_of(self.housing) or None
        address = self.address.text()
        op = ServiceOp(
            self,
            lambda: register_family(self.ctx, members, income_band=income, housing=housing, address=address),
            message=self.message,
        )
        op.on(FamilyDuplicateError, self._on_family_duplicate).on(ValidationError, self._on_family_invalid)
        return op.success(self._on_family_saved).run()

    def _on_family_duplicate(self, exc: FamilyDuplicateError) -> None:
        self.table.setCurrentCell(exc.row, NAME)
        self.rows[exc.row].candidates = exc.candidates
        self._show_row(exc.row)
        self.candidates.show_refusal(exc.message, exc.candidates)
        self.message.setText(exc.message)

    def _on_family_invalid(self, exc: ValidationError) -> None:
        """The members are rows of a table, not fields of a form: the reasons on the message line, the cursor on
        the first row named."""
        self.message.setText("؛ ".join(exc.problems.values()))
        first = next(iter(exc.problems))
        if first.startswith("members."):
            self.table.setCurrentCell(int(first.split(".")[1]), NAME)

    def _on_family_saved(self, record) -> None:
        self.household_id = record.id
        self.saved.emit(record.id)
        self.accept()
