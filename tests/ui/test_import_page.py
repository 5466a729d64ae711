"""The import page offscreen: a check writes nothing, the clerk maps an unknown column, then imports at once."""

from __future__ import annotations

import openpyxl
import pytest
from PySide6.QtWidgets import QComboBox

from aidoffice.app import make_application
from aidoffice.services.associations import AssociationInput, register_association
from aidoffice.services.overview import stats
from aidoffice.ui.pages.import_page import ImportPage


@pytest.fixture
def page(qtbot, ctx):
    make_application()
    register_association(ctx, AssociationInput(name="جمعية الخير", registration_number="12/2010"))
    widget = ImportPage(ctx)
    qtbot.addWidget(widget)
    widget.show()
    return widget


def _list(path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["كشف جمعية الخير"])
    ws.append(["م", "المستفيد", "رقم البطاقة", "الجنس"])  # «المستفيد» is not a known name header
    ws.append([1, "سالم عوض سعيد بامطرف", "01010012345", "ذكر"])
    ws.append([2, "محمد", "01010099999", "ذكر"])
    ws.append([3, "فاطمة علي العمودي", "02020012345", "أنثى"])
    wb.save(path)
    return path


def _wait(qtbot, page):
    qtbot.waitUntil(lambda: page.task is None, timeout=10_000)


def _combo(page, label) -> QComboBox:
    row = next(r for r in range(page.mapping_table.rowCount()) if page.mapping_table.item(r, 0).text() == label)
    return page.mapping_table.cellWidget(row, 1)


def test_check_map_by_hand_then_import(qtbot, page, ctx, tmp_path):
    page.file_edit.setText(str(_list(tmp_path / "list.xlsx")))
    page.check()  # no association chosen for the clerk: asked, nothing read
    assert page.task is None and "اختر الجمعية" in page.summary.text()
    page.association_combo.setCurrentIndex(1)
    page.check()
    _wait(qtbot, page)
    assert "عمود للاسم" in page.summary.text() and "اختر في الجدول" in page.summary.text()
    assert not page.import_button.isEnabled()
    _combo(page, "الاسم").setCurrentText("المستفيد")
    _combo(page, "رقم البطاقة").setCurrentText("رقم البطاقة")
    page.check()
    _wait(qtbot, page)
    assert "فحص فقط" in page.summary.text() and stats(ctx)["persons"] == 0
    assert page.problems_table.item(0, 0).text() == "4" and page.problems_table.item(0, 1).text() == "خطأ"
    assert _combo(page, "الاسم").currentText() == "المستفيد"
    assert page.import_button.isEnabled()
    page.run_import()
    _wait(qtbot, page)
    assert "تم الاستيراد" in page.summary.text()
    assert stats(ctx)["persons"] == 2
    assert not page.import_button.isEnabled()
