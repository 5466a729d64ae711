"""Projects and distribution rounds: create them, list recipients, mark receipt, reverse, and the
"already received" warning with the supervisor's written reason."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aidoffice.domain.access import Permission
from aidoffice.domain.dates import hijri_text
from aidoffice.domain.vocab import Currency, DistributionStatus, Sector
from aidoffice.errors import LostUpdateError, PermissionDeniedError
from aidoffice.services.aid import (
    AlreadyReceivedError,
    CardRefusedError,
    DistributionInput,
    ProjectInput,
    add_distribution_line,
    approve_distribution,
    create_distribution,
    create_project,
    get_distribution,
    mark_by_card,
    mark_lines,
    reverse_line,
)
from aidoffice.services.context import ServiceContext
from aidoffice.services.office import list_aid_types
from aidoffice.services.persons import get_person
from aidoffice.services.reports import write_distribution_sheet
from aidoffice.services.requests import request_keep_already_received
from aidoffice.services.tables import filter_choices
from aidoffice.ui import tasks
from aidoffice.ui.models.paged import PagedTableModel
from aidoffice.ui.ops import ServiceOp
from aidoffice.ui.pages.list_page import ListPage, RegistryTable
from aidoffice.ui.pages.persons import PersonDialog, PersonPicker, open_new_person
from aidoffice.ui.widgets import DateField, FormDialog, ask_pdf_path, combo, ltr_edit, open_document, text_of


class ReasonDialog(QDialog):
    """Asks for a written reason; the confirm button stays disabled until there is one."""

    def __init__(self, title: str, message: str, confirm: str, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(560, 320)
        self.message = QLabel(message)
        self.message.setWordWrap(True)
        self.message.setObjectName("banner")
        self.reason = QPlainTextEdit()
        self.reason.setPlaceholderText("اكتب السبب… (Ctrl+Enter للإرسال)")
        self.reason.setTabChangesFocus(True)  # Tab moves on to the buttons; it types no tab into the reason
        self.buttons = QDialogButtonBox()
        self.confirm_button = self.buttons.addButton(confirm, QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm_button.setObjectName("primary")
        self.confirm_button.setToolTip("Ctrl+Enter")
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self._confirm_by_key)
        QShortcut(QKeySequence("Ctrl+Enter"), self, activated=self._confirm_by_key)
        self.buttons.addButton("إلغاء", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.confirm_button.setEnabled(False)
        self.reason.textChanged.connect(lambda: self.confirm_button.setEnabled(bool(self.text())))
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addWidget(QLabel("السبب:"))
        layout.addWidget(self.reason)
        layout.addWidget(self.buttons)

    def text(self) -> str:
        return self.reason.toPlainText().strip()

    def _confirm_by_key(self) -> None:
        if self.confirm_button.isEnabled():
            self.confirm_button.click()


CANCEL_LINE_HINT = "لسطر سُجّل خطأً: لا يُحذف شيء من الكشف، بل يبقى السطر ظاهراً مشطوباً ويُسجَّل إلغاؤه مع السبب وباسمك."
SEND_REQUEST = "إرسال طلب إلى المشرف"
NEEDS_SUPERVISOR = "هذا يحتاج موافقة المشرف: اكتب السبب فيصله طلبك به، وترى قراره في «الطلبات» وعلى الصفحة الرئيسية."
REQUEST_SENT = "أُرسل الطلب إلى المشرف مع السبب. ترى قراره في صفحة «الطلبات» وعلى الصفحة الرئيسية."


class RequestDialog(ReasonDialog):
    """What the user may not do alone, sent to a supervisor as a request with the reason typed; a refused sending
    (a request already waiting, a record gone) is said here and the reason stays in the box."""

    sent = Signal(object)  # the RequestRecord

    def __init__(self, title: str, message: str, send, parent=None, *, reason: str = "") -> None:
        super().__init__(title, f"{message}\n\n{NEEDS_SUPERVISOR}", SEND_REQUEST, parent)
        self.resize(640, 480)  # the refusal's text (what was received, where, when) and the request's above the box
        self.send = send
        self.record = None
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setObjectName("fieldError")
        self.layout().insertWidget(self.layout().count() - 1, self.error)
        self.reason.setPlainText(reason)
        # A record the request depends on changed since it was shown: the dialog closes and this is called with the
        # LostUpdateError and the reason typed (the page shows the record again, and asks again with that reason).
        self.on_lost = None

    def accept(self) -> None:
        text = self.text()
        op = ServiceOp(self, lambda: self.send(text), message=self.error).success(self._on_request_sent)
        if self.on_lost is not None:
            handler = self.on_lost
            op.on(LostUpdateError, lambda exc: (self.reject(), handler(exc, text)))
        op.run()

    def _on_request_sent(self, record) -> None:
        self.record = record
        self.sent.emit(record)
        super().accept()


class ProjectDialog(FormDialog):
    def __init__(self, ctx: ServiceContext, parent=None, *, association_id: str | None = None) -> None:
        super().__init__("مشروع جديد", (620, 560), parent)
        self.ctx = ctx
        associations = filter_choices(ctx, "projects")["association"]
        f = self.form
        f.add("association_id", "الجمعية", combo(associations, empty="— اختر —"))
        f.add("title", "عنوان المشروع", QLineEdit())
        f.add("aid_type", "نوع المساعدة", combo([(t.code, t.name) for t in list_aid_types(ctx)]))
        f.add("sector", "القطاع", combo([(s.value, s.label) for s in Sector]))
        f.add("donor", "الجهة المانحة", QLineEdit())
        f.add("start_date", "تاريخ البداية", DateField())
        f.add("end_date", "تاريخ النهاية", DateField())
        f.add("target_households", "عدد الأسر المستهدفة", ltr_edit(digits=True))
        f.add("budget", "الميزانية", ltr_edit(decimals=True, extra="٬,"))
        f.add("currency", "العملة", combo([(c.value, c.label) for c in Currency]))
        f.finish()
        if association_id:
            f.fields["association_id"].setCurrentIndex(max(0, f.fields["association_id"].findData(association_id)))

    def save(self) -> bool:
        f = self.form.fields
        wanted = ProjectInput(
            association_id=text_of(f["association_id"]),
            title=text_of(f["title"]),
            aid_type=text_of(f["aid_type"]),
            sector=text_of(f["sector"]),
            donor=text_of(f["donor"]),
            start_date=text_of(f["start_date"]) or None,
            end_date=text_of(f["end_date"]) or None,
            target_households=text_of(f["target_households"]) or None,
            budget=text_of(f["budget"]) or None,
            currency=text_of(f["currency"]),
        )
        op = ServiceOp(self, lambda: create_project(self.ctx, wanted), form=self.form)
        return op.success(lambda record: self.done_with(record.id)).run()


class NewDistributionDialog(FormDialog):
    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__("جولة توزيع جديدة", (620, 480), parent)
        self.ctx = ctx
        choices = filter_choices(ctx, "distributions")
        f = self.form
        f.add("project_id", "المشروع", combo(choices["project"], empty="— اختر —"))
        f.add("distribution_date", "تاريخ التوزيع", DateField())
        f.add("site", "موقع التوزيع", QLineEdit())
        f.add("district", "المديرية", combo(filter_choices(ctx, "persons")["district"], empty="—"))
        f.add("item", "الصنف", QLineEdit())
        f.add("quantity_per_household", "الكمية لكل أسرة", ltr_edit(decimals=True))
        f.add("unit", "الوحدة", QLineEdit())
        f.add("amount_per_household", "المبلغ لكل أسرة", ltr_edit(decimals=True, extra="٬,"))
        f.add("currency", "العملة", combo([(c.value, c.label) for c in Currency], empty="—"))
        f.finish()

    def save(self) -> bool:
        f = self.form.fields
        if not text_of(f["project_id"]):
            self.form.clear_errors()
            self.form.set_error("project_id", "اختر المشروع.")
            return False
        wanted = DistributionInput(
            project_id=text_of(f["project_id"]),
            distribution_date=text_of(f["distribution_date"]),
            site=text_of(f["site"]),
            district=f["district"].currentData() or "",
            item=text_of(f["item"]),
            quantity_per_household=text_of(f["quantity_per_household"]) or None,
            unit=text_of(f["unit"]),
            amount_per_household=text_of(f["amount_per_household"]) or None,
            currency=text_of(f["currency"]) or None,
        )
        op = ServiceOp(self, lambda: create_distribution(self.ctx, wanted), form=self.form)
        return op.success(lambda record: self.done_with(record.id)).run()


class DistributionDialog(QDialog):
    """A distribution round: its header, the recipients' list, adding recipients, receipt and reversals."""

    changed = Signal(str)

    def __init__(self, ctx: ServiceContext, distribution_id: str, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.distribution_id = distribution_id
        self.setWindowTitle("كشف التوزيع")
        self.resize(980, 700)
        self.header = QLabel()
        self.header.setObjectName("pageTitle")
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.lines = PagedTableModel(ctx, "lines", self)
        self.lines.query.filters = {"distribution": distribution_id}
        self.table = RegistryTable(self.lines)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)  # mark many at once
        self.scan = QLineEdit()
        self.scan.setPlaceholderText("امسح بطاقة المستفيد هنا بقارئ الرمز (QR) لتسجيل استلامه…")
        self.scan.setToolTip("ضع المؤشر هنا ثم امسح البطاقة: يُسجَّل «استلم» لسطر صاحبها إن كان في الكشف.")
        self.scan.returnPressed.connect(self.scan_card)
        self.print_button = QPushButton("طباعة الكشف…")
        self.print_button.setToolTip("كشف التوزيع للتوقيع أو البصمة: يُحفظ ملفاً ثم يُفتح للطباعة.")
        self.print_button.clicked.connect(lambda _checked=False: self.print_sheet())
        self.print_task: tasks.BackgroundTask | None = None
        self.last_sheet: Path | None = None
        self.picker = PersonPicker(ctx, placeholder="أضف مستفيداً: ابحث بالاسم أو رقم البطاقة…", rows=8)
        self.add_button = QPushButton("إضافة إلى الكشف")
        self.add_button.setObjectName("primary")
        self.add_button.clicked.connect(self.add_selected)
        self.picker.picked.connect(self.add_person)
        self.new_person_button = QPushButton("مستفيد جديد…")
        self.new_person_button.setToolTip("تسجيل مستفيد غير مسجل (مع فحص التكرار) ثم إضافته إلى الكشف.")
        self.new_person_button.clicked.connect(self.add_new_person)
        self.new_person: PersonDialog | None = None
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("fieldError")
        self.scan_result = QLabel()
        self.received_button = QPushButton("استلم (F9)")
        self.received_button.setShortcut("F9")
        self.received_button.setToolTip("للأسطر المحددة كلها (Shift أو Ctrl لتحديد أكثر من سطر) — F9")
        self.not_received_button = QPushButton("لم يستلم (F10)")
        self.not_received_button.setShortcut("F10")
        self.not_received_button.setToolTip("للأسطر المحددة كلها (Shift أو Ctrl لتحديد أكثر من سطر) — F10")
        self.reverse_button = QPushButton("إلغاء سطر…")
        self.reverse_button.setToolTip(CANCEL_LINE_HINT)
        self.approve_button = QPushButton("اعتماد التوزيع")
        self.received_button.clicked.connect(lambda: self.mark(True))
        self.not_received_button.clicked.connect(lambda: self.mark(False))
        self.reverse_button.clicked.connect(self.reverse)
        self.approve_button.clicked.connect(self.approve)

        add_row = QHBoxLayout()
        add_row.addWidget(self.picker, 1)
        add_buttons = QVBoxLayout()
        add_buttons.addWidget(self.add_button)
        add_buttons.addWidget(self.new_person_button)
        add_buttons.addStretch(1)
        add_row.addLayout(add_buttons)
        actions = QHBoxLayout()
        for button in (self.received_button, self.not_received_button, self.reverse_button):
            actions.addWidget(button)
        actions.addWidget(self.scan, 1)
        actions.addWidget(self.print_button)
        actions.addWidget(self.approve_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.details)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addLayout(add_row)
        layout.addWidget(self.scan_result)
        layout.addWidget(self.message)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout.addWidget(close)
        self.reason_dialog: ReasonDialog | None = None
        self.task: tasks.BackgroundTask | None = None  # a change to the sheet on its way (marking, approving)
        # Enter belongs to the box it is typed in (a scanner ends every card with Enter): no button of the sheet
        # is pressed by it, least of all «استلم» on whatever line is selected.
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)
            button.setDefault(False)
        self.reload()

    def reload(self) -> None:
        view = get_distribution(self.ctx, self.distribution_id)
        d = view.record
        status = DistributionStatus(d.status).label
        style = self.ctx.style
        self.header.setText(f"{view.association} — {view.project}")
        amount = f" — {style.amount(d.amount_per_household, d.currency)} لكل أسرة" if d.amount_per_household else ""
        self.details.setText(
            f"{view.aid_type_name}{' (' + d.item + ')' if d.item else ''}{amount} — "
            f"التاريخ {style.date(d.distribution_date)} ({style.digits_of(hijri_text(d.distribution_date))}) — "
            f"الموقع: {d.site or '—'} — الحالة: {status}"
            + (f" (اعتمده {view.approved_by})" if view.approved_by else "")
            + f" — في الكشف {style.number(view.listed)} أسرة، استلم {style.number(view.received)}"
        )
        self.approve_button.setEnabled(
            d.status == DistributionStatus.DRAFT.value and self.ctx.can(Permission.APPROVE_DISTRIBUTION)
        )
        closed = d.status == DistributionStatus.CLOSED.value
        self.add_button.setEnabled(not closed)
        self.new_person_button.setEnabled(not closed)
        self.lines.refresh()

    def add_selected(self) -> None:
        person_id = self.picker.current_id()
        if not person_id:
            self.message.setText("اختر المستفيد من نتائج البحث أولاً.")
            return
        self.add_person(person_id)

    def add_new_person(self) -> PersonDialog:
        """«مستفيد جديد…»: a person not registered yet, through the person form's check on entry, then onto the list
        by the same path as a picked person (so "already received" still asks); «هو نفسه» lists the registered one."""
        self.message.setText("")
        self.new_person = open_new_person(self.ctx, self, on_saved=self.add_person, on_existing=self.add_person)
        return self.new_person

    def add_person(self, person_id: str, override_reason: str | None = None) -> bool:
        """At once: the "already received" question must be asked before the clerk adds the next person."""
        ctx, distribution_id = self.ctx, self.distribution_id

        def refused_alone(exc: PermissionDeniedError) -> None:  # the reason typed is kept: it goes to the supervisor
            if override_reason:
                self._ask_supervisor(person_id, exc.message, override_reason)
            else:
                self.message.setText(exc.message)

        op = ServiceOp(
            self,
            lambda: add_distribution_line(ctx, distribution_id, person_id=person_id, override_reason=override_reason),
            message=self.message,
        )
        op.on(AlreadyReceivedError, lambda exc: self._ask_override(person_id, exc))
        return op.on(PermissionDeniedError, refused_alone).success(lambda _line: self._changed()).run()

    def _changed(self) -> None:
        self.reload()
        self.changed.emit(self.distribution_id)

    def _ask_override(self, person_id: str, exc: AlreadyReceivedError) -> None:
        """Say at once what was received, where and when; keep the line only with the supervisor's reason (a clerk's
        reason goes to the supervisor as a request, said before it is typed)."""
        # who is being added, on screen only (the error's own text names no one)
        person = get_person(self.ctx, person_id)
        message = f"«{person.full_name}»" + (f" — بطاقة {person.national_id}" if person.national_id else "")
        message += "\n" + exc.message
        title = "استلم من قبل" if any(p.status == "received" for p in exc.prior) else "مُدرج في كشف آخر"
        if not self.ctx.can(Permission.OVERRIDE_ALREADY_RECEIVED):
            self._ask_supervisor(person_id, message, title=title)
            return
        self.reason_dialog = ReasonDialog(title, message, "إبقاء في الكشف بهذا السبب", self)
        self.reason_dialog.accepted.connect(lambda: self.add_person(person_id, self.reason_dialog.text()))
        self.reason_dialog.open()

    def _ask_supervisor(self, person_id: str, message: str, reason: str = "", *, title: str = "استلم من قبل") -> None:
        ctx, distribution_id = self.ctx, self.distribution_id

        def send(text: str):
            return request_keep_already_received(ctx, distribution_id, person_id=person_id, reason=text)

        self.reason_dialog = RequestDialog(title, message, send, self, reason=reason)
        self.reason_dialog.sent.connect(lambda _record: self.message.setText(REQUEST_SENT))
        self.reason_dialog.open()

    def _selected_line(self) -> str | None:
        line_id = self.table.current_id()
        if not line_id:
            self.message.setText("اختر سطراً من الكشف أولاً.")
        return line_id

    def selected_lines(self) -> list[str]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedIndexes()})
        if not rows and self.table.currentIndex().isValid():
            rows = [self.table.currentIndex().row()]
        return [line_id for line_id in (self.lines.id_at(row) for row in rows) if line_id]

    def mark(self, received: bool) -> None:
        """«استلم» / «لم يستلم» for every selected line, in one go; lines marked before are counted, not changed."""
        line_ids = self.selected_lines()
        if not line_ids:
            self.message.setText("اختر سطراً أو أكثر من الكشف أولاً.")
            return
        ctx, distribution_id = self.ctx, self.distribution_id

        def marked(result) -> None:
            self.reload()
            self.message.setText(result.message(received) if len(line_ids) > 1 or result.marked != 1 else "")

        self._in_background(lambda: mark_lines(ctx, distribution_id, line_ids, received=received), marked)

    def _in_background(self, work, done) -> None:
        """A change to the sheet off the GUI thread; its buttons wait for it, its refusal goes to the message line."""
        buttons = [self.received_button, self.not_received_button, self.reverse_button]
        if self.approve_button.isEnabled():
            buttons.append(self.approve_button)
        op = ServiceOp(self, work, message=self.message, buttons=buttons)
        self.task = op.after(self._on_task_over).success(done).run_in_background()

    def _on_task_over(self) -> None:
        self.task = None

    def scan_card(self) -> None:
        """A USB scanner types the card's QR text and Enter: the card's line is marked received, or refused aloud."""
        scanned = self.scan.text()
        self.scan.clear()
        # At once: the scanner types the next card straight after, and each must be answered in turn.
        op = ServiceOp(self, lambda: mark_by_card(self.ctx, self.distribution_id, scanned), message=self.message)
        op.on(CardRefusedError, self._on_card_refused).success(self._on_card_marked).run()

    def _on_card_refused(self, exc: CardRefusedError) -> None:
        QApplication.beep()
        self.scan_result.setText("")
        self.message.setText(exc.message)

    def _on_card_marked(self, line) -> None:
        self.reload()
        self.scan_result.setText(f"✔ سُجّل استلام السطر: {self._line_name(line.id)}")

    def _line_name(self, line_id: str) -> str:
        for row in range(self.lines.rowCount()):
            if self.lines.id_at(row) == line_id:
                return str(self.lines.index(row, 0).data() or "")
        return ""

    def print_sheet(self, target: Path | None = None) -> None:
        """The round's sheet as a PDF, written off the GUI thread and opened in the system's viewer to print."""
        target = target or ask_pdf_path(self, "حفظ كشف التوزيع", "كشف-توزيع", self.ctx.today())
        if target is None:
            return
        ctx, distribution_id = self.ctx, self.distribution_id
        op = ServiceOp(
            self,
            lambda: write_distribution_sheet(ctx, distribution_id, target),
            message=self.message,
            buttons=[self.print_button],
            busy="جارٍ إعداد الكشف…",
        )
        self.print_task = op.after(self._on_print_over).success(self._on_sheet_written).run_in_background()

    def _on_print_over(self) -> None:
        self.print_task = None

    def _on_sheet_written(self, path) -> None:
        self.last_sheet = Path(path)
        self.message.setText(f"حُفظ الكشف: {self.last_sheet.name}")
        open_document(self.last_sheet)

    def reverse(self) -> None:
        line_id = self._selected_line()
        if not line_id:
            return
        self.reason_dialog = ReasonDialog("إلغاء سطر من الكشف", CANCEL_LINE_HINT, "إلغاء السطر بهذا السبب", self)
        self.reason_dialog.accepted.connect(lambda: self._reverse(line_id, self.reason_dialog.text()))
        self.reason_dialog.open()

    def _reverse(self, line_id: str, reason: str) -> None:
        ctx = self.ctx
        self._in_background(lambda: reverse_line(ctx, line_id, reason=reason), lambda _line: self.reload())

    def approve(self) -> None:
        ctx, distribution_id = self.ctx, self.distribution_id
        self._in_background(lambda: approve_distribution(ctx, distribution_id), lambda _record: self._changed())


class AidPage(QWidget):
    """Projects and distribution rounds, each a registry table."""

    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.projects = ListPage(ctx, "projects", "المشاريع", placeholder="ابحث بعنوان المشروع أو اسم الجمعية…")
        self.distributions = ListPage(
            ctx, "distributions", "التوزيعات", placeholder="ابحث بعنوان المشروع أو اسم الجمعية…"
        )
        self.tabs = QTabWidget()
        self.tabs.addTab(self.distributions, "التوزيعات")
        self.tabs.addTab(self.projects, "المشاريع")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)
        self.projects.new_requested.connect(self.new_project)
        self.distributions.new_requested.connect(self.new_distribution)
        self.distributions.opened.connect(self.open_distribution)
        self.projects.opened.connect(self._show_project_distributions)
        self.tabs.currentChanged.connect(lambda _i: self.current().ensure_loaded())
        self.dialog: QDialog | None = None

    def current(self) -> ListPage:
        return self.tabs.currentWidget()

    def ensure_loaded(self) -> None:
        self.current().ensure_loaded()

    def select_table(self, table: str) -> ListPage:
        page = self.projects if table == "projects" else self.distributions
        self.tabs.setCurrentWidget(page)
        return page

    def new_project(self) -> ProjectDialog:
        self.dialog = ProjectDialog(self.ctx, self)
        self.dialog.saved.connect(lambda _id: self.projects.reload())
        self.dialog.open()
        return self.dialog

    def new_distribution(self) -> NewDistributionDialog:
        self.dialog = NewDistributionDialog(self.ctx, self)
        self.dialog.saved.connect(self._created)
        self.dialog.open()
        return self.dialog

    def _created(self, distribution_id: str) -> None:
        self.distributions.reload()
        self.open_distribution(distribution_id)

    def open_distribution(self, distribution_id: str) -> DistributionDialog:
        self.dialog = DistributionDialog(self.ctx, distribution_id, self)
        self.dialog.changed.connect(lambda _id: self.distributions.model.refresh())
        self.dialog.open()
        return self.dialog

    def _show_project_distributions(self, project_id: str) -> None:
        box = self.distributions.filters.get("project")
        self.tabs.setCurrentWidget(self.distributions)
        if box is not None:
            box.setCurrentIndex(max(0, box.findData(project_id)))
