"""Referrals of citizens to associations: refer with the need, follow the status with dates, see overdue ones."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTableWidget,
    QVBoxLayout,
)

from aidoffice.domain.dates import hijri_text
from aidoffice.domain.vocab import REFERRAL_TRANSITIONS, ReferralStatus
from aidoffice.errors import LostUpdateError
from aidoffice.services.context import ServiceContext
from aidoffice.services.persons import get_person
from aidoffice.services.referrals import DEFAULT_DUE_DAYS, advance_referral, create_referral, get_referral
from aidoffice.services.tables import filter_choices
from aidoffice.ui.ops import ServiceOp, show_refusal
from aidoffice.ui.pages.associations import fill_table
from aidoffice.ui.pages.list_page import ListPage
from aidoffice.ui.pages.persons import PersonPicker
from aidoffice.ui.widgets import DateField, Form, FormDialog, combo, spin_box, text_of


class NewReferralDialog(FormDialog):
    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__("إحالة جديدة", (640, 560), parent)
        self.ctx = ctx
        f = self.form
        self.picker = PersonPicker(ctx)
        f.add("person_id", "المستفيد", self.picker)
        f.add("association_id", "الجمعية", combo(filter_choices(ctx, "referrals")["association"], empty="— اختر —"))
        f.add("need", "الحاجة", QPlainTextEdit())
        f.fields["need"].setMaximumHeight(80)
        f.add("referred_on", "تاريخ الإحالة", DateField())
        days = spin_box(ctx.style, 1, 365, DEFAULT_DUE_DAYS)
        days.setSuffix(" يوماً")
        f.add("due_in_days", "مهلة الرد", days)
        f.finish()

    def save(self) -> bool:
        f = self.form.fields
        self.form.clear_errors()
        person_id = self.picker.current_id()
        if not person_id:
            self.form.set_error("person_id", "اختر المستفيد من نتائج البحث.")
            return False
        if not text_of(f["association_id"]):
            self.form.set_error("association_id", "اختر الجمعية.")
            return False
        association, need, referred_on = text_of(f["association_id"]), text_of(f["need"]), text_of(f["referred_on"])
        due = f["due_in_days"].value()
        op = ServiceOp(
            self,
            lambda: create_referral(
                self.ctx, person_id, association, need, referred_on=referred_on or None, due_in_days=due
            ),
            form=self.form,
        )
        return op.success(lambda record: self.done_with(record.id)).run()


class ReferralDialog(QDialog):
    """A referral's history and the next step (only the statuses allowed from where it stands)."""

    changed = Signal(str)

    def __init__(self, ctx: ServiceContext, referral_id: str, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.referral_id = referral_id
        self.version: int | None = None  # the version shown: the next step is refused if someone moved it meanwhile
        self.setWindowTitle("الإحالة")
        self.resize(700, 520)
        self.header = QLabel()
        self.header.setObjectName("pageTitle")
        self.header.setWordWrap(True)
        self.history = QTableWidget()
        f = self.form = Form()
        f.add("status", "الحالة الجديدة", combo([]))
        f.add("changed_on", "التاريخ", DateField())
        f.add("note", "ملاحظة", QLineEdit())
        f.add("outcome", "النتيجة (عند الخدمة أو الرفض)", QLineEdit())
        f.finish()
        self.buttons = QDialogButtonBox()
        self.save_button = self.buttons.addButton("تسجيل الحالة", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton("إغلاق", QDialogButtonBox.ButtonRole.RejectRole)
        self.buttons.accepted.connect(self.advance)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(self.history, 1)
        layout.addWidget(self.form)
        layout.addWidget(self.buttons)
        self.reload()

    def reload(self) -> None:
        r = get_referral(self.ctx, self.referral_id)
        self.version = r.version
        person = get_person(self.ctx, r.person_id)
        status = ReferralStatus(r.status)
        due = f" — موعد الرد {self.ctx.style.date(r.due_on)}" if r.due_on else ""
        self.header.setText(f"{person.full_name}: {r.need} — {status.label}{due}")
        labels = {s.value: s.label for s in ReferralStatus}
        fill_table(
            self.history,
            ["التاريخ", "هجري", "من", "إلى", "ملاحظة"],
            [
                [
                    self.ctx.style.date(h.changed_on),
                    hijri_text(h.changed_on),
                    labels.get(h.status_from or "", "—"),
                    labels.get(h.status_to, h.status_to),
                    h.reason,
                ]
                for h in r.history
            ],
        )
        box = self.form.fields["status"]
        box.clear()
        for s in ReferralStatus:
            if s in REFERRAL_TRANSITIONS.get(status, frozenset()):
                box.addItem(s.label, s.value)
        self.save_button.setEnabled(box.count() > 0)

    def advance(self) -> bool:
        f = self.form.fields
        status, note, changed_on, outcome = (text_of(f[k]) for k in ("status", "note", "changed_on", "outcome"))
        version = self.version
        op = ServiceOp(
            self,
            lambda: advance_referral(
                self.ctx,
                self.referral_id,
                status,
                note=note,
                changed_on=changed_on or None,
                outcome=outcome,
                expected_version=version,
            ),
            form=self.form,
        ).on(LostUpdateError, self._on_lost_update)
        return op.success(lambda _record: (self.reload(), self.changed.emit(self.referral_id))).run()

    def _on_lost_update(self, exc: LostUpdateError) -> None:
        """Someone moved the referral after it was opened here: its history and the steps allowed now are shown
        again, the note, date and outcome typed stay, and the message says who changed what."""
        self.reload()
        show_refusal(exc, form=self.form)


class ReferralsPage(ListPage):
    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__(ctx, "referrals", "الإحالات", placeholder="ابحث باسم المستفيد أو الجمعية…", parent=parent)
        self.new_requested.connect(self.new_referral)
        self.opened.connect(self.open_referral)
        self.dialog: QDialog | None = None

    def new_referral(self) -> NewReferralDialog:
        self.dialog = NewReferralDialog(self.ctx, self)
        self.dialog.saved.connect(lambda _id: self.reload())
        self.dialog.open()
        return self.dialog

    def open_referral(self, referral_id: str) -> ReferralDialog:
        self.dialog = ReferralDialog(self.ctx, referral_id, self)
        self.dialog.changed.connect(lambda _id: self.model.refresh())
        self.dialog.open()
        return self.dialog
