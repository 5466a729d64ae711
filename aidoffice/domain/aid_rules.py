"""Rules on aid given: the period inside which the same aid to a household counts as already received; dormancy."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from hijridate import Gregorian, Hijri

from aidoffice.domain.display import DEFAULT_STYLE, DisplayStyle
from aidoffice.domain.vocab import AidWindow

DORMANT_AFTER_DAYS = 365
# Winter aid season: October to March, counted as one winter (the year in which it starts).
WINTER_MONTHS = (10, 11, 12, 1, 2, 3)
# Eid seasons in Hijri months: Ramadan–Shawwal for Eid al-Fitr, Dhu al-Qa'dah–Dhu al-Hijjah for Eid al-Adha.
EID_SEASONS = ((9, 10), (11, 12))


@dataclass(frozen=True)
class AidPeriod:
    """Inclusive first and last day; `label` says it in the clerk's words."""

    start: date
    end: date
    label: str

    def __contains__(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class PriorAid:
    """Aid a household already has from some association (a listed or received line that was not reversed)."""

    association: str
    aid_type_code: str
    aid_type: str
    distribution_date: date
    item: str = ""
    status: str = "received"

    def describe(self, style: DisplayStyle = DEFAULT_STYLE) -> str:
        what = f"{self.aid_type} ({self.item})" if self.item else self.aid_type
        when = style.date(self.distribution_date)
        if self.status == "received":
            return f"استلمت {what} من «{self.association}» بتاريخ {when}"
        return f"مُدرجة لـ{what} في كشف «{self.association}» بتاريخ {when} (لم تستلم بعد)"


def _month(day: date) -> AidPeriod:
    last = calendar.monthrange(day.year, day.month)[1]
    return AidPeriod(day.replace(day=1), day.replace(day=last), f"شهر {day.month:02d}/{day.year}")


def _hijri_months(year: int, first: int, last: int) -> tuple[date, date]:
    start = Hijri(year, first, 1).to_gregorian()
    end_month = Hijri(year, last, 1)
    end = Hijri(year, last, end_month.month_length()).to_gregorian()
    return date(start.year, start.month, start.day), date(end.year, end.month, end.day)


def aid_period(window: AidWindow | str, day: date, days: int | None = None) -> AidPeriod | None:
    """The period around `day` inside which the same aid type counts once; None when the type has no limit.

    Hijri windows outside the range of the Hijri calendar tables (before 1343 AH or after 1500 AH) fall back to the
    Gregorian month, so an odd date never stops a distribution.
    """
    window = AidWindow(window)
    if window is AidWindow.NONE:
        return None
    if window is AidWindow.MONTH:
        return _month(day)
    if window is AidWindow.DAYS:
        span = max(1, days or 30)
        return AidPeriod(day - timedelta(days=span - 1), day + timedelta(days=span - 1), f"{span} يوماً")
    if window is AidWindow.WINTER:
        if day.month not in WINTER_MONTHS:
            return _month(day)
        first_year = day.year if day.month >= 10 else day.year - 1
        return AidPeriod(date(first_year, 10, 1), date(first_year + 1, 3, 31), f"شتاء {first_year}/{first_year + 1}")
    try:
        hijri = Gregorian(day.year, day.month, day.day).to_hijri()
        if window is AidWindow.HIJRI_RAMADAN:  # one Ramadan a Hijri year: the whole year counts as that Ramadan
            start, end = _hijri_months(hijri.year, 1, 12)
            return AidPeriod(start, end, f"رمضان {hijri.year} هـ")
        for first, last in EID_SEASONS:
            if first <= hijri.month <= last:
                start, end = _hijri_months(hijri.year, first, last)
                name = "عيد الفطر" if first == 9 else "عيد الأضحى"
                return AidPeriod(start, end, f"{name} {hijri.year} هـ")
        start, end = _hijri_months(hijri.year, hijri.month, hijri.month)
        return AidPeriod(start, end, f"الشهر {hijri.month:02d}/{hijri.year} هـ")
    except (OverflowError, ValueError):
        return _month(day)


def already_received(
    prior: Iterable[PriorAid], aid_type_code: str, window: AidWindow | str, day: date, days: int | None = None
) -> tuple[AidPeriod | None, list[PriorAid]]:
    """The period for a new line of `aid_type_code` on `day`, and the earlier aid of that type inside it."""
    period = aid_period(window, day, days)
    if period is None:
        return None, []
    hits = [p for p in prior if p.aid_type_code == aid_type_code and p.distribution_date in period]
    return period, sorted(hits, key=lambda p: p.distribution_date, reverse=True)


# Dormancy, the one rule behind the registry's flag and filter, the home page and every report: an association is
# dormant when the office recorded it so, or when it is active but has had no distribution and no report for twelve
# months (counted from its proclamation when there was never any). Suspended and dissolved ones are neither.
DORMANT_STATUS = "dormant"
ACTIVE_STATUS = "active"


def dormant_before(today: date) -> date:
    """Activity older than this day (strictly before it) no longer keeps an active association out of dormancy."""
    return today - timedelta(days=DORMANT_AFTER_DAYS)


def is_dormant(
    last_activity: date | None, registered_on: date | None, today: date, status: str = ACTIVE_STATUS
) -> bool:
    """Recorded dormant, or active with no distribution and no report for twelve months."""
    if status == DORMANT_STATUS:
        return True
    if status != ACTIVE_STATUS:
        return False
    since = last_activity or registered_on
    if since is None:
        return False
    return since < dormant_before(today)


# Only approved rounds (approved, then closed) count in reports: a draft is a plan, not aid given.
APPROVED_ROUND_STATUSES = ("approved", "closed")
