"""The connection dialog: this PC's SQLite file or the office's PostgreSQL server, chosen before login."""

from __future__ import annotations

import itertools

from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from aidoffice.errors import UserError
from aidoffice.services.connection import FILE, SERVER, Connection, open_server, remember
from aidoffice.services.context import ServiceContext
from aidoffice.ui.login import password_edit
from aidoffice.ui.ops import ServiceOp
from aidoffice.ui.widgets import Form, combo, ltr_edit, select_value

TLS_CHOICES = [
    ("prefer", "مشفّر إن أتاحه الخادم"),
    ("require", "مشفّر دائماً (TLS مطلوب)"),
    ("verify-full", "مشفّر مع التحقق من شهادة الخادم"),
]


class ConnectionDialog(QDialog):
    """Where the registry is: a file on this PC, or the office's server (host, port, database, account, password,
    TLS). A server is connected here, so its refusals are said here in Arabic; the choice (never the password) is
    remembered for the next start. `ctx` is the open server database after «اتصال»; a file is opened by the caller."""

    def __init__(self, current: Connection | None = None, parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle("قاعدة البيانات")
        self.ctx: ServiceContext | None = None
        self.choice: Connection | None = None
        current = current or Connection()
        intro = QLabel("أين يُحفظ سجل المكتب؟ اختر ملفاً على هذا الجهاز، أو خادم المكتب الذي تشترك فيه الأجهزة.")
        intro.setWordWrap(True)

        self.local = QRadioButton("هذا الجهاز (ملف SQLite)")
        self.server = QRadioButton("خادم المكتب (PostgreSQL)")
        group = QButtonGroup(self)
        group.addButton(self.local)
        group.addButton(self.server)

        self.file_box = QGroupBox()
        self.file_path = ltr_edit()
        self.file_path.setText(str(current.file_path()))
        self.browse = QPushButton("استعراض…")
        self.browse.clicked.connect(self._browse)
        row = QHBoxLayout(self.file_box)
        row.addWidget(QLabel("الملف:"))
        row.addWidget(self.file_path, 1)
        row.addWidget(self.browse)

        self.form = Form()
        self.host = self.form.add("host", "عنوان الخادم", ltr_edit("192.168.1.10"))
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(current.port)
        self.port.setGroupSeparatorShown(False)
        self.port.setLocale(QLocale.c())  # a port is typed as the server's administrator gives it: 5432
        self.port.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.form.add("port", "المنفذ", self.port)
        self.database = self.form.add("database", "قاعدة البيانات", ltr_edit())
        self.user = self.form.add("user", "اسم المستخدم", ltr_edit())
        self.password = self.form.add("password", "كلمة المرور", password_edit())
        self.tls = self.form.add("tls", "التشفير (TLS)", combo(TLS_CHOICES))
        self.form.finish()
        self.host.setText(current.host)
        self.database.setText(current.database)
        self.user.setText(current.user)
        select_value(self.tls, current.tls)
        self.server_box = QGroupBox()
        QVBoxLayout(self.server_box).addWidget(self.form)

        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setObjectName("fieldError")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.connect_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.connect_button.setText("اتصال")
        self.buttons.accepted.connect(self.try_connect)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.local)
        layout.addWidget(self.file_box)
        layout.addWidget(self.server)
        layout.addWidget(self.server_box)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.local.toggled.connect(self._show_kind)
        (self.server if current.on_server else self.local).setChecked(True)
        self._show_kind()
        self._set_tab_order()
        self.setMinimumWidth(560)

    def _set_tab_order(self) -> None:
        chain: list[QWidget] = [self.local, self.file_path, self.browse, self.server, self.host, self.port]
        chain += [self.database, self.user, self.password, self.tls, self.connect_button]
        for first, second in itertools.pairwise(chain):
            QWidget.setTabOrder(first, second)

    def _show_kind(self) -> None:
        on_server = self.server.isChecked()
        self.file_box.setEnabled(not on_server)
        self.server_box.setEnabled(on_server)
        self.message.clear()
        self.form.clear_errors()
        if on_server:
            empty = next((w for w in (self.host, self.database, self.user) if not w.text().strip()), self.password)
            empty.setFocus()
        else:
            self.file_path.setFocus()

    def _browse(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(
            self,
            "ملف قاعدة البيانات",
            self.file_path.text(),
            "قاعدة بيانات AidOffice (*.sqlite3);;كل الملفات (*)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if chosen:
            self.file_path.setText(chosen)

    def selected(self) -> Connection:
        if self.local.isChecked():
            return Connection(kind=FILE, path=self.file_path.text().strip())
        return Connection(
            kind=SERVER,
            host=self.host.text().strip(),
            port=self.port.value(),
            database=self.database.text().strip(),
            user=self.user.text().strip(),
            tls=self.tls.currentData(),
        )

    def try_connect(self) -> None:
        self.message.clear()
        self.form.clear_errors()
        choice = self.selected()
        if not choice.on_server:
            if not choice.path:
                self.message.setText("اكتب مسار ملف قاعدة البيانات أو اختره بزر «استعراض».")
                return
            self.choice = choice
            remember(choice)
            self.accept()
            return
        missing = {
            key: "مطلوب."
            for key, widget in (("host", self.host), ("database", self.database), ("user", self.user))
            if not widget.text().strip()
        }
        if missing:
            for key, text in missing.items():
                self.form.set_error(key, text)
            self.fields_first_error().setFocus()
            return
        password = self.password.text()
        op = ServiceOp(
            self,
            lambda: open_server(choice, password),
            message=self.message,
            buttons=[self.connect_button],
            busy=f"جارٍ الاتصال بالخادم {choice.host}…",
        )
        op.on(UserError, self._refused).success(lambda ctx: self._connected(choice, ctx)).run_in_background()

    def fields_first_error(self) -> QWidget:
        return next(w for k, w in self.form.fields.items() if self.form.errors[k].isVisible())

    def _refused(self, exc: UserError) -> None:
        self.message.setText(exc.message)
        self.password.clear()
        self.password.setFocus()

    def _connected(self, choice: Connection, ctx: ServiceContext) -> None:
        self.message.clear()
        self.choice = choice
        self.ctx = ctx
        remember(choice)
        self.accept()
