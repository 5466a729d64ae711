"""Dates as clerks write them (any digits, d/m/y or y/m/d, a year alone), and the Hijri date beside a Gregorian one."""

from __future__ import annotations

import re
from datetime import date, datetime

from hijridate import Gregorian

from aidoffice.domain.arabic import normalize_digits

_SEP = re.compile(r"[/\-.\s]+")
MIN_YEAR = 1900


def parse_date(value: str | date | datetime | None) -> date | None:
    """dd/mm/yyyy, yyyy/mm/dd, dd-mm-yyyy (any separator, any digit script) or an ISO date; ValueError otherwise."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = normalize_digits(str(value)).strip()
    if not text:
        return None
    text = text.split("T")[0].split(" ")[0] if re.match(r"^\d{4}-\d{2}-\d{2}[T ]", text) else text
    parts = [p for p in _SEP.split(text) if p]
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError("unrecognised date")
    a, b, c = (int(p) for p in parts)
    if len(parts[0]) == 4:
        year, month, day = a, b, c
    elif len(parts[2]) == 4:
        day, month, year = a, b, c
    else:
        raise ValueError("year must have four digits")
    return date(year, month, day)  # raises ValueError for 31/02


def parse_year(value: str | int | None) -> int | None:
    if value is None:
        return None
    if isinstance(value, int):
        return value
    text = normalize_digits(str(value)).strip()
    if not text:
        return None
    if text.endswith(".0"):
        text = text[:-2]
    if not (text.isdigit() and len(text) == 4):
        raise ValueError("not a year")
    return int(text)


def hijri(day: date) -> tuple[int, int, int]:
    h = Gregorian(day.year, day.month, day.day).to_hijri()
    return h.year, h.month, h.day


def hijri_text(day: date) -> str:
    """The Hijri date as digits, year first as clerks write it in letters: 1447/05/12 هـ.

    Empty for dates outside the Hijri calendar tables (1343–1500 AH, about 1924–2077): nothing to show, no error.
    """
    try:
        y, mth, d = hijri(day)
    except (OverflowError, ValueError):
        return ""
    return f"{y:04d}/{mth:02d}/{d:02d} هـ"
