"""An association's beneficiary list as clerks make it: finding the table, mapping Arabic headers, reading values."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime

from aidoffice.domain.arabic import clean_text, normalize_digits, normalize_text
from aidoffice.domain.persons import PersonInput
from aidoffice.errors import UserError
from aidoffice.formats.spreadsheet import Sheet

# Field → header spellings seen on lists (compared after normalize_text, so hamza and taa marbuta do not matter).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "full_name": (
        "الاسم الرباعي",
        "الاسم الكامل",
        "الاسم",
        "اسم المستفيد",
        "اسم المستفيده",
        "الاسم الثلاثي",
        "اسم رب الاسره",
        "اسم رب الأسرة",
        "الاسم رباعي",
        "name",
        "full name",
        "beneficiary name",
    ),
    "national_id": (
        "رقم البطاقة",
        "رقم الهوية",
        "الرقم الوطني",
        "رقم البطاقة الشخصية",
        "رقم الهويه الشخصيه",
        "البطاقة",
        "الهوية",
        "رقم البطاقه الشخصيه",
        "national id",
        "id number",
        "id",
    ),
    "phone": (
        "الجوال",
        "الهاتف",
        "رقم الهاتف",
        "رقم الجوال",
        "التلفون",
        "رقم التلفون",
        "الموبايل",
        "phone",
        "mobile",
        "phone number",
    ),
    "birth_date": ("تاريخ الميلاد", "تاريخ الولادة", "الميلاد", "birth date", "date of birth", "dob"),
    "birth_year": ("سنة الميلاد", "سنه الميلاد", "مواليد", "year of birth", "birth year"),
    "sex": ("الجنس", "النوع", "sex", "gender"),
    "household_size": (
        "عدد أفراد الأسرة",
        "عدد الافراد",
        "عدد أفراد الاسره",
        "حجم الأسرة",
        "افراد الاسره",
        "عدد الأفراد",
        "household size",
        "family size",
    ),
    "district": ("المديرية", "المديريه", "district"),
    "categories": ("الفئة", "الفئات", "فئة المستفيد", "التصنيف", "category", "categories"),
    "spouse_name": ("اسم الزوج", "اسم الزوجة", "اسم الزوج/الزوجة", "spouse name"),
    "spouse_national_id": ("رقم بطاقة الزوج", "رقم بطاقة الزوجة", "spouse id"),
    "notes": ("ملاحظات", "الملاحظات", "notes", "remarks"),
}
FIELD_LABELS = {
    "full_name": "الاسم", "national_id": "رقم البطاقة", "phone": "الهاتف", "birth_date": "تاريخ الميلاد",
    "birth_year": "سنة الميلاد", "sex": "الجنس", "household_size": "عدد أفراد الأسرة", "district": "المديرية",
    "categories": "الفئة", "spouse_name": "اسم الزوج/الزوجة", "spouse_national_id": "رقم بطاقة الزوج/الزوجة",
    "notes": "ملاحظات",
}  # fmt: skip
_ALIASES = {field: {normalize_text(a) for a in aliases} for field, aliases in HEADER_ALIASES.items()}
# Lines under the table that are not persons.
_FOOTER_WORDS = (
    "الاجمالي",
    "اجمالي",
    "المجموع",
    "التوقيع",
    "الختم",
    "يعتمد",
    "المدير",
    "اعداد",
    "المراجع",
    "رئيس الجمعيه",
    "امين الصندوق",
    "توقيع",
)
MAX_HEADER_SCAN = 40


@dataclass(frozen=True)
class TableLocation:
    sheet: str
    header_row: int  # 0-based
    columns: dict[str, int]  # field → 0-based column
    headers: list[str]


@dataclass
class ListRow:
    """One person row of the list: what it says, and what is wrong with it."""

    sheet: str
    row_number: int  # 1-based, as the spreadsheet shows it
    cells: list
    person: PersonInput | None = None
    household_size: int | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column label, Arabic message)
    warnings: list[tuple[str, str]] = field(default_factory=list)

    def problem_text(self) -> str:
        return "؛ ".join(f"{col}: {msg}" if col else msg for col, msg in [*self.errors, *self.warnings])


def match_header(text) -> str | None:
    key = normalize_text(str(text or ""))
    if not key:
        return None
    for name, aliases in _ALIASES.items():
        if key in aliases:
            return name
    for name, aliases in _ALIASES.items():  # "الاسم الرباعي للمستفيد", "رقم البطاقة / الهوية"
        if any(len(a) >= 5 and a in key for a in aliases):
            return name
    return None


def _header_columns(row: list) -> dict[str, int]:
    found: dict[str, int] = {}
    for i, cell in enumerate(row):
        name = match_header(cell)
        if name and name not in found:
            found[name] = i
    return found


def find_table(sheets: list[Sheet], mapping: dict[str, str] | None = None) -> TableLocation:
    """The sheet and header row of the list: the row (in the first lines of any sheet) naming the most known
    columns, which must include a name column. A remembered mapping (field → header text) is applied on top."""
    best: tuple[int, int, TableLocation] | None = None
    for sheet in sheets:
        for r, row in enumerate(sheet.rows[:MAX_HEADER_SCAN]):
            columns = _header_columns(row)
            if mapping:
                headers = [normalize_text(str(c or "")) for c in row]
                for field_name, header in mapping.items():
                    key = normalize_text(header)
                    if key in headers:
                        columns[field_name] = headers.index(key)
            if "full_name" not in columns:
                continue
            body = sum(1 for rr in sheet.rows[r + 1 :] if any(str(c).strip() for c in rr if c is not None))
            score = (len(columns), body)
            if best is None or score > best[:2]:
                best = (*score, TableLocation(sheet.name, r, columns, [str(c or "").strip() for c in row]))
    if best is None:
        raise UserError("لم يُعثر في الملف على عمود للاسم (مثل «الاسم الرباعي» أو «الاسم الكامل»): تحقق من صف العناوين.")
    return best[2]


def cell_text(value) -> str:
    """A cell as the clerk meant it: whole numbers without '.0' (IDs, phones), dates as dd/mm/yyyy, text on one line
    without control characters."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return clean_text(value)  # control characters and bidi overrides stop here, at the file's edge


# Raw fragments of the footer words, to skip normalising the ordinary rows (most of a 100,000-row list).
_FOOTER_HINTS = ("جمال", "مجموع", "توقيع", "ختم", "عتمد", "مدير", "عداد", "مراجع", "رئيس", "مين")


def _is_footer(texts: list[str]) -> bool:
    raw = " ".join(texts)
    if not any(hint in raw for hint in _FOOTER_HINTS):
        return False
    text = normalize_text(raw)
    return any(word in text for word in _FOOTER_WORDS)


_SIZE = re.compile(r"(\d+)")


def read_rows(sheets: list[Sheet], location: TableLocation) -> list[ListRow]:
    """The person rows under the header: blank lines, totals and signature lines are skipped."""
    sheet = next(s for s in sheets if s.name == location.sheet)
    cols = location.columns
    out: list[ListRow] = []
    for r in range(location.header_row + 1, len(sheet.rows)):
        cells = sheet.rows[r]
        texts = [cell_text(c) for c in cells]
        if not any(texts):
            continue
        name = texts[cols["full_name"]] if cols["full_name"] < len(texts) else ""
        if _is_footer(texts) and (not name or _is_footer([name])):
            continue
        row = ListRow(location.sheet, r + 1, list(cells))

        def get(field_name: str, cells=cells):
            i = cols.get(field_name)
            return cells[i] if i is not None and i < len(cells) else None

        def text(field_name: str, texts=texts) -> str:
            i = cols.get(field_name)
            return texts[i] if i is not None and i < len(texts) else ""

        birth_text = text("birth_date")
        year_text = text("birth_year")
        if birth_text and re.fullmatch(r"\d{4}", normalize_digits(birth_text)):
            year_text, birth_text = birth_text, ""  # a year alone in the date column
        size_text = normalize_digits(text("household_size"))
        size = None
        if size_text:
            match = _SIZE.search(size_text)
            if match:
                size = int(match.group(1))
            else:
                row.errors.append((FIELD_LABELS["household_size"], "عدد أفراد الأسرة ليس رقماً."))
        if size is not None and not 1 <= size <= 60:
            row.errors.append((FIELD_LABELS["household_size"], "عدد أفراد الأسرة غير معقول (من 1 إلى 60)."))
            size = None
        raw_id = get("national_id")
        if isinstance(raw_id, (int, float)) and not isinstance(raw_id, bool):
            row.warnings.append((FIELD_LABELS["national_id"], "الرقم مخزن كعدد في Excel: تحقق من الصفر الأول."))
        categories = tuple(c.strip() for c in re.split(r"[،,/;؛]", text("categories")) if c.strip())
        row.household_size = size
        row.person = PersonInput(
            full_name=name,
            national_id=text("national_id"),
            phone=text("phone"),
            sex=text("sex"),
            birth_date=birth_text or None,
            birth_year=year_text or None,
            district=text("district"),
            categories=categories,
            spouse_name=text("spouse_name"),
            spouse_national_id=text("spouse_national_id"),
            notes=text("notes"),
        )
        out.append(row)
    return out


def guess_header_row(sheets: list[Sheet]) -> tuple[str, list[str]]:
    """When no name column is recognised: the row most likely to hold the headers (most text cells near the top),
    so the clerk can say which column holds what."""
    best: tuple[int, str, list[str]] = (0, "", [])
    for sheet in sheets:
        for row in sheet.rows[:MAX_HEADER_SCAN]:
            texts = [cell_text(c) for c in row]
            count = sum(1 for t in texts if t and not normalize_digits(t).replace(".", "").isdigit())
            if count > best[0]:
                best = (count, sheet.name, [t for t in texts if t])
    return best[1], best[2]
