"""Reading spreadsheets (.xlsx, .xls, .ods through python-calamine; .csv) into plain rows, with Arabic errors."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from aidoffice.errors import UserError

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv"}


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: list[list]  # cell values as calamine gives them: str, float, int, bool, date, datetime, time


def read_sheets(path: Path) -> list[Sheet]:
    """Every sheet of the file; a file that is not a readable spreadsheet is a UserError naming the file."""
    suffix = path.suffix.lower()
    if not path.exists():
        raise UserError(f"الملف غير موجود: {path.name}")
    if suffix not in SPREADSHEET_SUFFIXES:
        raise UserError(f"الملف {path.name} ليس جدول بيانات: الصيغ المقبولة xlsx وxls وods وcsv.")
    if suffix == ".csv":
        return [Sheet(path.stem, _read_csv(path))]
    import python_calamine as calamine

    try:
        workbook = calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError as exc:
        raise UserError(f"الملف {path.name} محمي بكلمة مرور: احفظه دون كلمة مرور ثم أعد المحاولة.") from exc
    except (calamine.CalamineError, calamine.ZipError, calamine.XmlError, OSError, ValueError) as exc:
        raise UserError(f"تعذرت قراءة الملف {path.name}: ليس جدول بيانات صالحاً أو أنه تالف.") from exc
    sheets = []
    try:
        for name in workbook.sheet_names:
            try:
                rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
            except (calamine.CalamineError, ValueError) as exc:
                raise UserError(f"تعذرت قراءة الورقة «{name}» في الملف {path.name}: قد تكون تالفة.") from exc
            sheets.append(Sheet(name, [list(r) for r in rows]))
    finally:
        workbook.close()
    return sheets


def _read_csv(path: Path) -> list[list]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1256"):  # Excel on Arabic Windows saves CSV as Windows-1256
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1256 decodes almost any byte string
        raise UserError(f"ترميز الملف {path.name} غير معروف: احفظه بترميز UTF-8.")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return [list(r) for r in csv.reader(io.StringIO(text), dialect)]
