"""The reports page: every registry to Excel, and the blank list template associations fill in."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QGroupBox, QLabel, QPushButton, QVBoxLayout, QWidget

from aidoffice.services.exports import EXPORTS


class ReportsPage(QWidget):
    export_requested = Signal(str)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        title = QLabel("التقارير والتصدير")
        title.setObjectName("pageTitle")
        box = QGroupBox("تصدير القوائم إلى Excel (ورقة من اليمين إلى اليسار، عناوين عربية)")
        grid = QGridLayout(box)
        self.buttons: dict[str, QPushButton] = {}
        kinds = [*EXPORTS, "template"]
        for i, kind in enumerate(kinds):
            label = EXPORTS[kind][0] if kind in EXPORTS else "نموذج قائمة مستفيدين فارغ"
            button = QPushButton(label)
            button.clicked.connect(lambda _checked=False, kind=kind: self.export_requested.emit(kind))
            grid.addWidget(button, i // 3, i % 3)
            self.buttons[kind] = button
        note = QLabel("التقارير المطبوعة (التقرير الشهري، كشوف التوزيع، الخطابات، البطاقات) تُضاف هنا بصيغة PDF.")
        note.setObjectName("message")
        note.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(box)
        layout.addWidget(note)
        layout.addStretch(1)

    def ensure_loaded(self) -> None:
        """Nothing to load: the exports read the database when asked."""
