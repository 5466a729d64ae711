"""Real .xls, .ods and password-protected workbooks, written here with small writers, read as clerks send them."""

from __future__ import annotations

import openpyxl
import pytest
import xlwt
from msoffcrypto.format.ooxml import OOXMLFile
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P

from aidoffice.errors import UserError
from aidoffice.formats import beneficiary_list as bl
from aidoffice.formats.spreadsheet import read_sheets

ROWS = [
    ["كشف جمعية الإحسان"],
    [],
    ["م", "الاسم الرباعي", "رقم البطاقة", "الجنس", "عدد أفراد الأسرة"],
    [1, "سالم عوض سعيد بامطرف", "01010012345", "ذكر", "٥ أفراد"],
    [2, "فاطمة علي صالح العمودي", "02020012345", "انثى", 6],
    ["", "الإجمالي", "", "", 11],
]


def _xls(path):
    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet("كشف")
    for r, row in enumerate(ROWS):
        for c, value in enumerate(row):
            ws.write(r, c, value)
    wb.save(str(path))
    return path


def _ods(path):
    doc = OpenDocumentSpreadsheet()
    table = Table(name="كشف")
    for row in ROWS:
        tr = TableRow()
        for value in row:
            kind = "float" if isinstance(value, int) else "string"
            cell = TableCell(valuetype=kind, value=value) if kind == "float" else TableCell(valuetype="string")
            cell.addElement(P(text=str(value)))
            tr.addElement(cell)
        table.addElement(tr)
    doc.spreadsheet.addElement(table)
    doc.save(str(path))
    return path


@pytest.mark.parametrize("writer", [_xls, _ods], ids=["xls", "ods"])
def test_old_excel_and_opendocument_lists_are_read(tmp_path, writer):
    path = writer(tmp_path / f"list.{writer.__name__[1:]}")
    sheets = read_sheets(path)
    location = bl.find_table(sheets)
    rows = bl.read_rows(sheets, location)
    assert location.header_row == 2
    assert [r.person.full_name for r in rows] == ["سالم عوض سعيد بامطرف", "فاطمة علي صالح العمودي"]
    assert rows[0].person.national_id == "01010012345" and rows[0].household_size == 5
    assert rows[1].household_size == 6


def test_password_protected_workbook_is_a_clear_error(tmp_path):
    plain = tmp_path / "plain.xlsx"
    wb = openpyxl.Workbook()
    wb.active.append(["الاسم الرباعي"])
    wb.save(plain)
    locked = tmp_path / "locked.xlsx"
    with plain.open("rb") as source, locked.open("wb") as target:
        OOXMLFile(source).encrypt("secret", target)
    with pytest.raises(UserError, match="محمي بكلمة مرور"):
        read_sheets(locked)
