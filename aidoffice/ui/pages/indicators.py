"""The indicators panel: figures for a period with filters, a bar chart, the "who does what where" matrix."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from aidoffice.domain.display import DEFAULT_STYLE
from aidoffice.services.context import ServiceContext
from aidoffice.services.indicators import (
    IndicatorFilter,
    Indicators,
    export_indicators,
    indicators,
    who_does_what_where,
)
from aidoffice.services.office import list_aid_types
from aidoffice.services.tables import filter_choices
from aidoffice.ui.ops import ServiceOp
from aidoffice.ui.widgets import MonthField, combo

GAP = QColor("#fdecea")
OVERLAP = QColor("#fff1d6")
COVERED = QColor("#e6f2ee")


class BarChart(QWidget):
    """Horizontal bars, label on the right, bar growing leftwards as the page reads; values at the bar's end."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[tuple[str, float]] = []
        self.style = DEFAULT_STYLE  # the office's digits, set with the rows
        self.setMinimumHeight(160)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)

    def set_rows(self, rows: list[tuple[str, float]]) -> None:
        self.rows = rows[:10]
        self.update()

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        if not self.rows:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "لا بيانات للفترة المختارة")
            return
        label_width = 150
        height = max(14, min(28, (self.height() - 10) // len(self.rows)))
        top = max(v for _, v in self.rows) or 1
        usable = self.width() - label_width - 60
        for i, (label, value) in enumerate(self.rows):
            y = 5 + i * height
            painter.setPen(QColor("#24403a"))
            painter.drawText(
                QRectF(self.width() - label_width, y, label_width - 6, height - 4),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
            length = usable * value / top
            right = self.width() - label_width - 4
            painter.fillRect(QRectF(right - length, y + 3, length, height - 8), QColor("#1f6f5c"))
            painter.drawText(
                QRectF(right - length - 56, y, 52, height - 4),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                self.style.number(round(value)),
            )


class IndicatorsPanel(QWidget):
    def __init__(self, ctx: ServiceContext, parent=None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        today = ctx.today()
        self.first = MonthField(today, style=ctx.style)
        self.last = MonthField(today, style=ctx.style)
        self.first.setText(f"{today.year}-01")
        self.last.setText(f"{today.year}-{today.month:02d}")
        self.district = combo([], empty="كل المديريات")
        self.association = combo([], empty="كل الجمعيات")
        self.aid_type = combo([], empty="كل أنواع المساعدة")
        show = QPushButton("عرض")
        show.setObjectName("primary")
        show.clicked.connect(self.refresh)
        export = QPushButton("تصدير إلى جدول بيانات…")
        export.clicked.connect(lambda _checked=False: self.export())
        bar = QHBoxLayout()
        for label, widget in (("من شهر:", self.first), ("إلى شهر:", self.last)):
            bar.addWidget(QLabel(label))
            bar.addWidget(widget)
        for widget in (self.district, self.association, self.aid_type, show, export):
            bar.addWidget(widget)
        self.message = QLabel()
        self.message.setObjectName("message")
        self.figures: dict[str, QLabel] = {}
        cards = QGridLayout()
        for i, (key, title) in enumerate(
            (
                ("households_reached", "أسر استلمت"),
                ("lines_received", "حالات استلام"),
                ("distributions", "جولات توزيع"),
                ("amounts", "المبالغ"),
            )
        ):
            box = QWidget()
            box.setObjectName("card")
            column = QVBoxLayout(box)
            value = QLabel("—")
            value.setObjectName("cardCount")
            column.addWidget(QLabel(title))
            column.addWidget(value)
            self.figures[key] = value
            cards.addWidget(box, 0, i)
        self.chart = BarChart()
        self.matrix = QTableWidget()
        self.matrix.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        legend = QLabel(
            "المصفوفة: عدد الجمعيات التي وزعت في كل مديرية وقطاع — أحمر: فجوة (لا أحد)، برتقالي: تداخل "
            "(أكثر من جمعية). مرّر المؤشر على الخانة لرؤية أسماء الجمعيات."
        )
        legend.setWordWrap(True)
        legend.setObjectName("message")
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.message)
        layout.addLayout(cards)
        middle = QHBoxLayout()
        middle.addWidget(self.chart, 1)
        layout.addLayout(middle, 1)
        layout.addWidget(legend)
        layout.addWidget(self.matrix, 2)
        self.data: Indicators | None = None

    def ensure_loaded(self) -> None:
        for box, choices in (
            (self.district, filter_choices(self.ctx, "persons")["district"]),
            (self.association, filter_choices(self.ctx, "projects")["association"]),
            (self.aid_type, [(t.code, t.name) for t in list_aid_types(self.ctx)]),
        ):
            current = box.currentData()
            while box.count() > 1:
                box.removeItem(1)
            for value, label in choices:
                box.addItem(label, value)
            box.setCurrentIndex(max(0, box.findData(current)))
        self.refresh()

    def current_filter(self) -> IndicatorFilter:
        return IndicatorFilter(
            self.first.text(),
            self.last.text(),
            self.district.currentData() or "",
            self.association.currentData() or "",
            self.aid_type.currentData() or "",
        )

    def refresh(self) -> bool:
        f = self.current_filter()
        op = ServiceOp(self, lambda: (indicators(self.ctx, f), who_does_what_where(self.ctx, f)), message=self.message)
        return op.success(self._show).run()

    def _show(self, found) -> None:
        data, matrix = found
        self.data = data
        style = self.ctx.style
        self.message.setText(f"الفترة {style.date(data.start)} — {style.date(data.end)} (نهاية غير مشمولة)")
        self.figures["households_reached"].setText(style.number(data.households_reached))
        self.figures["lines_received"].setText(style.number(data.lines_received))
        self.figures["distributions"].setText(style.number(data.distributions))
        self.figures["amounts"].setText("\n".join(style.amount(round(a), c) for c, a in data.amounts) or "—")
        self.chart.style = style
        self.chart.set_rows([(name, float(n)) for name, n in data.by_aid_type])
        self.matrix.clear()
        self.matrix.setRowCount(len(matrix.districts))
        self.matrix.setColumnCount(len(matrix.sectors))
        self.matrix.setHorizontalHeaderLabels([label for _, label in matrix.sectors])
        self.matrix.setVerticalHeaderLabels(matrix.districts)
        for r, district in enumerate(matrix.districts):
            for c, (code, _label) in enumerate(matrix.sectors):
                names = matrix.cells.get((district, code), [])
                item = QTableWidgetItem(style.number(len(names)) if names else "")
                item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                item.setBackground(GAP if not names else OVERLAP if len(names) > 1 else COVERED)
                item.setToolTip("\n".join(names) if names else "لا توزيع في هذا القطاع")
                self.matrix.setItem(r, c, item)
        self.matrix.resizeColumnsToContents()

    def export(self, target: Path | None = None) -> bool:
        if target is None:
            name, _ = QFileDialog.getSaveFileName(self, "تصدير المؤشرات", "المؤشرات.xlsx", "جدول بيانات (*.xlsx)")
            if not name:
                return False
            target = Path(name)
        wanted = self.current_filter()
        op = ServiceOp(self, lambda: export_indicators(self.ctx, wanted, target), message=self.message)
        return op.success(lambda _r: self.message.setText(f"صُدّرت المؤشرات: {target.name}")).run()
