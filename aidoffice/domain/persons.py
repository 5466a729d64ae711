"""Validation of a person as typed: name parts, ID and phone by country rules, sex, birth date or year."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from aidoffice.domain.arabic import (
    MAX_NAME_PARTS,
    MIN_NAME_PARTS,
    CountryRules,
    clean_text,
    normalize_name,
    parse_name,
)
from aidoffice.domain.dates import MIN_YEAR, parse_date, parse_year
from aidoffice.domain.vocab import Sex
from aidoffice.errors import ValidationError

_SEX_WORDS = {
    "m": Sex.MALE, "male": Sex.MALE, "ذكر": Sex.MALE, "ذ": Sex.MALE,
    "f": Sex.FEMALE, "female": Sex.FEMALE, "انثي": Sex.FEMALE, "انثى": Sex.FEMALE, "أنثى": Sex.FEMALE,
    "أنثي": Sex.FEMALE, "ا": Sex.FEMALE, "أ": Sex.FEMALE, "ث": Sex.FEMALE,
}  # fmt: skip


def parse_sex(text: str | None) -> Sex | None:
    """ذكر/أنثى/انثى/ذ/أ/M/F in any case; None when empty; ValueError otherwise."""
    if text is None or not str(text).strip():
        return None
    key = str(text).strip().lower()
    if key in _SEX_WORDS:
        return _SEX_WORDS[key]
    raise ValueError("unknown sex")


@dataclass(frozen=True)
class PersonInput:
    """A person as typed in a form or a list row: every value is text (or already typed), nothing is trusted."""

    full_name: str
    national_id: str = ""
    phone: str = ""
    sex: str = ""
    birth_date: str | date | None = None
    birth_year: str | int | None = None
    district: str = ""
    categories: tuple[str, ...] | None = None  # None: leave the person's categories as they are
    consent: bool | None = None  # consent to data sharing; None: leave it as recorded
    spouse_name: str = ""
    spouse_national_id: str = ""
    notes: str = ""


@dataclass(frozen=True)
class CleanPerson:
    full_name: str
    name_norm: str
    name_parts: tuple[str, ...]
    national_id: str
    phone: str
    sex: str | None
    birth_date: date | None
    birth_year: int | None
    spouse_name: str
    spouse_name_norm: str
    spouse_national_id: str
    notes: str
    warnings: dict[str, str] = field(default_factory=dict)


def clean_person(data: PersonInput, rules: CountryRules, today: date) -> CleanPerson:
    """The stored form of a person; raises ValidationError naming every wrong field (in Arabic).

    Every text passes `clean_text` first: this is where a form, a list and the command line all meet, so a NUL or a
    bidi override typed or pasted anywhere never reaches the registry."""
    problems: dict[str, str] = {}
    name = clean_text(data.full_name)
    parts = parse_name(name)
    if not name:
        problems["full_name"] = "الاسم مطلوب."
    elif not parts.is_valid:
        problems["full_name"] = f"الاسم يجب أن يتكون من {MIN_NAME_PARTS} إلى {MAX_NAME_PARTS} أجزاء (الاسم الرباعي)."

    nid = rules.national_id.normalize(clean_text(data.national_id))
    if nid and not rules.national_id.is_valid(nid):
        lengths = "، ".join(str(n) for n in rules.national_id.lengths) or "الطول المحدد"
        problems["national_id"] = f"رقم البطاقة غير صالح: أرقام فقط وبطول {lengths}."

    phone = rules.phone.normalize(clean_text(data.phone))
    if clean_text(data.phone) and not rules.phone.is_valid(phone):
        problems["phone"] = "رقم الهاتف غير صالح لهذا البلد."

    sex = None
    try:
        sex = parse_sex(data.sex)
    except ValueError:
        problems["sex"] = "الجنس غير معروف: اكتب ذكر أو أنثى."

    birth_date = birth_year = None
    try:
        birth_date = parse_date(data.birth_date)
    except ValueError:
        problems["birth_date"] = "تاريخ الميلاد غير صالح: اكتبه يوم/شهر/سنة."
    if birth_date is not None:
        if birth_date > today:
            problems["birth_date"] = "تاريخ الميلاد في المستقبل."
        elif birth_date.year < MIN_YEAR:
            problems["birth_date"] = f"تاريخ الميلاد قبل سنة {MIN_YEAR}."
    try:
        birth_year = parse_year(data.birth_year)
    except ValueError:
        problems["birth_year"] = "سنة الميلاد غير صالحة: أربعة أرقام."
    if birth_year is not None and not (MIN_YEAR <= birth_year <= today.year):
        problems["birth_year"] = f"سنة الميلاد يجب أن تكون بين {MIN_YEAR} و{today.year}."
    if birth_date is not None and "birth_date" not in problems:
        if birth_year is not None and birth_year != birth_date.year and "birth_year" not in problems:
            problems["birth_year"] = "سنة الميلاد لا تطابق تاريخ الميلاد."
        birth_year = birth_date.year

    spouse_nid = rules.national_id.normalize(clean_text(data.spouse_national_id))
    if spouse_nid and not rules.national_id.is_valid(spouse_nid):
        problems["spouse_national_id"] = "رقم بطاقة الزوج/الزوجة غير صالح."
    if spouse_nid and spouse_nid == nid:
        problems["spouse_national_id"] = "رقم بطاقة الزوج/الزوجة هو نفس رقم بطاقة الشخص."

    if problems:
        raise ValidationError(problems)
    spouse_name = clean_text(data.spouse_name)
    return CleanPerson(
        full_name=name,
        name_norm=parts.normalized,
        name_parts=parts.parts,
        national_id=nid,
        phone=phone,
        sex=sex.value if sex else None,
        birth_date=birth_date,
        birth_year=birth_year,
        spouse_name=spouse_name,
        spouse_name_norm=normalize_name(spouse_name),
        spouse_national_id=spouse_nid,
        notes=clean_text(data.notes, multiline=True),
    )
