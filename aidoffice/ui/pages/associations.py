"""The associations registry: the table with its filters, and an association's file in tabs."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
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
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aidoffice.domain.dates import hijri_text
from aidoffice.domain.display import DEFAULT_STYLE, DisplayStyle
from aidoffice.domain.vocab import AssociationStatus, BoardRole, LegalForm
from aidoffice.errors import LostUpdateError, UserError
from aidoffice.services.associations import (
    AssociationInput,
    add_board_member,
    add_field_visit,
    change_association_status,
    get_association,
    record_compliance,
    register_association,
    update_association,
    update_field_visit,
)
from aidoffice.services.context import ServiceContext
from aidoffice.services.records import AssociationRecord
from aidoffice.services.tables import filter_choices
from aidoffice.ui.models.paged import PagedTableModel
from aidoffice.ui.ops import ServiceOp, show_refusal
from aidoffice.ui.pages.list_page import ListPage, RegistryTable
from aidoffice.ui.widgets import DateField, Form, combo, ltr_edit, save_row, select_value, spin_box, text_of


def _date(value, style: DisplayStyle = DEFAULT_STYLE) -> str:
    return style.date(value) if value else ""


FOLLOW_UP_DONE = "تمت المتابعة للزيارة المحددة"


def fill_table(table: QTableWidget, headers: list[str], rows: list[list[str]]) -> None:
    """A small read-only table (board, history, visits): a few dozen rows at most."""
    table.clear()
    table.setColumnCount(len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(value)
            item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
            table.setItem(r, c, item)
    table.resizeColumnsToContents()
    # Sized to contents, the last column no longer stretches (setting the stretch again is no change to Qt): turned
    # off and on, it fills the table's width after every refresh, not only the first.
    header = table.horizontalHeader()
    header.setStretchLastSection(False)
    header.setStretchLastSection(True)
    table.verticalHeader().setVisible(False)


def checklist(choices: list[tuple[str, str]], checked: tuple[str, ...] = ()) -> QListWidget:
    box = QListWidget()
    for value, label in choices:
        item = QListWidgetItem(label)
        item.setData(Qt.ItemDataRole.UserRole, value)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if value in checked else Qt.CheckState.Unchecked)
        box.addItem(item)
    box.setMaximumHeight(120)
    return box


def checked_values(box: QListWidget) -> tuple[str, ...]:
    return tuple(
        box.item(i).data(Qt.ItemDataRole.UserRole)
        for i in range(box.count())
        if box.item(i).checkState() == Qt.CheckState.Checked
    )


class AssociationForm(Form):
    """The association's profile; `value()` is what the service validates."""

    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__(parent)
        choices = filter_choices(ctx, "associations")
        self.add("name", "اسم الجمعية", QLineEdit())
        self.add("registration_number", "رقم الإشهار", ltr_edit("مثال: 125/2010"))
        self.add("proclamation_date", "تاريخ الإشهار", DateField())
        self.add("legal_form", "الشكل القانوني", combo([(f.value, f.label) for f in LegalForm]))
        self.add("district", "مديرية المقر", combo(choices["district"], empty="—"))
        self.add("address", "العنوان", QLineEdit())
        self.add("phone", "الهاتف", ltr_edit(digits=True, extra="+ -"))
        self.add("email", "البريد الإلكتروني", ltr_edit())
        self.add("licence_expiry", "انتهاء الترخيص", DateField())
        self.add("fields", "مجالات العمل", checklist(choices["field"]))
        self.add("districts", "مديريات العمل", checklist(choices["district"]))
        self.add("notes", "ملاحظات", QPlainTextEdit())
        self.fields["notes"].setMaximumHeight(70)
        self.finish()

    def load(self, record: AssociationRecord) -> None:
        f = self.fields
        f["name"].setText(record.name)
        f["registration_number"].setText(record.registration_number)
        f["proclamation_date"].set_value(record.proclamation_date)
        select_value(f["legal_form"], record.legal_form)
        select_value(f["district"], record.district_id)
        f["address"].setText(record.address)
        f["phone"].setText(record.phone)
        f["email"].setText(record.email)
        f["licence_expiry"].set_value(record.licence_expiry)
        for key, values in (("fields", record.field_codes), ("districts", record.district_ids)):
            box = f[key]
            for i in range(box.count()):
                item = box.item(i)
                checked = item.data(Qt.ItemDataRole.UserRole) in values
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
        f["notes"].setPlainText(record.notes)

    def value(self) -> AssociationInput:
        f = self.fields
        return AssociationInput(
            name=text_of(f["name"]),
            registration_number=text_of(f["registration_number"]),
            proclamation_date=text_of(f["proclamation_date"]) or None,
            legal_form=text_of(f["legal_form"]),
            district=text_of(f["district"]),
            districts=checked_values(f["districts"]),
            fields=checked_values(f["fields"]),
            address=text_of(f["address"]),
            phone=text_of(f["phone"]),
            email=text_of(f["email"]),
            licence_expiry=text_of(f["licence_expiry"]) or None,
            notes=text_of(f["notes"]),
        )


class AssociationDialog(QDialog):
    """A new association (profile only) or an association's file: profile, board, status, visits, compliance,
    projects and distributions. Each tab saves on its own; nothing typed is lost when a save is refused."""

    saved = Signal(str)

    def __init__(self, ctx: ServiceContext, association_id: str | None = None, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.association_id = association_id
        self.version: int | None = None  # the version the file was opened (or last saved) at: every save checks it
        self.setWindowTitle("جمعية جديدة" if association_id is None else "ملف الجمعية")
        self.resize(900, 640)
        self.form = AssociationForm(ctx)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._profile_tab(), "الملف")
        self.header = QLabel()
        self.header.setObjectName("pageTitle")
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.tabs)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        if association_id is not None:
            self._build_record_tabs()
            self.reload()
        else:
            self.header.setText("تسجيل جمعية جديدة")
        self.form.focus_first()  # the cursor where the clerk types first (Ctrl+N)

    # --- profile --------------------------------------------------------------------------------------------
    def _profile_tab(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        # The profile's fields scroll, the save row stays: unscrolled they made the file 756 px tall at least,
        # past a 1366x768 screen less its taskbar and title bar (the buttons at the bottom out of reach).
        fields = QScrollArea()
        fields.setWidgetResizable(True)
        fields.setFrameShape(QFrame.Shape.NoFrame)
        fields.setWidget(self.form)
        layout.addWidget(fields, 1)
        row, self.save_button = save_row(self.save_profile)
        layout.addLayout(row)
        return page

    def save_profile(self) -> bool:
        value = self.form.value()
        if self.association_id is None:
            op = ServiceOp(self, lambda: register_association(self.ctx, value), form=self.form)
        else:
            association_id, version = self.association_id, self.version
            op = ServiceOp(
                self,
                lambda: update_association(self.ctx, association_id, value, expected_version=version),
                form=self.form,
            ).on(LostUpdateError, lambda exc: self._on_lost_update(exc, self.form))
        return op.success(self._on_profile_saved).run()

    def _on_lost_update(self, exc: LostUpdateError, form: Form) -> None:
        """Another clerk saved the file after it was opened here: say who changed what, keep everything typed, and
        let a second save (the clerk has now been told) go ahead from the version the error named."""
        self.version = exc.version
        show_refusal(exc, form=form)

    def _on_profile_saved(self, record) -> None:
        if self.association_id is None:
            self.association_id = record.id
            self._build_record_tabs()
        self.setWindowTitle("ملف الجمعية")
        self.reload()
        self.saved.emit(record.id)

    # --- the file's other tabs ------------------------------------------------------------------------------
    def _build_record_tabs(self) -> None:
        self._visits: list = []  # as shown, newest first
        self.visit_versions: dict[str, int] = {}  # each visit's version as shown: marking it done checks it
        self.compliance_versions: dict[int, int] = {}  # each year's reports' version as shown (none: 0)
        self.board_table = QTableWidget()
        self.board_form = Form()
        self.board_form.add("full_name", "الاسم", QLineEdit())
        self.board_form.add("role", "الصفة", combo([(r.value, r.label) for r in BoardRole]))
        self.board_form.add("phone", "الهاتف", ltr_edit(digits=True, extra="+ -"))
        self.board_form.finish()
        self.tabs.addTab(self._tab(self.board_table, self.board_form, "إضافة عضو", self.add_board), "مجلس الإدارة")

        self.status_label = QLabel()
        self.history_table = QTableWidget()
        self.status_form = Form()
        self.status_form.add("status", "الحالة الجديدة", combo([(s.value, s.label) for s in AssociationStatus]))
        self.status_form.add("changed_on", "تاريخ التغيير", DateField())
        self.status_form.add("reason", "السبب", QLineEdit())
        self.status_form.finish()
        status_tab = self._tab(self.history_table, self.status_form, "تغيير الحالة", self.change_status)
        status_tab.layout().insertWidget(0, self.status_label)
        self.tabs.addTab(status_tab, "الحالة وسجلها")

        self.visits_table = QTableWidget()
        self.visit_form = Form()
        self.visit_form.add("visit_date", "تاريخ الزيارة", DateField())
        self.visit_form.add("visitors", "الزائرون", QLineEdit())
        self.visit_form.add("findings", "الملاحظات", QLineEdit())
        rating = spin_box(self.ctx.style, 0, 5)
        rating.setSpecialValueText("—")
        self.visit_form.add("rating", "التقييم (١–٥)", rating)
        self.visit_form.add("follow_up", "المتابعة المطلوبة", QLineEdit())
        self.visit_form.add("follow_up_due", "موعد المتابعة", DateField())
        self.visit_form.finish()
        visits_tab = self._tab(self.visits_table, self.visit_form, "إضافة زيارة", self.add_visit)
        done = QPushButton(FOLLOW_UP_DONE)
        done.clicked.connect(self.mark_follow_up_done)
        visits_tab.layout().addWidget(done)
        self.tabs.addTab(visits_tab, "الزيارات الميدانية")

        self.compliance_table = QTableWidget()
        self.compliance_form = Form()
        year = spin_box(self.ctx.style, 1990, self.ctx.today().year, self.ctx.today().year)
        self.compliance_form.add("year", "السنة", year)
        self.compliance_form.add("admin_report", "التقرير الإداري", QCheckBox("سُلِّم"))
        self.compliance_form.add("financial_report", "التقرير المالي", QCheckBox("سُلِّم"))
        self.compliance_form.add("submitted_on", "تاريخ التسليم", DateField())
        self.compliance_form.finish()
        self.tabs.addTab(
            self._tab(self.compliance_table, self.compliance_form, "حفظ", self.save_compliance), "الامتثال السنوي"
        )

        activity = QWidget()
        column = QVBoxLayout(activity)
        self.projects_model = PagedTableModel(self.ctx, "projects", activity)
        self.distributions_model = PagedTableModel(self.ctx, "distributions", activity)
        column.addWidget(QLabel("المشاريع"))
        column.addWidget(RegistryTable(self.projects_model))
        column.addWidget(QLabel("التوزيعات"))
        column.addWidget(RegistryTable(self.distributions_model))
        self.tabs.addTab(activity, "المشاريع والتوزيعات")

    def _tab(self, table: QTableWidget, form: Form, action: str, slot) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(table, 1)
        layout.addWidget(form)
        button = QPushButton(action)
        button.clicked.connect(slot)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(button)
        layout.addLayout(row)
        return page

    def reload(self) -> None:
        record = get_association(self.ctx, self.association_id)
        self.record = record
        self.version = record.version
        self.form.load(record)
        status = AssociationStatus(record.status).label
        self.header.setText(f"{record.name} — {status}")
        self.status_label.setText(
            f"الحالة الحالية: {status}"
            + (f" منذ {_date(record.status_since, self.ctx.style)}" if record.status_since else "")
        )
        fill_table(
            self.board_table,
            ["الاسم", "الصفة", "الهاتف"],
            [[b.full_name, BoardRole(b.role).label, b.phone] for b in record.board],
        )
        labels = {s.value: s.label for s in AssociationStatus}
        fill_table(
            self.history_table,
            ["التاريخ", "هجري", "من", "إلى", "السبب"],
            [
                [
                    _date(h.changed_on, self.ctx.style),
                    hijri_text(h.changed_on),
                    labels.get(h.status_from or "", "—"),
                    labels.get(h.status_to, h.status_to),
                    h.reason,
                ]
                for h in sorted(record.status_history, key=lambda h: h.changed_on, reverse=True)
            ],
        )
        self._show_visits_and_compliance(record)
        for model in (self.projects_model, self.distributions_model):
            model.query.filters = {"association": record.id}
            model.refresh()

    def _show_visits_and_compliance(self, record: AssociationRecord) -> None:
        """The visits' and the yearly reports' tables, and the versions they show (what their saves check); the
        forms are left as typed; the visit chosen stays chosen."""
        row = self.visits_table.currentRow()
        chosen = self._visits[row].id if 0 <= row < len(self._visits) else None
        self._visits = sorted(record.visits, key=lambda v: v.visit_date, reverse=True)
        self.visit_versions = {v.id: v.version for v in record.visits}
        self.compliance_versions = {c.year: c.version for c in record.compliance}
        fill_table(
            self.visits_table,
            ["التاريخ", "الزائرون", "الملاحظات", "التقييم", "المتابعة", "موعدها", "تمت"],
            [
                [
                    _date(v.visit_date, self.ctx.style),
                    v.visitors,
                    v.findings,
                    self.ctx.style.digits_of(v.rating or ""),
                    v.follow_up,
                    _date(v.follow_up_due, self.ctx.style),
                    "نعم" if v.follow_up_done else "",
                ]
                for v in self._visits
            ],
        )
        ids = [v.id for v in self._visits]
        if chosen in ids:
            self.visits_table.setCurrentCell(ids.index(chosen), 0)
        fill_table(
            self.compliance_table,
            ["السنة", "التقرير الإداري", "التقرير المالي", "تاريخ التسليم"],
            [
                [
                    self.ctx.style.year(c.year),
                    "✓" if c.admin_report else "✗",
                    "✓" if c.financial_report else "✗",
                    _date(c.submitted_on, self.ctx.style),
                ]
                for c in sorted(record.compliance, key=lambda c: c.year, reverse=True)
            ],
        )

    def _run(self, form: Form, action, on_lost=None) -> bool:
        """`on_lost`: what a lost update of a record other than the file's own profile does (a visit, a year's
        reports); by default the file's version is the one refused."""
        on_lost = on_lost or (lambda exc: self._on_lost_update(exc, form))
        op = ServiceOp(self, action, form=form).on(LostUpdateError, on_lost)
        return op.success(lambda _result: self._on_record_changed()).run()

    def _on_part_lost_update(self, exc: LostUpdateError, form: Form, *, again: str = "") -> None:
        """A visit or a year's reports saved by another clerk after the file was opened here: its table now shows
        their change (and the versions to check are those shown), the message below the form says who changed what,
        and what was typed stays, so a second save, once told, goes ahead. The profile form is not reloaded."""
        self._show_visits_and_compliance(get_association(self.ctx, self.association_id))
        if again:  # not a form's save: say which button does it again, once told
            who = exc.by or "مستخدم آخر"
            when = f" في {exc.at}" if exc.at else ""
            changed = f"؛ غيّر: {'، '.join(exc.fields)}" if exc.fields else ""
            show_refusal(
                UserError(
                    f"عدّل {who} {exc.what}{when}، بعد أن فتحتَ الملف{changed}. لم يُسجَّل شيء، والجدول يعرض "
                    f"تعديله الآن: راجعه، ثم {again} إن بقي ذلك صحيحاً."
                ),
                form=form,
            )
            return
        show_refusal(exc, form=form)

    def _on_record_changed(self) -> None:
        self.reload()
        self.saved.emit(self.association_id)

    def add_board(self) -> None:
        f = self.board_form.fields
        if self._run(
            self.board_form,
            lambda: add_board_member(
                self.ctx, self.association_id, text_of(f["full_name"]), text_of(f["role"]), text_of(f["phone"])
            ),
        ):
            f["full_name"].clear()
            f["phone"].clear()

    def change_status(self) -> None:
        f = self.status_form.fields
        version = self.version
        if self._run(
            self.status_form,
            lambda: change_association_status(
                self.ctx,
                self.association_id,
                text_of(f["status"]),
                reason=text_of(f["reason"]),
                changed_on=text_of(f["changed_on"]) or None,
                expected_version=version,
            ),
        ):
            f["reason"].clear()

    def add_visit(self) -> None:
        f = self.visit_form.fields
        if self._run(
            self.visit_form,
            lambda: add_field_visit(
                self.ctx,
                self.association_id,
                visit_date=text_of(f["visit_date"]),
                visitors=text_of(f["visitors"]),
                findings=text_of(f["findings"]),
                rating=f["rating"].value() or None,
                follow_up=text_of(f["follow_up"]),
                follow_up_due=text_of(f["follow_up_due"]) or None,
            ),
        ):
            for key in ("visitors", "findings", "follow_up"):
                f[key].clear()
            self.visit_form.confirm("أُضيفت الزيارة إلى الجدول أعلاه.")

    def mark_follow_up_done(self) -> None:
        done_button = FOLLOW_UP_DONE
        row = self.visits_table.currentRow()
        if not 0 <= row < len(self._visits):
            return
        visit_id = self._visits[row].id
        version = self.visit_versions.get(visit_id)
        if self._run(
            self.visit_form,
            lambda: update_field_visit(self.ctx, visit_id, follow_up_done=True, expected_version=version),
            lambda exc: self._on_part_lost_update(exc, self.visit_form, again=f"اضغط «{done_button}» مرة أخرى"),
        ):
            self.visit_form.confirm("سُجّلت المتابعة: تمت.")

    def save_compliance(self) -> bool:
        f = self.compliance_form.fields
        year = f["year"].value()
        version = self.compliance_versions.get(year, 0)  # 0: the file showed no reports for that year
        saved = self._run(
            self.compliance_form,
            lambda: record_compliance(
                self.ctx,
                self.association_id,
                year,
                admin_report=f["admin_report"].isChecked(),
                financial_report=f["financial_report"].isChecked(),
                submitted_on=text_of(f["submitted_on"]) or None,
                expected_version=version,
            ),
            lambda exc: self._on_part_lost_update(exc, self.compliance_form),
        )
        if saved:
            self.compliance_form.confirm(f"حُفظت تقارير سنة {self.ctx.style.year(year)}.")
        return saved


class AssociationsPage(ListPage):
    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__(
            ctx, "associations", "الجمعيات", placeholder="ابحث باسم الجمعية أو رقم الإشهار…", parent=parent
        )
        self.opened.connect(self.open_association)
        self.new_requested.connect(lambda: self.open_association(None))
        self.dialog: AssociationDialog | None = None
        self.legend = QLabel(
            "برتقالي: خاملة (مسجلة خاملة أو بلا نشاط منذ ١٢ شهراً) — أحمر: الترخيص ينتهي قريباً أو انتهى"
        )
        self.legend.setObjectName("message")
        self.layout().addWidget(self.legend)

    def open_association(self, association_id: str | None) -> AssociationDialog:
        self.dialog = AssociationDialog(self.ctx, association_id, self)
        self.dialog.saved.connect(lambda _id: self.model.refresh())
        self.dialog.open()
        return self.dialog


__all__ = ["AssociationDialog", "AssociationsPage", "QComboBox"]
