"""Settings: the office profile and the "already received" window of each aid type."""

from __future__ import annotations

from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from aidoffice.domain.arabic import COUNTRIES
from aidoffice.domain.vocab import AidWindow
from aidoffice.errors import UserError
from aidoffice.services.context import ServiceContext
from aidoffice.services.office import get_office, initialise_office, list_aid_types, set_aid_window
from aidoffice.ui.widgets import Form, combo, ltr_edit, select_value, text_of

COUNTRY_LABELS = {"YE": "اليمن", "SY": "سوريا"}


class OfficeForm(Form):
    """Name, governorate, code and country of the office (also the first-run dialog's form)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.add("name", "اسم المكتب", QLineEdit())
        self.add("governorate", "المحافظة", QLineEdit())
        self.add("office_code", "رمز المكتب", ltr_edit("OFF-01"))
        self.add("country", "البلد", combo([(c, COUNTRY_LABELS.get(c, c)) for c in COUNTRIES]))
        self.finish()

    def values(self) -> dict[str, str]:
        return {key: text_of(widget) for key, widget in self.fields.items()}


class SettingsPage(QWidget):
    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        title = QLabel("الإعدادات")
        title.setObjectName("pageTitle")
        self.office_form = OfficeForm()
        save_office = QPushButton("حفظ بيانات المكتب")
        save_office.setObjectName("primary")
        save_office.clicked.connect(self.save_office)
        office_box = QGroupBox("المكتب")
        column = QVBoxLayout(office_box)
        column.addWidget(self.office_form)
        column.addWidget(save_office)

        self.windows_form = Form()
        self.window_rows: dict[str, tuple] = {}
        for aid_type in list_aid_types(ctx):
            kind = combo([(w.value, w.label) for w in AidWindow])
            days = ltr_edit("أيام", digits=True)
            row = QWidget()
            line = QHBoxLayout(row)
            line.setContentsMargins(0, 0, 0, 0)
            line.addWidget(kind, 2)
            line.addWidget(days, 1)
            kind.currentIndexChanged.connect(
                lambda _i, kind=kind, days=days: days.setEnabled(kind.currentData() == AidWindow.DAYS.value)
            )
            self.windows_form.add(aid_type.code, aid_type.name, row)
            self.window_rows[aid_type.code] = (kind, days)
        self.windows_form.finish()
        save_windows = QPushButton("حفظ فترات «استلم من قبل»")
        save_windows.clicked.connect(self.save_windows)
        windows_box = QGroupBox("فترة عدم التكرار لكل نوع مساعدة (نفس الأسرة من أي جمعية)")
        column = QVBoxLayout(windows_box)
        column.addWidget(self.windows_form)
        column.addWidget(save_windows)

        self.message = QLabel()
        self.message.setObjectName("message")
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        top = QHBoxLayout()
        top.addWidget(office_box, 1)
        top.addWidget(windows_box, 1)
        layout.addLayout(top)
        layout.addWidget(self.message)
        layout.addStretch(1)

    def ensure_loaded(self) -> None:
        office = get_office(self.ctx)
        if office:
            f = self.office_form.fields
            f["name"].setText(office.name)
            f["governorate"].setText(office.governorate)
            f["office_code"].setText(office.office_code)
            select_value(f["country"], office.country)
        for aid_type in list_aid_types(self.ctx):
            kind, days = self.window_rows[aid_type.code]
            select_value(kind, aid_type.window)
            days.setText(str(aid_type.window_days or ""))
            days.setEnabled(aid_type.window == AidWindow.DAYS.value)

    def save_office(self) -> bool:
        self.office_form.clear_errors()
        try:
            initialise_office(self.ctx, **self.office_form.values())
        except UserError as exc:
            self.office_form.show_error(exc)
            return False
        self.message.setText("حُفظت بيانات المكتب.")
        return True

    def save_windows(self) -> bool:
        self.windows_form.clear_errors()
        ok = True
        for code, (kind, days) in self.window_rows.items():
            try:
                set_aid_window(self.ctx, code, kind.currentData(), days.text().strip() or None)
            except UserError as exc:
                self.windows_form.set_error(code, exc.message)
                ok = False
        self.message.setText("حُفظت الفترات." if ok else "لم تُحفظ بعض الفترات: انظر السبب بجانبها.")
        return ok
