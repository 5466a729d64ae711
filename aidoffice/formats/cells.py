"""Cells a spreadsheet program must never run: text that would start a formula, made inert for xlsx and CSV."""

from __future__ import annotations

import re

# OWASP's list (CSV injection) of characters that make Excel, LibreOffice or Google Sheets read a cell as a formula,
# with their full-width forms, which an Arabic or East-Asian keyboard can produce and some spreadsheets honour too.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
# A plain number ("-12", "+3.5", "-1e3") starts with a sign but runs nothing: it stays a number.
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def starts_formula(value: object) -> bool:
    """True for text that a spreadsheet would take for a formula (a plain signed number is not one)."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value)


def csv_cell(value: object) -> object:
    """The value for a CSV cell: text that would start a formula gets a leading apostrophe, as OWASP advises, so a
    spreadsheet shows it as text; anything else is written as it is."""
    return "'" + value if starts_formula(value) else value
