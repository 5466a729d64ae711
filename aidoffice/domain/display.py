"""The office's display style: one way to write digits, dates, months and amounts on screens, sheets and paper."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from aidoffice.domain.vocab import Currency

WESTERN, ARABIC_INDIC = "western", "arabic"
DMY, YMD = "dmy", "ymd"
DIGIT_STYLES = {WESTERN: "أرقام 0123456789 (كما تكتبها لوحة المفاتيح)", ARABIC_INDIC: "أرقام عربية ٠١٢٣٤٥٦٧٨٩"}
DATE_ORDERS = {DMY: "يوم/شهر/سنة: 06/12/2026", YMD: "سنة/شهر/يوم: 2026/12/06"}
MONTH_STYLES = {"words": "باسم الشهر: ديسمبر 2026", "digits": "بالأرقام: 12/2026"}
MONTHS = ("يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر")

_TO_ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
# Arabic-Indic figures take the Arabic separators (Unicode's ARABIC THOUSANDS / DECIMAL SEPARATOR), as CLDR writes them.
_ARABIC_SEPARATORS = str.maketrans({",": "\u066c", ".": "\u066b"})
# Excel draws a number format's digits in a numeral system chosen by its locale prefix: 02 is Arabic-Indic.
_EXCEL_DIGITS = {WESTERN: "", ARABIC_INDIC: "[$-2000000]"}
NOTHING = "—"


def currency_name(code: str | None) -> str:
    """YER → «ريال يمني», SYP → «ليرة سورية», USD → «دولار أمريكي»; an unknown code as it is, nothing for none."""
    if not code:
        return ""
    try:
        return Currency(code).label
    except ValueError:
        return str(code)


@dataclass(frozen=True)
class DisplayStyle:
    """How the office writes figures. The default is what the registry tables have always shown: digits 0–9, days
    first as the date fields accept them (06/12/2026), months by name."""

    digits: str = WESTERN
    date_order: str = DMY
    month_names: bool = True

    @classmethod
    def from_dict(cls, stored: object) -> DisplayStyle:
        """A stored setting; a value that is missing or unknown (an older or edited setting) takes the default."""
        data = stored if isinstance(stored, dict) else {}
        digits = data.get("digits")
        order = data.get("date_order")
        names = data.get("month_names")
        return cls(
            digits=digits if digits in DIGIT_STYLES else WESTERN,
            date_order=order if order in DATE_ORDERS else DMY,
            month_names=names if isinstance(names, bool) else True,
        )

    def to_dict(self) -> dict:
        return asdict(self)

    # --- text ------------------------------------------------------------------------------------------------
    def digits_of(self, text: object) -> str:
        """The text with its digits 0–9 in the office's digits (anything else left as it is)."""
        text = "" if text is None else str(text)
        return text.translate(_TO_ARABIC_INDIC) if self.digits == ARABIC_INDIC else text

    def number(self, value: object, decimals: int | None = None) -> str:
        """A figure with thousands separators, whole values without «.00» (45, not 45.00), at most three decimals
        otherwise (2.5); empty for nothing. Text that is not a figure is given back with its digits restyled."""
        if value is None or value == "":
            return ""
        if isinstance(value, bool):
            value = int(value)
        if not isinstance(value, int | float | Decimal):
            return self.digits_of(value)
        try:
            figure = Decimal(str(value))
        except InvalidOperation:
            return self.digits_of(value)
        if not figure.is_finite():
            return self.digits_of(value)
        if decimals is None:
            decimals = 0 if figure == figure.to_integral_value() else min(3, -figure.normalize().as_tuple().exponent)
        text = f"{figure:,.{decimals}f}"
        if self.digits == ARABIC_INDIC:
            return text.translate(_ARABIC_SEPARATORS).translate(_TO_ARABIC_INDIC)
        return text

    def year(self, value: object) -> str:
        """A year (or any code-like whole number) without a thousands separator: 1985, never 1,985."""
        return "" if value is None or value == "" else self.digits_of(value)

    def date(self, value: date | datetime | None) -> str:
        """06/12/2026 (or 2026/12/06 when the office writes the year first); empty for no date."""
        if value is None:
            return ""
        if isinstance(value, datetime):
            value = value.date()
        text = f"{value:%d/%m/%Y}" if self.date_order == DMY else f"{value:%Y/%m/%d}"
        return self.digits_of(text)

    def datetime(self, value: datetime | None) -> str:
        """The date and the time of day: 06/12/2026 14:30."""
        if value is None:
            return ""
        return f"{self.date(value)} {self.digits_of(f'{value:%H:%M}')}"

    def month(self, year: int, month: int, *, words: bool | None = None) -> str:
        """«ديسمبر 2026», or «12/2026» when the office writes months in figures (or `words` is False)."""
        by_name = self.month_names if words is None else words
        text = f"{MONTHS[month - 1]} {year}" if by_name else f"{month:02d}/{year}"
        return self.digits_of(text)

    def amount(self, value: object, currency: str | None = None) -> str:
        """«1,250 ريال يمني»: the figure as `number` writes it and the currency's Arabic name; «—» for nothing."""
        if value is None or value == "":
            return NOTHING
        return f"{self.number(value)} {currency_name(currency)}".strip()

    # --- spreadsheets ----------------------------------------------------------------------------------------
    def excel_format(self, kind: str, value: object = None) -> str:
        """The number format of a typed cell: it stays a number or a date in Excel and shows as the screens do.
        `kind` is "date", "datetime", "year" or "number" (a whole number gets no decimals, a fraction up to three)."""
        prefix = _EXCEL_DIGITS[self.digits]
        if kind in ("date", "datetime"):
            pattern = "DD/MM/YYYY" if self.date_order == DMY else "YYYY/MM/DD"
            return prefix + pattern + (" HH:MM" if kind == "datetime" else "")
        if kind == "year":
            return prefix + "0"
        whole = True
        if isinstance(value, float | Decimal):
            try:
                figure = Decimal(str(value))
                whole = not figure.is_finite() or figure == figure.to_integral_value()
            except InvalidOperation:
                whole = True
        return prefix + ("#,##0" if whole else "#,##0.0##")


DEFAULT_STYLE = DisplayStyle()
