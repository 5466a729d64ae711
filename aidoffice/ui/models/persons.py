"""PersonSearchTableModel: the results of a person search, one row per person."""

from __future__ import annotations

from enum import IntEnum

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from aidoffice.services.records import PersonSummary

Index = QModelIndex | QPersistentModelIndex


class Column(IntEnum):
    NAME = 0
    NATIONAL_ID = 1
    PHONE = 2
    DISTRICT = 3


HEADERS = {Column.NAME: "الاسم", Column.NATIONAL_ID: "رقم البطاقة", Column.PHONE: "الهاتف", Column.DISTRICT: "المديرية"}


class PersonSearchTableModel(QAbstractTableModel):
    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[PersonSummary] = []

    def set_rows(self, rows: list[PersonSummary]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def person_at(self, row: int) -> PersonSummary:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        person = self._rows[index.row()]
        column = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                Column.NAME: person.full_name,
                Column.NATIONAL_ID: person.national_id,
                Column.PHONE: person.phone,
                Column.DISTRICT: person.district or "",
            }[column]
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (Column.NATIONAL_ID, Column.PHONE):
            # Numbers are left-to-right islands: keep their digits in order and aligned as numbers.
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(Column)
        ):
            return HEADERS[Column(section)]
        return None
