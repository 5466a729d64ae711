"""The office's display style: digits, dates, months, amounts and Excel number formats, in both digit styles."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from aidoffice.domain.display import DEFAULT_STYLE, DisplayStyle, currency_name

WEST = DisplayStyle()
EAST = DisplayStyle(digits="arabic")
YEAR_FIRST = DisplayStyle(date_order="ymd", month_names=False)
DAY = date(2026, 12, 6)


@pytest.mark.parametrize(
    ("style", "call", "expected"),
    [
        (WEST, lambda s: s.number(1234567), "1,234,567"),
        (EAST, lambda s: s.number(1234567), "١٬٢٣٤٬٥٦٧"),
        (WEST, lambda s: s.number(Decimal("45.00")), "45"),
        (WEST, lambda s: s.number(45.0), "45"),
        (EAST, lambda s: s.number(Decimal("1250.50")), "١٬٢٥٠٫٥"),
        (WEST, lambda s: s.number(2.5), "2.5"),
        (WEST, lambda s: s.number(Decimal("0.125")), "0.125"),
        (WEST, lambda s: s.number(Decimal("1.23456")), "1.235"),
        (WEST, lambda s: s.number(12.5, decimals=2), "12.50"),
        (WEST, lambda s: s.number(-1500), "-1,500"),
        (WEST, lambda s: s.number(None), ""),
        (EAST, lambda s: s.number(True), "١"),
        (EAST, lambda s: s.number("TST-01/2026"), "TST-٠١/٢٠٢٦"),
        (EAST, lambda s: s.year(1985), "١٩٨٥"),
        (WEST, lambda s: s.year(1985), "1985"),
        (WEST, lambda s: s.date(DAY), "06/12/2026"),
        (EAST, lambda s: s.date(DAY), "٠٦/١٢/٢٠٢٦"),
        (YEAR_FIRST, lambda s: s.date(DAY), "2026/12/06"),
        (WEST, lambda s: s.date(datetime(2026, 12, 6, 23, 59)), "06/12/2026"),
        (WEST, lambda s: s.date(None), ""),
        (WEST, lambda s: s.datetime(datetime(2026, 12, 6, 9, 5)), "06/12/2026 09:05"),
        (EAST, lambda s: s.datetime(datetime(2026, 12, 6, 9, 5)), "٠٦/١٢/٢٠٢٦ ٠٩:٠٥"),
        (WEST, lambda s: s.month(2026, 12), "ديسمبر 2026"),
        (EAST, lambda s: s.month(2026, 1), "يناير ٢٠٢٦"),
        (YEAR_FIRST, lambda s: s.month(2026, 3), "03/2026"),
        (WEST, lambda s: s.month(2026, 3, words=False), "03/2026"),
        (WEST, lambda s: s.amount(1250, "YER"), "1,250 ريال يمني"),
        (WEST, lambda s: s.amount(Decimal("7.50"), "SYP"), "7.5 ليرة سورية"),
        (EAST, lambda s: s.amount(Decimal("20.00"), "USD"), "٢٠ دولار أمريكي"),
        (WEST, lambda s: s.amount(None, "USD"), "—"),
        (WEST, lambda s: s.amount(300, None), "300"),
        (EAST, lambda s: s.digits_of("بلا نشاط منذ 12 شهراً"), "بلا نشاط منذ ١٢ شهراً"),
        (WEST, lambda s: s.digits_of("منذ ١٢ شهراً"), "منذ ١٢ شهراً"),  # Western style leaves typed text alone
    ],
)
def test_the_style_writes(style, call, expected):
    assert call(style) == expected


def test_currency_names_in_arabic():
    assert [currency_name(c) for c in ("YER", "SYP", "USD")] == ["ريال يمني", "ليرة سورية", "دولار أمريكي"]
    assert currency_name("EUR") == "EUR" and currency_name(None) == "" and currency_name("") == ""


def test_the_pdf_helpers_use_the_shared_function():
    """The printed documents name currencies and write figures through the domain's one helper."""
    from aidoffice.formats.pdf import reports, text

    assert reports.currency_name is currency_name
    assert reports.amount_text(1250, "YER") == DEFAULT_STYLE.amount(1250, "YER")
    assert text.number(Decimal("45.00")) == DEFAULT_STYLE.number(45)


@pytest.mark.parametrize(
    ("style", "kind", "value", "expected"),
    [
        (WEST, "number", 12, "#,##0"),
        (WEST, "number", Decimal("12.00"), "#,##0"),
        (WEST, "number", Decimal("12.5"), "#,##0.0##"),
        (EAST, "number", 12, "[$-2000000]#,##0"),
        (WEST, "date", None, "DD/MM/YYYY"),
        (YEAR_FIRST, "date", None, "YYYY/MM/DD"),
        (EAST, "datetime", None, "[$-2000000]DD/MM/YYYY HH:MM"),
        (EAST, "year", 1985, "[$-2000000]0"),
    ],
)
def test_excel_formats_keep_cells_typed_and_follow_the_style(style, kind, value, expected):
    assert style.excel_format(kind, value) == expected


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        (None, DisplayStyle()),
        ({}, DisplayStyle()),
        ("arabic", DisplayStyle()),
        ({"digits": "arabic"}, DisplayStyle(digits="arabic")),
        ({"digits": "roman", "date_order": "mdy", "month_names": "yes"}, DisplayStyle()),
        ({"digits": "arabic", "date_order": "ymd", "month_names": False}, DisplayStyle("arabic", "ymd", False)),
    ],
)
def test_a_stored_setting_is_read_safely(stored, expected):
    assert DisplayStyle.from_dict(stored) == expected
    assert DisplayStyle.from_dict(expected.to_dict()) == expected
