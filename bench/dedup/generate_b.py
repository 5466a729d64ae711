"""Second labelled duplicate list: published Arabic name-variation and registration-error patterns, classes per record.

Written from a different description than generate.py (list A), with its own name pools, districts and clerk habits.
Every record carries `error_classes`: what was done to it relative to the person's clean form (empty for the clean
record). The patterns follow, among others:

- Hassanat & Altarawneh 2014, "Rule- and dictionary-based solution for variations in written Arabic names" (rules
  derived from 9.9 M Jordanian first names): hamza forms of alef, taa marbuta/haa, alef maqsura/yaa, compounds
  written joined or apart (عبد/أبو/نور الدين), the article ال kept or dropped.
- Al-Hagree & Al-Sanabani 2016, "A framework for name matching in Arabic" (Yemen): phonetic, letter-shape and
  keyboard-neighbour confusions, transpositions, insertions and deletions.
- Aqeel et al., "On the development of name search techniques for Arabic" (ASOUNDEX): letters that sound alike
  (ث/س/ت, ذ/ز/د, ظ/ض, ق/ك/ء, ص/س, ط/ت) and are written by ear.
- Damerau 1964 / Pollock & Zamora 1984: most slips are one insertion, deletion, substitution or transposition.
- Beneficiary deduplication guidance (OpenSPP, 121, WFP-style registration reports): typos in ID entry, family members
  sharing a phone, an agent's (association's) phone typed for beneficiaries, people who move, new SIM cards, the same
  household registered under a different member, lists that drop or add name parts.

python -m bench.dedup.generate_b --records 20000 --seed 7 --out list_b.csv
"""

from __future__ import annotations

import argparse
import csv
import random
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bench.dedup.generate import HEADER as HEADER_A

HEADER = (*HEADER_A, "error_classes")

# --- own pools ------------------------------------------------------------------------------------------------
# Given names heard in Yemen (Abyan, Taiz, Hadramawt families) and Syria (Aleppo, Homs countryside).
MALE = (
    "محمد",
    "أحمد",
    "محمود",
    "علي",
    "حسن",
    "حسين",
    "عبدالله",
    "عبدالرحمن",
    "عبدالكريم",
    "عبدالإله",
    "عبدالرزاق",
    "صالح",
    "سالم",
    "سعيد",
    "عمر",
    "عمرو",
    "خالد",
    "ياسر",
    "فؤاد",
    "بدر",
    "زكي",
    "بركات",
    "نبيل",
    "وليد",
    "ماجد",
    "فيصل",
    "مازن",
    "هشام",
    "رامي",
    "سامر",
    "طارق",
    "ناصر",
    "منصور",
    "عادل",
    "جمال",
    "كمال",
    "نورالدين",
    "صلاح الدين",
    "أبوبكر",
    "عوض",
    "مبارك",
    "سند",
    "حمود",
    "عبده",
    "قاسم",
    "يحيى",
    "مصطفى",
    "موسى",
    "عيسى",
    "إبراهيم",
    "إسماعيل",
    "أسامة",
    "حمزة",
    "عثمان",
    "ثابت",
    "ذياب",
    "ظافر",
    "قائد",
    "غالب",
    "شكري",
    "رضوان",
    "مؤمن",
    "لؤي",
    "هاني",
    "أنور",
    "حامد",
    "سلمان",
    "سليمان",
    "نجيب",
    "وضاح",
    "معاذ",
    "عارف",
    "فهد",
    "راشد",
    "حسام",
    "بشار",
    "غسان",
    "عمار",
    "أيمن",
    "زياد",
    "مرتضى",
    "مهدي",
    "أكرم",
    "أمين",
    "توفيق",
    "شوقي",
    "عزيز",
    "فتحي",
    "جلال",
    "منير",
    "رياض",
    "مختار",
    "نصر",
    "ثامر",
    "عصام",
    "ذيبان",
    "قحطان",
    "عدنان",
    "مطهر",
    "شرف",
)
FEMALE = (
    "فاطمة",
    "زينب",
    "عائشة",
    "خديجة",
    "مريم",
    "آمنة",
    "سعاد",
    "نجلاء",
    "هدى",
    "ليلى",
    "سلمى",
    "رقية",
    "أسماء",
    "إيمان",
    "أمل",
    "نور",
    "نورة",
    "سميرة",
    "رحاب",
    "حنان",
    "بشرى",
    "ذكرى",
    "منى",
    "لبنى",
    "سوسن",
    "رنا",
    "ريم",
    "دعاء",
    "رغد",
    "هيفاء",
    "سهى",
    "وفاء",
    "صفاء",
    "جميلة",
    "حليمة",
    "شيماء",
    "نسرين",
    "ياسمين",
    "لمى",
    "غادة",
    "عبير",
    "سناء",
    "أروى",
    "بلقيس",
    "سبأ",
    "ثريا",
    "زهراء",
    "كوثر",
    "علياء",
    "هناء",
    "أم كلثوم",
    "نجوى",
    "ضحى",
    "إسراء",
    "آلاء",
    "رؤى",
    "ظبية",
    "قمر",
    "ابتسام",
    "انتصار",
    "سلوى",
    "عفاف",
    "تقوى",
    "مروة",
    "هالة",
    "رشا",
)
# Hadrami families with با and بن, families with ال, and plain ones (Yemeni and Syrian).
FAMILY_BA = (
    "باوزير",
    "باعبود",
    "باشراحيل",
    "باسلامة",
    "بامطرف",
    "باعشن",
    "باحميش",
    "بافضل",
    "باجابر",
    "باصرة",
    "باحاج",
    "باكثير",
    "باعلوي",
    "بامخرمة",
    "باسويد",
)
FAMILY_BIN = ("بن بريك", "بن دغر", "بن شيخان", "بن طالب", "بن حفيظ", "بن سميط", "بن عيدان", "بن كليب", "بن ثعلب")
FAMILY_AL = (
    "الحبشي",
    "العمودي",
    "الكاف",
    "السقاف",
    "العطاس",
    "الجفري",
    "الحداد",
    "المشهور",
    "اليافعي",
    "العولقي",
    "الفضلي",
    "الكثيري",
    "الشرعبي",
    "الصبري",
    "المخلافي",
    "الذبحاني",
    "الأغبري",
    "الحكيمي",
    "القدسي",
    "الأهدل",
    "الحلبي",
    "الحمصي",
    "الإدلبي",
    "الخطيب",
    "الزعبي",
    "الأيوبي",
    "القباني",
    "الأتاسي",
    "الظاهري",
    "الأصبحي",
    "الثوري",
    "الذماري",
    "الضالعي",
    "القرشي",
    "الأحمدي",
)
FAMILY_PLAIN = ("حمدان", "زيدان", "سلوم", "شحادة", "دياب", "عرنوس", "طيارة", "قاسم", "مقبل", "ثابت", "سيف", "غالب")
FAMILIES = FAMILY_BA + FAMILY_BIN + FAMILY_AL + FAMILY_PLAIN
# Brothers and sisters are often given names that sound alike (a matcher must still keep them apart).
SIBLING_NAMES = (
    ("محمد", "أحمد", "محمود", "حامد", "حمود"), ("حسن", "حسين", "محسن"), ("عمر", "عمرو"), ("سلمان", "سليمان"),
    ("عبدالله", "عبدالرحمن", "عبدالكريم", "عبدالإله"), ("سالم", "سليم"), ("نور", "نورة"), ("أمل", "آمنة"),
    ("منى", "منال"), ("هدى", "هناء"), ("سلمى", "سلوى"), ("زكي", "زياد"),
)  # fmt: skip
TWIN_NAMES = (("حسن", "حسين"), ("محمد", "أحمد"), ("عمر", "عمرو"), ("سلمان", "سليمان"), ("فاطمة", "زينب"))
# Districts by governorate: Abyan, Taiz, Aleppo countryside, Homs countryside.
GOVERNORATES = {
    "أبين": ("زنجبار", "خنفر", "لودر", "مودية", "أحور", "الوضيع", "جيشان", "سباح", "رصد", "المحفد"),
    "تعز": ("المظفر", "القاهرة", "صالة", "التعزية", "المعافر", "الشمايتين", "المواسط", "جبل حبشي", "مقبنة", "المخا"),
    "حلب": ("جبل سمعان", "منبج", "الباب", "عفرين", "أعزاز", "السفيرة", "دير حافر", "جرابلس", "الأتارب"),
    "حمص": ("تلبيسة", "الرستن", "القصير", "تدمر", "المخرم", "تلكلخ", "الحولة", "القريتين"),
}
ID_PREFIX = {"أبين": ("06", "16"), "تعز": ("04", "14"), "حلب": ("02", "12"), "حمص": ("05", "15")}
MOBILE_PREFIX = ("77", "73", "71", "70", "78")

# --- letters -------------------------------------------------------------------------------------------------
# Arabic (101) keyboard rows: a slip hits the key beside the intended one.
_ROWS = ("ضصثقفغعهخحجد", "شسيبلاتنمكط", "ئءؤرىةوزظ")
KEY_NEIGHBOURS: dict[str, str] = {}
for _row in _ROWS:
    for _i, _ch in enumerate(_row):
        KEY_NEIGHBOURS[_ch] = (_row[_i - 1] if _i else "") + (_row[_i + 1] if _i + 1 < len(_row) else "")
# Letters written by ear (dialect, dictation over the phone).
BY_EAR = {
    "ث": "ست",
    "س": "ثص",
    "ت": "ط",
    "ذ": "زد",
    "ز": "ذ",
    "د": "ذ",
    "ظ": "ضز",
    "ض": "ظ",
    "ق": "كغء",
    "ك": "ق",
    "ص": "س",
    "ط": "ت",
    "ح": "ه",
    "ع": "ء",
}
HAMZA_ALEFS = "أإآ"
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
PERSIAN = str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")
SEX_CODES = {"M": ("ذكر", "ذ", "M", "m"), "F": ("أنثى", "انثى", "أ", "F", "f")}

# Error classes a record may carry (documented in the report); the first/clean record carries none.
CLASSES = (
    "dropped_grandfather",  # given father family (grandfather left out)
    "three_vs_four_parts",  # given father grandfather (family left out: the third part reads as the family)
    "five_parts",  # great-grandfather added
    "family_first",  # family name written first
    "given_typo",  # slip in the first letters of the given name: dropped, swapped, keyboard neighbour, by ear
    "name_typo",  # one slip inside another part (insertion, deletion, substitution, transposition)
    "compound_split_joined",  # عبد الله/عبدالله, ابو بكر, نور الدين, با وزير/باوزير, بن بريك/بنبريك, بن between parts
    "hamza",  # أ إ آ ؤ ئ written as bare letters (or the reverse)
    "taa_marbuta",  # ة ↔ ه at word end
    "alef_maqsura",  # ى ↔ ي at word end (يحيى/يحيي, علي/على)
    "dropped_al",  # ال dropped from (or added to) the family name
    "by_ear",  # a letter confused by ear: ث/س, ذ/ز, ظ/ض, ق/ك/ء, ص/س, ط/ت
    "diacritics_tatweel",  # harakat or tatweel typed into the name
    "whitespace",  # doubled, leading, trailing spaces or invisible marks
    "arabic_indic_digits",  # ID, phone, year in ٠-٩ or ۰-۹
    "id_typo",  # one or two digits wrong, or two neighbours transposed
    "missing_id",  # ID left empty
    "new_phone",  # a different number (new SIM)
    "missing_phone",  # phone left empty
    "phone_prefix",  # +967 / 00967 / 0 / spaces around the nine digits
    "birth_year_shift",  # year ±1 (age asked instead of the year) or ±2
    "moved_district",  # registered in another district (displacement, return)
    "household_changed",  # household size changed by a birth, a death, a split
    "spouse_registration",  # the household registered under the wife: husband's phone, name and ID as spouse
    "exact_copy",  # listed again with nothing changed
    "bad_input",  # given name only, empty name, association's phone, one ID copied onto many rows
)


@dataclass
class Person:
    pid: str
    parts: tuple[str, str, str, str, str]  # given, father, grandfather, great-grandfather, family
    sex: str
    birth_year: int
    birth_date: str
    national_id: str
    phone: str
    governorate: str
    district: str
    household: str
    lineage: str
    role: str  # husband, wife, son, daughter, namesake
    father: str = ""
    spouses: list[str] = field(default_factory=list)
    household_size: int = 1
    twin_of: str = ""
    namesake_of: str = ""

    @property
    def clean_name(self) -> str:
        given, father, grand, _great, family = self.parts
        return " ".join((given, father, grand, family))


@dataclass(frozen=True)
class Association:
    """One association's clerk: how they write names and numbers, each habit with its own rate."""

    name: str
    parts_style: tuple[
        float, float, float, float
    ]  # P(drop grandfather), P(drop family), P(five parts), P(family first)
    strips_hamza: float
    ha_for_taa: float
    maqsura_swap: float
    compounds: float
    adds_bin: float
    drops_al: float
    by_ear: float  # dictation: the clerk writes what they hear
    slips: float  # keyboard slips per name
    decorates: float  # harakat / tatweel
    spaces: float
    indic_digits: float
    persian_digits: bool
    phone_style: str  # how this association writes every phone
    id_slips: float
    skips_id: float
    asks_age: float
    registers_wives: float  # women-focused associations list the household under the wife
    own_phone: str  # typed when the beneficiary gave none (bad input); empty if the clerk leaves it empty
    own_phone_rate: float


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


class _World:
    """Lineages, households and the persons in them: brothers, cousins, fathers and sons, twins, co-wives, namesakes."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.people: list[Person] = []
        self.ids: set[str] = set()
        self.serial = 0
        self.households = 0
        self.lineages = 0

    def nid(self, gov: str) -> str:
        while True:
            value = self.rng.choice(ID_PREFIX[gov]) + _digits(self.rng, 9)
            if value not in self.ids:
                self.ids.add(value)
                return value

    def phone(self) -> str:
        return self.rng.choice(MOBILE_PREFIX) + _digits(self.rng, 7)

    def add(self, **kw) -> Person:
        self.serial += 1
        person = Person(pid=f"b{self.serial}", **kw)
        self.people.append(person)
        return person

    def birth_date(self, year: int) -> str:
        if self.rng.random() < 0.45:
            return f"{year}-{self.rng.randint(1, 12):02d}-{self.rng.randint(1, 28):02d}"
        return ""

    def lineage(self) -> None:
        rng = self.rng
        self.lineages += 1
        lineage = f"L{self.lineages}"
        gov = rng.choice(tuple(GOVERNORATES))
        syrian = gov in ("حلب", "حمص")
        pool = FAMILY_AL[20:] + FAMILY_PLAIN[:8] if syrian else FAMILY_BA + FAMILY_BIN + FAMILY_AL[:20] + FAMILY_PLAIN
        family = rng.choice(pool)
        home = rng.choice(GOVERNORATES[gov])
        great, grand = rng.choice(MALE), rng.choice(MALE)
        brothers = rng.choices((1, 2, 3, 4), weights=(3, 4, 3, 1))[0]
        used: set[str] = set()
        shared_phone = self.phone()
        for _ in range(brothers):
            given = rng.choice([m for m in MALE if m not in used and m != grand])
            used.add(given)
            district = home if rng.random() < 0.8 else rng.choice(GOVERNORATES[gov])
            self.household(lineage, gov, district, (given, grand, great, rng.choice(MALE), family), shared_phone)

    def household(self, lineage: str, gov: str, district: str, parts: tuple, shared_phone: str) -> None:
        rng = self.rng
        self.households += 1
        hh = f"H{self.households}"
        year = rng.randint(1950, 1992)
        phone = shared_phone if rng.random() < 0.3 else (self.phone() if rng.random() < 0.92 else "")
        children = rng.choices(range(9), weights=(4, 5, 7, 8, 8, 7, 5, 3, 2))[0]
        n_wives = 2 if rng.random() < 0.07 else 1
        size = 1 + n_wives + children
        husband = self.add(
            parts=parts, sex="M", birth_year=year, birth_date=self.birth_date(year), national_id=self.nid(gov),
            phone=phone, governorate=gov, district=district, household=hh, lineage=lineage, role="husband",
            household_size=size,
        )  # fmt: skip
        wives = []
        for _ in range(n_wives):
            wyear = min(2004, year + rng.randint(0, 14))
            wparts = (rng.choice(FEMALE), rng.choice(MALE), rng.choice(MALE), rng.choice(MALE), rng.choice(FAMILIES))
            # A wife has her own phone, shares her husband's, or has none.
            r = rng.random()
            wphone = self.phone() if r < 0.3 else (phone if r < 0.6 else "")
            wife = self.add(
                parts=wparts, sex="F", birth_year=wyear, birth_date=self.birth_date(wyear),
                national_id=self.nid(gov) if rng.random() < 0.85 else "", phone=wphone, governorate=gov,
                district=district, household=hh, lineage=f"W{self.serial + 1}", role="wife", household_size=size,
                spouses=[husband.pid],
            )  # fmt: skip
            husband.spouses.append(wife.pid)
            wives.append(wife)
        given_used = {parts[0]}
        k = 0
        while k < children:
            mother = rng.choice(wives)
            cyear = min(2024, mother.birth_year + rng.randint(17, 40))
            twins = k + 1 < children and rng.random() < 0.05
            names = []
            if twins:
                pair = rng.choice(TWIN_NAMES)
                sex = "F" if pair[0] in FEMALE else "M"
                names = [(pair[0], sex), (pair[1], sex)]
            else:
                sex = rng.choice("MF")
                pool = [g for g in (MALE if sex == "M" else FEMALE) if g not in given_used]
                alike = [g for group in SIBLING_NAMES if given_used & set(group) for g in group if g in pool]
                if sex == "M" and parts[1] not in given_used and rng.random() < 0.3:
                    given = parts[1]  # a son named after his paternal grandfather (so cousins share it too)
                elif alike and rng.random() < 0.35:
                    given = rng.choice(alike)
                else:
                    given = rng.choice(pool)
                names = [(given, sex)]
            date = self.birth_date(cyear) if not twins else f"{cyear}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            born = []
            for given, sex in names:
                given_used.add(given)
                adult = cyear <= 2006
                child = self.add(
                    parts=(given, parts[0], parts[1], parts[2], parts[4]), sex=sex, birth_year=cyear, birth_date=date,
                    national_id=self.nid(gov) if adult and rng.random() < 0.8 else "",
                    phone=(self.phone() if rng.random() < 0.6 else phone) if adult else "", governorate=gov,
                    district=district, household=hh, lineage=lineage, role="son" if sex == "M" else "daughter",
                    father=husband.pid, household_size=size,
                )  # fmt: skip
                born.append(child)
            if twins:
                born[0].twin_of, born[1].twin_of = born[1].pid, born[0].pid
            k += len(names)

    def namesake(self) -> None:
        """An unrelated person with the very same four-part name (common names are common)."""
        rng = self.rng
        src = rng.choice([p for p in self.people if p.role in ("husband", "son") and p.national_id])
        gov = rng.choice(tuple(GOVERNORATES))
        district = src.district if rng.random() < 0.3 else rng.choice(GOVERNORATES[gov])
        year = rng.randint(1950, 2004)
        self.households += 1
        parts = (*src.parts[:3], rng.choice(MALE), src.parts[4])
        self.add(
            parts=parts, sex="M", birth_year=year, birth_date=self.birth_date(year), national_id=self.nid(gov),
            phone=self.phone(), governorate=gov, district=district, household=f"H{self.households}",
            lineage=f"N{self.serial + 1}", role="namesake", household_size=rng.randint(1, 9), namesake_of=src.pid,
        )  # fmt: skip


def _associations(rng: random.Random, n: int = 12) -> list[Association]:
    styles = ("", "", "0", "+967", "+967 ", "00967", "0 ")
    out = []
    for k in range(n):
        women = k in (2, 7)  # two women-focused associations
        out.append(
            Association(
                name=f"A{k + 1}",
                parts_style=(rng.random() * 0.35, rng.random() * 0.15, rng.random() * 0.1, rng.random() * 0.06),
                strips_hamza=rng.choice((0.0, 0.3, 0.7, 0.95)),
                ha_for_taa=rng.choice((0.0, 0.2, 0.6)),
                maqsura_swap=rng.choice((0.0, 0.3, 0.7)),
                compounds=rng.random() * 0.5,
                adds_bin=rng.random() * 0.2,
                drops_al=rng.random() * 0.25,
                by_ear=rng.random() * 0.12,
                slips=rng.random() * 0.15,
                decorates=rng.random() * 0.06,
                spaces=rng.random() * 0.12,
                indic_digits=rng.choice((0.0, 0.0, 0.5, 0.9)),
                persian_digits=rng.random() < 0.2,
                phone_style=rng.choice(styles),
                id_slips=0.04 + rng.random() * 0.08,
                skips_id=rng.random() * 0.25,
                asks_age=rng.random() * 0.4,
                registers_wives=0.8 if women else 0.1,
                own_phone="7" + rng.choice("7310") + _digits(rng, 7) if k in (4, 9) else "",
                own_phone_rate=0.25 if k in (4, 9) else 0.0,
            )
        )
    return out


# --- what a clerk does to a name -----------------------------------------------------------------------------


def _given_typo(rng: random.Random, given: str) -> str:
    """A slip in the first letters: drop the first letter, swap the first two, a keyboard neighbour, or by ear."""
    word = given.replace(" ", "")
    for _ in range(8):
        kind = rng.choice(("drop", "swap", "key", "key", "ear"))
        if kind == "drop" and len(word) >= 3:
            out = word[1:]
        elif kind == "swap" and len(word) >= 3 and word[0] != word[1]:
            out = word[1] + word[0] + word[2:]
        elif kind == "key" and KEY_NEIGHBOURS.get(word[0]):
            out = rng.choice(KEY_NEIGHBOURS[word[0]]) + word[1:]
        elif kind == "ear" and word[0] in BY_EAR:
            out = rng.choice(BY_EAR[word[0]]) + word[1:]
        elif KEY_NEIGHBOURS.get(word[1] if len(word) > 1 else ""):
            out = word[0] + rng.choice(KEY_NEIGHBOURS[word[1]]) + word[2:]
        else:
            continue
        if out != word:
            return out
    return given


def _name_typo(rng: random.Random, word: str) -> str:
    """One slip inside a word (never its first letter): deletion, insertion, neighbour key or transposition."""
    if len(word) < 3:
        return word
    k = rng.randrange(1, len(word))
    kind = rng.choice(("del", "ins", "key", "swap"))
    if kind == "del":
        return word[:k] + word[k + 1 :]
    if kind == "ins":
        return word[:k] + word[k] + word[k:]
    if kind == "key" and KEY_NEIGHBOURS.get(word[k]):
        return word[:k] + rng.choice(KEY_NEIGHBOURS[word[k]]) + word[k + 1 :]
    if kind == "swap" and k + 1 < len(word):
        return word[:k] + word[k + 1] + word[k] + word[k + 2 :]
    return word[:k] + word[k + 1 :]


def _by_ear(rng: random.Random, words: list[str]) -> bool:
    spots = [(i, k) for i, w in enumerate(words) for k, ch in enumerate(w) if ch in BY_EAR and (i or k)]
    if not spots:
        return False
    i, k = rng.choice(spots)
    w = words[i]
    words[i] = w[:k] + rng.choice(BY_EAR[w[k]]) + w[k + 1 :]
    return True


def _toggle_compounds(rng: random.Random, text: str) -> str:
    """Join what is apart and split what is joined: عبد الله, ابو بكر, نور الدين, با وزير, بن بريك, ام كلثوم."""
    words = text.split(" ")
    out: list[str] = []
    i = 0
    while i < len(words):
        w = words[i]
        if w in ("عبد", "أبو", "ابو", "أم", "ام", "با", "بن") and i + 1 < len(words):
            out.append(w + words[i + 1])  # join
            i += 2
            continue
        if i and w in ("الدين", "الله", "الرحمن") and out:
            out[-1] += w
            i += 1
            continue
        split = None
        for head in ("عبد", "أبو", "ابو", "بن"):
            if w.startswith(head) and len(w) > len(head) + 2:
                split = (head, w[len(head) :])
        if split is None and w.startswith("با") and len(w) > 4 and w[2] not in "ل":
            split = ("با", w[2:])
        if split is None:
            for tail in ("الدين", "الله", "الرحمن"):
                if w.endswith(tail) and len(w) > len(tail) + 1 and not w.startswith("عبد"):
                    split = (w[: -len(tail)], tail)
        out.extend(split if split and rng.random() < 0.9 else (w,))
        i += 1
    return " ".join(out)


def _spell(rng: random.Random, text: str, clerk: Association, classes: list[str]) -> str:
    """Orthographic habits (Hassanat & Altarawneh's rule families), each recorded if it changed the text."""
    if rng.random() < clerk.strips_hamza:
        new = text.translate(str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ؤ": "و", "ئ": "ي"}))
        if new == text and rng.random() < 0.3:  # the reverse: a hamza added on an initial alef
            new = " ".join("أ" + w[1:] if w.startswith("ا") and not w.startswith("ال") else w for w in text.split(" "))
        if new != text:
            text = new
            classes.append("hamza")
    if rng.random() < clerk.ha_for_taa:
        new = " ".join(w[:-1] + "ه" if w.endswith("ة") else w for w in text.split(" "))
        if new != text:
            text = new
            classes.append("taa_marbuta")
    if rng.random() < clerk.maqsura_swap:
        swap = {"ى": "ي", "ي": "ى"}
        words = text.split(" ")
        ends = [i for i, w in enumerate(words) if len(w) > 1 and w[-1] in swap]
        if ends:
            for i in rng.sample(ends, k=max(1, len(ends) // 2)):
                words[i] = words[i][:-1] + swap[words[i][-1]]
            text = " ".join(words)
            classes.append("alef_maqsura")
    return text


def write_name(rng: random.Random, person: Person, clerk: Association, classes: list[str]) -> str:
    given, father, grand, great, family = person.parts
    drop_gf, drop_family, five, family_first = clerk.parts_style
    r = rng.random()
    if r < drop_gf:
        parts = [given, father, family]
        classes.append("dropped_grandfather")
    elif r < drop_gf + drop_family:
        parts = [given, father, grand]
        classes.append("three_vs_four_parts")
    elif r < drop_gf + drop_family + five:
        parts = [given, father, grand, great, family]
        classes.append("five_parts")
    else:
        parts = [given, father, grand, family]
    if rng.random() < clerk.slips:
        new = _given_typo(rng, parts[0])
        if new != parts[0]:
            parts[0] = new
            classes.append("given_typo")
    if rng.random() < clerk.slips:
        i = rng.randrange(1, len(parts))
        new = _name_typo(rng, parts[i])
        if new != parts[i]:
            parts[i] = new
            classes.append("name_typo")
    if parts[-1] == family and rng.random() < clerk.drops_al:
        new = family[2:] if family.startswith("ال") else ("ال" + family if family in FAMILY_PLAIN else family)
        if new != family:
            parts[-1] = new
            classes.append("dropped_al")
    text = " ".join(parts)
    compound = False
    if rng.random() < clerk.compounds:
        new = _toggle_compounds(rng, text)
        compound = new != text
        text = new
    if rng.random() < clerk.adds_bin and len(parts) >= 3:
        words = text.split(" ")
        words.insert(1, "بن" if person.sex == "M" else "بنت")
        text = " ".join(words)
        compound = True
    if compound:
        classes.append("compound_split_joined")
    text = _spell(rng, text, clerk, classes)
    if rng.random() < clerk.by_ear:
        words = text.split(" ")
        if _by_ear(rng, words):
            text = " ".join(words)
            classes.append("by_ear")
    if rng.random() < family_first:
        words = text.split(" ")
        if len(words) >= 3:
            text = " ".join(words[-1:] + words[:-1])
            classes.append("family_first")
    if rng.random() < clerk.decorates:
        words = text.split(" ")
        i = rng.randrange(len(words))
        w = words[i]
        if len(w) >= 3:
            k = rng.randrange(1, len(w))
            words[i] = w[:k] + rng.choice(("\u0640", "\u064e", "\u064f", "\u0650", "\u0651", "\u0652")) + w[k:]
            text = " ".join(words)
            classes.append("diacritics_tatweel")
    if rng.random() < clerk.spaces:
        kind = rng.choice(("double", "edges", "mark"))
        if kind == "double":
            text = text.replace(" ", "  ", 1 + rng.randrange(2))
        elif kind == "edges":
            text = " " + text + "  "
        else:
            text = text + "\u200f" if rng.random() < 0.5 else "\u200f" + text
        classes.append("whitespace")
    return text


# --- numbers -------------------------------------------------------------------------------------------------


def _id_typo(rng: random.Random, nid: str) -> str:
    digits = list(nid)
    if rng.random() < 0.35:
        k = rng.randrange(len(digits) - 1)
        if digits[k] != digits[k + 1]:
            digits[k], digits[k + 1] = digits[k + 1], digits[k]
            return "".join(digits)
    for k in rng.sample(range(len(digits)), 2 if rng.random() < 0.25 else 1):
        digits[k] = rng.choice([d for d in "0123456789" if d != digits[k]])
    return "".join(digits)


def _phone_text(rng: random.Random, phone: str, style: str) -> str:
    if not phone:
        return ""
    if style.endswith(" ") and rng.random() < 0.5:
        return f"{style}{phone[:3]} {phone[3:6]} {phone[6:]}"
    return style + phone


@dataclass
class _Record:
    row: list[str]
    classes: list[str]


def clean_record(rng: random.Random, person: Person, people: dict[str, Person], rid: str) -> _Record:
    """The person as the office would want them written: four parts, plain digits, nine-digit phone."""
    spouse_name = spouse_id = ""
    if person.spouses and (person.sex == "M" or rng.random() < 0.5):
        spouse = people[person.spouses[0]]
        spouse_name, spouse_id = spouse.clean_name, spouse.national_id
    return _Record(
        [
            rid,
            person.clean_name,
            person.national_id,
            person.phone,
            str(person.birth_year),
            SEX_CODES[person.sex][0],
            person.district,
            person.birth_date,
            str(person.household_size),
            spouse_name,
            spouse_id,
            person.pid,
        ],
        [],
    )


def duplicate_record(
    rng: random.Random, person: Person, people: dict[str, Person], clerk: Association, rid: str
) -> _Record:
    """The person as another association's clerk lists them; every change is named in `classes`."""
    classes: list[str] = []
    name = write_name(rng, person, clerk, classes)
    nid = person.national_id
    if nid and rng.random() < clerk.skips_id:
        nid = ""
        classes.append("missing_id")
    elif nid and rng.random() < clerk.id_slips:
        nid = _id_typo(rng, nid)
        classes.append("id_typo")
    phone = person.phone
    spouse_name = spouse_id = ""
    size = person.household_size
    husband = people[person.spouses[0]] if person.role == "wife" else None
    if husband is not None and rng.random() < clerk.registers_wives:
        # The household registered under the wife: her husband's phone, his name and ID as spouse, the household's
        # size; often her own ID is missing because the family card is his.
        classes.append("spouse_registration")
        phone = husband.phone or phone
        spouse_name = write_name(rng, husband, clerk, [])
        spouse_id = husband.national_id
        if nid and rng.random() < 0.4:
            nid = ""
            classes.append("missing_id")
    else:
        if phone and rng.random() < 0.15:
            phone = "7" + rng.choice("7310") + _digits(rng, 7)
            classes.append("new_phone")
        elif phone and rng.random() < 0.08:
            phone = ""
            classes.append("missing_phone")
        if person.spouses and rng.random() < 0.5:
            spouse = people[person.spouses[0]]
            spouse_name, spouse_id = spouse.clean_name, spouse.national_id
    phone_text = _phone_text(rng, phone, clerk.phone_style)
    if phone_text and phone_text != phone:
        classes.append("phone_prefix")
    year = person.birth_year
    if rng.random() < clerk.asks_age:
        year += rng.choice((-1, 1))
        classes.append("birth_year_shift")
    elif rng.random() < 0.02:
        year += rng.choice((-2, 2))
        classes.append("birth_year_shift")
    district = person.district
    if rng.random() < 0.08:
        gov = person.governorate if rng.random() < 0.7 else rng.choice(tuple(GOVERNORATES))
        district = rng.choice([d for d in GOVERNORATES[gov] if d != person.district])
        classes.append("moved_district")
    if rng.random() < 0.15 and "spouse_registration" not in classes:
        size = max(1, size + rng.choice((-2, -1, 1, 1)))
        classes.append("household_changed")
    values = [nid, phone_text, str(year)]
    if rng.random() < clerk.indic_digits:
        table = PERSIAN if clerk.persian_digits else ARABIC_INDIC
        new = [v.translate(table) for v in values]
        if new != values:
            values = new
            classes.append("arabic_indic_digits")
    if not classes:
        classes.append("exact_copy")
    return _Record(
        [
            rid,
            name,
            values[0],
            values[1],
            values[2],
            rng.choice(SEX_CODES[person.sex]),
            district,
            person.birth_date if year == person.birth_year and rng.random() < 0.5 else "",
            str(size),
            spouse_name,
            spouse_id,
            person.pid,
        ],
        classes,
    )


def _bad_input(rng: random.Random, records: list[_Record], clerks: list[Association], repeated_id: str) -> None:
    """A few percent of rows spoiled by the sheet, not the person: their truth stays their own person."""
    n = len(records)
    for rec in rng.sample(records, k=int(n * 0.012)):  # given name only, or nothing
        rec.row[1] = rec.row[1].split(" ")[0] if rng.random() < 0.7 and rec.row[1].strip() else ""
        rec.classes.append("bad_input")
    for rec in rng.sample(records, k=int(n * 0.004)):  # one ID copied down the sheet
        if rec.row[2] != repeated_id:
            rec.row[2] = repeated_id
            rec.classes.append("bad_input")
    phones = [c.own_phone for c in clerks if c.own_phone]
    for rec in rng.sample(records, k=int(n * 0.012)):  # the association's own phone for those without one
        rec.row[3] = rng.choice(phones)
        rec.classes.append("bad_input")


def generate_labelled(n_records: int, seed: int) -> tuple[list[list[str]], dict[str, Person]]:
    """Rows (HEADER order, shuffled) and the persons behind them, for relation-aware error analysis."""
    rng = random.Random(seed)
    clerks = _associations(rng)
    world = _World(rng)
    # About 1.33 records per person: build persons until their expected rows cover n_records.
    while len(world.people) * 1.33 < n_records:
        world.lineage()
        if rng.random() < 0.25:
            world.namesake()
    people = {p.pid: p for p in world.people}
    order = list(world.people)
    rng.shuffle(order)
    records: list[_Record] = []
    for person in order:
        if len(records) >= n_records:
            break
        records.append(clean_record(rng, person, people, f"b{len(records) + 1}"))
        r = rng.random()
        extra = 0 if r > 0.29 else (1 if r > 0.06 else (2 if r > 0.015 else 3))
        for _ in range(extra):
            records.append(duplicate_record(rng, person, people, rng.choice(clerks), f"b{len(records) + 1}"))
    records = records[:n_records]
    repeated_id = rng.choice([rec.row[2] for rec in records if rec.row[2]])
    _bad_input(rng, records, clerks, repeated_id)
    rng.shuffle(records)
    rows = [[*rec.row, ";".join(dict.fromkeys(rec.classes))] for rec in records]
    listed = {row[11] for row in rows}
    return rows, {pid: p for pid, p in people.items() if pid in listed}


def generate(n_records: int, seed: int) -> list[list[str]]:
    return generate_labelled(n_records, seed)[0]


def relation(a: Person, b: Person) -> str:
    """How two different persons are related: the hard negatives a matcher must keep apart."""
    if a.twin_of == b.pid:
        return "twins"
    if a.namesake_of == b.pid or b.namesake_of == a.pid:
        return "namesakes"
    if a.father == b.pid or b.father == a.pid:
        return "father_child"
    if a.household == b.household:
        if a.role in ("husband", "wife") and b.role in ("husband", "wife"):
            return "spouses" if a.sex != b.sex else "co_wives"
        if a.father and a.father == b.father:
            return "siblings"
        return "household"
    if a.lineage == b.lineage:
        if a.role == "husband" and b.role == "husband":
            return "brothers"
        return "cousins_uncles"
    if a.parts[0] == b.parts[0] and a.parts[1] == b.parts[1] and a.parts[4] == b.parts[4]:
        return "same_name_parts"
    return "unrelated"


def stats(rows: list[list[str]], people: dict[str, Person]) -> str:
    persons = Counter(row[11] for row in rows)
    classes = Counter(c for row in rows for c in row[12].split(";") if c)
    roles = Counter(p.role for p in people.values())
    twins = sum(1 for p in people.values() if p.twin_of) // 2
    lines = [
        f"{len(rows):,} records of {len(persons):,} persons; listed twice or more: "
        f"{sum(1 for n in persons.values() if n > 1) / len(persons):.1%}; "
        f"true pairs: {sum(n * (n - 1) // 2 for n in persons.values()):,}",
        "persons by role: " + ", ".join(f"{k} {v:,}" for k, v in roles.most_common()) + f"; twin pairs {twins}",
        "records by error class: " + ", ".join(f"{k} {v:,}" for k, v in classes.most_common()),
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rows, people = generate_labelled(args.records, args.seed)
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    print(stats(rows, people))
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
