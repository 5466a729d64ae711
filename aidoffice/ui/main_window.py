"""MainWindow: navigation between the office's registries, the pages themselves, shortcuts and the status bar."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QWidget,
)

from aidoffice import texts
from aidoffice.domain.access import Permission
from aidoffice.errors import UserError
from aidoffice.services import overview
from aidoffice.services.backups import backup_if_due, lowers_encryption, make_backup, restore_backup
from aidoffice.services.context import ServiceContext
from aidoffice.services.exports import EXPORTS, export_list, write_import_template
from aidoffice.services.office import get_office
from aidoffice.services.requests import request_export
from aidoffice.services.users import logout
from aidoffice.ui import tasks
from aidoffice.ui.login import IdleLock, LoginDialog
from aidoffice.ui.ops import ServiceOp
from aidoffice.ui.pages.associations import AssociationsPage
from aidoffice.ui.pages.distributions import REQUEST_SENT, AidPage, RequestDialog
from aidoffice.ui.pages.home import HomePage
from aidoffice.ui.pages.import_page import ImportPage
from aidoffice.ui.pages.list_page import ListPage
from aidoffice.ui.pages.persons import PersonsPage
from aidoffice.ui.pages.referrals import ReferralsPage
from aidoffice.ui.pages.reports import ReportsPage
from aidoffice.ui.pages.requests import RequestsPage
from aidoffice.ui.pages.review import ReviewPage
from aidoffice.ui.pages.settings import SettingsPage
from aidoffice.ui.pages.sync import SyncPage

log = logging.getLogger("aidoffice.ui")

# (key, navigation label); Alt+1… go to them in this order.
PAGES = (
    ("home", "الرئيسية"),
    ("associations", "الجمعيات"),
    ("persons", "المستفيدون والأسر"),
    ("aid", "المشاريع والتوزيعات"),
    ("referrals", "الإحالات"),
    ("review", "مراجعة التكرار"),
    ("import", "استيراد قائمة"),
    ("reports", "التقارير"),
    ("sync", "المزامنة"),
    ("settings", "الإعدادات"),
    ("requests", "الطلبات والموافقات"),  # the eleventh: no Alt key (Alt+1 … Alt+0 are the first ten)
)
TABLE_PAGES = {
    "associations": "associations",
    "persons": "persons",
    "households": "persons",
    "projects": "aid",
    "distributions": "aid",
    "referrals": "referrals",
    "requests": "requests",
}


def _scrolled(page: QWidget) -> QScrollArea:
    """A page in a frameless scroll area that fills the space it is given and scrolls only when the screen is
    smaller than the page's own minimum (the settings page needs more than 768 px)."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setWidget(page)
    return area


class MainWindow(QMainWindow):
    replaced = Signal(object)  # a restored database's context: the application opens a new window on it
    user_switched = Signal(object)  # another user logged in on the same database: a new window on their context

    def __init__(self, ctx: ServiceContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle(texts.APP_TITLE)
        self.resize(1280, 780)
        screen = QApplication.primaryScreen()
        if screen is not None:  # never taller or wider than the screen less its taskbar (1366×768 PCs)
            room = screen.availableGeometry()
            self.resize(min(1280, room.width()), min(780, room.height() - 30))

        self.home_page = HomePage(ctx)
        self.associations_page = AssociationsPage(ctx)
        self.persons_page = PersonsPage(ctx)
        self.aid_page = AidPage(ctx)
        self.referrals_page = ReferralsPage(ctx)
        self.review_page = ReviewPage(ctx)
        self.import_page = ImportPage(ctx)
        self.reports_page = ReportsPage(ctx)
        self.sync_page = SyncPage(ctx)
        self.settings_page = SettingsPage(ctx)
        self.requests_page = RequestsPage(ctx)
        self.pages: dict[str, QWidget] = {
            "home": self.home_page,
            "associations": self.associations_page,
            "persons": self.persons_page,
            "aid": self.aid_page,
            "referrals": self.referrals_page,
            "review": self.review_page,
            "import": self.import_page,
            "reports": self.reports_page,
            "sync": self.sync_page,
            "settings": self.settings_page,
            "requests": self.requests_page,
        }
        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.setFixedWidth(210)
        self.navigation.setSpacing(3)
        self.navigation.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Alt+1… move between pages from the keyboard
        self.stack = QStackedWidget()
        for i, (key, label) in enumerate(PAGES, start=1):
            item = QListWidgetItem(label)
            item.setToolTip(f"{label} — Alt+{i % 10}" if i <= 10 else label)
            item.setSizeHint(QSize(190, 38))
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.navigation.addItem(item)
            self.stack.addWidget(_scrolled(self.pages[key]))
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.navigation)
        row.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.status_office = QLabel()
        self.status_counts = QLabel()
        self.status_user = QLabel()
        # the file's name only (the folder is for support, in the tooltip)
        if ctx.db.on_server:  # the server and database (its address without the password in the tooltip)
            url = ctx.db.engine.url
            self.status_file = QLabel(f"{url.database} @ {url.host}")
            self.status_file.setToolTip(f"قاعدة البيانات على الخادم: {ctx.db.where}")
        else:
            self.status_file = QLabel(ctx.db.path.name)
            self.status_file.setToolTip(f"ملف قاعدة البيانات: {ctx.db.path}")
        self.status_file.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.status_view = QLabel()  # the list on screen: its rows and sums
        self.status_view.setObjectName("statusView")
        for label in (self.status_user, self.status_office, self.status_counts, self.status_view, self.status_file):
            self.statusBar().addPermanentWidget(label)
        for listing in self.findChildren(ListPage):
            listing.summary_changed.connect(lambda _text: self.show_view_summary())

        self.switch_user_button = QPushButton("تبديل المستخدم")
        self.switch_user_button.setFlat(True)
        self.switch_user_button.setToolTip("دخول مستخدم آخر دون إغلاق البرنامج (Ctrl+Shift+L)")
        self.switch_user_button.clicked.connect(lambda _checked=False: self.switch_user())
        self.statusBar().insertPermanentWidget(0, self.switch_user_button)

        self.navigation.currentRowChanged.connect(self._on_navigation_row_changed)
        self.home_page.show_table.connect(self.show_table)
        self.home_page.search_requested.connect(self.find_person)
        self.home_page.new_person_requested.connect(self.new_person)
        self.reports_page.export_requested.connect(self.export)
        self.settings_page.restore_requested.connect(self.restore_from)
        self.import_page.reload_associations()

        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self.clear_search)
        # The keyboard's ways, shown where a clerk looks for them: a menu with each shortcut beside its action.
        self.go_menu = self.menuBar().addMenu("انتقال")
        find = self.go_menu.addAction("البحث في القائمة المعروضة")
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(lambda _checked=False: self.focus_search())
        new = self.go_menu.addAction("سجل جديد في القائمة المعروضة")
        new.setShortcut(QKeySequence.StandardKey.New)
        new.triggered.connect(lambda _checked=False: self.new_record())
        self.go_menu.addSeparator()
        for i, (key, label) in enumerate(PAGES, start=1):  # Alt+1 … Alt+9, then Alt+0 for the tenth
            page_action = self.go_menu.addAction(label)
            if i <= 10:
                page_action.setShortcut(QKeySequence(f"Alt+{i % 10}"))
            page_action.triggered.connect(lambda _checked=False, key=key: self.go(key))
        self.requests_page.decided.connect(lambda _id: self.home_page.refresh())

        self.user_menu = self.menuBar().addMenu("المستخدم")
        switch = self.user_menu.addAction("تبديل المستخدم…")
        switch.setShortcut(QKeySequence("Ctrl+Shift+L"))
        switch.triggered.connect(lambda _checked=False: self.switch_user())
        change = self.user_menu.addAction("تغيير كلمة المرور…")
        change.triggered.connect(lambda _checked=False: self.change_password())
        self.password_dialog: QDialog | None = None
        self.switch_dialog: LoginDialog | None = None

        self.export_menu = self.menuBar().addMenu("تصدير")
        for kind, (title, _columns) in EXPORTS.items():
            action = self.export_menu.addAction(f"{title} إلى جدول بيانات…")
            action.triggered.connect(lambda _checked=False, kind=kind: self.export(kind))
        self.export_menu.addSeparator()
        view_to_excel = self.export_menu.addAction("القائمة المعروضة إلى جدول بيانات…")
        view_to_excel.triggered.connect(lambda _checked=False: self._on_view_output("export_view"))
        view_to_pdf = self.export_menu.addAction("طباعة القائمة المعروضة…")
        view_to_pdf.setShortcut(QKeySequence.StandardKey.Print)
        view_to_pdf.triggered.connect(lambda _checked=False: self._on_view_output("print_view"))
        self.export_menu.addSeparator()
        template = self.export_menu.addAction("نموذج قائمة مستفيدين فارغ…")
        template.triggered.connect(lambda _checked=False: self.export("template"))
        self.export_task: tasks.BackgroundTask | None = None
        # A clerk may export too, by a request to the supervisor (the services enforce it regardless).
        self.request_dialog: RequestDialog | None = None
        self.refresh_status()
        self.navigation.setCurrentRow(0)

    # --- navigation -----------------------------------------------------------------------------------------
    def _on_navigation_row_changed(self, row: int) -> None:
        if row < 0:
            return
        self.stack.setCurrentIndex(row)
        page = self.current_page()
        loader = getattr(page, "ensure_loaded", None)
        if loader is not None:
            loader()
        if page is self.home_page:
            self.refresh_status()
        self.show_view_summary()

    def show_view_summary(self) -> None:
        """The status bar's word on the list on screen: its rows and the sums of its number columns."""
        listing = self.current_list()
        self.status_view.setText(listing.summary if listing is not None else "")

    def _on_view_output(self, method: str) -> None:
        listing = self.current_list()
        if listing is None:
            self.statusBar().showMessage("افتح قائمة أولاً (الجمعيات، المستفيدون…) ثم صدّرها أو اطبعها.", 10_000)
            return
        getattr(listing, method)()

    def go(self, key: str) -> QWidget:
        index = [k for k, _ in PAGES].index(key)
        self.navigation.setCurrentRow(index)
        return self.pages[key]

    def current_page(self) -> QWidget:
        """The page on screen (each sits in its own scroll area, so the window fits a 1366×768 screen)."""
        return self.stack.currentWidget().widget()

    def current_list(self) -> ListPage | None:
        page = self.current_page()
        if isinstance(page, ListPage):
            return page
        current = getattr(page, "current", None)
        return current() if current else None

    def show_table(self, table: str, filters: dict) -> ListPage:
        """Open the page of a table with the given filters (from the home page's "show all")."""
        page = self.go(TABLE_PAGES[table])
        listing = page.select_table(table) if hasattr(page, "select_table") else page
        listing.set_filters(filters)
        return listing

    def change_password(self) -> QDialog:
        from aidoffice.ui.login import PasswordDialog

        self.password_dialog = PasswordDialog(self.ctx, self)
        self.password_dialog.accepted.connect(lambda: self.statusBar().showMessage("تغيّرت كلمة المرور.", 10_000))
        self.password_dialog.open()
        return self.password_dialog

    def find_person(self, text: str) -> ListPage:
        """The home page's search box: the beneficiaries' list, searched for `text`."""
        self.go("persons")
        listing = self.persons_page.select_table("persons")
        listing.search.setText(text)
        listing.search.setFocus()
        return listing

    def new_person(self) -> None:
        self.go("persons")
        self.persons_page.open_person(None)

    def focus_search(self) -> None:
        listing = self.current_list()
        if listing is None:
            self.go("persons")
            listing = self.current_list()
        listing.search.setFocus()
        listing.search.selectAll()

    def new_record(self) -> None:
        listing = self.current_list()
        if listing is not None and listing.new_button is not None:
            listing.new_requested.emit()

    def clear_search(self) -> None:
        listing = self.current_list()
        if listing is not None and listing.search.text():
            listing.search.clear()

    # --- exports --------------------------------------------------------------------------------------------
    def export(self, kind: str, target: Path | None = None) -> None:
        """Ask where (unless given), then write the workbook in the background."""
        if target is None:
            title = EXPORTS[kind][0] if kind in EXPORTS else "نموذج"
            name, _ = QFileDialog.getSaveFileName(self, "تصدير", f"{title}.xlsx", "جدول بيانات (*.xlsx)")
            if not name:
                return
            target = Path(name)
        if kind != "template" and not self.ctx.can(Permission.EXPORT):
            self.ask_export(kind, target)
            return

        def work() -> int:
            if kind == "template":
                write_import_template(self.ctx, target)
                return 0
            return export_list(self.ctx, kind, target)

        op = ServiceOp(self, work, message=self._say, busy="جارٍ التصدير…")
        op.after(self._on_export_over).success(lambda count: self._on_export_finished(target, count))
        self.export_task = op.run_in_background()

    def _say(self, text: str) -> None:
        """The window's own message line: the status bar, for ten seconds."""
        self.statusBar().showMessage(text, 10_000)

    def ask_export(self, kind: str, target: Path, reason: str = "") -> RequestDialog:
        """A clerk's export: the list and the file chosen, sent to the supervisor with the reason; written when
        approved."""
        ctx = self.ctx

        def send(text: str):
            return request_export(ctx, kind, target, reason=text)

        message = f"تصدير «{EXPORTS[kind][0]}» إلى الملف {target.name}: يُكتب الملف حين يوافق المشرف."
        self.request_dialog = RequestDialog("طلب تصدير", message, send, self, reason=reason)
        self.request_dialog.sent.connect(lambda _record: self.statusBar().showMessage(REQUEST_SENT, 15_000))
        self.request_dialog.open()
        return self.request_dialog

    # --- users ----------------------------------------------------------------------------------------------
    def switch_user(self) -> LoginDialog:
        """Another user logs in on the same open database; the window then reopens on their context (their role,
        their pages). Cancelling leaves the current user as they were."""
        fresh = replace(self.ctx)
        dialog = LoginDialog(fresh, self)
        dialog.setWindowTitle("تبديل المستخدم")
        dialog.accepted.connect(lambda: self._on_switch_dialog_accepted(fresh))
        self.switch_dialog = dialog
        dialog.open()
        return dialog

    def _on_switch_dialog_accepted(self, fresh: ServiceContext) -> None:
        if fresh.username != self.ctx.username:
            logout(self.ctx)  # the old session holds nothing any more (an administrator's key is released)
        self.user_switched.emit(fresh)

    def retire(self) -> None:
        """Close for a replacement window on the same database: no backup on exit, no idle lock left watching."""
        self.backup_on_exit = False
        lock = getattr(self, "idle_lock", None)
        if lock is not None:
            lock.timer.stop()
            QApplication.instance().removeEventFilter(lock)
            lock.active = False
        self.close()

    def _on_export_over(self) -> None:
        self.export_task = None

    def _on_export_finished(self, target: Path, count: int) -> None:
        self.statusBar().showMessage(f"تم التصدير: {self.ctx.style.number(count)} صف — {target.name}", 10_000)

    def enable_idle_lock(self, minutes: float | None = None) -> IdleLock:
        """After some minutes without keyboard or mouse the window hides its contents until the user logs in."""
        self.idle_lock = IdleLock(QApplication.instance(), **({"minutes": minutes} if minutes is not None else {}))
        self.idle_lock.locked.connect(self.lock)
        return self.idle_lock

    def lock(self) -> None:
        self.centralWidget().hide()
        self.lock_dialog = LoginDialog(self.ctx, self, locked_user=self.ctx.username)
        self.lock_dialog.accepted.connect(self._on_lock_dialog_accepted)
        self.lock_dialog.rejected.connect(self.close)
        buttons = self.lock_dialog.findChild(QDialogButtonBox)
        other = buttons.addButton("دخول مستخدم آخر", QDialogButtonBox.ButtonRole.ActionRole)
        other.clicked.connect(self._on_lock_other_user_clicked)
        self.lock_dialog.open()

    def _on_lock_other_user_clicked(self) -> None:
        """Someone else at the locked screen: the switch of user, the window still hidden; cancelling it comes back
        to the lock."""
        self.lock_dialog.hide()
        self.switch_user().rejected.connect(self.lock_dialog.open)

    def _on_lock_dialog_accepted(self) -> None:
        self.centralWidget().show()
        self.idle_lock.resume()

    def enable_backups(self) -> None:
        """The daily backup in the background now (if due), and a backup when the window closes."""
        self.backup_on_exit = True
        task = tasks.BackgroundTask(lambda _p, _c: backup_if_due(self.ctx))
        task.signals.failed.connect(lambda text: self.statusBar().showMessage(text, 15_000))
        self.daily_backup = tasks.start(task)

    def closeEvent(self, event) -> None:
        if getattr(self, "backup_on_exit", False):
            try:
                make_backup(self.ctx, kind="exit")
            except UserError as exc:  # a full USB stick must not keep the program open
                log.warning("backup on exit failed: %s", type(exc).__name__)
        super().closeEvent(event)

    def restore_from(self, backup: Path) -> None:
        """Put a backup of this office in place (the administrator logged in here; the current file is kept beside
        it): the window's database is closed, restored, and the restored one opened. A plain copy over an encrypted
        database is asked about first: restoring it drops the encryption."""
        allow_unencrypted = lowers_encryption(self.ctx, backup)
        if allow_unencrypted and not self.confirm_unencrypted():
            return
        # refused before the file was touched: the window goes on with it, the reason on the settings page
        op = ServiceOp(
            self,
            lambda: restore_backup(self.ctx, backup, allow_unencrypted=allow_unencrypted),
            message=self._say_restore,
        )
        op.success(self._restored).run()

    def _restored(self, restored) -> None:
        if restored.warning:  # the restore stands; what the administrator must still do
            QMessageBox.warning(self, "الاستعادة", restored.warning)
        self.replaced.emit(restored.ctx)

    def _say_restore(self, text: str) -> None:
        self.statusBar().showMessage(text, 15_000)
        self.settings_page.message.setText(text)

    def confirm_unencrypted(self) -> bool:
        answer = QMessageBox.question(
            self,
            "استعادة نسخة غير مشفرة",
            "قاعدة البيانات الحالية مشفرة، والنسخة المختارة أُخذت قبل التشفير فهي غير مشفرة. إن استُعيدت صارت بيانات "
            "المكتب تُقرأ دون كلمة مرور حتى تشفّرها من جديد (تُحفظ القاعدة المشفرة الحالية بجانبها).\n\n"
            "هل تستعيدها رغم ذلك؟",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def refresh_status(self) -> None:
        op = ServiceOp(self, lambda: (get_office(self.ctx), overview.stats(self.ctx)), message=self.status_counts)
        op.success(self._show_status).run()

    def _show_status(self, found) -> None:
        office, counts = found
        self.status_office.setText(office.name if office else "")
        self.status_user.setText(self.ctx.username if self.ctx.role != "system" else "")
        n = self.ctx.style.number
        self.status_counts.setText(
            f"الجمعيات: {n(counts['associations'])} — المستفيدون: {n(counts['persons'])} — "
            f"الأسر: {n(counts['households'])}"
        )
