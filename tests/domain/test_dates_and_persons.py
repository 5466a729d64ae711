"""Dates as clerks write them, the Hijri date, and the validation of a person as typed."""

from __future__ import annotations

from datetime import date

import pytest

from aidoffice.domain.arabic import SYRIA, YEMEN
from aidoffice.domain.dates import hijri, hijri_text, parse_date, parse_year
from aidoffice.domain.persons import PersonInput, clean_person, parse_sex
from aidoffice.errors import ValidationError

TODAY = date(2026, 11, 24)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("15/03/2024", date(2024, 3, 15)),
        ("١٥/٠٣/٢٠٢٤", date(2024, 3, 15)),
        ("2024/03/15", date(2024, 3, 15)),
        ("15-3-2024", date(2024, 3, 15)),
        ("2024-03-15", date(2024, 3, 15)),
        ("2024-03-15T00:00:00", date(2024, 3, 15)),
        ("15.03.2024", date(2024, 3, 15)),
        ("", None),
        (None, None),
    ],
)
def test_parse_date(typed, expected):
    assert parse_date(typed) == expected


@pytest.mark.parametrize("typed", ["31/02/2024", "15/13/2024", "15/03/24", "أمس", "2024"])
def test_parse_date_refuses_impossible_dates(typed):
    with pytest.raises(ValueError):
        parse_date(typed)


def test_parse_year():
    assert parse_year("١٩٨٥") == 1985
    assert parse_year("1985.0") == 1985
    with pytest.raises(ValueError):
        parse_year("85")


def test_hijri_dates():
    assert hijri(date(2026, 3, 1)) == (1447, 9, 12)  # inside Ramadan 1447
    assert hijri_text(date(2026, 3, 1)) == "1447/09/12 هـ"
    assert hijri_text(date(2090, 1, 1)) == hijri_text(date(1900, 1, 1)) == ""  # beyond the tables: nothing shown


@pytest.mark.parametrize(
    ("typed", "code"),
    [("ذكر", "M"), ("أنثى", "F"), ("انثى", "F"), ("ذ", "M"), ("أ", "F"), ("M", "M"), ("f", "F"), ("", None)],
)
def test_parse_sex(typed, code):
    result = parse_sex(typed)
    assert (result.value if result else None) == code


def test_clean_person_normalises_every_field():
    clean = clean_person(
        PersonInput(
            full_name="  مُحَمَّد  بن أحمد عبد الله  باوزير ",
            national_id="٠١٠١٠٠١٢٣٤٥",
            phone="+967 777-123-456",
            sex="ذكر",
            birth_date="١٥/٠٣/١٩٨٥",
            spouse_name="فاطمة سالم العمودي",
        ),
        YEMEN,
        TODAY,
    )
    assert clean.full_name == "مُحَمَّد بن أحمد عبد الله باوزير"
    assert clean.name_norm == "محمد احمد عبدالله باوزير"
    assert clean.name_parts == ("محمد", "احمد", "عبدالله", "باوزير")
    assert clean.national_id == "01010012345"
    assert clean.phone == "777123456"
    assert clean.sex == "M"
    assert clean.birth_date == date(1985, 3, 15) and clean.birth_year == 1985
    assert clean.spouse_name_norm == "فاطمه سالم العمودي"


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"full_name": ""}, "full_name", "مطلوب"),
        ({"full_name": "محمد"}, "full_name", "أجزاء"),
        ({"national_id": "12ab"}, "national_id", "رقم البطاقة"),
        ({"phone": "رقمي"}, "phone", "الهاتف"),
        ({"phone": "12345"}, "phone", "الهاتف"),
        ({"sex": "غير"}, "sex", "الجنس"),
        ({"birth_date": "31/02/1990"}, "birth_date", "تاريخ الميلاد"),
        ({"birth_date": "01/01/2030"}, "birth_date", "المستقبل"),
        ({"birth_year": "1850"}, "birth_year", "سنة الميلاد"),
        ({"birth_date": "01/01/1990", "birth_year": "1991"}, "birth_year", "لا تطابق"),
        ({"spouse_national_id": "01010012345"}, "spouse_national_id", "نفس رقم"),
    ],
)
def test_clean_person_names_the_wrong_field_in_arabic(changes, field, words):
    data = {"full_name": "سالم عوض باعباد", "national_id": "01010012345", **changes}
    with pytest.raises(ValidationError) as err:
        clean_person(PersonInput(**data), YEMEN, TODAY)
    assert field in err.value.problems
    assert words in err.value.problems[field]


def test_clean_person_reports_every_problem_at_once():
    with pytest.raises(ValidationError) as err:
        clean_person(PersonInput(full_name="محمد", phone="x", sex="?"), SYRIA, TODAY)
    assert set(err.value.problems) == {"full_name", "phone", "sex"}


def test_syrian_office_accepts_syrian_numbers():
    clean = clean_person(
        PersonInput(full_name="أحمد محمد الحلبي", national_id="01020304050", phone="0944123456"), SYRIA, TODAY
    )
    assert clean.phone == "944123456"
