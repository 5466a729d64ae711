"""Writing Arabic workbooks: right-to-left sheets, styled header row, frozen panes, real dates and numbers shown in the
office's display style, IDs as text, and every text written as text (never a live formula)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from aidoffice.domain.arabic import drop_control_characters
from aidoffice.domain.display import DEFAULT_STYLE, DisplayStyle
from aidoffice.errors import UserError
from aidoffice.formats.cells import starts_formula

HEADER_FILL = PatternFill("solid", fgColor="1F4E78")
HEADER_FONT = Font(bold=True, color="FFFFFF")
PROBLEM_FILL = PatternFill("solid", fgColor="FCE4D6")


@dataclass(frozen=True)
class Column:
    header: str
    kind: str = "text"  # text | code (IDs, phones: always text) | number | year (no separator) | date
    width: int = 18


def _text_cell(cell, value):
    """Put `value` in `cell`; text stays text: a name typed as `=HYPERLINK(…)` is shown, never run (openpyxl would
    store any text that starts with '=' as a formula), and is marked quote-prefixed so that editing it in Excel does
    not turn it into one either. Control characters (which openpyxl refuses, with the value in its message) go."""
    if isinstance(value, str):
        value = drop_control_characters(value)
    cell.value = value
    if starts_formula(value):
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell


def _cell(ws, value, column: Column, style: DisplayStyle = DEFAULT_STYLE):
    """A cell of `column`: dates and numbers stay typed (Excel sorts and adds them) and carry a number format that
    shows them in the office's digits and date order; codes are text."""
    if column.kind == "date" and isinstance(value, str) and value:
        with contextlib.suppress(ValueError):
            value = date.fromisoformat(value[:10])
    if column.kind == "code" and value is not None:
        value = str(value)
    cell = _text_cell(WriteOnlyCell(ws), value)
    if isinstance(value, datetime):
        cell.number_format = style.excel_format("datetime" if column.kind in ("date", "datetime") else "date")
    elif isinstance(value, date):
        cell.number_format = style.excel_format("date")
    elif column.kind == "code":
        cell.number_format = "@"
    elif isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        cell.number_format = style.excel_format("year" if column.kind == "year" else "number", value)
    return cell


def write_table(
    path: Path,
    title: str,
    columns: list[Column],
    rows: Iterable[Iterable],
    *,
    highlight_last_column: bool = False,
    style: DisplayStyle = DEFAULT_STYLE,
) -> int:
    """Write one sheet, atomically (a partial file is renamed only when complete); returns the rows written."""
    return write_sheets(path, [(title, columns, rows)], highlight_last_column=highlight_last_column, style=style)


def write_sheets(
    path: Path,
    sheets: list[tuple[str, list[Column], Iterable[Iterable]]],
    *,
    highlight_last_column: bool = False,
    style: DisplayStyle = DEFAULT_STYLE,
) -> int:
    """Several right-to-left sheets in one workbook, written atomically; returns the rows written in all. Figures and
    dates are shown in `style` (the office's digits and date order) and stay numbers and dates."""
    _check_folder(path)
    wb = Workbook(write_only=True)
    try:
        count = _fill(wb, sheets, highlight_last_column, style)
        _save(wb, path)
    except BaseException:
        _discard(wb)
        raise
    return count


def _fill(wb, sheets, highlight_last_column: bool, style: DisplayStyle) -> int:
    count = 0
    for title, columns, rows in sheets:
        ws = wb.create_sheet(title[:31])
        ws.sheet_view.rightToLeft = True
        ws.freeze_panes = "A2"
        for i, column in enumerate(columns, start=1):
            ws.column_dimensions[get_column_letter(i)].width = column.width
        header = []
        for column in columns:
            cell = _text_cell(WriteOnlyCell(ws), column.header)
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
            header.append(cell)
        ws.append(header)
        for row in rows:
            values = list(row)
            cells = [_cell(ws, v, c, style) for v, c in zip(values, columns, strict=False)]
            if highlight_last_column and values and values[-1]:
                cells[-1].fill = PROBLEM_FILL
            ws.append(cells)
            count += 1
    return count


def _discard(wb) -> None:
    """Close a write-only workbook that will not be saved and delete the temporary files openpyxl streamed its rows
    into: they hold the rows written so far, and openpyxl deletes them only when the program ends normally (a power
    cut would leave beneficiaries' data in the temporary folder). Uses openpyxl's private `_rows`/`_writer`."""
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        with contextlib.suppress(Exception):
            if getattr(ws, "_rows", None) is not None:
                ws._rows.close()
        if writer is None or not isinstance(writer.out, str):
            continue
        with contextlib.suppress(Exception):
            writer.close()
        with contextlib.suppress(OSError, ValueError):
            writer.cleanup()


def write_template(path: Path, columns: list[Column], choices: dict[str, list[str]]) -> None:
    """A blank import list with drop-down lists for the columns named in `choices`."""
    _check_folder(path)
    wb = Workbook()
    ws = wb.active
    ws.title = "قائمة المستفيدين"
    ws.sheet_view.rightToLeft = True
    ws.freeze_panes = "A2"
    lists = wb.create_sheet("القوائم")
    lists.sheet_view.rightToLeft = True
    for i, column in enumerate(columns, start=1):
        cell = ws.cell(row=1, column=i, value=column.header)
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        ws.column_dimensions[get_column_letter(i)].width = column.width
        letter = get_column_letter(i)
        if column.kind == "code":
            for r in range(2, 1002):
                ws.cell(row=r, column=i).number_format = "@"
        if column.header in choices:
            values = choices[column.header]
            for r, value in enumerate(values, start=1):
                _text_cell(lists.cell(row=r, column=i), value)
            validation = DataValidation(
                type="list",
                formula1=f"'القوائم'!${letter}$1:${letter}${len(values)}",
                allow_blank=True,
                showErrorMessage=True,
                errorTitle="قيمة غير مقبولة",
                error="اختر من القائمة.",
            )
            ws.add_data_validation(validation)
            validation.add(f"{letter}2:{letter}1001")
    _save(wb, path)


def _check_folder(path: Path) -> None:
    if not path.parent.is_dir():
        raise UserError(f"تعذر حفظ الملف {path.name}: المجلد غير موجود.")


def _save(wb, path: Path) -> None:
    partial = path.with_name(path.name + ".partial")
    try:
        wb.save(partial)
        with partial.open("rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise UserError(f"تعذر حفظ الملف {path.name}: تحقق من المسار والمساحة على القرص.") from exc
