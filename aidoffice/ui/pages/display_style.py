"""The settings' box for the office's display style: which digits, which date order, months by name or in figures."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from aidoffice.domain.display import DATE_ORDERS, DIGIT_STYLES, MONTH_STYLES, DisplayStyle
from aidoffice.services.context import ServiceContext
from aidoffice.services.display import get_display_style, set_display_style
from aidoffice.ui.ops import ServiceOp
from aidoffice.ui.widgets import combo, select_value


class DisplayStyleBox(QGroupBox):
    """Three choices on one line and a save button; the tables, labels, workbooks and printed documents follow the
    saved style from the next time they are shown or written."""

    style_saved = Signal(object)  # the DisplayStyle now in force

    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__("كتابة الأرقام والتواريخ (في الشاشات وجداول البيانات والمطبوعات)", parent)
        self.ctx = ctx
        self.digits = combo(list(DIGIT_STYLES.items()))
        self.date_order = combo(list(DATE_ORDERS.items()))
        self.months = combo(list(MONTH_STYLES.items()))
        self.save_button = QPushButton("حفظ طريقة الكتابة")
        self.save_button.clicked.connect(lambda _checked=False: self.save())
        self.message = QLabel()
        self.message.setObjectName("message")
        self.message.setWordWrap(True)
        row = QHBoxLayout()
        for label, widget in (("الأرقام:", self.digits), ("التاريخ:", self.date_order), ("الشهر:", self.months)):
            row.addWidget(QLabel(label))
            row.addWidget(widget, 1)
        row.addWidget(self.save_button)
        column = QVBoxLayout(self)
        column.addLayout(row)
        column.addWidget(self.message)

    def load(self, style: DisplayStyle | None = None) -> None:
        style = style or get_display_style(self.ctx)
        select_value(self.digits, style.digits)
        select_value(self.date_order, style.date_order)
        select_value(self.months, "words" if style.month_names else "digits")

    def save(self) -> bool:
        digits, order = self.digits.currentData(), self.date_order.currentData()
        names = self.months.currentData() == "words"
        op = ServiceOp(
            self,
            lambda: set_display_style(self.ctx, digits=digits, date_order=order, month_names=names),
            message=self.message,
            buttons=[self.save_button],
        )
        return op.success(self._saved).run()

    def _saved(self, style: DisplayStyle) -> None:
        self.load(style)
        example = f"{style.date(self.ctx.today())} — {style.number(1250)} — {style.month(2026, 12)}"
        self.message.setText(f"حُفظت طريقة الكتابة: {example}. تظهر بها القوائم والتقارير من الآن.")
        self.style_saved.emit(style)
