"""ImportPage: an association's list checked first (mapping, problems, duplicates), then imported all at once."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from aidoffice.errors import UserError
from aidoffice.formats.beneficiary_list import FIELD_LABELS
from aidoffice.services.context import ServiceContext
from aidoffice.services.imports import ImportReport, guess_headers, import_beneficiaries
from aidoffice.services.overview import list_records
from aidoffice.ui import tasks
from aidoffice.ui.ops import ServiceOp

NOT_MAPPED = "— غير موجود —"
CHOOSE_ASSOCIATION = "— اختر الجمعية التي أرسلت القائمة —"
IMPORT_STEPS = (
    "١- اختر ملف القائمة (جدول بيانات) والجمعية التي أرسلته.  ٢- اضغط «فحص القائمة»: لا يُحفظ شيء، وترى الأخطاء "
    "والمكرر.  ٣- صحّح ربط الأعمدة إن لزم، أو أرسل للجمعية ملف الأخطاء.  ٤- اضغط «استيراد»: تُحفظ الصفوف السليمة "
    "دفعة واحدة."
)
NO_ASSOCIATION = "لا توجد جمعية نشطة مسجلة: سجّل الجمعية أولاً في صفحة «الجمعيات» (Alt+2)، ثم عد إلى هنا."


class ImportPage(QWidget):
    """Step 1 check (nothing written), step 2 correct the mapping if needed, step 3 import in one transaction."""

    def __init__(self, ctx: ServiceContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.report: ImportReport | None = None
        self.task: tasks.BackgroundTask | None = None

        self.title = QLabel("استيراد قائمة مستفيدين من جمعية")
        self.title.setObjectName("pageTitle")
        self.hint = QLabel(IMPORT_STEPS)
        self.hint.setObjectName("hint")
        self.hint.setWordWrap(True)
        self.file_edit = QLineEdit()
        self.file_edit.setPlaceholderText("اختر ملف القائمة الذي أرسلته الجمعية…")
        self.file_edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        browse = QPushButton("اختيار ملف…")
        browse.clicked.connect(self._on_browse_clicked)
        file_row = QHBoxLayout()
        file_row.addWidget(self.file_edit, 1)
        file_row.addWidget(browse)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.association_combo = QComboBox()
        self.reload_associations()
        form = QFormLayout()
        form.addRow("ملف القائمة:", file_row)
        form.addRow("الجمعية:", self.association_combo)

        self.check_button = QPushButton("فحص القائمة (دون حفظ)")
        self.import_button = QPushButton("استيراد")
        self.errors_button = QPushButton("حفظ ملف الأخطاء للجمعية…")
        self.import_button.setEnabled(False)
        self.errors_button.setEnabled(False)
        buttons = QHBoxLayout()
        for b in (self.check_button, self.errors_button, self.import_button):
            buttons.addWidget(b)
        buttons.addStretch(1)

        self.mapping_table = QTableWidget(0, 2)
        self.mapping_table.setHorizontalHeaderLabels(["الحقل", "العمود في الملف"])
        self.mapping_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.mapping_table.verticalHeader().setVisible(False)
        self.problems_table = QTableWidget(0, 4)
        self.problems_table.setHorizontalHeaderLabels(["الصف", "النوع", "العمود", "المشكلة"])
        self.problems_table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.problems_table.verticalHeader().setVisible(False)
        self.problems_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        tables = QHBoxLayout()
        tables.addWidget(self.mapping_table, 1)
        tables.addWidget(self.problems_table, 2)

        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.hint)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)
        layout.addLayout(tables, 1)

        self.check_button.clicked.connect(self.check)
        self.import_button.clicked.connect(self.run_import)
        self.errors_button.clicked.connect(self._on_errors_button_clicked)

    def ensure_loaded(self) -> None:
        """Coming to the page: associations registered meanwhile can be chosen; the current choice stays."""
        current = self.association_combo.currentData()
        self.reload_associations()
        self.association_combo.setCurrentIndex(max(0, self.association_combo.findData(current)))

    def reload_associations(self) -> None:
        """The associations a list may come from; none is chosen for the clerk (a list filed under the wrong
        association is worse than a question)."""
        self.association_combo.clear()
        self.association_combo.addItem(CHOOSE_ASSOCIATION, None)
        for row in list_records(self.ctx, "associations", limit=10_000):
            if row["status"] in ("active", "dormant"):
                self.association_combo.addItem(f"{row['name']} ({row['registration_number']})", row["id"])
        if self.association_combo.count() == 1:
            self.summary.setText(NO_ASSOCIATION)

    def _on_browse_clicked(self) -> None:
        name, _ = QFileDialog.getOpenFileName(
            self, "اختيار قائمة المستفيدين", "", "جداول البيانات (*.xlsx *.xls *.ods *.csv)"
        )
        if name:
            self.file_edit.setText(name)

    def mapping(self) -> dict[str, str] | None:
        """The clerk's corrections of the column mapping (None while the table is empty)."""
        if self.mapping_table.rowCount() == 0:
            return None
        chosen = {}
        for row in range(self.mapping_table.rowCount()):
            field = self.mapping_table.item(row, 0).data(Qt.ItemDataRole.UserRole)
            combo = self.mapping_table.cellWidget(row, 1)
            if isinstance(combo, QComboBox) and combo.currentText() != NOT_MAPPED:
                chosen[field] = combo.currentText()
        return chosen

    def _run(self, *, dry_run: bool, errors_out: Path | None = None) -> None:
        path = Path(self.file_edit.text().strip())
        association = self.association_combo.currentData()
        if not self.file_edit.text().strip():
            self.summary.setText("اختر ملف القائمة أولاً («اختيار ملف…»).")
            return
        if not association:
            self.summary.setText("اختر الجمعية التي أرسلت القائمة أولاً: لا يُنسب ملف إلى جمعية دون اختيارك.")
            self.association_combo.setFocus()
            return
        mapping, ctx = self.mapping(), self.ctx
        self.import_button.setEnabled(False)  # enabled again by a check that finds rows to add
        self.errors_button.setEnabled(False)
        op = ServiceOp(
            self,
            lambda: import_beneficiaries(
                ctx, path, association, dry_run=dry_run, mapping=mapping, errors_out=errors_out
            ),
            message=self.summary,
            buttons=[self.check_button],
            busy="جارٍ الفحص…" if dry_run else "جارٍ الاستيراد…",
        )
        op.after(self._on_task_over).success(self._on_task_finished).on(UserError, self._on_task_refused)
        self.task = op.run_in_background()

    def check(self) -> None:
        self._run(dry_run=True)

    def run_import(self) -> None:
        self._run(dry_run=False)

    def _on_errors_button_clicked(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "حفظ ملف الأخطاء", "للتصحيح.xlsx", "جدول بيانات (*.xlsx)")
        if name:
            self._run(dry_run=True, errors_out=Path(name))

    def _on_task_over(self) -> None:
        self.task = None

    def _on_task_refused(self, exc: UserError) -> None:
        """A list whose columns were not recognised: its headers are offered in the mapping table to choose from."""
        text = exc.message
        self.summary.setText(text)
        if self.mapping_table.rowCount() == 0:
            path = Path(self.file_edit.text().strip())
            headers = ServiceOp(self, lambda: guess_headers(path), message=self.summary)
            if headers.on(UserError, lambda _unreadable: self.summary.setText(text)).run():
                self._fill_mapping(headers.result, {})
                self.summary.setText(text + " اختر في الجدول العمود الذي يحوي كل حقل ثم أعد الفحص.")

    def _on_task_finished(self, report: ImportReport) -> None:
        self.report = report
        self.errors_button.setEnabled(True)
        self.import_button.setEnabled(not report.committed and report.imported > 0)
        state = "تم الاستيراد." if report.committed else "فحص فقط: لم يُكتب شيء."
        self.summary.setText(
            f"{state} الورقة «{report.sheet}»، صف العناوين {report.header_row}. الصفوف: {report.rows_read:,} — "
            f"للإضافة: {report.imported:,} — مرفوضة: {report.rejected:,} — بتنبيه: {report.warnings:,} — "
            f"مكررة في الملف: {report.duplicates_in_file:,} — مسجلة مسبقاً: {report.duplicates_in_registry:,}"
            + (f" — ملف الأخطاء: {Path(report.errors_file).name}" if report.errors_file else "")
        )
        self._show_mapping(report)
        self._show_problems(report)

    def _show_mapping(self, report: ImportReport) -> None:
        self._fill_mapping(report.headers, report.columns)

    def _fill_mapping(self, headers: list[str], columns: dict[str, str]) -> None:
        self.mapping_table.setRowCount(len(FIELD_LABELS))
        for row, (field, label) in enumerate(FIELD_LABELS.items()):
            item = QTableWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, field)
            self.mapping_table.setItem(row, 0, item)
            combo = QComboBox()
            combo.addItems([NOT_MAPPED, *[h for h in dict.fromkeys(headers) if h]])
            combo.setCurrentText(columns.get(field, NOT_MAPPED))
            self.mapping_table.setCellWidget(row, 1, combo)

    def _show_problems(self, report: ImportReport) -> None:
        lines = [
            (r.row_number, "خطأ" if r.errors else "تنبيه", column, message)
            for r in report.rows
            for column, message in [*r.errors, *r.warnings]
        ]
        self.problems_table.setRowCount(len(lines))
        for i, line in enumerate(lines):
            for j, value in enumerate(line):
                self.problems_table.setItem(i, j, QTableWidgetItem(str(value)))
