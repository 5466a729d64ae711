"""Beneficiaries and households: the two registries, the person form, households and a person's aid history."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aidoffice.domain.arabic import normalize_digits
from aidoffice.domain.dates import hijri_text
from aidoffice.domain.persons import PersonInput
from aidoffice.domain.vocab import LineStatus, Relation, Sex
from aidoffice.errors import LikelyDuplicateError, LostUpdateError, UserError, ValidationError
from aidoffice.services.context import ServiceContext
from aidoffice.services.duplicates import Candidate, check_person
from aidoffice.services.persons import (
    add_household_member,
    add_person,
    aid_history,
    create_household,
    get_household,
    get_person,
    move_household_member,
    search_persons,
    update_person,
)
from aidoffice.services.reports import write_cards
from aidoffice.services.sync import other_offices_of
from aidoffice.services.tables import filter_choices
from aidoffice.texts import DUPLICATE_DECISIONS, probability_text
from aidoffice.ui import tasks
from aidoffice.ui.ops import ServiceOp, show_refusal
from aidoffice.ui.pages.associations import fill_table
from aidoffice.ui.pages.list_page import ListPage
from aidoffice.ui.widgets import (
    DateField,
    Form,
    ask_pdf_path,
    combo,
    debounce,
    ltr_edit,
    open_document,
    save_row,
    select_value,
    text_of,
)

RELATIONS = [(r.value, r.label) for r in Relation if r is not Relation.HEAD]


def _summary_parts(person) -> tuple[str, ...]:
    """Name, ID, birth year and district: enough to tell two namesakes apart in a pick list."""
    year = getattr(person, "birth_year", None)
    return (
        person.full_name,
        f"بطاقة {person.national_id}" if person.national_id else "",
        f"مواليد {year}" if year else "",
        person.district or "",
        getattr(person, "household", ""),
    )


class PersonPicker(QWidget):
    """Find a person as you type (name, ID or phone) and pick one; `picked` carries the person's id.

    Down moves from the box into the results; Enter (in either) picks the highlighted person; a click or a double
    click only highlights, so a slip of the mouse adds nobody. The count of matches shows above the list."""

    picked = Signal(str)

    def __init__(
        self, ctx: ServiceContext, parent=None, *, placeholder: str = "ابحث بالاسم أو رقم البطاقة…", rows: int = 6
    ) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.edit.setClearButtonEnabled(True)
        self.count = QLabel()
        self.count.setObjectName("hint")
        self.results = QListWidget()
        self.results.setMaximumHeight(26 * rows)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.count)
        layout.addWidget(self.results)
        self.setFocusProxy(self.edit)
        self._timer = debounce(self, 250, self.search)
        self.edit.textChanged.connect(self._on_edit_text_changed)
        self.edit.installEventFilter(self)
        self.results.installEventFilter(self)

    def _on_edit_text_changed(self, _text: str) -> None:
        self._timer.start()

    def eventFilter(self, watched, event) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            key = event.key()
            if watched is self.edit and key == Qt.Key.Key_Down:
                if self._timer.isActive():
                    self.search()
                if self.results.count():
                    self.results.setFocus()
                    self.results.setCurrentRow(max(0, self.results.currentRow()))
                return True
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if watched is self.edit and self._timer.isActive():
                    self.search()
                    if self.results.count():
                        self.results.setCurrentRow(0)
                person_id = self.current_id()
                if person_id:
                    self.picked.emit(person_id)
                return True
        return super().eventFilter(watched, event)

    def search(self) -> None:
        self._timer.stop()
        self.results.clear()
        found = search_persons(self.ctx, self.edit.text(), limit=30)
        for person in found:
            label = " — ".join(x for x in _summary_parts(person) if x)
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, person.id)
            self.results.addItem(item)
        if not self.edit.text().strip():
            self.count.setText("")
        elif not found:
            self.count.setText("لا أحد بهذا الاسم أو الرقم.")
        else:
            more = " (أول 30: زد حروفاً لتضييق البحث)" if len(found) >= 30 else ""
            self.count.setText(f"{len(found)} نتيجة{more} — ↓ للتنقل، Enter للاختيار")

    def current_id(self) -> str | None:
        item = self.results.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def preset(self, person_id: str, label: str) -> None:
        """Start with this person chosen (a referral opened from the person's record)."""
        self._timer.stop()
        self.edit.blockSignals(True)
        self.edit.clear()
        self.edit.blockSignals(False)
        self.results.clear()
        item = QListWidgetItem(label)
        item.setData(Qt.ItemDataRole.UserRole, person_id)
        self.results.addItem(item)
        self.results.setCurrentRow(0)
        self.count.setText("")


class PersonForm(Form):
    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__(parent)
        self.add("full_name", "الاسم الرباعي", QLineEdit())
        self.add("national_id", "رقم البطاقة", ltr_edit(digits=True))
        self.add("phone", "الهاتف", ltr_edit(digits=True, extra="+ -"))
        self.add("sex", "الجنس", combo([(s.value, s.label) for s in Sex], empty="—"))
        self.add("birth_date", "تاريخ الميلاد", DateField())
        self.add("birth_year", "أو سنة الميلاد", ltr_edit("مثال: 1985", digits=True))
        self.add("district", "المديرية", combo(filter_choices(ctx, "persons")["district"], empty="—"))
        self.add("spouse_name", "اسم الزوج/الزوجة", QLineEdit())
        self.add("spouse_national_id", "رقم بطاقة الزوج/الزوجة", ltr_edit(digits=True))
        self.add("notes", "ملاحظات", QPlainTextEdit())
        self.fields["notes"].setMaximumHeight(60)
        self.add("consent", "مشاركة البيانات", QCheckBox("وافق المستفيد على مشاركة بياناته مع الديوان والجهات الشريكة"))
        self.finish()

    def load(self, person) -> None:
        f = self.fields
        f["full_name"].setText(person.full_name)
        f["national_id"].setText(person.national_id)
        f["phone"].setText(person.phone)
        select_value(f["sex"], person.sex)
        f["birth_date"].set_value(person.birth_date)
        f["birth_year"].setText(str(person.birth_year) if person.birth_year and not person.birth_date else "")
        index = f["district"].findText(person.district or "")
        f["district"].setCurrentIndex(max(0, index))
        f["spouse_name"].setText(person.spouse_name)
        f["spouse_national_id"].setText(person.spouse_national_id)
        f["notes"].setPlainText(person.notes)
        f["consent"].setChecked(person.consent_sharing)
        since = f" (منذ {self.ctx.style.date(person.consent_on)})" if person.consent_on else ""
        f["consent"].setToolTip(("موافق" if person.consent_sharing else "غير موافق") + since)

    def value(self) -> PersonInput:
        f = self.fields
        return PersonInput(
            full_name=text_of(f["full_name"]),
            national_id=text_of(f["national_id"]),
            phone=text_of(f["phone"]),
            sex=text_of(f["sex"]),
            birth_date=text_of(f["birth_date"]) or None,
            birth_year=text_of(f["birth_year"]) or None,
            district=f["district"].currentText() if f["district"].currentData() else "",
            spouse_name=text_of(f["spouse_name"]),
            spouse_national_id=text_of(f["spouse_national_id"]),
            notes=text_of(f["notes"]),
            consent=f["consent"].isChecked(),
        )


SEX_LABELS = {s.value: s.label for s in Sex}
CHECK_DELAY_MS = 400
SAME_HINTS = {
    True: "هذا هو الشخص نفسه: يُفتح سجله الموجود ولا يُضاف سجل جديد.",
    False: "هذا هو الشخص نفسه: يُستعمل سجله الموجود ولا يُضاف سجل جديد.",
}
# The panel's own look: a confirmed «شخص آخر» stays visibly pressed; a likely card left unanswered at save is marked.
PANEL_STYLE = """
QPushButton:checked { background: #cfe6df; border-color: #1f6f5c; font-weight: 600; }
QFrame#card[attention="true"] { border: 2px solid #b3261e; }
"""
# The fields the entry check reads: a change in any of them asks again (after a pause in the typing).
CHECKED_FIELDS = ("full_name", "national_id", "phone", "sex", "birth_date", "birth_year", "district")


def _entry_check(ctx: ServiceContext, data: PersonInput, person_id: str, serial: int, key: tuple, _progress, _cancel):
    """Off the GUI thread: (serial, key, candidates), the candidates None while the input cannot be checked yet.
    The serial and the typed key travel with the answer, so that a late answer to older input is recognised."""
    try:
        return serial, key, check_person(ctx, data, person_id=person_id)
    except ValidationError:
        return serial, key, None


def _western(text: str) -> str:
    """One digit style in the panel, as in the rest of the screens (the engine writes its reasons in ٠-٩)."""
    return normalize_digits(text)


class CandidateCard(QFrame):
    """One registered person the clerk may be typing again: who, why, what they received, and the two answers."""

    same_clicked = Signal(str)
    other_toggled = Signal(str, bool)

    def __init__(
        self, candidate: Candidate, confirmed: bool, parent=None, *, same_hint: str = SAME_HINTS[True]
    ) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.candidate = candidate
        self.person_id = candidate.person_id
        likely = candidate.decision == "likely"
        self.name = QLabel(candidate.full_name)
        font = self.name.font()
        font.setBold(True)
        self.name.setFont(font)
        self.name.setWordWrap(True)
        self.name.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        decision = DUPLICATE_DECISIONS.get(candidate.decision, candidate.decision)
        if candidate.probability is not None:
            decision += f" — احتمال {probability_text(candidate.probability)}"
        self.decision = QLabel(decision)
        self.decision.setObjectName("fieldError" if likely else "message")
        head = QHBoxLayout()
        head.addWidget(self.name, 1)
        head.addWidget(self.decision, 0, Qt.AlignmentFlag.AlignTop)
        facts = [
            f"رقم البطاقة: {candidate.national_id}" if candidate.national_id else "بلا رقم بطاقة",
            f"مواليد {candidate.birth_year}" if candidate.birth_year else "",
            SEX_LABELS.get(candidate.sex or "", ""),
            candidate.district or "",
            f"هاتف {candidate.phone}" if candidate.phone else "",
        ]
        self.facts = QLabel(" · ".join(f for f in facts if f))
        self.facts.setWordWrap(True)
        self.reasons = QLabel("لماذا: " + _western("، ".join(candidate.reasons)) if candidate.reasons else "")
        self.reasons.setWordWrap(True)
        self.reasons.setObjectName("message")
        aid = candidate.aid
        self.aid = QLabel(("آخر المساعدات:\n" + "\n".join(f"• {line}" for line in aid)) if aid else "لا مساعدات مسجلة.")
        self.aid.setWordWrap(True)
        self.same_button = QPushButton("هو نفسه")
        self.same_button.setToolTip(same_hint)
        self.same_button.clicked.connect(lambda _checked=False: self.same_clicked.emit(self.person_id))
        self.other_button = QPushButton()
        self.other_button.setCheckable(True)
        self.other_button.setChecked(confirmed)
        self.other_button.setToolTip("شخص مختلف رغم التشابه: يُحفظ السجل ويُحفظ هذا القرار فلا يُعرض الزوج ثانية.")
        self._label_other(confirmed)
        self.other_button.toggled.connect(self._on_other_button_toggled)
        buttons = QHBoxLayout()
        buttons.addWidget(self.same_button)
        buttons.addWidget(self.other_button)
        buttons.addStretch(1)
        column = QVBoxLayout(self)
        column.setContentsMargins(10, 8, 10, 8)
        column.setSpacing(4)
        column.addLayout(head)
        column.addWidget(self.facts)
        if candidate.reasons:
            column.addWidget(self.reasons)
        column.addWidget(self.aid)
        column.addLayout(buttons)

    def _label_other(self, checked: bool) -> None:
        self.other_button.setText("✓ شخص آخر" if checked else "شخص آخر")

    def set_attention(self, on: bool) -> None:
        self.setProperty("attention", on)
        self.style().unpolish(self)
        self.style().polish(self)

    def _on_other_button_toggled(self, checked: bool) -> None:
        self._label_other(checked)
        self.other_toggled.emit(self.person_id, checked)


class CandidatesPanel(QFrame):
    """Beside the person form: who the person being typed may already be, filled while the clerk types."""

    same_chosen = Signal(str)
    confirmations_changed = Signal()

    def __init__(self, parent=None, *, same_hint: str = SAME_HINTS[True]) -> None:
        super().__init__(parent)
        self.same_hint = same_hint
        self.setStyleSheet(PANEL_STYLE)
        self.title = QLabel("سجلات مشابهة في السجل")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.status = QLabel("اكتب الاسم الرباعي: تظهر هنا السجلات المشابهة أثناء الكتابة.")
        self.status.setObjectName("message")
        self.status.setWordWrap(True)
        self.message = QLabel()
        self.message.setObjectName("banner")
        self.message.setWordWrap(True)
        self.message.hide()
        self.cards_box = QWidget()
        self.cards_layout = QVBoxLayout(self.cards_box)
        self.cards_layout.setContentsMargins(0, 0, 0, 0)
        self.cards_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.cards_box)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.title)
        column.addWidget(self.status)
        column.addWidget(self.message)
        column.addWidget(scroll, 1)
        self.candidates: tuple[Candidate, ...] = ()
        self.cards: list[CandidateCard] = []
        self.distinct: set[str] = set()  # «شخص آخر»: what the clerk confirmed for this save

    def set_waiting(self, text: str) -> None:
        self.status.setText(text)

    def show_candidates(self, candidates) -> None:
        self.candidates = tuple(candidates)
        for card in self.cards:
            self.cards_layout.removeWidget(card)
            card.deleteLater()
        self.cards = []
        for candidate in self.candidates:
            card = CandidateCard(candidate, candidate.person_id in self.distinct, same_hint=self.same_hint)
            card.same_clicked.connect(self.same_chosen)
            card.other_toggled.connect(self._on_card_other_toggled)
            self.cards_layout.insertWidget(self.cards_layout.count() - 1, card)
            self.cards.append(card)
        self._show_status()

    def _show_status(self) -> None:
        likely = [c for c in self.candidates if c.decision == "likely"]
        if not self.candidates:
            self.status.setText("لا يوجد سجل مشابه: يمكن الحفظ.")
        elif self.unconfirmed():
            self.status.setText(
                f"قد يكون مسجلاً من قبل — السجلات المشابهة: {len(self.candidates)}، منها تكرار مرجح: {len(likely)}. "
                "قارن، ثم اختر لكل تكرار مرجح «هو نفسه» أو «شخص آخر»."
            )
        else:
            self.status.setText(f"السجلات المشابهة: {len(self.candidates)} — لا يمنع أيٌّ منها الحفظ.")

    def unconfirmed(self) -> list[Candidate]:
        return [c for c in self.candidates if c.decision == "likely" and c.person_id not in self.distinct]

    def show_refusal(self, message: str, candidates) -> None:
        self.show_candidates(candidates)
        self.message.setText(message)
        self.message.show()
        unanswered = {c.person_id for c in self.unconfirmed()}
        for card in self.cards:
            card.set_attention(card.person_id in unanswered)

    def clear_refusal(self) -> None:
        self.message.hide()
        self.message.setText("")
        for card in self.cards:
            card.set_attention(False)

    def card_of(self, person_id: str) -> CandidateCard | None:
        return next((c for c in self.cards if c.person_id == person_id), None)

    def _on_card_other_toggled(self, person_id: str, checked: bool) -> None:
        if checked:
            self.distinct.add(person_id)
        else:
            self.distinct.discard(person_id)
        card = self.card_of(person_id)
        if card is not None and checked:
            card.set_attention(False)
        if self.message.isVisible() and not self.unconfirmed():
            self.message.setText("أكّدت أن كل تكرار مرجح شخص آخر: اضغط «حفظ».")
        self._show_status()
        self.confirmations_changed.emit()


class PersonDialog(QDialog):
    """A person: the form (saved only when valid), the household and the aid history across associations."""

    saved = Signal(str)
    existing_chosen = Signal(str)  # «هو نفسه»: the person typed is this registered one

    def __init__(
        self, ctx: ServiceContext, person_id: str | None = None, parent=None, *, open_existing: bool = True
    ) -> None:
        """`open_existing`: «هو نفسه» opens that record here; a caller that adds the person somewhere (a household,
        a distribution) says False and takes `existing_chosen` instead."""
        super().__init__(parent)
        self.ctx = ctx
        self.person_id = person_id
        self.open_existing = open_existing
        self.version: int | None = None
        self.existing: PersonDialog | None = None
        self.new_member: PersonDialog | None = None
        self.household_id: str | None = None
        self.setWindowTitle("مستفيد جديد" if person_id is None else "بيانات المستفيد")
        self.resize(980, 660)
        self.form = PersonForm(ctx)
        self.candidates = CandidatesPanel(same_hint=SAME_HINTS[open_existing])
        self.candidates.setMinimumWidth(340)
        self.candidates.same_chosen.connect(self._on_candidates_same_chosen)
        self.tabs = QTabWidget()
        form_page = QWidget()
        form_column = QVBoxLayout()
        form_column.addWidget(self.form)
        form_column.addStretch(1)
        row, self.save_button = save_row(self.save)
        form_column.addLayout(row)
        columns = QHBoxLayout(form_page)
        columns.addLayout(form_column, 3)
        separator = QFrame()
        separator.setFrameShape(QFrame.Shape.VLine)
        separator.setFrameShadow(QFrame.Shadow.Sunken)
        columns.addWidget(separator)
        columns.addWidget(self.candidates, 2)
        self.tabs.addTab(form_page, "البيانات")
        self.household_tab = QWidget()
        self.history_table = QTableWidget()
        self.tabs.addTab(self.household_tab, "الأسرة")
        self.tabs.addTab(self.history_table, "سجل المساعدات")
        # Headquarters' cross-office flag, where the clerk looks before aid goes out.
        self.elsewhere = QLabel()
        self.elsewhere.setObjectName("banner")
        self.elsewhere.setWordWrap(True)
        self.elsewhere.hide()
        # What a clerk does next with a registered person, without leaving the record.
        self.to_round_button = QPushButton("إضافة إلى توزيع…")
        self.to_round_button.setToolTip("إدراج المستفيد (أسرته) في كشف توزيع مفتوح، مع تنبيه «استلم من قبل».")
        self.to_round_button.clicked.connect(self.add_to_round)
        self.refer_button = QPushButton("إحالة إلى جمعية…")
        self.refer_button.clicked.connect(self.refer)
        self.household_button = QPushButton("الأسرة")
        self.household_button.clicked.connect(lambda: self.tabs.setCurrentWidget(self.household_tab))
        self.card_button = QPushButton("طباعة البطاقة…")
        self.card_button.setToolTip("بطاقة المستفيد برمز QR يُمسح عند الاستلام.")
        self.card_button.clicked.connect(lambda _checked=False: self.print_card())
        self.next_steps = QHBoxLayout()
        for button in (self.to_round_button, self.refer_button, self.household_button, self.card_button):
            self.next_steps.addWidget(button)
        self.next_steps.addStretch(1)
        self.next_message = QLabel()
        self.next_message.setObjectName("fieldError")
        self.next_message.setWordWrap(True)
        self.round_chooser: QDialog | None = None
        self.round_dialog: QDialog | None = None
        self.referral_dialog: QDialog | None = None
        self.card_task: tasks.BackgroundTask | None = None
        self.last_card: Path | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(self.elsewhere)
        layout.addWidget(self.tabs)
        layout.addLayout(self.next_steps)
        layout.addWidget(self.next_message)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self._build_household_tab()
        # The check on entry: after a pause in the typing, off the GUI thread; a late answer to older input is dropped.
        self.check_task: tasks.BackgroundTask | None = None
        self._check_serial = 0
        self._check_timer = debounce(self, CHECK_DELAY_MS, self.check_entry)
        for key in CHECKED_FIELDS:
            widget = self.form.fields[key]
            if isinstance(widget, DateField):
                widget.edit.textChanged.connect(self._on_checked_field_changed)
            elif isinstance(widget, QComboBox):
                widget.currentIndexChanged.connect(self._on_checked_field_changed)
            else:
                widget.textChanged.connect(self._on_checked_field_changed)
        self.reload()
        self.form.fields["full_name"].setFocus()  # the cursor where the clerk types first (Ctrl+N)

    # --- the check on entry ---------------------------------------------------------------------------------
    def _check_key(self) -> tuple:
        f = self.form.fields
        return tuple(text_of(f[key]) if key != "district" else f[key].currentText() for key in CHECKED_FIELDS)

    def _on_checked_field_changed(self, *_args) -> None:
        self._check_serial += 1  # whatever is on its way describes what was typed before
        self.candidates.clear_refusal()
        self._check_timer.start()

    def check_entry(self) -> None:
        """Ask the registry who this may be (the form's text as it is now), off the GUI thread."""
        self._check_timer.stop()
        self._check_serial += 1
        serial, key = self._check_serial, self._check_key()
        if not self.form.fields["full_name"].text().strip():
            self.candidates.show_candidates(())
            self.candidates.set_waiting("اكتب الاسم الرباعي: تظهر هنا السجلات المشابهة أثناء الكتابة.")
            return
        self.candidates.set_waiting("جارٍ البحث عن سجلات مشابهة…")
        task = tasks.BackgroundTask(
            partial(_entry_check, self.ctx, self.form.value(), self.person_id or "", serial, key)
        )
        task.signals.finished.connect(self._on_check_finished)
        task.signals.failed.connect(self._on_check_failed)
        self.check_task = tasks.start(task)

    def _on_check_finished(self, answer: tuple) -> None:
        serial, key, found = answer
        if serial != self._check_serial or key != self._check_key():
            return  # the clerk kept typing: a newer check is on its way
        self.check_task = None
        if found is None:
            self.candidates.show_candidates(())
            self.candidates.set_waiting("أكمل البيانات ليبدأ البحث عن سجلات مشابهة.")
            return
        self.candidates.show_candidates(found)

    def _on_check_failed(self, text: str) -> None:
        self.check_task = None
        self.candidates.set_waiting(text)

    def _on_candidates_same_chosen(self, person_id: str) -> None:
        """«هو نفسه»: nothing new is added; the registered person is opened (or handed to the caller)."""
        self._check_serial += 1
        self._check_timer.stop()
        self.existing_chosen.emit(person_id)
        if self.open_existing:
            self.existing = PersonDialog(self.ctx, person_id, self.parentWidget())
            self.existing.saved.connect(self.saved)
            self.existing.open()
        self.reject()

    def _build_household_tab(self) -> None:
        layout = QVBoxLayout(self.household_tab)
        self.household_label = QLabel()
        self.household_label.setWordWrap(True)
        self.members_table = QTableWidget()
        layout.addWidget(self.household_label)
        layout.addWidget(self.members_table, 1)
        self.create_household_button = QPushButton("إنشاء أسرة يرأسها هذا الشخص")
        self.create_household_button.clicked.connect(self.create_own_household)
        self.size_edit = ltr_edit("عدد الأفراد", digits=True)
        row = QHBoxLayout()
        row.addWidget(self.size_edit)
        row.addWidget(self.create_household_button)
        layout.addLayout(row)
        layout.addWidget(QLabel("إضافة فرد إلى الأسرة، أو نقل هذا الشخص إلى أسرة الشخص المختار:"))
        self.picker = PersonPicker(self.ctx)
        self.relation = combo(RELATIONS)
        self.add_member_button = QPushButton("إضافة المختار إلى الأسرة")
        self.add_member_button.clicked.connect(self.add_member)
        self.move_button = QPushButton("نقل هذا الشخص إلى أسرة المختار")
        self.move_button.clicked.connect(self.move_to_household)
        self.new_member_button = QPushButton("فرد جديد…")
        self.new_member_button.setToolTip("تسجيل شخص غير مسجل (مع فحص التكرار) ثم إضافته إلى الأسرة بالصلة المختارة.")
        self.new_member_button.clicked.connect(self.add_new_member)
        layout.addWidget(self.picker)
        row = QHBoxLayout()
        row.addWidget(QLabel("صلة القرابة برب الأسرة:"))
        row.addWidget(self.relation)
        row.addStretch(1)
        row.addWidget(self.add_member_button)
        row.addWidget(self.new_member_button)
        row.addWidget(self.move_button)
        layout.addLayout(row)
        self.household_message = QLabel()
        self.household_message.setObjectName("fieldError")
        self.household_message.setWordWrap(True)
        layout.addWidget(self.household_message)

    def reload(self) -> None:
        has_person = self.person_id is not None
        self.tabs.setTabEnabled(1, has_person)
        self.tabs.setTabEnabled(2, has_person)
        for button in (self.to_round_button, self.refer_button, self.household_button, self.card_button):
            button.setEnabled(has_person)
        if not has_person:
            return
        person = get_person(self.ctx, self.person_id)
        self.version = getattr(person, "version", None)
        self.form.load(person)
        self.setWindowTitle(f"بيانات المستفيد — {person.full_name}")
        offices = other_offices_of(self.ctx, self.person_id)
        self.elsewhere.setText(
            f"وجد الديوان أن هذا الشخص مسجّل أيضًا لدى: {'، '.join(offices)}. تحقّق قبل صرف المساعدة، "
            "واتصل بالمكتب الآخر عند الشك."
        )
        self.elsewhere.setVisible(bool(offices))
        self.household_id = person.household_id
        if person.household_id:
            household = get_household(self.ctx, person.household_id)
            size = f"، عدد الأفراد المصرح به: {household.size}" if household.size else ""
            self.household_label.setText(f"عضو في أسرة{size}. صلته: {Relation(person.relation).label}.")
            fill_table(
                self.members_table,
                ["الاسم", "الصلة"],
                [[name, Relation(rel).label] for _pid, name, rel in household.members],
            )
        else:
            self.household_label.setText("ليس عضواً في أي أسرة بعد.")
            fill_table(self.members_table, ["الاسم", "الصلة"], [])
        self.create_household_button.setEnabled(not person.household_id)
        self.add_member_button.setEnabled(bool(person.household_id))
        self.new_member_button.setEnabled(bool(person.household_id))
        labels = {s.value: s.label for s in LineStatus}
        fill_table(
            self.history_table,
            ["التاريخ", "هجري", "المساعدة", "الصنف", "الجمعية", "الحالة"],
            [
                [
                    self.ctx.style.date(h.distribution_date),
                    hijri_text(h.distribution_date),
                    h.aid_type,
                    h.item,
                    h.association,
                    labels.get(h.status, h.status),
                ]
                for h in aid_history(self.ctx, self.person_id)
            ],
        )

    def save(self) -> bool:
        """Save through the service's entry check: a likely duplicate not confirmed «شخص آخر» is refused, and the
        candidates are shown beside the form with nothing typed lost."""
        self.candidates.clear_refusal()
        distinct, value = set(self.candidates.distinct), self.form.value()
        person_id, version = self.person_id, self.version
        if person_id is None:
            op = ServiceOp(self, lambda: add_person(self.ctx, value, distinct_from=distinct), form=self.form)
        else:
            op = ServiceOp(
                self,
                lambda: update_person(self.ctx, person_id, value, expected_version=version, distinct_from=distinct),
                form=self.form,
            )
        op.on(LikelyDuplicateError, self._on_likely_duplicate).on(LostUpdateError, self._on_lost_update)
        return op.success(self._on_person_saved).run()

    def _on_lost_update(self, exc: LostUpdateError) -> None:
        """Another clerk saved this person after the form opened: say who changed what, keep everything typed, and
        let a second save (the clerk has now been told) go ahead from the version the error named."""
        self.version = exc.version
        show_refusal(exc, form=self.form)

    def _on_likely_duplicate(self, exc: LikelyDuplicateError) -> None:
        self._check_serial += 1  # this answer is newer than any check on its way
        self._check_timer.stop()
        self.candidates.show_refusal(exc.message, exc.candidates)

    def _on_person_saved(self, record) -> None:
        self.person_id = record.id
        self.reload()
        self.saved.emit(record.id)

    # --- next steps -----------------------------------------------------------------------------------------
    def add_to_round(self) -> QDialog:
        """Choose an open round; its sheet opens with this person being added (so "already received" still asks)."""
        from aidoffice.services.aid import open_rounds

        self.next_message.setText("")
        rounds = open_rounds(self.ctx)
        chooser = QDialog(self)
        chooser.setWindowTitle("إضافة إلى توزيع")
        choice = combo(rounds, empty="— اختر جولة التوزيع —")
        hint = QLabel("الجولات المفتوحة (مسودة أو معتمدة)، الأحدث أولاً." if rounds else "لا توجد جولة توزيع مفتوحة: "
                      "أنشئ جولة من «المشاريع والتوزيعات» أولاً.")  # fmt: skip
        hint.setWordWrap(True)
        buttons = QDialogButtonBox()
        ok = buttons.addButton("إضافة", QDialogButtonBox.ButtonRole.AcceptRole)
        ok.setObjectName("primary")
        buttons.addButton("إلغاء", QDialogButtonBox.ButtonRole.RejectRole)
        ok.setEnabled(False)
        choice.currentIndexChanged.connect(lambda _i: ok.setEnabled(bool(choice.currentData())))
        buttons.accepted.connect(chooser.accept)
        buttons.rejected.connect(chooser.reject)
        column = QVBoxLayout(chooser)
        column.addWidget(hint)
        column.addWidget(choice)
        column.addWidget(buttons)
        chooser.choice = choice
        chooser.accepted.connect(lambda: self._open_round(choice.currentData()))
        self.round_chooser = chooser
        chooser.open()
        return chooser

    def _open_round(self, distribution_id: str) -> None:
        from aidoffice.ui.pages.distributions import DistributionDialog

        dialog = DistributionDialog(self.ctx, distribution_id, self)
        self.round_dialog = dialog
        dialog.open()
        if dialog.add_person(self.person_id):
            dialog.message.setText("أُضيف المستفيد إلى الكشف.")
            self.reload()

    def refer(self) -> QDialog:
        from aidoffice.ui.pages.referrals import NewReferralDialog

        dialog = NewReferralDialog(self.ctx, self)
        person = get_person(self.ctx, self.person_id)
        dialog.picker.preset(person.id, " — ".join(x for x in _summary_parts(person) if x))
        dialog.saved.connect(lambda _rid: self.next_message.setText("سُجّلت الإحالة."))
        self.referral_dialog = dialog
        dialog.open()
        return dialog

    def print_card(self, target: Path | None = None) -> None:
        target = target or ask_pdf_path(self, "حفظ البطاقة", "بطاقة-مستفيد", self.ctx.today())
        if target is None:
            return
        ctx, person_id = self.ctx, self.person_id
        op = ServiceOp(
            self, lambda: write_cards(ctx, [person_id], target), message=self.next_message, buttons=[self.card_button]
        )
        self.card_task = op.after(self._on_card_over).success(self._on_card_written).run_in_background()

    def _on_card_over(self) -> None:
        self.card_task = None

    def _on_card_written(self, path) -> None:
        self.last_card = Path(path)
        open_document(self.last_card)

    def _household_action(self, action) -> None:
        op = ServiceOp(self, action, message=self.household_message)
        op.success(lambda _r: (self.reload(), self.saved.emit(self.person_id))).run()

    def create_own_household(self) -> None:
        size = self.size_edit.text().strip()

        def work():
            from aidoffice.domain.arabic import parse_int

            try:
                value = parse_int(size) if size else None
            except ValueError:
                raise UserError("عدد الأفراد رقم صحيح.", field="size") from None
            create_household(self.ctx, self.person_id, size=value)

        self._household_action(work)

    def add_member(self) -> None:
        other = self.picker.current_id()
        if not other:
            self.household_message.setText("اختر الشخص من نتائج البحث أولاً.")
            return
        self._household_action(
            lambda: add_household_member(self.ctx, self.household_id, other, self.relation.currentData())
        )

    def add_new_member(self) -> PersonDialog:
        """«فرد جديد…»: a person not registered yet, through the same check on entry, joins this household once
        saved; «هو نفسه» there adds the registered person instead (the dialog closes itself, having added nobody)."""
        self.household_message.setText("")
        self.new_member = open_new_person(
            self.ctx,
            self,
            on_saved=self._join_household,
            on_existing=self._join_household,
            title=f"فرد جديد في الأسرة — {self.relation.currentText()}",
        )
        return self.new_member

    def _join_household(self, person_id: str) -> None:
        household_id, relation = self.household_id, self.relation.currentData()
        self._household_action(lambda: add_household_member(self.ctx, household_id, person_id, relation))

    def move_to_household(self) -> None:
        other = self.picker.current_id()
        if not other:
            self.household_message.setText("اختر الشخص من نتائج البحث أولاً.")
            return

        def work():
            target = get_person(self.ctx, other).household_id
            if not target:
                raise UserError("الشخص المختار ليس عضواً في أسرة.")
            move_household_member(self.ctx, self.person_id, target, self.relation.currentData())

        self._household_action(work)


def open_new_person(ctx: ServiceContext, parent, *, on_saved, on_existing, title: str = "") -> PersonDialog:
    """A new person's form whose outcome goes back to the caller: the person saved (the form then closes), or a
    registered person chosen with «هو نفسه» (nobody added)."""
    dialog = PersonDialog(ctx, None, parent, open_existing=False)
    if title:
        dialog.setWindowTitle(title)

    def saved(person_id: str) -> None:
        dialog.saved.disconnect(saved)  # later edits there are that person's own
        dialog.accept()
        on_saved(person_id)

    dialog.saved.connect(saved)
    dialog.existing_chosen.connect(on_existing)
    dialog.open()
    return dialog


class PersonsPage(QWidget):
    """Two registries on one page: persons and households."""

    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.persons = ListPage(
            ctx, "persons", "المستفيدون", placeholder="ابحث بالاسم أو رقم البطاقة أو الهاتف… (Ctrl+F)"
        )
        self.households = ListPage(
            ctx, "households", "الأسر", placeholder="ابحث باسم رب الأسرة أو رقم بطاقته…", new_label="أسرة جديدة…"
        )
        self.tabs = QTabWidget()
        self.tabs.addTab(self.persons, "المستفيدون")
        self.tabs.addTab(self.households, "الأسر")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        self.persons.opened.connect(self.open_person)
        self.persons.new_requested.connect(lambda: self.open_person(None))
        self.households.opened.connect(self.open_household)
        self.households.new_requested.connect(self.open_family)
        self.family: QDialog | None = None
        self.tabs.currentChanged.connect(lambda _i: self.current().ensure_loaded())
        self.dialog: PersonDialog | None = None

    def current(self) -> ListPage:
        return self.tabs.currentWidget()

    def ensure_loaded(self) -> None:
        self.current().ensure_loaded()

    def select_table(self, table: str) -> ListPage:
        page = self.households if table == "households" else self.persons
        self.tabs.setCurrentWidget(page)
        return page

    def open_person(self, person_id: str | None) -> PersonDialog:
        self.dialog = PersonDialog(self.ctx, person_id, self)
        self.dialog.saved.connect(lambda _id: (self.persons.model.refresh(), self.households.model.refresh()))
        self.dialog.open()
        return self.dialog

    def open_family(self) -> QDialog:
        """«أسرة جديدة…»: the head and every member in one form."""
        from aidoffice.ui.pages.family import FamilyDialog

        self.family = FamilyDialog(self.ctx, self)
        self.family.saved.connect(self._on_family_saved)
        self.family.open()
        return self.family

    def _on_family_saved(self, household_id: str) -> None:
        """Say it was saved, and show the new household at the top of the list (the newest first)."""
        household = get_household(self.ctx, household_id)
        self.persons.model.refresh()
        self.households.search.clear()
        self.households.model.refresh()
        self.households.message.setText(f"حُفظت الأسرة: {len(household.members)} أفراد.")

    def open_household(self, household_id: str) -> PersonDialog | None:
        head = get_household(self.ctx, household_id).head_person_id
        return self.open_person(head) if head else None
