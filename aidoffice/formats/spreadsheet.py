"""Reading spreadsheets (.xlsx, .xls, .ods through python-calamine; .csv) into plain rows, with Arabic errors.

A list comes from outside, so its size is measured before anything reads it: calamine builds every sheet as one
dense block from A1 to the farthest cell, so a 1.5 KB workbook with one cell at XFD1048576 would ask for 512 GiB
(and abort the process), and a compression bomb would be inflated whole. The zip's declared sizes, its compression
ratio and the sheets' farthest cells are checked first, by streaming the XML, and an oversized file is refused.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from aidoffice.errors import UserError
from aidoffice.formats.atomic import require_regular_file

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".ods", ".csv"}

# Bounds of a list that can be read. A 200,000-row list of 15 columns is 3 million cells, 160 MB of XML written
# without shared strings, compressed about 9 to 1, and about 400 MB in memory once read.
MAX_ROWS = 250_000
MAX_CELLS = 6_000_000  # rows × columns of the block from A1 to the farthest cell, as calamine allocates it
MAX_UNPACKED_BYTES = 512 * 2**20  # all the members of an .xlsx/.ods, as their headers declare them
MAX_RATIO = 100  # a member larger than RATIO_FLOOR_BYTES may not be more than this many times its packed size
RATIO_FLOOR_BYTES = 2**20
MAX_CSV_BYTES = 128 * 2**20


@dataclass(frozen=True)
class Sheet:
    name: str
    rows: list[list]  # cell values as calamine gives them: str, float, int, bool, date, datetime, time


def read_sheets(path: Path) -> list[Sheet]:
    """Every sheet of the file; a file that is not a readable spreadsheet, or is larger than a list can be, is a
    UserError naming the file and the reason."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SPREADSHEET_SUFFIXES:
        if not path.exists():
            raise UserError(f"الملف غير موجود: {path.name}")
        raise UserError(f"الملف {path.name} ليس جدول بيانات: الصيغ المقبولة xlsx وxls وods وcsv.")
    require_regular_file(path, "ملف القائمة")  # a named pipe would hang the reader
    if suffix == ".csv":
        return [Sheet(path.stem, _read_csv(path))]
    if suffix in (".xlsx", ".xlsm", ".ods"):
        check_workbook_bounds(path)
    elif suffix == ".xls":
        check_xls_bounds(path)
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


# --- bounds, before reading ----------------------------------------------------------------------------------


def _too_large(path: Path, rows: int, columns: int, cells: int = 0) -> UserError:
    if rows > MAX_ROWS:
        reach = f"تمتد إحدى أوراقه إلى الصف {rows:,}، والحد {MAX_ROWS:,} صف"
    elif not rows:
        reach = f"تبلغ أوراقه معاً {cells:,} خلية، والحد {MAX_CELLS:,} خلية"
    else:
        reach = f"تمتد إحدى أوراقه إلى {max(rows * columns, cells):,} خلية، والحد {MAX_CELLS:,} خلية"
    return UserError(
        f"رُفض الملف {path.name} قبل قراءته: {reach}. احذف الصفوف والأعمدة الزائدة (ولو كانت فارغة المظهر) "
        "أو قسّم القائمة إلى ملفات أصغر، ثم أعد المحاولة."
    )


def _bomb(path: Path) -> UserError:
    return UserError(
        f"رُفض الملف {path.name}: محتواه بعد فك الضغط أكبر بكثير مما يكون عليه جدول بيانات بهذا الحجم "
        f"(الحد {MAX_UNPACKED_BYTES // 2**20:,} ميغابايت، ونسبة ضغط لا تتجاوز {MAX_RATIO} إلى 1)، "
        "فقد يكون ملفاً مفخخاً أو تالفاً. افتحه في Excel واحفظه من جديد إن كان سليماً."
    )


def check_workbook_bounds(path: Path) -> None:
    """Refuse an .xlsx/.xlsm/.ods whose members inflate beyond the bounds or whose sheets reach beyond MAX_ROWS or
    MAX_CELLS. A file that is not a zip is left to calamine (an encrypted workbook is an OLE file, for example)."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError):
        return
    with archive:
        members = archive.infolist()
        total = 0
        for info in members:
            total += info.file_size
            if info.file_size > RATIO_FLOOR_BYTES and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise _bomb(path)
        if total > MAX_UNPACKED_BYTES:
            raise _bomb(path)
        names = {info.filename for info in members}
        try:
            if "content.xml" in names and path.suffix.lower() == ".ods":
                _check_ods_content(path, archive)
            else:
                # every sheet is read, so their blocks add up
                blocks = sum(_check_xlsx_sheet(path, archive, name) for name in _xlsx_sheet_members(archive, names))
                if blocks > MAX_CELLS:
                    raise _too_large(path, 0, 0, blocks)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as exc:
            # zipfile checks each member's CRC and declared size as it streams: a lying header ends here
            raise UserError(f"تعذرت قراءة الملف {path.name}: ليس جدول بيانات صالحاً أو أنه تالف.") from exc


def _chunks(archive: zipfile.ZipFile, name: str):
    """One member's bytes in pieces of about 4 MB, each cut just before a '<' so that no tag is split."""
    tail = b""
    with archive.open(name) as fh:
        while True:
            chunk = fh.read(1 << 22)
            if not chunk:
                if tail:
                    yield tail
                return
            data = tail + chunk
            cut = data.rfind(b"<")
            if cut <= 0:
                tail = data
                continue
            tail = data[cut:]
            yield data[:cut]


def _stream_tags(archive: zipfile.ZipFile, name: str, pattern: re.Pattern):
    """The matches of `pattern` (which must match whole tags) in one member."""
    for data in _chunks(archive, name):
        yield from pattern.findall(data)


_RELATIONSHIP = re.compile(rb"<(?:[\w.-]+:)?Relationship\b([^>]*)>")
_ATTRIBUTE = re.compile(rb"""([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


def _xlsx_sheet_members(archive: zipfile.ZipFile, names: set[str]) -> list[str]:
    """The worksheet parts calamine would read: those the workbook's relationships name, and xl/worksheets/*."""
    found = {n for n in names if n.lower().startswith("xl/worksheets/") and n.lower().endswith(".xml")}
    rels = "xl/_rels/workbook.xml.rels"
    if rels in names and archive.getinfo(rels).file_size <= RATIO_FLOOR_BYTES:
        for attrs in _RELATIONSHIP.findall(archive.read(rels)):
            values = {k.decode(): (a or b).decode("utf-8", "replace") for k, a, b in _ATTRIBUTE.findall(attrs)}
            if values.get("Type", "").endswith("chartsheet") or not values.get("Type", "").endswith("sheet"):
                continue
            target = values.get("Target", "")
            target = target[1:] if target.startswith("/") else target if target.startswith("xl/") else "xl/" + target
            if target in names:
                found.add(target)
    return sorted(found)


_XLSX_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(row|c)(?=[\s/>])([^>]*)>")
_REFERENCE = re.compile(rb"""(?:^|\s)r\s*=\s*["']\s*([A-Za-z]*)([0-9]*)\s*["']""")
# What Excel, LibreOffice and openpyxl write: unprefixed tags, the reference first, double quotes.
_PLAIN_CELL_COLUMN = re.compile(rb'<c r="([A-Za-z]+)\d')
_PLAIN_CELL_ROW = re.compile(rb'<c r="[A-Za-z]+(\d+)"')
_PLAIN_ROW = re.compile(rb'<row r="(\d+)"')
_PREFIXED = re.compile(rb":(?:c|row)[\s/>]")


def _column_number(letters: bytes) -> int:
    number = 0
    for ch in letters.upper():
        number = number * 26 + ch - 64
    return number


def _highest(numbers: set[bytes]) -> int:
    return max((int(n) for n in numbers if n), default=0)


def _check_xlsx_sheet(path: Path, archive: zipfile.ZipFile, name: str) -> int:
    """The size of the sheet's block from A1 to its farthest cell; a sheet whose block, or whose number of cells,
    is beyond the bounds is refused as soon as it is seen.

    The fast way counts tags and collects references with C-speed searches; a sheet written another way (cells
    without a reference, prefixed tags, single quotes) is followed tag by tag as calamine places the cells."""
    max_row = max_column = cells = 0
    for data in _chunks(archive, name):
        count = data.count(b"<c ") + data.count(b"<c>") + data.count(b"<c/>")
        columns = set(_PLAIN_CELL_COLUMN.findall(data))
        cell_rows = _PLAIN_CELL_ROW.findall(data)
        row_tags = _PLAIN_ROW.findall(data)
        plain = (
            count == len(cell_rows)
            and len(row_tags) == data.count(b"<row ") + data.count(b"<row>")
            and not _PREFIXED.search(data)
        )
        if not plain:
            return _check_xlsx_sheet_tag_by_tag(path, archive, name)
        cells += count
        max_row = max(max_row, _highest(set(cell_rows)), _highest(set(row_tags)))
        max_column = max(max_column, *(_column_number(c) for c in columns), 0)
        if max_row > MAX_ROWS or max_row * max_column > MAX_CELLS or cells > MAX_CELLS:
            raise _too_large(path, max_row, max_column, cells)
    return max_row * max_column


def _check_xlsx_sheet_tag_by_tag(path: Path, archive: zipfile.ZipFile, name: str) -> int:
    row = column = max_row = max_column = cells = 0
    for tag, attributes in _stream_tags(archive, name, _XLSX_TAG):
        reference = _REFERENCE.search(attributes)
        if tag == b"row":
            row = int(reference.group(2)) if reference and reference.group(2) else row + 1
            column = 0
        else:
            cells += 1
            column = _column_number(reference.group(1)) if reference and reference.group(1) else column + 1
            if reference and reference.group(2):
                row = int(reference.group(2))
            max_column = max(max_column, column)
        max_row = max(max_row, row)
        if max_row > MAX_ROWS or max_row * max_column > MAX_CELLS or cells > MAX_CELLS:
            raise _too_large(path, max_row, max_column, cells)
    return max_row * max_column


_ODS_TAG = re.compile(rb"<(/?)(?:[\w.-]+:)?(table|table-row|table-cell|covered-table-cell)(?=[\s/>])([^>]*?)(/?)>")
_ROWS_REPEATED = re.compile(rb"""number-rows-repeated\s*=\s*["']\s*(\d+)""")
_COLUMNS_REPEATED = re.compile(rb"""number-columns-repeated\s*=\s*["']\s*(\d+)""")
_VALUE_TYPE = re.compile(rb"value-type\s*=")


def _check_ods_content(path: Path, archive: zipfile.ZipFile) -> None:
    """The same bounds for an OpenDocument sheet, where one element may stand for many repeated rows or cells.
    Repeated empty cells and rows (LibreOffice ends every sheet with a million of them) count only when something
    follows them."""
    max_row = max_column = cells = 0
    row = column = repeat = filled_in_row = 0
    for closing, tag, attributes, empty in _stream_tags(archive, "content.xml", _ODS_TAG):
        if tag == b"table":
            row = 0
        elif tag == b"table-row":
            if closing:
                if filled_in_row:
                    max_row = max(max_row, row + repeat)
                    cells += filled_in_row * repeat
                row += repeat
            else:
                found = _ROWS_REPEATED.search(attributes)
                repeat = int(found.group(1)) if found else 1
                column = filled_in_row = 0
                if empty:  # <table:table-row/>: a row with nothing in it
                    row += repeat
        elif not closing:
            found = _COLUMNS_REPEATED.search(attributes)
            span = int(found.group(1)) if found else 1
            if not empty or _VALUE_TYPE.search(attributes):
                filled_in_row += span
                max_column = max(max_column, column + span)
                if filled_in_row * repeat > MAX_CELLS:
                    raise _too_large(path, row + repeat, max_column)
            column += span
        if max_row > MAX_ROWS or max_row * max_column > MAX_CELLS or cells > MAX_CELLS:
            raise _too_large(path, max_row, max_column)


# BIFF cell records (row, column first) and the two that cover a run of columns (last column at the end).
_BIFF_CELLS = {0x0006, 0x00FD, 0x0203, 0x027E, 0x0201, 0x0205, 0x0204, 0x00D6, 0x0406, 0x0001, 0x0002, 0x0003,
               0x0004, 0x0005}  # fmt: skip
_BIFF_RUNS = {0x00BD, 0x00BE}  # MULRK, MULBLANK
_BIFF_BOF = {0x0809, 0x0409, 0x0209, 0x0009}


def check_xls_bounds(path: Path) -> None:
    """The same bounds for an old .xls: calamine reads every sheet when it opens the file, so a 6 KB file with one
    cell at IV65536 would cost more than 1 GB of memory. The cell records of the Workbook stream are walked first."""
    import struct

    import olefile

    try:
        if not olefile.isOleFile(str(path)):
            return  # not an OLE file: calamine says what it is not
        with olefile.OleFileIO(str(path)) as ole:
            stream = next((name for name in ("Workbook", "Book") if ole.exists(name)), None)
            if stream is None:
                return
            data = ole.openstream(stream).read()
    except (OSError, ValueError, struct.error) as exc:
        raise UserError(f"تعذرت قراءة الملف {path.name}: ليس جدول بيانات صالحاً أو أنه تالف.") from exc
    max_row = max_column = cells = blocks = 0  # blocks: of the sheets before this one (calamine reads them all)
    position, end = 0, len(data) - 4
    while position <= end:
        kind, size = struct.unpack_from("<HH", data, position)
        body = position + 4
        position = body + size
        if kind in _BIFF_BOF:
            blocks, max_row, max_column = blocks + max_row * max_column, 0, 0  # a new sheet
            continue
        if size < 4 or position > len(data):
            continue
        if kind in _BIFF_CELLS:
            row, column = struct.unpack_from("<HH", data, body)
            last, cells = column, cells + 1
        elif kind in _BIFF_RUNS and size >= 6:
            row, column = struct.unpack_from("<HH", data, body)
            (last,) = struct.unpack_from("<H", data, position - 2)
            cells += max(last - column + 1, 1)
        else:
            continue
        max_row, max_column = max(max_row, row + 1), max(max_column, last + 1)
        if max_row > MAX_ROWS or blocks + max_row * max_column > MAX_CELLS or cells > MAX_CELLS:
            raise _too_large(path, max_row, max_column, cells)


def _read_csv(path: Path) -> list[list]:
    if path.stat().st_size > MAX_CSV_BYTES:
        raise UserError(
            f"رُفض الملف {path.name}: حجمه أكبر من {MAX_CSV_BYTES // 2**20} ميغابايت، وهذا أكبر مما تكون عليه قائمة. "
            "قسّمه إلى ملفات أصغر."
        )
    raw = path.read_bytes()
    lines = raw.count(b"\n") + 1
    separators = raw.count(b",") + raw.count(b";") + raw.count(b"\t")
    if lines > MAX_ROWS or separators > MAX_CELLS:
        raise _too_large(path, lines, separators // max(lines, 1) + 1, separators)
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
