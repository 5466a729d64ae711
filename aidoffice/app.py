"""Composition root of the desktop: paths, logging, database and migrations, services, QApplication, window."""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, Qt, QTranslator
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QProgressDialog,
    QVBoxLayout,
)

from aidoffice import APP_NAME, paths, texts
from aidoffice.console import attach_console, guard_missing_streams
from aidoffice.domain.display import DisplayStyle  # the file is damaged: its own setting cannot be read
from aidoffice.errors import UserError
from aidoffice.logs import setup_logging
from aidoffice.services.context import ServiceContext, open_context
from aidoffice.services.office import get_office, initialise_office

log = logging.getLogger("aidoffice.app")
DEMO_PERSONS = 5_000

AskProfile = Callable[[], dict[str, str] | None]


def make_application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication, right-to-left with the Arabic (Yemen) locale, the bundled font and the style."""
    from aidoffice.ui.theme import apply_theme

    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    app.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
    QLocale.setDefault(QLocale(QLocale.Language.Arabic, QLocale.Country.Yemen))
    if not app.property("aidoffice_themed"):
        from aidoffice.ui.tasks import collect_on_gui_thread

        apply_theme(app)
        _install_qt_translation(app)
        collect_on_gui_thread(app)
        app.setProperty("aidoffice_themed", True)
    return app


_translators: list[QTranslator] = []


def _install_qt_translation(app: QApplication) -> None:
    """Qt's own Arabic strings (Close, Cancel, Yes, No in standard dialogs and buttons), shipped with PySide6."""
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if translator.load(QLocale(QLocale.Language.Arabic), "qtbase", "_", folder):
        app.installTranslator(translator)
        _translators.append(translator)
    else:
        log.warning("Qt's Arabic translation was not found; standard buttons stay in English")


def open_office(db_path: Path | None, ask_profile: AskProfile | None = None) -> ServiceContext:
    """Open (creating and migrating on first run) the database, with an office profile in place.

    On first run `ask_profile` (the first-run dialog) gives the office's name, governorate, code and country; if it
    is not given or the clerk closes it, defaults are used and can be changed under الإعدادات.
    """
    return prepare_office(open_context(db_path, username="desktop"), ask_profile)


def prepare_office(ctx: ServiceContext, ask_profile: AskProfile | None = None) -> ServiceContext:
    """The office profile on an open database (a new file, or an empty database on the server just given its
    schema): asked once; the context is closed if this fails."""
    try:
        if get_office(ctx) is None:
            values = dict(ask_profile() or {}) if ask_profile else {}
            mode = values.pop("mode", None)
            initialise_office(ctx, **values)
            if mode:
                from aidoffice.services.sync import set_mode

                set_mode(ctx, mode)
    except BaseException:
        ctx.close()
        raise
    return ctx


class FirstRunDialog(QDialog):
    """The office profile, asked once when the database is new."""

    def __init__(self, parent=None) -> None:
        from aidoffice.ui.pages.settings import OfficeForm

        super().__init__(parent)
        self.setWindowTitle("مرحباً بكم في AidOffice")
        intro = QLabel("قاعدة البيانات هذه جديدة: أدخل بيانات المكتب (يمكن تغييرها لاحقاً من الإعدادات).")
        intro.setWordWrap(True)
        self.form = OfficeForm()
        self.form.fields["name"].setText("مكتب وزارة الشؤون الاجتماعية والعمل")
        self.form.fields["governorate"].setText("حضرموت")
        self.form.fields["office_code"].setText("OFF-01")
        # One program, two kinds of installation (USB sync): chosen here, once.
        self.mode = QComboBox()
        self.mode.addItem("مكتب محافظة (يرسل بياناته إلى الديوان)", "office")
        self.mode.addItem("ديوان الوزارة (يجمع بيانات المكاتب)", "hq")
        mode_row = QHBoxLayout()
        mode_row.addWidget(QLabel("نوع التثبيت:"))
        mode_row.addWidget(self.mode, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("بدء العمل")
        buttons.accepted.connect(self._accept_if_valid)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.form)
        layout.addLayout(mode_row)
        layout.addWidget(buttons)

    def values(self) -> dict[str, str]:
        return {**self.form.values(), "mode": self.mode.currentData()}

    def _accept_if_valid(self) -> None:
        self.form.clear_errors()
        values = self.form.values()
        if not values["name"]:
            self.form.set_error("name", "اسم المكتب مطلوب.")
            return
        self.accept()


def ask_profile_dialog() -> dict[str, str] | None:
    dialog = FirstRunDialog()
    return dialog.values() if dialog.exec() == QDialog.DialogCode.Accepted else None


def sign_in(ctx: ServiceContext, where: str | None = None) -> ServiceContext | int | None:
    """The first administrator if the office has no users yet (encrypting the file if chosen), then the login;
    the context to work with, or None if the clerk gives up. With `where` (at start), the login offers another
    database: CHANGE_DATABASE is then returned."""
    from aidoffice.services.users import has_users
    from aidoffice.ui.login import CHANGE_DATABASE, AdminDialog, LoginDialog

    if not has_users(ctx):
        dialog = AdminDialog(ctx)
        return dialog.ctx if dialog.exec() == QDialog.DialogCode.Accepted else None
    result = LoginDialog(ctx, where=where).exec()
    if result == CHANGE_DATABASE:
        return CHANGE_DATABASE
    return ctx if result == QDialog.DialogCode.Accepted else None


def unlock(db_path: Path, where: str | None = None) -> ServiceContext | int | None:
    """An encrypted database: the user's password unlocks the key; the file is checked with it (a damaged one is
    restored from the newest good backup, as for a plain file); then it is opened and the user logged in."""
    from aidoffice.services.backups import check_database
    from aidoffice.services.encryption import open_encrypted, unlock
    from aidoffice.ui.login import LoginDialog

    opened: dict[str, ServiceContext] = {}

    def authenticate(name: str, password: str) -> ServiceContext:
        unlocked = unlock(db_path, name, password)  # counted: five wrong passwords lock the account, as unencrypted
        problem = check_database(db_path, unlocked[0])
        if problem != "ok":
            log.error("encrypted database failed its integrity check at start-up")
            dialog = DamagedDialog(db_path, problem, key=unlocked[0])
            if dialog.exec() != QDialog.DialogCode.Accepted:
                raise UserError("لم تُستعد قاعدة البيانات: أُغلق البرنامج دون تغيير شيء.")
            dialog.restore().close()
            unlocked = None  # the restored file has its own keyring: unlocked again
        opened["ctx"] = open_encrypted(db_path, name, password, unlocked=unlocked)
        return opened["ctx"]

    dialog = LoginDialog(None, authenticate=authenticate, where=where)
    result = dialog.exec()
    if result == QDialog.DialogCode.Accepted:
        return opened.get("ctx")
    return result if result not in (QDialog.DialogCode.Rejected, QDialog.DialogCode.Rejected.value) else None


def make_demo(persons: int = DEMO_PERSONS) -> ServiceContext:
    """A fresh demo office in a temporary folder, generated in the background behind a progress dialog."""
    from aidoffice.services.demo import generate_demo
    from aidoffice.ui import tasks

    folder = Path(tempfile.mkdtemp(prefix="aidoffice-demo-"))
    ctx = open_context(folder / "demo.sqlite3", username="desktop")
    progress = QProgressDialog("جارٍ إنشاء مكتب تجريبي…", "إلغاء", 0, persons)
    progress.setWindowTitle(texts.APP_TITLE)
    progress.setMinimumDuration(0)
    outcome: dict[str, object] = {}
    task = tasks.BackgroundTask(
        lambda report, cancelled: generate_demo(ctx, persons, progress=report, should_cancel=cancelled)
    )
    task.signals.progressed.connect(lambda done, total: progress.setValue(min(done, total)))
    task.signals.finished.connect(lambda summary: outcome.setdefault("done", summary))
    task.signals.failed.connect(lambda message: outcome.setdefault("failed", message))
    task.signals.crashed.connect(lambda exc: outcome.setdefault("crashed", exc))
    progress.canceled.connect(task.cancel)
    tasks.start(task)
    while not outcome:
        QApplication.processEvents()
        time.sleep(0.01)
    progress.close()
    if "crashed" in outcome:
        raise outcome["crashed"]
    if "failed" in outcome:
        raise UserError(str(outcome["failed"]))
    return ctx


class DamagedDialog(QDialog):
    """The database failed its integrity check: restore the newest good backup, or stop. Never a new empty file."""

    def __init__(self, db_path: Path, problem: str, parent=None, *, key: bytes | None = None) -> None:
        from aidoffice.services.backups import list_backups
        from aidoffice.store.backup import integrity

        super().__init__(parent)
        self.setWindowTitle("قاعدة البيانات تالفة")
        self.db_path = db_path
        self.key = key
        self.good = next((b for b in list_backups(paths.backups_dir()) if integrity(b.path, key) == "ok"), None)
        text = f"فشل فحص سلامة ملف قاعدة البيانات:\n{db_path}\n({problem[:120]})\n\n" + (
            f"أحدث نسخة احتياطية سليمة: {DisplayStyle().datetime(self.good.taken_at)}. يمكن استعادتها الآن؛ "
            "يُحفظ الملف التالف جانباً ولا يُحذف."
            if self.good
            else "لا توجد نسخة احتياطية سليمة في مجلد النسخ. لن يُنشأ ملف فارغ مكانه: اتصل بالدعم الفني."
        )
        label = QLabel(text)
        label.setWordWrap(True)
        buttons = QDialogButtonBox()
        self.restore_button = buttons.addButton("استعادة أحدث نسخة سليمة", QDialogButtonBox.ButtonRole.AcceptRole)
        self.restore_button.setEnabled(self.good is not None)
        buttons.addButton("إغلاق البرنامج", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(buttons)

    def restore(self) -> ServiceContext:
        from aidoffice.services.backups import recover_damaged

        # the damaged file is kept beside it as it was (<name>-damaged-<time>), for support, never deleted
        return recover_damaged(self.db_path, self.good.path, key=self.key, current_key=self.key, username="desktop").ctx


def start_office(db_path: Path | None) -> ServiceContext | None:
    """Check the file before opening it; a damaged one is restored from a backup or the program stops."""
    from aidoffice.services.backups import check_database

    path = Path(db_path) if db_path else paths.default_db_path()
    problem = check_database(path)
    if problem != "ok":
        log.error("database failed its integrity check at start-up")
        dialog = DamagedDialog(path, problem)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return None
        dialog.restore().close()
    return open_office(path, ask_profile_dialog)


STOPPED = -1  # the clerk declined to restore a damaged file: the program stops (exit code 2)


def choose_database(db_arg: str | None = None) -> ServiceContext | int | None:
    """The database to work on, chosen before login, and the user signed in on it: `--db` (a file or a server's
    address), else the choice remembered from the connection dialog, else the default file. The dialog is shown
    first for a server (its password is asked each time), on a first start with nothing remembered, and whenever
    the login window's «تغيير قاعدة البيانات» is pressed or a database could not be opened. The signed-in
    context, None if the clerk gives up, or STOPPED."""
    from aidoffice.services.connection import Connection, from_url, remembered
    from aidoffice.ui.connection import ConnectionDialog
    from aidoffice.ui.login import CHANGE_DATABASE

    target = from_url(db_arg) if db_arg else remembered()
    ask = target.on_server if target else not paths.default_db_path().exists()
    target = target or Connection()
    while True:
        opened = None
        if ask:
            dialog = ConnectionDialog(target)
            if dialog.exec() != QDialog.DialogCode.Accepted:
                return None
            target, opened = dialog.choice, dialog.ctx
        try:
            result = _sign_in_to(target, opened)
        except UserError as exc:  # a file that cannot be opened: said, then another choice
            QMessageBox.critical(None, texts.APP_TITLE, exc.message)
            ask = True
            continue
        if result != CHANGE_DATABASE:
            return result
        ask = True


def _sign_in_to(target, opened: ServiceContext | None) -> ServiceContext | int | None:
    from aidoffice.services.encryption import is_encrypted

    where = target.where()
    if target.on_server:
        ctx = prepare_office(opened, ask_profile_dialog)
    else:
        path = target.file_path()
        if is_encrypted(path):
            return unlock(path, where=where)
        ctx = start_office(path)
        if ctx is None:
            return STOPPED
    try:
        signed = sign_in(ctx, where=where)
    except BaseException:
        ctx.close()
        raise
    if not isinstance(signed, ServiceContext):
        ctx.close()
    return signed


def _db_argument(text: str) -> str:
    """--db: a file on this PC or a server's postgresql+psycopg:// address, as on the command line."""
    from aidoffice.store.dialect import SERVER_SCHEME, is_server_url, looks_like_url

    if not text.strip():
        raise argparse.ArgumentTypeError("مسار قاعدة البيانات فارغ.")
    if looks_like_url(text) and not is_server_url(text):
        raise argparse.ArgumentTypeError(
            f"قيمة --db ليست مسار ملف ولا عنوان خادم PostgreSQL بالصيغة {SERVER_SCHEME}المستخدم@الخادم:المنفذ/القاعدة."
        )
    return text.strip()


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = argparse.ArgumentParser(prog="aidoffice")
    parser.add_argument(
        "--db", type=_db_argument, default=None, help="ملف قاعدة البيانات، أو عنوان خادم postgresql+psycopg://…"
    )
    parser.add_argument("--demo", action="store_true", help="فتح مكتب تجريبي جديد في مجلد مؤقت")
    parser.add_argument("--self-test", action="store_true", help="فحص ذاتي لكل أجزاء البرنامج ثم الخروج")
    if "--self-test" in argv:
        attach_console()
    guard_missing_streams()
    args = parser.parse_args(argv)
    if args.self_test:
        from aidoffice.ui import selftest

        return selftest.run(make_application)
    setup_logging()
    app = make_application()
    from aidoffice.ui import crash

    crash.install()
    try:
        if args.demo:
            ctx = make_demo()
        else:
            ctx = choose_database(args.db)
            if ctx == STOPPED:
                return 2
            if not isinstance(ctx, ServiceContext):
                return 0
    except UserError as exc:
        QMessageBox.critical(None, texts.APP_TITLE, exc.message)
        return 2
    from aidoffice.ui.main_window import MainWindow

    holder: dict[str, MainWindow] = {}

    def show_window(context: ServiceContext) -> None:
        window = MainWindow(context)
        if not args.demo:
            window.enable_idle_lock()
            if not context.db.on_server:  # a server's copies are the server's (pg_dump), not this PC's
                window.enable_backups()
        window.replaced.connect(on_replaced)
        window.user_switched.connect(on_switched)
        window.show()
        holder["window"] = window

    def on_replaced(restored: ServiceContext) -> None:
        old = holder["window"]
        old.backup_on_exit = False  # its database is closed and replaced
        old.close()
        signed = sign_in(restored)  # the restored file has its own users
        if signed is None:
            restored.close()
            app.quit()
            return
        show_window(signed)

    def on_switched(context: ServiceContext) -> None:
        holder["window"].retire()  # the same database stays open: the new user's window works on it
        show_window(context)

    show_window(ctx)
    log.info("main window shown")
    try:
        return app.exec()
    finally:
        holder["window"].ctx.close()


if __name__ == "__main__":
    raise SystemExit(main())
