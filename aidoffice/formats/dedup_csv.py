"""The dedup-file CSV formats: reading a clerk's list of persons, writing clusters and scored pairs."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from aidoffice.domain.arabic import CountryRules, clean_text, normalize_text, parse_int
from aidoffice.domain.dates import parse_date, parse_year
from aidoffice.domain.matching import MatchRecord, PairScore
from aidoffice.domain.persons import parse_sex
from aidoffice.errors import UserError
from aidoffice.formats.atomic import atomic_file, require_regular_file
from aidoffice.formats.cells import csv_cell

REQUIRED = ("record_id", "full_name", "national_id", "phone", "birth_year", "sex", "district")
OPTIONAL = ("birth_date", "household_size", "spouse_name", "spouse_national_id")


@dataclass(frozen=True)
class InputRecord:
    record: MatchRecord
    line: int


def _lenient(parse, value):
    """Clerks' values: what cannot be read is treated as missing, never as an error."""
    try:
        return parse(value)
    except (ValueError, TypeError):
        return None


def read_persons(path: Path, rules: CountryRules) -> list[InputRecord]:
    """Read a UTF-8 CSV with the dedup-file header; structural problems raise UserError naming the line. Only a
    regular file is opened (a named pipe would hang the command), and every value is cleaned as typed text."""
    require_regular_file(path, "ملف القائمة")
    try:
        handle = path.open("r", encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise UserError(f"تعذر فتح الملف {path.name}.") from exc
    records: list[InputRecord] = []
    seen: set[str] = set()
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
            if header is None:
                raise UserError(f"الملف {path.name} فارغ.")
            header = [h.strip().lower() for h in header]
            missing = [c for c in REQUIRED if c not in header]
            if missing:
                raise UserError(f"السطر 1: أعمدة مطلوبة غير موجودة: {'، '.join(missing)}.")
            col = {name: header.index(name) for name in (*REQUIRED, *OPTIONAL) if name in header}
            for row in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in row):
                    continue
                if len(row) != len(header):
                    raise UserError(f"السطر {line}: عدد الأعمدة {len(row)} والمتوقع {len(header)}.")
                get = lambda name, row=row: clean_text(row[col[name]]) if name in col else ""  # noqa: E731
                rid = get("record_id")
                if not rid:
                    raise UserError(f"السطر {line}: رقم السجل (record_id) فارغ.")
                if rid in seen:
                    raise UserError(f"السطر {line}: رقم السجل (record_id) مكرر.")
                seen.add(rid)
                year = _lenient(parse_year, get("birth_year"))
                if year is None and get("birth_date"):
                    born = _lenient(parse_date, get("birth_date"))
                    year = born.year if born else None
                sex = _lenient(parse_sex, get("sex"))
                size = _lenient(parse_int, get("household_size"))
                records.append(
                    InputRecord(
                        MatchRecord.from_name(
                            rid,
                            get("full_name"),
                            national_id=_digits_or_empty(rules.national_id.normalize(get("national_id"))),
                            phone=rules.phone.normalize(get("phone")),
                            birth_year=year,
                            sex=sex.value if sex else None,
                            district=normalize_text(get("district")) or None,
                            household_size=size,
                            spouse_parts=tuple(MatchRecord.from_name("", get("spouse_name")).parts),
                            spouse_national_id=rules.national_id.normalize(get("spouse_national_id")),
                        ),
                        line,
                    )
                )
        except UnicodeDecodeError as exc:
            raise UserError(f"الملف {path.name} ليس بترميز UTF-8 (قرب السطر {reader.line_num + 1}).") from exc
        except csv.Error as exc:
            raise UserError(f"السطر {reader.line_num}: صيغة CSV غير صالحة.") from exc
    return records


def _digits_or_empty(nid: str) -> str:
    # A mistyped ID is still evidence (one edit apart); only text that is not digits at all is dropped.
    return nid if nid.isdigit() else ""


def _write_atomically(path: Path, header: Iterable[str], rows: Iterable[Iterable]) -> None:
    try:
        with atomic_file(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([csv_cell(v) for v in header])
            writer.writerows([csv_cell(v) for v in row] for row in rows)
    except OSError as exc:
        raise UserError(f"تعذر كتابة الملف {path.name}: تحقق من المسار والمساحة.") from exc


def write_clusters(path: Path, assignments: list[tuple[str, str]]) -> None:
    _write_atomically(path, ("record_id", "cluster_id"), assignments)


def write_pairs(path: Path, pairs: list[PairScore]) -> None:
    rows = (
        (p.a, p.b, f"{p.score:.2f}", f"{p.probability:.4f}", p.decision, "؛ ".join(p.reasons()))
        for p in sorted(pairs, key=lambda p: -p.score)
    )
    _write_atomically(path, ("record_id_a", "record_id_b", "score", "probability", "decision", "reasons"), rows)
