"""Login offscreen: the first administrator, a wrong password, lock-out, and the idle lock hiding the window."""

from __future__ import annotations

import pytest

from aidoffice.services import users
from aidoffice.ui.login import AdminDialog, IdleLock, LoginDialog
from aidoffice.ui.main_window import MainWindow


@pytest.fixture
def admin(ctx):
    users.create_user(ctx, "admin", "كلمة-سر-قوية", "admin")
    return ctx


def test_first_administrator_then_login(qtbot, file_ctx):
    """The first administrator of an office in a file: the file is encrypted with the password (a SQLite file's)."""
    dialog = AdminDialog(file_ctx)
    qtbot.addWidget(dialog)
    dialog.username.setText("admin")
    dialog.password.setText("كلمة-سر-قوية")
    dialog.confirm.setText("كلمة-سر-أخرى")
    assert not dialog.create() and dialog.form.errors["confirm"].text() == "كلمتا المرور غير متطابقتين."
    dialog.confirm.setText("كلمة-سر-قوية")
    assert dialog.encrypt.isChecked()  # new offices are encrypted unless the administrator says otherwise
    assert dialog.create()
    opened = dialog.ctx
    try:
        assert (opened.username, opened.role) == ("admin", "admin") and opened.db.key is not None
        path = opened.db.path
    finally:
        opened.close()
    from aidoffice.app import unlock
    from aidoffice.services.encryption import is_encrypted

    assert is_encrypted(path)
    # the next start: the same dialog unlocks the file with the password, then logs in
    from PySide6.QtCore import QTimer

    def answer():
        from PySide6.QtWidgets import QApplication

        login_dialog = QApplication.activeModalWidget()
        login_dialog.username.setText("admin")
        login_dialog.password.setText("كلمة-سر-قوية")
        login_dialog.try_login()

    QTimer.singleShot(100, answer)
    again = unlock(path)
    try:
        assert again is not None and again.role == "admin" and again.db.key is not None
    finally:
        again.close()


def test_wrong_password_is_said_beside_the_field_and_cleared(qtbot, admin):
    dialog = LoginDialog(admin)
    qtbot.addWidget(dialog)
    dialog.username.setText("admin")
    dialog.password.setText("wrong-password")
    assert not dialog.try_login()
    assert "غير صحيحة" in dialog.form.errors["password"].text() and dialog.password.text() == ""
    dialog.password.setText("كلمة-سر-قوية")
    assert dialog.try_login() and admin.role == "admin"


def test_idle_lock_hides_the_window_until_the_same_user_logs_in(qtbot, admin):
    users.login(admin, "admin", "كلمة-سر-قوية")
    window = MainWindow(admin)
    qtbot.addWidget(window)
    window.show()
    lock = window.enable_idle_lock(minutes=0)
    lock.last -= 1
    lock.check()
    assert not window.centralWidget().isVisible()
    dialog = window.lock_dialog
    assert dialog.username.text() == "admin" and dialog.username.isReadOnly()
    dialog.password.setText("كلمة-سر-قوية")
    assert dialog.try_login()
    assert window.centralWidget().isVisible() and lock.active
    assert "admin" in window.status_user.text()
    assert isinstance(lock, IdleLock)


def test_administrator_manages_users_and_reads_the_audit_trail(qtbot, admin):
    from dataclasses import replace

    from aidoffice.ui.pages.settings import SettingsPage

    users.login(admin, "admin", "كلمة-سر-قوية")
    page = SettingsPage(admin)
    qtbot.addWidget(page)
    page.show()
    page.tabs.setCurrentWidget(page.users)
    f = page.users.form.fields
    f["username"].setText("clerk1")
    f["password"].setText("short")
    assert not page.users.add_user()
    assert "8" in page.users.form.errors["password"].text() and f["username"].text() == "clerk1"
    f["password"].setText("كلمة-سر-الموظف")
    assert page.users.add_user()
    assert page.users.table.rowCount() == 2
    page.tabs.setCurrentWidget(page.audit)
    assert page.audit.listing is not None and page.audit.listing.model.rowCount() > 0
    assert "سليمة" in page.audit.verify()

    clerk = replace(admin)
    users.login(clerk, "clerk1", "كلمة-سر-الموظف")
    other = SettingsPage(clerk)
    qtbot.addWidget(other)
    other.tabs.setCurrentWidget(other.audit)
    assert other.audit.view == "mine" and "لمدير النظام فقط" in other.audit.result.text()  # their own day only
    other.tabs.setCurrentWidget(other.users)
    assert "ليست لديك صلاحية" in other.users.message.text()


def test_screens_follow_the_role(qtbot, admin, tmp_path):
    from dataclasses import replace

    users.create_user(admin, "clerk1", "كلمة-سر-الموظف", "clerk")
    clerk = replace(admin)
    users.login(clerk, "clerk1", "كلمة-سر-الموظف")
    window = MainWindow(clerk)
    qtbot.addWidget(window)
    # a clerk's export is a request to the supervisor: the dialog asks the reason first, and no file is written
    window.export("persons", tmp_path / "persons.xlsx")
    assert window.request_dialog.isVisible() and "موافقة المشرف" in window.request_dialog.message.text()
    assert window.export_task is None and not (tmp_path / "persons.xlsx").exists()
    window.request_dialog.reject()
    assert window.review_page.merge_button.text().startswith("نفس الشخص — طلب دمج")
    users.login(admin, "admin", "كلمة-سر-قوية")
    other = MainWindow(admin)
    qtbot.addWidget(other)
    assert other.export_menu.isEnabled() and other.reports_page.buttons["persons"].isEnabled()


def test_a_reset_password_is_replaced_at_the_next_login_and_anyone_changes_their_own(qtbot, admin, monkeypatch):
    from dataclasses import replace

    from aidoffice.ui import login as login_module
    from aidoffice.ui.login import PasswordDialog
    from aidoffice.ui.pages.settings import UsersPanel

    users.login(admin, "admin", "كلمة-سر-قوية")
    users.create_user(admin, "clerk1", "كلمة-سر-الموظف", "clerk")
    panel = UsersPanel(admin)
    qtbot.addWidget(panel)
    panel.ensure_loaded()
    panel.table.setCurrentCell([u.username for u in panel._users].index("clerk1"), 0)
    panel.form.fields["password"].setText("مؤقتة-من-المدير")
    panel.reset_selected()
    assert "يختار المستخدم" in panel.message.text()

    clerk_ctx = replace(admin)
    seen = []

    def choose_new(self):  # the forced dialog, answered as the clerk would
        seen.append(self)
        self.new.setText("كلمة-الموظف-الجديدة")
        self.repeat.setText("كلمة-الموظف-الجديدة")
        return QDialog.DialogCode.Accepted if self.save() else QDialog.DialogCode.Rejected

    from PySide6.QtWidgets import QDialog

    monkeypatch.setattr(login_module.PasswordDialog, "exec", choose_new)
    dialog = LoginDialog(clerk_ctx)
    qtbot.addWidget(dialog)
    dialog.username.setText("clerk1")
    dialog.password.setText("مؤقتة-من-المدير")
    assert dialog.try_login() and len(seen) == 1
    assert not seen[0].form.layout_.isRowVisible(seen[0].old.parentWidget())  # the temporary one is not asked again
    assert not users.must_change_password(clerk_ctx)
    with pytest.raises(Exception, match="غير صحيحة"):
        users.login(replace(admin), "clerk1", "مؤقتة-من-المدير")

    own = PasswordDialog(clerk_ctx)  # later, from the menu: the current one, the new one twice
    qtbot.addWidget(own)
    own.old.setText("كلمة-الموظف-الجديدة")
    own.new.setText("كلمة-ثالثة-للموظف")
    own.repeat.setText("كلمة-ثالثة-أخرى")
    assert not own.save() and own.form.errors["repeat"].text()
    own.repeat.setText("كلمة-ثالثة-للموظف")
    assert own.save()
    assert users.login(replace(admin), "clerk1", "كلمة-ثالثة-للموظف").username == "clerk1"
