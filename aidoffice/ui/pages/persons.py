"""Beneficiaries and households: the two registries, the person form, households and a person's aid history."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aidoffice.domain.dates import hijri_text
from aidoffice.domain.persons import PersonInput
from aidoffice.domain.vocab import LineStatus, Relation, Sex
from aidoffice.errors import UserError
from aidoffice.services.context import ServiceContext
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
from aidoffice.services.sync import other_offices_of
from aidoffice.services.tables import filter_choices
from aidoffice.ui.pages.associations import fill_table
from aidoffice.ui.pages.list_page import ListPage
from aidoffice.ui.widgets import DateField, Form, combo, debounce, ltr_edit, save_row, select_value, text_of

RELATIONS = [(r.value, r.label) for r in Relation if r is not Relation.HEAD]


class PersonPicker(QWidget):
    """Find a person as you type (name, ID or phone) and pick one; `picked` carries the person's id."""

    picked = Signal(str)

    def __init__(self, ctx: ServiceContext, parent=None, *, placeholder: str = "ابحث بالاسم أو رقم البطاقة…") -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        self.edit.setClearButtonEnabled(True)
        self.results = QListWidget()
        self.results.setMaximumHeight(150)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.results)
        self._timer = debounce(self, 250, self.search)
        self.edit.textChanged.connect(self._on_edit_text_changed)
        self.results.itemActivated.connect(self._on_results_item_activated)
        self.results.itemDoubleClicked.connect(self._on_results_item_activated)

    def _on_edit_text_changed(self, _text: str) -> None:
        self._timer.start()

    def search(self) -> None:
        self._timer.stop()
        self.results.clear()
        for person in search_persons(self.ctx, self.edit.text(), limit=30):
            label = " — ".join(x for x in (person.full_name, person.national_id, person.district or "") if x)
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, person.id)
            self.results.addItem(item)

    def current_id(self) -> str | None:
        item = self.results.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def _on_results_item_activated(self, item: QListWidgetItem) -> None:
        self.picked.emit(item.data(Qt.ItemDataRole.UserRole))


class PersonForm(Form):
    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__(parent)
        self.add("full_name", "الاسم الرباعي", QLineEdit())
        self.add("national_id", "رقم البطاقة", ltr_edit(digits=True))
        self.add("phone", "الهاتف", ltr_edit(digits=True, extra="+ -"))
        self.add("sex", "الجنس", combo([(s.value, s.label) for s in Sex], empty="—"))
        self.add("birth_date", "تاريخ الميلاد", DateField())
        self.add("birth_year", "أو سنة الميلاد", ltr_edit("مثال: ١٩٨٥", digits=True))
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
        since = f" (منذ {person.consent_on:%Y/%m/%d})" if person.consent_on else ""
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


class PersonDialog(QDialog):
    """A person: the form (saved only when valid), the household and the aid history across associations."""

    saved = Signal(str)

    def __init__(self, ctx: ServiceContext, person_id: str | None = None, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.person_id = person_id
        self.version: int | None = None
        self.setWindowTitle("مستفيد جديد" if person_id is None else "بيانات المستفيد")
        self.resize(820, 620)
        self.form = PersonForm(ctx)
        self.tabs = QTabWidget()
        form_page = QWidget()
        column = QVBoxLayout(form_page)
        column.addWidget(self.form)
        row, self.save_button = save_row(self.save)
        column.addLayout(row)
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
        layout = QVBoxLayout(self)
        layout.addWidget(self.elsewhere)
        layout.addWidget(self.tabs)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self._build_household_tab()
        self.reload()

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
        layout.addWidget(self.picker)
        row = QHBoxLayout()
        row.addWidget(QLabel("صلة القرابة برب الأسرة:"))
        row.addWidget(self.relation)
        row.addStretch(1)
        row.addWidget(self.add_member_button)
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
        labels = {s.value: s.label for s in LineStatus}
        fill_table(
            self.history_table,
            ["التاريخ", "هجري", "المساعدة", "الصنف", "الجمعية", "الحالة"],
            [
                [
                    h.distribution_date.strftime("%Y/%m/%d"),
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
        self.form.clear_errors()
        try:
            if self.person_id is None:
                record = add_person(self.ctx, self.form.value())
                self.person_id = record.id
            else:
                record = update_person(self.ctx, self.person_id, self.form.value(), expected_version=self.version)
        except UserError as exc:
            self.form.show_error(exc)
            return False
        self.reload()
        self.saved.emit(record.id)
        return True

    def _household_action(self, action) -> None:
        self.household_message.setText("")
        try:
            action()
        except UserError as exc:
            self.household_message.setText(exc.message)
            return
        self.reload()
        self.saved.emit(self.person_id)

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


class PersonsPage(QWidget):
    """Two registries on one page: persons and households."""

    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.persons = ListPage(
            ctx, "persons", "المستفيدون", placeholder="ابحث بالاسم أو رقم البطاقة أو الهاتف… (Ctrl+F)"
        )
        self.households = ListPage(
            ctx, "households", "الأسر", placeholder="ابحث باسم رب الأسرة أو رقم بطاقته…", new_label=None
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

    def open_household(self, household_id: str) -> PersonDialog | None:
        head = get_household(self.ctx, household_id).head_person_id
        return self.open_person(head) if head else None
