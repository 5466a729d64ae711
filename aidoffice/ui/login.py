"""Login, the first administrator, and the idle lock that hides the window until the user logs in again."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLabel, QLineEdit, QMessageBox, QVBoxLayout

from aidoffice.errors import UserError
from aidoffice.services.backups import delete_backups, encrypt_backups, plain_backups
from aidoffice.services.context import ServiceContext
from aidoffice.services.encryption import encrypt_database
from aidoffice.services.users import (
    IDLE_LOCK_MINUTES,
    change_own_password,
    create_user,
    login,
    must_change_password,
)
from aidoffice.ui.ops import ServiceOp, show_refusal
from aidoffice.ui.widgets import Form, ltr_edit


def password_edit() -> QLineEdit:
    edit = ltr_edit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


# LoginDialog's result when the clerk asks for another database (the connection dialog), neither accepted nor closed
CHANGE_DATABASE = 2


class LoginDialog(QDialog):
    """Name and password; the reason of a refusal under the field. With `locked_user`, the session's own user only."""

    def __init__(
        self,
        ctx: ServiceContext | None,
        parent=None,
        *,
        locked_user: str | None = None,
        authenticate=None,
        where: str | None = None,
    ) -> None:
        """`authenticate(username, password)` replaces the login on `ctx` (an encrypted file is unlocked first).
        `where` (the database's file or server, at start) is shown with a «تغيير قاعدة البيانات» button, which ends
        the dialog with CHANGE_DATABASE."""
        super().__init__(parent)
        self.ctx = ctx
        self.authenticate = authenticate or (lambda name, password: login(self.ctx, name, password))
        self.setWindowTitle("الجلسة مقفلة" if locked_user else "تسجيل الدخول")
        intro = QLabel(
            "قُفلت الجلسة بعد مدة دون استخدام. أدخل كلمة المرور للمتابعة."
            if locked_user
            else "أدخل اسم الدخول وكلمة المرور."
        )
        intro.setWordWrap(True)
        self.form = Form()
        self.username = self.form.add("username", "اسم الدخول", ltr_edit())
        self.password = self.form.add("password", "كلمة المرور", password_edit())
        if where is not None:  # the file's path or the server's address, left to right on a row of its own
            self.where = QLabel(where)
            self.where.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
            self.where.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.where.setWordWrap(True)
            self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.form.add("database", "قاعدة البيانات", self.where)
        self.form.finish()
        if locked_user:
            self.username.setText(locked_user)
            self.username.setReadOnly(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("دخول")
        buttons.accepted.connect(self.try_login)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.form)
        self.change_database = None
        if where is not None:
            self.change_database = buttons.addButton("تغيير قاعدة البيانات", QDialogButtonBox.ButtonRole.ActionRole)
            self.change_database.setAutoDefault(False)
            self.change_database.clicked.connect(lambda: self.done(CHANGE_DATABASE))
        layout.addWidget(buttons)
        (self.password if locked_user else self.username).setFocus()

    def _on_login_refused(self, exc: UserError) -> None:
        self.password.clear()  # a refused password is typed again, never left in the box
        show_refusal(exc, form=self.form)

    def try_login(self) -> bool:
        password, username = self.password.text(), self.username.text()
        op = ServiceOp(self, lambda: self.authenticate(username, password), form=self.form)
        if not op.on(UserError, self._on_login_refused).run():
            return False
        opened = op.result
        ctx = opened if isinstance(opened, ServiceContext) else self.ctx
        if ctx is not None and must_change_password(ctx):
            # an administrator's reset: the user chooses their own password before working
            self.change = PasswordDialog(ctx, self, current=password, forced=True)
            if self.change.exec() != QDialog.DialogCode.Accepted:
                self.password.clear()
                self.form.set_error("password", "اختر كلمة مرور جديدة للمتابعة.")
                return False
        self.accept()
        return True


class PasswordDialog(QDialog):
    """Change your own password: the current one, the new one twice. After an administrator's reset (`forced`),
    the current one is the temporary password just typed."""

    def __init__(self, ctx: ServiceContext, parent=None, *, current: str | None = None, forced: bool = False) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("تغيير كلمة المرور")
        intro = QLabel(
            "أعاد مدير النظام تعيين كلمة مرورك. اختر كلمة مرور جديدة تعرفها أنت وحدك (8 أحرف على الأقل)."
            if forced
            else "اكتب كلمة مرورك الحالية ثم الجديدة مرتين (8 أحرف على الأقل)."
        )
        intro.setWordWrap(True)
        self.form = Form()
        self.old = self.form.add("old_password", "كلمة المرور الحالية", password_edit())
        self.new = self.form.add("password", "كلمة المرور الجديدة", password_edit())
        self.repeat = self.form.add("repeat", "أعد كتابتها", password_edit())
        self.form.finish()
        if current is not None:
            self.old.setText(current)
            self.form.layout_.setRowVisible(self.old.parentWidget(), False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("حفظ كلمة المرور")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.form)
        layout.addWidget(buttons)
        (self.new if current is not None else self.old).setFocus()

    def save(self) -> bool:
        self.form.clear_errors()
        if self.new.text() != self.repeat.text():
            self.form.set_error("repeat", "الكلمتان غير متطابقتين.")
            return False
        old, new = self.old.text(), self.new.text()
        return (
            ServiceOp(self, lambda: change_own_password(self.ctx, old, new), form=self.form)
            .success(lambda _r: self.accept())
            .run()
        )


class AdminDialog(QDialog):
    """The first administrator of an office whose database has no users yet."""

    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle("حساب مدير النظام")
        intro = QLabel("لا يوجد مستخدمون بعد. أنشئ حساب مدير النظام: يدير المستخدمين والإعدادات.")
        intro.setWordWrap(True)
        self.form = Form()
        self.username = self.form.add("username", "اسم الدخول", ltr_edit())
        self.full_name = self.form.add("full_name", "الاسم", QLineEdit())
        self.password = self.form.add("password", "كلمة المرور", password_edit())
        self.confirm = self.form.add("confirm", "تأكيد كلمة المرور", password_edit())
        self.encrypt = self.form.add(
            "encrypt", "التشفير", QCheckBox("تشفير قاعدة البيانات (لا تُقرأ دون كلمة مرور أحد المستخدمين)")
        )
        self.encrypt.setChecked(True)
        self.form.finish()
        if ctx.db.on_server:  # SQLCipher is for a file on this PC; a server is protected by its disk, TLS and roles
            self.encrypt.setChecked(False)
            self.form.layout_.setRowVisible(self.encrypt.parentWidget(), False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.create)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.form)
        layout.addWidget(buttons)

    def create(self) -> bool:
        self.form.clear_errors()
        if self.password.text() != self.confirm.text():
            self.form.set_error("confirm", "كلمتا المرور غير متطابقتين.")
            return False
        ctx, username, password, full_name = self.ctx, self.username.text(), self.password.text(), self.full_name.text()
        encrypt = self.encrypt.isChecked()

        def work() -> ServiceContext:
            create_user(ctx, username, password, "admin", full_name)
            login(ctx, username, password)
            return encrypt_database(ctx, password) if encrypt else ctx

        return ServiceOp(self, work, form=self.form).success(lambda opened: self._on_created(opened, encrypt)).run()

    def _on_created(self, ctx: ServiceContext, encrypted: bool) -> None:
        self.ctx = ctx
        if encrypted:
            self.treat_old_backups()
        self.accept()

    def treat_old_backups(self) -> None:
        """Copies taken before encryption are still readable without a password: the administrator chooses."""
        old = plain_backups(self.ctx)
        if not old:
            return
        choice = self.ask_old_backups(len(old))
        if choice == "encrypt":
            encrypt_backups(self.ctx, old)
        elif choice == "delete":
            delete_backups(self.ctx, old)

    def ask_old_backups(self, count: int) -> str:
        """'encrypt', 'delete' or 'keep'."""
        box = QMessageBox(self)
        box.setWindowTitle("نسخ احتياطية غير مشفرة")
        box.setText(
            f"توجد {count} نسخة احتياطية أُخذت قبل التشفير، وهي تُقرأ دون كلمة مرور. "
            "هل تُشفَّر الآن بمفتاح قاعدة البيانات، أم تُحذف، أم تبقى كما هي؟"
        )
        encrypt = box.addButton("تشفيرها", QMessageBox.ButtonRole.AcceptRole)
        delete = box.addButton("حذفها", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("إبقاؤها", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        clicked = box.clickedButton()
        return "encrypt" if clicked is encrypt else "delete" if clicked is delete else "keep"


class IdleLock(QObject):
    """Watches the application's keyboard and mouse; after `minutes` without either, says `locked` once."""

    locked = Signal()
    INPUT = (QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove, QEvent.Type.Wheel)

    def __init__(self, app: QObject, minutes: float = IDLE_LOCK_MINUTES, check_ms: int = 15_000) -> None:
        super().__init__(app)
        self.limit = minutes * 60
        self.last = time.monotonic()
        self.active = True
        app.installEventFilter(self)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.check)
        self.timer.start(check_ms)

    def eventFilter(self, _obj, event) -> bool:
        if event.type() in self.INPUT:
            self.last = time.monotonic()
        return False

    def check(self) -> None:
        if self.active and time.monotonic() - self.last > self.limit:
            self.active = False
            self.locked.emit()

    def resume(self) -> None:
        self.last = time.monotonic()
        self.active = True
