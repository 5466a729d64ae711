"""Settings: the office profile, the "already received" window of each aid type, the duplicate engine's thresholds,
users and the audit trail."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aidoffice.domain.access import Permission, refusal
from aidoffice.domain.arabic import COUNTRIES, parse_decimal
from aidoffice.domain.vocab import AidWindow, Role
from aidoffice.errors import LostUpdateError, UserError
from aidoffice.services.audit import describe, verify_audit
from aidoffice.services.backups import backup_folder, make_backup, own_backups, set_backup_folder, set_tools_folder
from aidoffice.services.context import ServiceContext
from aidoffice.services.duplicates import engine_settings, set_thresholds
from aidoffice.services.office import (
    get_letterhead,
    get_office,
    initialise_office,
    list_aid_types,
    set_aid_window,
    set_letterhead,
)
from aidoffice.services.tables import AUDIT_VIEWS
from aidoffice.services.users import create_user, list_users, update_user
from aidoffice.ui import tasks
from aidoffice.ui.login import password_edit
from aidoffice.ui.ops import ServiceOp, show_refusal
from aidoffice.ui.pages.associations import fill_table
from aidoffice.ui.pages.display_style import DisplayStyleBox
from aidoffice.ui.pages.list_page import ListPage
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


class LetterheadForm(Form):
    """The lines above the office's name on every printed document, and an optional emblem image. An empty state
    line follows the country (الجمهورية اليمنية / الجمهورية العربية السورية)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.add("state", "الدولة", QLineEdit())
        self.add("ministry", "الوزارة", QLineEdit())
        self.add("department", "الإدارة أو القسم", QLineEdit())
        emblem = ltr_edit("PNG أو JPEG — اختياري")
        choose = QPushButton("اختيار…")
        choose.clicked.connect(lambda _checked=False: self.choose_emblem())
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(emblem, 1)
        line.addWidget(choose)
        self.add("emblem", "الشعار", row)
        self.emblem = emblem
        self.finish()

    def choose_emblem(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "صورة الشعار", "", "صور (*.png *.jpg *.jpeg)")
        if chosen:
            self.emblem.setText(chosen)

    def load(self, head) -> None:
        for key in ("state", "ministry", "department"):
            self.fields[key].setText(getattr(head, key))
        self.emblem.setText(head.emblem)

    def values(self) -> dict[str, str]:
        return {
            "state": self.fields["state"].text(),
            "ministry": self.fields["ministry"].text(),
            "department": self.fields["department"].text(),
            "emblem": self.emblem.text(),
        }


class SettingsPage(QWidget):
    restore_requested = Signal(object)  # a backup's path, once the administrator has chosen it

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
        column.addWidget(QLabel("ترويسة المطبوعات (بهذا الترتيب: الدولة، الوزارة، المكتب، الإدارة):"))
        self.letterhead_form = LetterheadForm()
        column.addWidget(self.letterhead_form)
        column.addWidget(save_office)

        self.windows_form = Form()
        self.window_rows: dict[str, tuple] = {}
        # The versions the office and each aid type were shown at: a save checks them (a lost update is refused).
        self.office_version: int | None = None
        self.window_versions: dict[str, int] = {}
        for aid_type in list_aid_types(ctx):
            self.window_versions[aid_type.code] = aid_type.version
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
        backups_box = QGroupBox("النسخ الاحتياطية (يومياً وعند الإغلاق؛ تُبقى ٧ يومية و٤ أسبوعية و١٢ شهرية)")
        self.backup_folder = QLabel()
        self.backup_folder.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.backup_table = QTableWidget()
        self.backup_table.setMaximumHeight(160)
        backup_now = QPushButton("نسخة احتياطية الآن")
        backup_now.clicked.connect(lambda _checked=False: self.backup_now())
        choose = QPushButton("اختيار مجلد (أو ذاكرة فلاش)…")
        choose.clicked.connect(lambda _checked=False: self.choose_folder())
        restore = QPushButton("استعادة النسخة المحددة…")
        restore.clicked.connect(lambda _checked=False: self.restore_selected())
        column = QVBoxLayout(backups_box)
        column.addWidget(self.backup_folder)
        column.addWidget(self.backup_table)
        row = QHBoxLayout()
        buttons = [backup_now, choose, restore]
        if ctx.db.on_server:  # pg_dump and pg_restore, when they are not found by themselves
            tools = QPushButton("مجلد أدوات PostgreSQL…")
            tools.clicked.connect(lambda _checked=False: self.choose_tools_folder())
            buttons.append(tools)
        for button in buttons:
            row.addWidget(button)
        row.addStretch(1)
        column.addLayout(row)
        self._backups: list = []
        self.backup_task = None
        general = QWidget()
        column = QVBoxLayout(general)
        top = QHBoxLayout()
        top.addWidget(office_box, 1)
        top.addWidget(windows_box, 1)
        column.addLayout(top)
        self.style_box = DisplayStyleBox(ctx)
        column.addWidget(self.style_box)
        column.addWidget(backups_box)
        column.addWidget(self.message)
        column.addStretch(1)
        self.users = UsersPanel(ctx)
        self.audit = AuditPanel(ctx)
        self.duplicates = DuplicateThresholdsPanel(ctx)
        self.tabs = QTabWidget()
        self.tabs.addTab(general, "عام")
        self.tabs.addTab(self.duplicates, "كشف التكرار")
        self.tabs.addTab(self.users, "المستخدمون")
        self.tabs.addTab(self.audit, "سجل التدقيق")
        self.tabs.currentChanged.connect(lambda _i: self.ensure_loaded())
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.tabs, 1)

    def ensure_loaded(self) -> None:
        current = self.tabs.currentWidget()
        if current in (self.users, self.audit, self.duplicates):
            current.ensure_loaded()
            return
        office = get_office(self.ctx)
        if office:
            self.office_version = office.version
            f = self.office_form.fields
            f["name"].setText(office.name)
            f["governorate"].setText(office.governorate)
            f["office_code"].setText(office.office_code)
            select_value(f["country"], office.country)
            self.letterhead_form.load(get_letterhead(self.ctx))
        for aid_type in list_aid_types(self.ctx):
            kind, days = self.window_rows[aid_type.code]
            self.window_versions[aid_type.code] = aid_type.version
            select_value(kind, aid_type.window)
            days.setText(str(aid_type.window_days or ""))
            days.setEnabled(aid_type.window == AidWindow.DAYS.value)
        self.style_box.load()
        self.load_backups()

    def load_backups(self) -> None:
        folder = backup_folder(self.ctx)
        self.backup_folder.setText(str(folder))
        self._backups = own_backups(self.ctx)
        kinds = {"manual": "يدوية", "daily": "يومية", "exit": "عند الإغلاق", "before-restore": "قبل استعادة"}
        fill_table(
            self.backup_table,
            ["الوقت", "النوع", "الحجم"],
            [
                [self.ctx.style.datetime(b.taken_at), kinds.get(b.kind, b.kind), f"{b.size / 1e6:,.1f} MB"]
                for b in self._backups
            ],
        )

    def backup_now(self) -> None:
        task = tasks.BackgroundTask(lambda _p, _c: make_backup(self.ctx))
        task.signals.finished.connect(
            lambda record: (self.message.setText(f"حُفظت النسخة: {record.path.name}"), self.load_backups())
        )
        task.signals.failed.connect(self.message.setText)
        self.message.setText("جارٍ أخذ نسخة احتياطية…")
        self.backup_task = tasks.start(task)

    def choose_folder(self, folder: Path | None = None) -> None:
        if folder is None:
            chosen = QFileDialog.getExistingDirectory(self, "مجلد النسخ الاحتياطية")
            if not chosen:
                return
            folder = Path(chosen)
        ServiceOp(self, lambda: set_backup_folder(self.ctx, folder), message=self.message).success(
            lambda _r: self.load_backups()
        ).run()

    def choose_tools_folder(self, folder: Path | None = None) -> None:
        """The folder of pg_dump and pg_restore (bin of a PostgreSQL installation) for a server database's backups."""
        if folder is None:
            chosen = QFileDialog.getExistingDirectory(self, "مجلد أدوات PostgreSQL (bin)")
            if not chosen:
                return
            folder = Path(chosen)
        ServiceOp(self, lambda: set_tools_folder(self.ctx, folder), message=self.message).success(
            lambda _r: self.message.setText(f"تُؤخذ النسخ بأدوات PostgreSQL في: {folder}")
        ).run()

    def restore_selected(self) -> None:
        row = self.backup_table.currentRow()
        if not 0 <= row < len(self._backups):
            self.message.setText("اختر نسخة من الجدول أولاً.")
            return
        if not self.ctx.can(Permission.SETTINGS):
            self.message.setText(refusal(Permission.SETTINGS))
            return
        self.restore_requested.emit(self._backups[row].path)

    def save_office(self) -> bool:
        self.letterhead_form.clear_errors()
        office, letterhead = self.office_form.values(), self.letterhead_form.values()
        version = self.office_version
        op = ServiceOp(
            self, lambda: initialise_office(self.ctx, **office, expected_version=version), form=self.office_form
        )
        op.on(LostUpdateError, self._on_office_lost_update)
        if not op.success(lambda record: setattr(self, "office_version", record.version)).run():
            return False
        op = ServiceOp(self, lambda: set_letterhead(self.ctx, **letterhead), form=self.letterhead_form)
        if not op.success(self.letterhead_form.load).run():
            return False
        self.message.setText("حُفظت بيانات المكتب.")
        return True

    def save_windows(self) -> bool:
        self.windows_form.clear_errors()
        ok = True
        for code, (kind, days) in self.window_rows.items():
            chosen, typed = kind.currentData(), days.text().strip() or None
            version = self.window_versions.get(code)
            op = ServiceOp(
                self,
                lambda code=code, chosen=chosen, typed=typed, version=version: set_aid_window(
                    self.ctx, code, chosen, typed, expected_version=version
                ),
                form=self.windows_form,
            )
            op.on(LostUpdateError, lambda exc, code=code: self._on_window_lost_update(code, exc))
            # the reason belongs to this aid type's row, whichever field the service named
            op.on(UserError, lambda exc, code=code: self.windows_form.set_error(code, exc.message))
            op.success(lambda record: self.window_versions.__setitem__(record.code, record.version))
            ok = op.run() and ok
        self.message.setText("حُفظت الفترات." if ok else "لم تُحفظ بعض الفترات: انظر السبب بجانبها.")
        return ok

    def _on_office_lost_update(self, exc: LostUpdateError) -> None:
        """Another administrator saved the office meanwhile: say who changed what, keep what was typed, and let a
        second save, once told, go ahead."""
        self.office_version = exc.version
        show_refusal(exc, form=self.office_form)

    def _on_window_lost_update(self, code: str, exc: LostUpdateError) -> None:
        self.window_versions[code] = exc.version  # as the office's: told, a second save goes ahead
        self.windows_form.set_error(code, exc.message)


def _percent(value: float) -> str:
    return f"{value * 100:.4g}"


class DuplicateThresholdsPanel(QWidget):
    """How sure the engine must be before it stops a clerk («تكرار مرجح») or puts a pair in the review queue."""

    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        explain = QLabel(
            "يحسب البرنامج لكل سجلين احتمال أن يكونا لشخص واحد، من أوزان يتعلمها من سجل المستفيدين نفسه عند كل فحص "
            "شامل. «تكرار مرجح» يوقف الإدخال حتى يختار الموظف «هو نفسه» أو «شخص آخر»، و«يحتاج مراجعة» يظهر في قائمة "
            "مراجعة التكرار. رفع الحد الأول يقلل الإيقاف الخاطئ ويزيد ما يُراجع يدوياً."
        )
        explain.setWordWrap(True)
        self.form = Form()
        self.form.add("likely", "تكرار مرجح من احتمال (٪)", ltr_edit("مثال: 99", digits=True, decimals=True))
        self.form.add("review", "يحتاج مراجعة من احتمال (٪)", ltr_edit("مثال: 50", digits=True, decimals=True))
        self.form.finish()
        for key in ("likely", "review"):
            self.form.fields[key].setMaximumWidth(140)  # a percentage, not a paragraph
        self.model_label = QLabel()
        self.model_label.setWordWrap(True)
        self.save_button = QPushButton("حفظ الحدين")
        self.save_button.clicked.connect(lambda _checked=False: self.save())
        self.message = QLabel()
        self.message.setObjectName("message")
        layout = QVBoxLayout(self)
        layout.addWidget(explain)
        layout.addWidget(self.form)
        row = QHBoxLayout()
        row.addWidget(self.save_button)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addWidget(self.model_label)
        layout.addWidget(self.message)
        layout.addStretch(1)

    def ensure_loaded(self) -> None:
        current = engine_settings(self.ctx)
        self.form.fields["likely"].setText(_percent(current.likely))
        self.form.fields["review"].setText(_percent(current.review))
        if current.fitted_on:
            self.model_label.setText(
                f"الأوزان الحالية تعلّمها البرنامج من {current.fitted_on:,} سجلاً ({current.pairs_trained:,} زوجاً "
                f"مرشحاً؛ نسبة التكرار بينها {current.match_share * 100:.0f}٪). "
                "تتجدد مع كل فحص شامل في صفحة مراجعة التكرار."
            )
        else:
            self.model_label.setText("لم يتعلم البرنامج أوزانه من السجل بعد: شغّل فحصاً شاملاً في صفحة مراجعة التكرار.")
        allowed = self.ctx.can(Permission.DECIDE_DUPLICATES)
        self.save_button.setEnabled(allowed)
        self.save_button.setToolTip("" if allowed else refusal(Permission.DECIDE_DUPLICATES))

    def save(self) -> bool:
        self.form.clear_errors()
        values = {}
        for key in ("likely", "review"):
            try:
                number = parse_decimal(self.form.fields[key].text())
            except ValueError:
                number = None
            if number is None:
                self.form.set_error(key, "اكتب نسبة مئوية، مثل 99 أو 99.5.")
                return False
            values[key] = float(number) / 100
        likely, review = values["likely"], values["review"]
        op = ServiceOp(self, lambda: set_thresholds(self.ctx, likely=likely, review=review), form=self.form)
        if not op.run():
            return False
        self.message.setText("حُفظ الحدان. يُطبقان على الإدخال فوراً وعلى قائمة المراجعة من الفحص الشامل التالي.")
        return True


class UsersPanel(QWidget):
    """Accounts and roles, for the administrator: add a user, change a role, lock or unlock, reset a password."""

    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.table = QTableWidget()
        self.form = Form()
        self.form.add("username", "اسم الدخول", ltr_edit())
        self.form.add("full_name", "الاسم", QLineEdit())
        self.form.add("role", "الدور", combo([(r.value, r.label) for r in Role]))
        self.form.add("password", "كلمة المرور", password_edit())
        self.form.finish()
        add = QPushButton("إضافة المستخدم")
        add.setObjectName("primary")
        add.clicked.connect(self.add_user)
        toggle = QPushButton("تعطيل / تفعيل المحدد")
        toggle.clicked.connect(self.toggle_selected)
        unlock = QPushButton("فك قفل المحدد")
        unlock.clicked.connect(lambda: self._selected_action(lambda name: update_user(self.ctx, name, unlock=True)))
        reset = QPushButton("إعادة تعيين كلمة مرور المحدد")
        reset.setToolTip("اكتب كلمة مرور مؤقتة في حقل «كلمة المرور»: يختار المستخدم كلمته الجديدة عند دخوله القادم.")
        reset.clicked.connect(self.reset_selected)
        self.message = QLabel()
        self.message.setObjectName("message")
        buttons = QHBoxLayout()
        for button in (add, toggle, unlock, reset):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.form)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        self._users: list = []

    def ensure_loaded(self) -> None:
        op = ServiceOp(self, lambda: list_users(self.ctx), message=self.message)
        if not op.run():
            self.setEnabled(self.ctx.can(Permission.MANAGE_USERS))
            return
        self._users = op.result
        roles = {r.value: r.label for r in Role}
        fill_table(
            self.table,
            ["اسم الدخول", "الاسم", "الدور", "فعال", "مقفل حتى", "آخر دخول"],
            [
                [
                    u.username,
                    u.full_name,
                    roles.get(u.role, u.role),
                    "نعم" if u.active else "لا",
                    self.ctx.style.datetime(u.locked_until),
                    self.ctx.style.datetime(u.last_login_at),
                ]
                for u in self._users
            ],
        )

    def add_user(self) -> bool:
        f = self.form.fields
        username, password, role, full_name = (
            text_of(f["username"]),
            f["password"].text(),
            text_of(f["role"]),
            text_of(f["full_name"]),
        )
        op = ServiceOp(self, lambda: create_user(self.ctx, username, password, role, full_name), form=self.form)
        if not op.run():
            return False
        for key in ("username", "full_name", "password"):
            f[key].clear()
        self.ensure_loaded()
        return True

    def _selected_action(self, action) -> None:
        row = self.table.currentRow()
        if not 0 <= row < len(self._users):
            self.message.setText("اختر مستخدماً من الجدول أولاً.")
            return
        username = self._users[row].username
        ServiceOp(self, lambda: action(username), message=self.message).success(lambda _r: self.ensure_loaded()).run()

    def reset_selected(self) -> None:
        """An administrator's reset: a temporary password the user must replace at their next login."""
        temporary = self.form.fields["password"].text()
        if not temporary:
            self.form.set_error("password", "اكتب هنا كلمة مرور مؤقتة للمستخدم المحدد.")
            return
        self._selected_action(lambda name: update_user(self.ctx, name, password=temporary))
        if not self.message.text():
            self.form.fields["password"].clear()
            self.message.setText("أُعيد تعيين كلمة المرور: يختار المستخدم كلمته الجديدة عند دخوله القادم.")

    def toggle_selected(self) -> None:
        row = self.table.currentRow()
        active = self._users[row].active if 0 <= row < len(self._users) else True
        self._selected_action(lambda name: update_user(self.ctx, name, active=not active))


class AuditPanel(QWidget):
    """The audit trail read like a diary, newest first, in local time with names: «ما فعلته اليوم» for anyone,
    «ما تغيّر اليوم» and the whole trail for the administrator; its chain checked on demand."""

    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.listing: ListPage | None = None
        self.view = ""
        self.view_buttons: dict[str, QPushButton] = {}
        views = QHBoxLayout()
        group = QButtonGroup(self)
        for key, label in AUDIT_VIEWS.items():
            button = QPushButton(label)
            button.setCheckable(True)
            button.setObjectName(f"audit_{key}")
            button.setStyleSheet("QPushButton:checked { background: #cfe6df; border-color: #1f6f5c; }")
            button.clicked.connect(lambda _checked=False, key=key: self.show_view(key))
            group.addButton(button)
            views.addWidget(button)
            self.view_buttons[key] = button
        self.verify_button = QPushButton("التحقق من سلامة السلسلة")
        self.verify_button.clicked.connect(self.verify)
        views.addStretch(1)
        views.addWidget(self.verify_button)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.hide()  # until there is something to say
        self.layout_ = QVBoxLayout(self)
        self.layout_.addLayout(views)
        self.layout_.addWidget(self.result)

    def ensure_loaded(self) -> None:
        admin = self.ctx.can(Permission.MANAGE_USERS)
        for key, button in self.view_buttons.items():
            button.setVisible(admin or key == "mine")
        self.verify_button.setEnabled(admin)
        if not admin:
            self.result.setText("هنا ما فعلته أنت اليوم. السجل كله وما فعله غيرك لمدير النظام فقط.")
            self.result.show()
        if self.listing is None:
            self.listing = ListPage(self.ctx, "audit", "", placeholder="ابحث بمعرف السجل…", new_label=None)
            if not admin:  # one's own entries: who did it needs no choosing
                self.listing.filters["username"].hide()
            self.layout_.addWidget(self.listing, 1)
        self.show_view(self.view if admin and self.view else ("today" if admin else "mine"))

    def show_view(self, key: str) -> None:
        """One of the views: «mine» (the user's own entries today), «today» (everyone's) or «all»."""
        if key != "mine" and not self.ctx.can(Permission.MANAGE_USERS):
            key = "mine"
        self.view = key
        self.view_buttons[key].setChecked(True)
        assert self.listing is not None
        self.listing.fixed_filters = {"view": key}
        self.listing.title.setText(AUDIT_VIEWS[key])
        self.listing.ensure_loaded()

    def verify(self) -> str:
        text = describe(verify_audit(self.ctx))
        self.result.setText(text)
        self.result.show()
        return text
