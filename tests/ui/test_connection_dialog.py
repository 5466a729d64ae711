"""The connection dialog offscreen, on the PostgreSQL test server: a wrong password said in Arabic with nothing
created, the right one opening the server; the choice remembered (never the password) and offered at the next start
before the login window, whose «تغيير قاعدة البيانات» goes back to the dialog."""

from __future__ import annotations

import json
import uuid

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog

from aidoffice import paths
from aidoffice.services import users
from aidoffice.services.connection import FILE, SERVER, Connection, remember, remembered
from aidoffice.ui.connection import ConnectionDialog
from aidoffice.ui.login import LoginDialog
from tests.helpers.databases import new_office
from tests.helpers.postgres import SERVER_PASSWORD, fresh_database, needs_server
from tests.helpers.postgres import sql as _sql
from tests.test_cli import run

ADMIN_PASSWORD = "كلمة-سر-قوية"


def _tables(url: str) -> set[str]:
    return {r[0] for r in _sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def _fill(dialog: ConnectionDialog, url: str, password: str) -> None:
    from aidoffice.store.server import server_parts

    parts = server_parts(url)
    dialog.server.setChecked(True)
    dialog.host.setText(parts["host"])
    dialog.port.setValue(parts["port"])
    dialog.database.setText(parts["database"])
    dialog.user.setText(parts["user"])
    dialog.password.setText(password)


def _connect(qtbot, dialog: ConnectionDialog) -> None:
    dialog.try_connect()
    qtbot.waitUntil(lambda: dialog.connect_button.isEnabled(), timeout=20_000)  # the background call is over


class Driver:
    """Answers the modal dialogs as they open, in order: (class, answer) pairs; what each saw is kept in `seen`
    (answers record, never assert: a failed assertion would leave the dialog open). Anything left is closed."""

    def __init__(self, steps) -> None:
        self.steps = list(steps)
        self.seen: list[object] = []
        self.done: set[int] = set()
        self.timer = QTimer()
        self.timer.timeout.connect(self.tick)
        self.timer.start(50)
        QTimer.singleShot(60_000, self.give_up)

    def tick(self) -> None:
        widget = QApplication.activeModalWidget()
        if widget is None or id(widget) in self.done or not self.steps:
            return
        kind, answer = self.steps[0]
        if isinstance(widget, kind):
            self.steps.pop(0)
            self.done.add(id(widget))
            self.seen.append(answer(widget))

    def give_up(self) -> None:
        widget = QApplication.activeModalWidget()
        if widget is not None:
            widget.reject()


@needs_server
def test_wrong_password_in_arabic_then_the_right_one_opens_the_server(qtbot):
    with fresh_database() as url:
        dialog = ConnectionDialog()
        qtbot.addWidget(dialog)
        assert dialog.local.isChecked()  # nothing remembered: this PC's file is offered first
        _fill(dialog, url, f"wrong-{uuid.uuid4().hex}")
        _connect(qtbot, dialog)
        assert "رفض الخادم" in dialog.message.text() and "كلمة المرور" in dialog.message.text()
        assert dialog.ctx is None and dialog.result() != QDialog.DialogCode.Accepted
        assert dialog.password.text() == ""  # a refused password is typed again
        assert _tables(url) == set() and remembered() is None
        _fill(dialog, url, SERVER_PASSWORD)
        _connect(qtbot, dialog)
        assert dialog.message.text() == "" and dialog.result() == QDialog.DialogCode.Accepted
        ctx = dialog.ctx
        try:
            assert ctx.db.on_server and "alembic_version" in _tables(url)  # the empty database got its schema
            from aidoffice.ui.login import AdminDialog

            first = AdminDialog(ctx)  # SQLCipher is for files: not offered for a server's first administrator
            qtbot.addWidget(first)
            assert not first.encrypt.isChecked() and not first.form.layout_.isRowVisible(first.encrypt.parentWidget())
        finally:
            ctx.close()
        kept = json.loads(paths.connection_file().read_text(encoding="utf-8"))
        assert kept["kind"] == SERVER and kept["database"] in url and SERVER_PASSWORD not in json.dumps(kept)
        assert remembered() == dialog.choice


@needs_server
def test_other_program_newer_database_and_a_server_down_are_said_in_the_dialog(qtbot, capsys):
    with fresh_database() as foreign, fresh_database() as newer:
        _sql(foreign, "CREATE TABLE notes (x integer)")
        assert run(capsys, "init", "--db", newer, "--office-name", "مكتب تعز")[0] == 0
        _sql(newer, "UPDATE alembic_version SET version_num = '9999_future'")
        dialog = ConnectionDialog()
        qtbot.addWidget(dialog)
        _fill(dialog, foreign, SERVER_PASSWORD)
        _connect(qtbot, dialog)
        assert "برنامج آخر" in dialog.message.text() and _tables(foreign) == {"notes"}
        _fill(dialog, newer, SERVER_PASSWORD)
        _connect(qtbot, dialog)
        assert "إصدار أحدث" in dialog.message.text()
        assert _sql(newer, "SELECT version_num FROM alembic_version") == [("9999_future",)]
        _fill(dialog, newer, SERVER_PASSWORD)
        dialog.port.setValue(1)  # nothing listens there
        _connect(qtbot, dialog)
        assert "تعذر الاتصال" in dialog.message.text() and "الخادم متوقف" in dialog.message.text()
        _fill(dialog, newer, SERVER_PASSWORD)
        select = dialog.tls.findData("require")  # the TLS choice becomes sslmode=require: this server has no TLS
        dialog.tls.setCurrentIndex(select)
        _connect(qtbot, dialog)
        if _sql(newer, "SHOW ssl") != [("on",)]:
            assert "TLS" in dialog.message.text()
        assert dialog.result() != QDialog.DialogCode.Accepted and remembered() is None


@needs_server
def test_next_start_asks_the_password_then_the_login_and_can_change_database(qtbot, capsys, monkeypatch, tmp_path):
    from aidoffice.app import choose_database
    from aidoffice.store.server import server_parts

    monkeypatch.setenv("AIDOFFICE_NEW_PASSWORD", ADMIN_PASSWORD)
    with fresh_database() as url:
        assert run(capsys, "init", "--db", url, "--office-name", "مكتب عدن", "--admin", "admin")[0] == 0
        parts = server_parts(url)
        remember(Connection(kind=SERVER, host=parts["host"], port=parts["port"], database=parts["database"],
                            user=parts["user"], tls="prefer"))  # fmt: skip

        def connect(dialog: ConnectionDialog):
            state = (dialog.server.isChecked(), dialog.database.text(), dialog.password.text())
            dialog.password.setText(SERVER_PASSWORD)
            dialog.connect_button.click()
            return state

        def log_in(dialog: LoginDialog):
            where = dialog.where.text()
            dialog.username.setText("admin")
            dialog.password.setText(ADMIN_PASSWORD)
            dialog.try_login()
            return where

        driver = Driver([(ConnectionDialog, connect), (LoginDialog, log_in)])
        ctx = choose_database(None)
        try:
            assert driver.steps == [] and isinstance(ctx, object) and ctx is not None
            assert driver.seen[0] == (True, parts["database"], "")  # remembered, and the password asked again
            assert parts["database"] in driver.seen[1]  # the login window says which database
            assert ctx.db.on_server and (ctx.username, ctx.role) == ("admin", "admin")
        finally:
            ctx.close()

        # «تغيير قاعدة البيانات» from the login window: back to the dialog, this time a file on this PC
        office = new_office(tmp_path / "office.sqlite3")
        users.create_user(office, "clerk1", ADMIN_PASSWORD, "admin")  # the file's first user
        office.close()

        def change(dialog: LoginDialog):
            dialog.change_database.click()
            return "changed"

        def choose_file(dialog: ConnectionDialog):
            dialog.local.setChecked(True)
            dialog.file_path.setText(str(tmp_path / "office.sqlite3"))
            dialog.connect_button.click()
            return "file"

        def clerk_in(dialog: LoginDialog):
            dialog.username.setText("clerk1")
            dialog.password.setText(ADMIN_PASSWORD)
            dialog.try_login()
            return dialog.where.text()

        steps = [(ConnectionDialog, connect), (LoginDialog, change), (ConnectionDialog, choose_file)]
        driver = Driver([*steps, (LoginDialog, clerk_in)])
        ctx = choose_database(None)
        try:
            assert driver.steps == [], driver.seen
            assert ctx is not None and not ctx.db.on_server and ctx.username == "clerk1"
            assert "office.sqlite3" in driver.seen[-1]
        finally:
            ctx.close()
        assert remembered().kind == FILE  # the file is opened without the dialog next time


@needs_server
def test_desktop_db_argument_takes_a_server_address(qtbot):
    from aidoffice.app import _db_argument, choose_database

    with fresh_database() as url:
        assert _db_argument(f" {url} ") == url
        with pytest.raises(Exception, match="ليست مسار ملف"):
            _db_argument("mysql://x@y/z")

        def cancel(dialog: ConnectionDialog):
            seen = (dialog.server.isChecked(), dialog.database.text(), dialog.password.text())
            dialog.reject()
            return seen

        driver = Driver([(ConnectionDialog, cancel)])
        assert choose_database(url) is None  # the dialog first (its password is typed there), closed: nothing opened
        assert driver.seen[0][:2] == (True, url.rsplit("/", 1)[1]) and driver.seen[0][2] == ""
        assert _tables(url) == set()


def test_tab_walks_the_server_fields_in_reading_order(qtbot):
    dialog = ConnectionDialog(Connection(kind=SERVER, host="192.168.1.10", user="aidoffice_pc"))
    qtbot.addWidget(dialog)
    assert dialog.server.isChecked() and not dialog.file_box.isEnabled()
    order, widget = [], dialog.host
    for _ in range(6):
        order.append(widget)
        widget = widget.nextInFocusChain()
        while not widget.focusPolicy() & widget.focusPolicy().TabFocus or widget.focusProxy() is not None:
            widget = widget.nextInFocusChain()
    names = [dialog.host, dialog.port, dialog.database, dialog.user, dialog.password, dialog.tls]
    assert [w for w in order] == names[: len(order)]
    assert dialog.port.locale().name() == "C" and dialog.port.text() == "5432"  # typed as the administrator gives it
