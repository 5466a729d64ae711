"""Small widgets every form uses: left-to-right number fields, dates with their Hijri twin, month pickers, errors beside
fields."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from PySide6.QtCore import QLocale, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QValidator
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from aidoffice.domain.arabic import normalize_digits
from aidoffice.domain.dates import hijri_text, parse_date
from aidoffice.domain.display import ARABIC_INDIC, DEFAULT_STYLE, MONTHS, DisplayStyle
from aidoffice.errors import UserError, ValidationError

LTR = Qt.LayoutDirection.LeftToRight


class DigitsValidator(QValidator):
    """Accepts what a clerk types in a number field: any digit script, ٫ or . as the decimal point, nothing else.

    The text is left as typed (the service parses it), so «١٢٫٥» stays on screen and means 12.5 — never 125, the
    trap of QDoubleSpinBox under an Arabic locale (ARABIC.md).
    """

    def __init__(self, parent=None, *, decimals: bool = False, extra: str = "") -> None:
        super().__init__(parent)
        self.decimals = decimals
        self.extra = extra

    def validate(self, text: str, pos: int):
        plain = normalize_digits(text)
        allowed = set("0123456789" + self.extra + ("." if self.decimals else ""))
        if all(ch in allowed or ch.isspace() for ch in plain) and plain.count(".") <= 1:
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Invalid, text, pos


def ltr_edit(placeholder: str = "", *, digits: bool = False, decimals: bool = False, extra: str = "") -> QLineEdit:
    """A left-to-right field for national IDs, phones, amounts and codes."""
    edit = QLineEdit()
    edit.setLayoutDirection(LTR)
    edit.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
    edit.setLocale(QLocale.c())
    if placeholder:
        edit.setPlaceholderText(placeholder)
    if digits or decimals:
        edit.setValidator(DigitsValidator(edit, decimals=decimals, extra=extra))
    return edit


class _DigitsSpinBox(QSpinBox):
    """A spin box that reads digits 0–9 and ٠–٩ alike (a clerk's keyboard may give either), whatever it shows."""

    def validate(self, text: str, pos: int):
        result = super().validate(normalize_digits(text), pos)
        state = result[0] if isinstance(result, tuple) else result
        return state, text, pos  # the digits stay as typed; valueFromText reads either

    def valueFromText(self, text: str) -> int:
        return super().valueFromText(normalize_digits(text))


def spin_box(style: DisplayStyle, minimum: int, maximum: int, value: int | None = None) -> QSpinBox:
    """A whole number picked with arrows or typed (a year, a rating, days), shown in the office's digits (the
    application's Arabic locale would write ٢٠٢٤ beside tables and forms that show 2024), typed in either."""
    box = _DigitsSpinBox()
    box.setRange(minimum, maximum)
    box.setGroupSeparatorShown(False)
    arabic = QLocale(QLocale.Language.Arabic, QLocale.Country.Yemen)
    box.setLocale(arabic if style.digits == ARABIC_INDIC else QLocale.c())
    if value is not None:
        box.setValue(value)
    return box


class DateField(QWidget):
    """A date typed as clerks write it (dd/mm/yyyy, yyyy/mm/dd, any digits), with its Hijri date shown beside."""

    def __init__(self, parent=None, *, allow_empty: bool = True) -> None:
        super().__init__(parent)
        self.allow_empty = allow_empty
        self.edit = ltr_edit("يوم/شهر/سنة", digits=True, extra="/-. ")
        self.hijri = QLabel()
        self.hijri.setObjectName("message")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 2)
        layout.addWidget(self.hijri, 1)
        self.setFocusProxy(self.edit)
        self.edit.textChanged.connect(self._show_hijri)

    def _show_hijri(self, _text: str = "") -> None:
        try:
            value = self.value()
        except ValueError:
            self.hijri.setText("")
            return
        self.hijri.setText(hijri_text(value) if value else "")

    def value(self) -> date | None:
        """The date, None when empty; ValueError when it cannot be a date."""
        text = self.edit.text().strip()
        if not text:
            return None
        return parse_date(text)

    def text(self) -> str:
        return self.edit.text().strip()

    def set_value(self, value: date | None) -> None:
        self.edit.setText(value.strftime("%d/%m/%Y") if value else "")


FIRST_YEAR = 1990  # the oldest month a report covers (services.reports.parse_month)
_MONTH_TEXT = re.compile(r"\s*(\d{4})\s*[-/]\s*(\d{1,2})\s*")


class MonthField(QWidget):
    """A month chosen, never typed: the month by name and the year, in the office's digits. `text()` gives it as
    YYYY-MM, the form the services (and the command line) take; `setText` accepts that form in any digits."""

    changed = Signal()

    def __init__(self, today: date, parent=None, *, style: DisplayStyle = DEFAULT_STYLE) -> None:
        super().__init__(parent)
        self.month = QComboBox()
        for number, name in enumerate(MONTHS, start=1):
            self.month.addItem(name, number)
        self.month.setMaxVisibleItems(12)
        self.year = QComboBox()
        for year in range(today.year + 1, FIRST_YEAR - 1, -1):  # newest first: this year and last are at hand
            self.year.addItem(style.year(year), year)
        self.month.setAccessibleName("الشهر")
        self.year.setAccessibleName("السنة")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.month, 2)
        layout.addWidget(self.year, 1)
        self.set_month(today.year, today.month)
        self.month.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.year.currentIndexChanged.connect(lambda _i: self.changed.emit())
        self.setFocusProxy(self.month)

    def value(self) -> tuple[int, int]:
        """(year, month)."""
        return int(self.year.currentData()), int(self.month.currentData())

    def set_month(self, year: int, month: int) -> bool:
        """Show `month` of `year`; False (and nothing changed) for a month the picker does not offer."""
        at = self.year.findData(year)
        if at < 0 or not 1 <= month <= 12:
            return False
        self.year.setCurrentIndex(at)
        self.month.setCurrentIndex(month - 1)
        return True

    def text(self) -> str:
        year, month = self.value()
        return f"{year:04d}-{month:02d}"

    def setText(self, text: str) -> bool:  # the name of the line edit this field replaced
        found = _MONTH_TEXT.fullmatch(normalize_digits(text or ""))
        return bool(found) and self.set_month(int(found.group(1)), int(found.group(2)))


def combo(choices: list[tuple[str, str]], *, empty: str | None = None) -> QComboBox:
    """A drop-down of (value, label) with the value as item data; `empty` adds a first "none/all" item."""
    box = QComboBox()
    if empty is not None:
        box.addItem(empty, "")
    for value, label in choices:
        box.addItem(label, value)
    return box


def select_value(box: QComboBox, value: str | None) -> None:
    index = box.findData(value or "")
    box.setCurrentIndex(max(0, index))


class Form(QWidget):
    """A form layout whose fields each have an error line under them; `show_error` puts a service's reasons there.

    Nothing typed is ever cleared by an error: the clerk corrects the field and saves again.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.layout_ = QFormLayout(self)
        self.layout_.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.general = QLabel()
        self.general.setObjectName("fieldError")
        self.general.setWordWrap(True)
        self.general.hide()
        self.done = QLabel()  # what the last save did, in the page's message style
        self.done.setObjectName("message")
        self.done.setWordWrap(True)
        self.done.hide()

    def add(self, key: str, label: str, widget: QWidget) -> QWidget:
        error = QLabel()
        error.setObjectName("fieldError")
        error.setWordWrap(True)
        error.hide()
        box = QWidget()
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(widget)
        column.addWidget(error)
        self.layout_.addRow(label, box)
        self.fields[key] = widget
        self.errors[key] = error
        return widget

    def finish(self) -> None:
        self.layout_.addRow(self.general)
        self.layout_.addRow(self.done)

    def confirm(self, text: str) -> None:
        """Say below the form what a save did (the table beside it changes, but a clerk told of another clerk's
        change and saving again wants to read that this time it went in)."""
        self.clear_errors()
        self.done.setText(text)
        self.done.show()

    def focus_first(self) -> None:
        """The cursor in the first field, ready to type (a new record opened with Ctrl+N)."""
        if self.fields:
            next(iter(self.fields.values())).setFocus()

    def clear_errors(self) -> None:
        for key, label in self.errors.items():
            label.hide()
            label.setText("")
            _mark(self.fields[key], False)
        self.general.hide()
        self.done.hide()

    def set_error(self, key: str, message: str) -> None:
        if key in self.errors:
            self.errors[key].setText(message)
            self.errors[key].show()
            _mark(self.fields[key], True)
        else:
            self.general.setText((self.general.text() + "\n" + message).strip())
            self.general.show()
            _grow_to_fit(self.window())

    def show_error(self, exc: UserError) -> None:
        """Reasons beside their fields; a reason for no field (or an unknown one) below the form."""
        self.clear_errors()
        if isinstance(exc, ValidationError):
            for key, message in exc.problems.items():
                self.set_error(key, message)
        else:
            self.set_error(exc.field or "", exc.message)
        first = next((w for k, w in self.fields.items() if self.errors[k].isVisible()), None)
        if first is not None:
            (first.edit if isinstance(first, DateField) else first).setFocus()


def _mark(widget: QWidget, invalid: bool) -> None:
    target = widget.edit if isinstance(widget, DateField) else widget
    target.setProperty("invalid", invalid)
    target.style().unpolish(target)
    target.style().polish(target)


def text_of(widget: QWidget) -> str:
    if isinstance(widget, QPlainTextEdit):
        return widget.toPlainText().strip()
    if isinstance(widget, QComboBox):
        return widget.currentData() or ""
    if isinstance(widget, DateField):
        return widget.text()
    return widget.text().strip()


def debounce(parent: QWidget, delay_ms: int, slot) -> QTimer:
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(delay_ms)
    timer.timeout.connect(slot)
    return timer


def save_row(slot, label: str = "حفظ") -> tuple[QHBoxLayout, QPushButton]:
    """The save button of a form (Ctrl+S), at the row's far end."""
    button = QPushButton(label)
    button.setObjectName("primary")
    button.setShortcut("Ctrl+S")
    button.setToolTip(f"{label} — Ctrl+S")
    button.clicked.connect(lambda _checked=False: slot())
    row = QHBoxLayout()
    row.addStretch(1)
    row.addWidget(button)
    return row, button


class FormDialog(QDialog):
    """One Form with Save (Ctrl+S) and Cancel. Subclasses add their fields, call `self.form.finish()`, and implement
    `save()`, which returns False with the reasons beside the fields, or calls `done_with(record_id)`."""

    saved = Signal(str)

    def __init__(self, title: str, size: tuple[int, int], parent=None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(*size)
        self.form = Form()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setShortcut("Ctrl+S")
        buttons.button(QDialogButtonBox.StandardButton.Save).setToolTip("حفظ — Ctrl+S")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        layout.addWidget(buttons)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        focused = self.focusWidget()
        if focused is None or not self.form.isAncestorOf(focused):
            self.form.focus_first()

    def save(self) -> bool:
        raise NotImplementedError

    def done_with(self, record_id: str) -> bool:
        self.saved.emit(record_id)
        self.accept()
        return True


def ask_pdf_path(parent: QWidget, title: str, stem: str, today) -> Path | None:
    """Where to save a document to print: a name of a kind and a date, never of a person; None if the clerk cancels."""
    chosen, _ = QFileDialog.getSaveFileName(parent, title, f"{stem}-{today.isoformat()}.pdf", "ملف للطباعة (*.pdf)")
    return Path(chosen) if chosen else None


def open_document(path) -> None:
    """The system's viewer previews and prints (Qt's own PDF module is not in the Essentials wheel)."""
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def _grow_to_fit(window: QWidget) -> None:
    """A long reason below a form must be read whole: the window grows to what its layout asks, within the screen
    (a dialog sized before the reason appeared squeezed a three-line message into two clipped lines at 1366×768)."""
    if window is None or not window.isVisible() or window.isMaximized():
        return
    if window.layout() is not None:
        window.layout().activate()
    wanted = window.sizeHint().height()
    screen = window.screen().availableGeometry() if window.screen() else None
    limit = screen.height() - (window.frameGeometry().height() - window.height()) if screen else wanted
    height = min(max(window.height(), wanted), limit)
    if height > window.height():
        window.resize(window.width(), height)
        if screen is not None and window.frameGeometry().bottom() > screen.bottom():
            window.move(window.x(), max(screen.top(), screen.bottom() - window.frameGeometry().height()))
