"""The Sync page: packages to and from headquarters on a USB stick, their history, the conflict queue, cross-office
duplicate flags, and this installation's keys and the identities it trusts."""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QStorageInfo, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from aidoffice.domain.access import Permission
from aidoffice.domain.display import DEFAULT_STYLE, DisplayStyle
from aidoffice.domain.matching import PairScore
from aidoffice.domain.sync import Mode
from aidoffice.services import sync
from aidoffice.services.context import ServiceContext
from aidoffice.texts import probability_text
from aidoffice.ui import tasks
from aidoffice.ui.ops import ServiceOp
from aidoffice.ui.pages.associations import fill_table
from aidoffice.ui.widgets import ltr_edit

STATUS_LABELS = {"written": "كُتبت", "acknowledged": "أقرّ بها المستلم", "applied": "طُبّقت"}
KIND_LABELS = {"changes": "تغييرات", "snapshot": "نسخة كاملة", "reply": "رد الديوان"}
FIELD_LABELS = {
    "name": "الاسم",
    "registration_number": "رقم الإشهار",
    "proclamation_date": "تاريخ الإشهار",
    "legal_form": "الشكل",
    "district_id": "المديرية",
    "address": "العنوان",
    "phone": "الهاتف",
    "email": "البريد",
    "licence_expiry": "الترخيص",
    "status": "الحالة",
    "status_since": "منذ",
    "notes": "ملاحظات",
    "fields": "مجالات العمل",
    "districts": "المديريات",
    "office_id": "مكتب المالك",
    "deleted": "حذف سجل مكتب آخر",
}


def removable_drives() -> list[Path]:
    """Mounted volumes that look like USB sticks: not the system volume, ready and writable."""
    system = Path(sys.executable).anchor
    found = []
    for volume in QStorageInfo.mountedVolumes():
        root = volume.rootPath()
        if not volume.isValid() or not volume.isReady() or volume.isReadOnly() or root in ("/", system):
            continue
        if sys.platform == "win32" or root.startswith(("/media/", "/run/media/", "/mnt/", "/Volumes/")):
            found.append(Path(root))
    return found


LIKENESS = "احتمال أنه الشخص نفسه"


def _likeness(score: float) -> str:
    """The duplicate engine's evidence as a reader takes it: a probability, never a raw score («29.1»)."""
    return probability_text(PairScore("", "", score, ()).probability)


def _ltr(text: str) -> str:
    """Digits in a right-to-left table read left to right (fingerprint groups, date then time): a leading LRM makes
    every number after it left-to-right (rule W7 of the bidi algorithm; Qt's items ignored LRE … PDF)."""
    return "\u200e" + text


def _local(at: datetime, style: DisplayStyle = DEFAULT_STYLE) -> str:
    """Stored stamps are UTC; the clerk reads local time."""
    return _ltr(style.datetime(at.replace(tzinfo=UTC).astimezone()))


def _show(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, list):
        return "، ".join(" / ".join(v) if isinstance(v, list) else str(v) for v in value) or "—"
    return str(value)


class SyncPage(QWidget):
    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.task: tasks.BackgroundTask | None = None
        title = QLabel("المزامنة مع الديوان")
        title.setObjectName("pageTitle")
        self.identity_label = QLabel()
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tabs.addTab(self._packages_tab(), "الحزم")
        self.tabs.addTab(self._conflicts_tab(), "التعارضات")
        self.tabs.addTab(self._flags_tab(), "تنبيهات التكرار بين المكاتب")
        self.tabs.addTab(self._keys_tab(), "المفاتيح والتسجيل")
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(self.identity_label)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        self._loaded = False

    def ensure_loaded(self) -> None:
        self.refresh()
        self.detect_drives()

    # --- tabs -----------------------------------------------------------------------------------------------
    def _packages_tab(self) -> QWidget:
        tab = QWidget()
        self.folder = ltr_edit("مجلد الحزم أو ذاكرة الفلاش")
        browse = QPushButton("اختيار مجلد…")
        browse.clicked.connect(self._on_browse_clicked)
        self.drives = QComboBox()
        self.drives.currentIndexChanged.connect(self._on_drive_chosen)
        detect = QPushButton("كشف الذاكرات")
        detect.clicked.connect(self.detect_drives)
        where = QHBoxLayout()
        where.addWidget(QLabel("إلى:"))
        where.addWidget(self.folder, 2)
        where.addWidget(browse)
        where.addWidget(self.drives, 1)
        where.addWidget(detect)
        self.office_choice = QComboBox()
        self.office_choice.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.full = QCheckBox("نسخة كاملة (لا التغييرات فقط)")
        self.export_button = QPushButton("تصدير حزمة")
        self.export_button.setObjectName("primary")
        self.export_button.clicked.connect(lambda: self.export_to(Path(self.folder.text().strip())))
        self.import_button = QPushButton("استيراد حزمة…")
        self.import_button.clicked.connect(self._on_import_clicked)
        actions = QHBoxLayout()
        actions.addWidget(self.office_choice)
        actions.addWidget(self.full)
        actions.addStretch(1)
        actions.addWidget(self.export_button)
        actions.addWidget(self.import_button)
        self.history_table = QTableWidget()
        layout = QVBoxLayout(tab)
        layout.addLayout(where)
        layout.addLayout(actions)
        layout.addWidget(QLabel("سجل الحزم"))
        layout.addWidget(self.history_table, 1)
        return tab

    def _conflicts_tab(self) -> QWidget:
        tab = QWidget()
        self.conflicts_table = QTableWidget()
        self.conflicts_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        keep = QPushButton("إبقاء القيمة الحالية")
        keep.clicked.connect(lambda: self.resolve_selected(take_other=False))
        other = QPushButton("اعتماد القيمة الأخرى")
        other.clicked.connect(lambda: self.resolve_selected(take_other=True))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(keep)
        buttons.addWidget(other)
        layout = QVBoxLayout(tab)
        layout.addWidget(QLabel("قيم عدّلها مكتبان في الوقت نفسه: أُبقيت الأحدث، والأخرى هنا حتى يُبتّ فيها."))
        layout.addWidget(self.conflicts_table, 1)
        layout.addLayout(buttons)
        return tab

    def _flags_tab(self) -> QWidget:
        tab = QWidget()
        self.flags_table = QTableWidget()
        layout = QVBoxLayout(tab)
        self.flags_note = QLabel("مستفيدون من هذا المكتب وجد الديوان أنهم مسجلون في مكتب آخر أيضًا (دون بياناتهم هناك).")
        self.flags_note.setWordWrap(True)
        layout.addWidget(self.flags_note)
        layout.addWidget(self.flags_table, 1)
        return tab

    def _keys_tab(self) -> QWidget:
        tab = QWidget()
        own = QGroupBox("هوية هذا الجهاز")
        self.fingerprint_label = QLabel()
        self.fingerprint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.fingerprint_label.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        export_identity = QPushButton("حفظ ملف الهوية…")
        export_identity.clicked.connect(self._on_export_identity_clicked)
        rotate = QPushButton("تدوير المفاتيح")
        rotate.clicked.connect(self.rotate)
        row = QHBoxLayout(own)
        row.addWidget(QLabel("البصمة:"))
        row.addWidget(self.fingerprint_label, 1)
        row.addWidget(export_identity)
        row.addWidget(rotate)
        self.restamp_button = QPushButton("إعادة الختم بعد تقدّم الساعة")
        self.restamp_button.setToolTip(
            "إن رفض الديوان الحزم لأن ساعة هذا الجهاز كانت متقدمة: صحّح الساعة، واستورد ردًّا حديثًا من الديوان، ثم "
            "أعد ختم ما خُتم في المستقبل بالوقت الحاضر."
        )
        self.restamp_button.clicked.connect(self.restamp)
        row.addWidget(self.restamp_button)
        enrol_box = QGroupBox("تسجيل جهة (مكتب في الديوان، أو الديوان في المكتب)")
        self.enrol_path = ltr_edit("ملف الهوية .aidid")
        choose = QPushButton("اختيار…")
        choose.clicked.connect(self._on_choose_identity_clicked)
        self.enrol_fingerprint = ltr_edit("البصمة كما قُرئت بالهاتف")
        enrol = QPushButton("تسجيل")
        enrol.setObjectName("primary")
        enrol.clicked.connect(
            lambda: self.enrol(
                Path(self.enrol_path.text().strip()), self.enrol_fingerprint.text(), reenrol=self.reenrol.isChecked()
            )
        )
        self.reenrol = QCheckBox("إعادة تسجيل جهة ملغاة (قرار مدير النظام)")
        line = QHBoxLayout(enrol_box)
        line.addWidget(self.enrol_path, 2)
        line.addWidget(choose)
        line.addWidget(self.enrol_fingerprint, 2)
        line.addWidget(self.reenrol)
        line.addWidget(enrol)
        self.peers_table = QTableWidget()
        self.peers_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        revoke = QPushButton("إلغاء مفاتيح الجهة المحددة")
        revoke.clicked.connect(self.revoke_selected)
        layout = QVBoxLayout(tab)
        layout.addWidget(own)
        layout.addWidget(enrol_box)
        layout.addWidget(self.peers_table, 1)
        layout.addWidget(revoke, 0, Qt.AlignmentFlag.AlignLeft)
        return tab

    # --- loading --------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        here = sync.mode(self.ctx)
        self.is_hq = here is Mode.HQ
        self.identity_label.setText(
            "هذا التثبيت: الديوان (يستقبل حزم المكاتب ويرد عليها)" if self.is_hq else "هذا التثبيت: مكتب محافظة"
        )
        ServiceOp(self, lambda: sync.fingerprint(self.ctx), message=self.fingerprint_label).success(
            self.fingerprint_label.setText
        ).run()
        peers = sync.peers(self.ctx)
        self.office_choice.clear()
        for p in peers:
            if p.role == "office" and p.status == "active":
                self.office_choice.addItem(f"{p.office_code} — {p.name}", p.office_code)
        self.office_choice.setVisible(self.is_hq)
        self.restamp_button.setVisible(not self.is_hq)
        self._peers = peers
        fill_table(
            self.peers_table,
            ["الرمز", "الاسم", "النوع", "البصمة", "الحالة"],
            [
                [
                    p.office_code,
                    p.name,
                    "ديوان" if p.role == "hq" else "مكتب",
                    _ltr(p.fingerprint),
                    {"active": "فعّال", "retired": "سابق", "revoked": "ملغى"}[p.status],
                ]
                for p in peers
            ],
        )
        fill_table(
            self.history_table,
            ["الاتجاه", "النوع", "الجهة", "الرقم", "السجلات", "طُبّق", "تعارضات", "الحالة", "الوقت", "الملف"],
            [
                [
                    "صادرة" if r.direction == "out" else "واردة",
                    KIND_LABELS.get(r.kind, r.kind),
                    r.peer_code,
                    str(r.sequence),
                    f"{r.records:,}",
                    f"{r.applied:,}",
                    str(r.conflicts),
                    STATUS_LABELS.get(r.status, r.status),
                    _local(r.at, self.ctx.style),
                    r.file_name,
                ]
                for r in sync.history(self.ctx)
            ],
        )
        self._conflicts = sync.conflicts(self.ctx)
        fill_table(
            self.conflicts_table,
            ["السجل", "الحقل", "القيمة الحالية", "كتبها", "القيمة الأخرى", "كتبها"],
            [
                [
                    c.record_name or c.entity_id[:8],
                    FIELD_LABELS.get(c.field, c.field),
                    _show(c.kept_value),
                    c.kept_office,
                    _show(c.lost_value),
                    c.lost_office,
                ]
                for c in self._conflicts
            ],
        )
        if self.is_hq:
            pairs = sync.cross_office_pairs(self.ctx) if self.ctx.can(Permission.DECIDE_DUPLICATES) else []
            self.flags_note.setText(
                "أزواج محتملة بين مكتبين وجدها فحص التكرار على البيانات الموحّدة (مراجعة التكرار ← فحص السجل). "
                "يصل كلَّ مكتب تنبيهٌ بسجلّه واسم المكتب الآخر فقط، ويبتّ المكتب المالك في الدمج."
            )
            fill_table(
                self.flags_table,
                ["المستفيد", "المكتب", "المستفيد", "المكتب", LIKENESS],
                [[p.name_a, p.office_a, p.name_b, p.office_b, _likeness(p.score)] for p in pairs],
            )
        else:
            fill_table(
                self.flags_table,
                ["المستفيد", "المكتب الآخر", LIKENESS],
                [[f.full_name, f.other_office, _likeness(f.score)] for f in sync.flags(self.ctx)],
            )
        self.tabs.setTabText(1, f"التعارضات ({len(self._conflicts)})" if self._conflicts else "التعارضات")

    def detect_drives(self) -> list[Path]:
        drives = removable_drives()
        self.drives.blockSignals(True)
        self.drives.clear()
        self.drives.addItem("اختر ذاكرة الفلاش…" if drives else "لم تُوصل ذاكرة فلاش", "")
        for drive in drives:
            self.drives.addItem(str(drive), str(drive))
        self.drives.blockSignals(False)
        return drives

    # --- actions --------------------------------------------------------------------------------------------
    def _run(self, work, done, busy: str) -> None:
        """A package written or read off the GUI thread; both buttons wait for it."""
        op = ServiceOp(self, work, message=self.message, buttons=[self.export_button, self.import_button], busy=busy)
        self.task = op.after(self._idle).success(done).run_in_background()

    def _idle(self) -> None:
        self.task = None

    def export_to(self, folder: Path) -> None:
        if not str(folder) or str(folder) == ".":
            self.message.setText("اختر مجلدًا أو ذاكرة الفلاش أولًا.")
            return
        office = self.office_choice.currentData() if self.is_hq else None
        full = self.full.isChecked()

        def done(result) -> None:
            self.message.setText(
                f"كُتبت الحزمة {result.path.name} وتُحقّق منها: {result.records:,} سجل، "
                f"{result.size / 1e6:.2f} MB. أرسلها إلى {'المكتب' if self.is_hq else 'الديوان'}."
            )
            self.refresh()

        self._run(lambda: sync.export_package(self.ctx, folder, full=full, to_office=office), done, "جارٍ تصدير الحزمة…")

    def import_file(self, path: Path) -> None:
        def done(result) -> None:
            if result.status == "already":
                self.message.setText(
                    f"سبق استيراد هذه الحزمة ({result.sender_code} رقم {result.sequence}): لم يتغير شيء."
                )
            else:
                self.message.setText(
                    f"طُبّقت الحزمة {result.sender_code} رقم {result.sequence}: {result.applied:,} سجل، "
                    f"{result.conflicts} تعارض."
                )
            self.refresh()

        self._run(lambda: sync.import_package(self.ctx, path), done, "جارٍ فحص الحزمة وتطبيقها…")

    def _act(self, action: Callable[[], object], done: Callable[[object], str]) -> object | None:
        """Run a service call; its refusal, or what was done, goes to the message line; the tables are reloaded."""
        op = ServiceOp(self, action, message=self.message)
        op.success(lambda result: (self.message.setText(done(result)), self.refresh()))
        return op.result if op.run() else None

    def _selected(self, table: QTableWidget, items: list, hint: str):
        row = table.currentRow()
        if row < 0 or row >= len(items):
            self.message.setText(hint)
            return None
        return items[row]

    def enrol(self, path: Path, fingerprint: str, *, reenrol: bool = False) -> None:
        peer = self._act(
            lambda: sync.enrol(self.ctx, path, expected_fingerprint=fingerprint.strip() or None, reenrol=reenrol),
            lambda p: f"{'أُعيد تسجيل' if reenrol else 'سُجّلت'} الجهة {p.office_code} ({p.name}).",
        )
        if peer is not None:
            self.enrol_path.clear()
            self.enrol_fingerprint.clear()
            self.reenrol.setChecked(False)

    def restamp(self) -> None:
        self._act(lambda: sync.restamp(self.ctx), sync.restamp_message)

    def revoke_selected(self) -> None:
        peer = self._selected(self.peers_table, self._peers, "اختر جهة من الجدول أولًا.")
        if peer is not None:
            self._act(
                lambda: sync.revoke(self.ctx, peer.office_code),
                lambda _n: f"أُلغيت مفاتيح {peer.office_code}: لن تُقبل حزمها.",
            )

    def rotate(self) -> None:
        self._act(
            lambda: sync.rotate_keys(self.ctx),
            lambda fp: f"البصمة الجديدة: {fp}. احفظ ملف الهوية الجديد وأرسله إلى الجهات.",
        )

    def resolve_selected(self, *, take_other: bool) -> None:
        conflict = self._selected(self.conflicts_table, self._conflicts, "اختر تعارضًا من الجدول أولًا.")
        if conflict is not None:
            self._act(
                lambda: sync.resolve_conflict(self.ctx, conflict.id, take_other=take_other),
                lambda _r: "حُسم التعارض.",
            )

    def export_identity(self, folder: Path) -> Path | None:
        written = self._act(
            lambda: sync.export_identity(self.ctx, folder),
            lambda w: f"حُفظ ملف الهوية {w[0].name}. البصمة التي تُقرأ بالهاتف: {w[1]}",
        )
        return written[0] if written else None

    # --- dialogs --------------------------------------------------------------------------------------------
    def _on_browse_clicked(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "مجلد الحزم")
        if chosen:
            self.folder.setText(chosen)

    def _on_drive_chosen(self, _index: int) -> None:
        if self.drives.currentData():
            self.folder.setText(self.drives.currentData())

    def _on_import_clicked(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "حزمة مزامنة", self.folder.text(), "AidOffice (*.aidpkg)")
        if chosen:
            self.import_file(Path(chosen))

    def _on_export_identity_clicked(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "مجلد ملف الهوية")
        if chosen:
            self.export_identity(Path(chosen))

    def _on_choose_identity_clicked(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "ملف هوية", "", "AidOffice (*.aidid)")
        if chosen:
            self.enrol_path.setText(chosen)
