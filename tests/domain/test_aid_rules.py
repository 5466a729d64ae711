"""The "already received" periods of each aid window, and dormancy."""

from __future__ import annotations

from datetime import date

import pytest

from aidoffice.domain.aid_rules import PriorAid, aid_period, already_received, is_dormant


@pytest.mark.parametrize(
    ("window", "day", "days", "start", "end"),
    [
        ("month", date(2026, 2, 14), None, date(2026, 2, 1), date(2026, 2, 28)),
        ("month", date(2024, 2, 29), None, date(2024, 2, 1), date(2024, 2, 29)),
        ("days", date(2026, 3, 10), 30, date(2026, 2, 9), date(2026, 4, 8)),
        ("winter", date(2026, 1, 20), None, date(2025, 10, 1), date(2026, 3, 31)),
        ("winter", date(2026, 11, 2), None, date(2026, 10, 1), date(2027, 3, 31)),
        ("winter", date(2026, 7, 2), None, date(2026, 7, 1), date(2026, 7, 31)),  # out of season: the month
        # 1447 AH runs from 26 June 2025 to 15 June 2026 (Umm al-Qura); Ramadan 1447 began on 18 February 2026.
        ("ramadan", date(2026, 3, 5), None, date(2025, 6, 26), date(2026, 6, 15)),
        ("eid", date(2026, 3, 5), None, date(2026, 2, 18), date(2026, 4, 17)),  # Ramadan–Shawwal 1447
        ("eid", date(2026, 5, 27), None, date(2026, 4, 18), date(2026, 6, 15)),  # Dhu al-Qa'dah–Dhu al-Hijjah
    ],
)
def test_periods(window, day, days, start, end):
    period = aid_period(window, day, days)
    assert (period.start, period.end) == (start, end)
    assert day in period


def test_no_limit_and_dates_beyond_the_hijri_tables():
    assert aid_period("none", date(2026, 1, 1)) is None
    far = aid_period("ramadan", date(2090, 5, 5))  # beyond 1500 AH: the Gregorian month
    assert (far.start, far.end) == (date(2090, 5, 1), date(2090, 5, 31))


def test_already_received_keeps_only_the_same_type_inside_the_period():
    prior = [
        PriorAid("جمعية الخير", "food_basket", "سلة غذائية", date(2026, 3, 2)),
        PriorAid("جمعية البر", "food_basket", "سلة غذائية", date(2026, 2, 27)),
        PriorAid("جمعية البر", "cash", "مساعدة نقدية", date(2026, 3, 3)),
    ]
    period, hits = already_received(prior, "food_basket", "month", date(2026, 3, 20))
    assert period.label == "شهر 03/2026"
    assert [h.association for h in hits] == ["جمعية الخير"]
    assert "جمعية الخير" in hits[0].describe() and "02/03/2026" in hits[0].describe()
    assert hits[0].describe().startswith("استلمت")
    assert already_received(prior, "food_basket", "none", date(2026, 3, 20)) == (None, [])


def test_a_line_only_listed_is_not_said_to_be_received():
    listed = PriorAid("جمعية الخير", "food_basket", "سلة غذائية", date(2026, 3, 2), status="listed")
    assert "استلمت" not in listed.describe() and "لم تستلم بعد" in listed.describe()


def test_dormancy():
    today = date(2026, 11, 24)
    assert is_dormant(date(2025, 11, 1), None, today)
    assert not is_dormant(date(2026, 1, 1), date(2001, 1, 1), today)
    assert is_dormant(None, date(2020, 1, 1), today)
    assert not is_dormant(None, None, today)
