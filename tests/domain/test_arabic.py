"""Arabic normalisation, name parts, numbers, phones and national IDs: tables of real cases and properties."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aidoffice.domain.arabic import (
    SYRIA,
    YEMEN,
    CountryRules,
    NationalIdRule,
    normalize_digits,
    normalize_name,
    normalize_text,
    parse_decimal,
    parse_int,
    parse_name,
)

# (typed, normalised) — spellings seen on real association lists.
NAME_CASES = [
    ("محمد", "محمد"),
    ("مُحَمَّد", "محمد"),
    ("مـحـمـد", "محمد"),
    ("أحمد", "احمد"),
    ("إبراهيم", "ابراهيم"),
    ("آمنة", "امنه"),
    ("أمنة", "امنه"),
    ("يحيى", "يحيي"),
    ("يحيي", "يحيي"),
    ("مصطفى", "مصطفي"),
    ("فاطمة", "فاطمه"),
    ("عائشة", "عايشه"),
    ("رؤوف", "رووف"),
    ("رءوف", "روف"),
    ("مؤمن", "مومن"),
    ("هيئة", "هييه"),
    ("علاء", "علا"),
    ("ٱلحسن", "الحسن"),
    ("عبد الله", "عبدالله"),
    ("عبدالله", "عبدالله"),
    ("عبـد اللـه", "عبدالله"),
    ("ﷲ", "الله"),
    ("عبد الرحمن", "عبدالرحمن"),
    ("عبد الرحمٰن", "عبدالرحمن"),
    ("نور الدين", "نورالدين"),
    ("عز الدين محمد", "عزالدين محمد"),
    ("نصر الله", "نصرالله"),
    ("أبو بكر", "ابوبكر"),
    ("ابوبكر", "ابوبكر"),
    ("أم كلثوم", "امكلثوم"),
    ("با وزير", "باوزير"),
    ("باوزير", "باوزير"),
    ("بو بكر", "بوبكر"),
    ("محمد بن علي", "محمد علي"),
    ("فاطمة بنت سالم", "فاطمه سالم"),
    ("سالم ابن عوض", "سالم عوض"),
    ("محمد-علي", "محمد علي"),
    ("محمد،علي", "محمد علي"),
    ("محمد (علي) سالم", "محمد علي سالم"),
    ("  محمد   علي  ", "محمد علي"),
    ("محمد\u200fعلي", "محمدعلي"),
    ("\u202bمحمد علي\u202c", "محمد علي"),
    ("محمد\u00a0علي", "محمد علي"),
    ("ﻣﺤﻤﺪ", "محمد"),  # presentation forms from an old PDF copy
    ("یحیی", "يحيي"),  # Persian yeh
    ("کمال", "كمال"),  # keheh
    ("ال عمر", "العمر"),
    ("عبد الإله", "عبدالاله"),
    ("صالح عبد", "صالح عبد"),
    ("محمد أحمد عبدالله سالم العمودي", "محمد احمد عبدالله سالم العمودي"),
    ("سعيد بن بريك", "سعيد بريك"),
    ("حسين", "حسين"),
    ("حسن", "حسن"),
    ("عمرو", "عمرو"),
    ("سليمان", "سليمان"),
]


@pytest.mark.parametrize(("typed", "expected"), NAME_CASES)
def test_normalize_name(typed, expected):
    assert normalize_name(typed) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [("محمد", "احمد"), ("محمد", "محمود"), ("محمد", "حامد"), ("حسن", "حسين"), ("عمر", "عمرو"), ("سلمان", "سليمان")],
)
def test_different_names_stay_different(a, b):
    assert normalize_name(a) != normalize_name(b)


@pytest.mark.parametrize(
    ("typed", "parts", "given", "family"),
    [
        ("محمد علي", ("محمد", "علي"), "محمد", ""),
        ("محمد علي سالم", ("محمد", "علي", "سالم"), "محمد", "سالم"),
        ("محمد أحمد عبد الله باوزير", ("محمد", "احمد", "عبدالله", "باوزير"), "محمد", "باوزير"),
        ("محمد بن أحمد بن عبد الله با وزير", ("محمد", "احمد", "عبدالله", "باوزير"), "محمد", "باوزير"),
        (
            "نور الدين صالح عوض سالم عمر الكثيري",
            ("نورالدين", "صالح", "عوض", "سالم", "عمر", "الكثيري"),
            "نورالدين",
            "الكثيري",
        ),
    ],
)
def test_parse_name(typed, parts, given, family):
    parsed = parse_name(typed)
    assert parsed.parts == parts
    assert parsed.given == given
    assert parsed.family == family
    assert parsed.is_valid


@pytest.mark.parametrize("typed", ["محمد", "", "   ", "أ ب ج د هـ و ز", "عبد الله"])
def test_names_outside_two_to_six_parts_are_invalid(typed):
    assert not parse_name(typed).is_valid


def test_normalize_text_keeps_words_apart_and_lowercases_latin():
    assert normalize_text("جمعية الخير - فرع أبين") == "جمعيه الخير فرع ابين"
    assert normalize_text("AidOffice") == "aidoffice"
    assert normalize_text(None) == ""


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("٠١٢٣٤٥٦٧٨٩", "0123456789"),
        ("۰۱۲۳۴۵۶۷۸۹", "0123456789"),
        ("१२३", "123"),
        ("١٢٫٥", "12.5"),
        ("١٬٢٥٠", "1250"),
        ("abc", "abc"),
    ],
)
def test_normalize_digits(typed, expected):
    assert normalize_digits(typed) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("12.5", Decimal("12.5")),
        ("١٢٫٥", Decimal("12.5")),
        ("۱۲٫۵", Decimal("12.5")),
        ("1,250", Decimal("1250")),
        ("1,250.75", Decimal("1250.75")),
        ("٠", Decimal("0")),
        ("", None),
        (None, None),
        (" 7 ", Decimal("7")),
    ],
)
def test_parse_decimal_never_turns_twelve_and_a_half_into_125(typed, expected):
    assert parse_decimal(typed) == expected


@pytest.mark.parametrize("typed", ["12.5.1", "abc", "12,5", "1..2", "٥ أفراد"])
def test_parse_decimal_refuses_non_numbers(typed):
    with pytest.raises(ValueError):
        parse_decimal(typed)


def test_parse_int():
    assert parse_int("٥") == 5
    with pytest.raises(ValueError):
        parse_int("2.5")


@pytest.mark.parametrize(
    ("rules", "typed", "expected", "valid"),
    [
        (YEMEN, "777123456", "777123456", True),
        (YEMEN, "+967 777 123 456", "777123456", True),
        (YEMEN, "00967777123456", "777123456", True),
        (YEMEN, "967777123456", "777123456", True),
        (YEMEN, "٧٧٧١٢٣٤٥٦", "777123456", True),
        (YEMEN, "٠٠٩٦٧-٧٣٣-١٢٣-٤٥٦", "733123456", True),
        (YEMEN, "0777123456", "777123456", True),
        (YEMEN, "05 123456", "5123456", True),  # Mukalla landline
        (YEMEN, "77712345", "77712345", False),
        (YEMEN, "phone", "", False),
        (SYRIA, "0944123456", "944123456", True),
        (SYRIA, "+963 944 123 456", "944123456", True),
        (SYRIA, "00963944123456", "944123456", True),
        (SYRIA, "٠٩٤٤١٢٣٤٥٦", "944123456", True),
        (SYRIA, "011 2345678", "112345678", True),
        (SYRIA, "0944", "944", False),
    ],
)
def test_phone_rules(rules, typed, expected, valid):
    nsn = rules.phone.normalize(typed)
    assert nsn == expected
    assert rules.phone.is_valid(nsn) is valid


@pytest.mark.parametrize(
    ("rules", "typed", "expected", "valid"),
    [
        (YEMEN, "01010012345", "01010012345", True),
        (YEMEN, "٠١٠١٠٠١٢٣٤٥", "01010012345", True),
        (YEMEN, "0101-001-2345", "01010012345", True),
        (YEMEN, "9800100000.0", "9800100000", True),  # a spreadsheet float
        (YEMEN, "1234", "1234", False),
        (YEMEN, "12345ab6789", "12345ab6789", False),
        (SYRIA, "01020304050", "01020304050", True),
        (SYRIA, "0102030405", "0102030405", False),
    ],
)
def test_national_id_rules(rules, typed, expected, valid):
    value = rules.national_id.normalize(typed)
    assert value == expected
    assert rules.national_id.is_valid(value) is valid


def test_country_rules_are_configurable_and_round_trip():
    custom = CountryRules.from_dict({**YEMEN.to_dict(), "national_id": {"lengths": [7], "pattern": r"9\d{6}"}})
    assert custom.national_id.is_valid("9123456")
    assert not custom.national_id.is_valid("8123456")
    assert CountryRules.from_dict(custom.to_dict()) == custom
    assert NationalIdRule().is_valid("1")  # no configured length: digits only


# --- properties ---------------------------------------------------------------------------------------------

arabicish = st.text(
    alphabet=st.one_of(
        st.characters(min_codepoint=0x0600, max_codepoint=0x06FF),
        st.characters(min_codepoint=0xFB50, max_codepoint=0xFEFF),
        st.sampled_from(" -_.,،()\u200b\u200f\u202b\u2066\u0640"),
        st.characters(),
    ),
    max_size=60,
)


@given(arabicish)
def test_normalize_name_is_idempotent_and_never_raises(text):
    once = normalize_name(text)
    assert normalize_name(once) == once
    assert normalize_text(normalize_text(text)) == normalize_text(text)


@given(st.lists(st.characters(categories=["Nd"]), min_size=1, max_size=20))
def test_any_digit_script_maps_to_ascii(digits):
    text = "".join(digits)
    out = normalize_digits(text)
    assert out.isascii() and out.isdigit() and len(out) == len(text)
    assert normalize_text(text) == out


@given(st.text(max_size=30))
def test_phone_and_id_normalisation_never_raise(text):
    for rules in (YEMEN, SYRIA):
        nsn = rules.phone.normalize(text)
        assert nsn == "" or nsn.isdigit()
        rules.national_id.is_valid(rules.national_id.normalize(text))


@given(st.text(max_size=20))
def test_parse_decimal_returns_or_raises_value_error(text):
    with contextlib.suppress(ValueError):
        value = parse_decimal(text)
        assert value is None or value.is_finite()


@given(arabicish)
def test_fast_path_agrees_with_the_character_by_character_rules(text):
    from aidoffice.domain.arabic import _fold_once, _fold_slow

    assert _fold_once(text)[0] == _fold_slow(text)


@pytest.mark.parametrize("typed", [name for name, _ in NAME_CASES])
def test_fast_path_agrees_on_real_names(typed):
    from aidoffice.domain.arabic import _fold_once, _fold_slow

    assert _fold_once(typed)[0] == _fold_slow(typed)


@given(st.text(alphabet=st.sampled_from("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹٫٬0123456789 ./-abcمحمد\u0967\u1040"), max_size=30))
def test_normalize_digits_fast_path_agrees_with_the_character_rules(text):
    from aidoffice.domain.arabic import _digit

    expected = "".join(_digit(ch) or {"٫": ".", "٬": ""}.get(ch, ch) for ch in text)
    assert normalize_digits(text) == expected
