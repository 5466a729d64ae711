"""Labelled duplicate data: families whose members share name parts, listed by several clerks with their own habits."""

from __future__ import annotations

import argparse
import csv
import random
from dataclasses import dataclass, replace
from pathlib import Path

from aidoffice.services import demo_pools as pools

HEADER = (
    "record_id",
    "full_name",
    "national_id",
    "phone",
    "birth_year",
    "sex",
    "district",
    "birth_date",
    "household_size",
    "spouse_name",
    "spouse_national_id",
    "true_id",
)
DISTRICTS = ("المكلا", "الشحر", "غيل باوزير", "الديس الشرقية", "بروم ميفع", "زنجبار", "خنفر", "لودر")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
# Letters a hurried clerk swaps for a neighbour on the keyboard or by ear.
TYPOS = {"ح": "ج", "ج": "ح", "س": "ص", "ص": "س", "ت": "ط", "د": "ذ", "ر": "ز", "ع": "غ", "ه": "ة", "ي": "ى"}


@dataclass(frozen=True)
class Person:
    true_id: str
    parts: tuple[str, ...]
    sex: str
    birth_year: int
    birth_date: str
    national_id: str
    phone: str
    district: str
    household_size: int
    spouse_name: str = ""
    spouse_national_id: str = ""


@dataclass(frozen=True)
class Clerk:
    """How one association's clerk writes names: each habit applied with its own probability."""

    drop_hamza: float
    taa_as_ha: float
    add_bin: float
    drop_grandfather: float
    split_compounds: float
    family_first: float
    typo: float
    arabic_digits: float
    misses_id: float


def _digits(rng: random.Random, n: int) -> str:
    return "".join(str(rng.randint(0, 9)) for _ in range(n))


def families(rng: random.Random, n_persons: int) -> list[Person]:
    """Households where brothers share father, grandfather and family; some sons are fathers of others; cousins."""
    people: list[Person] = []
    serial = 0
    while len(people) < n_persons:
        family = rng.choice(pools.FAMILIES)
        district = rng.choice(DISTRICTS)
        grandfather = rng.choice(pools.MALE_GIVEN)
        great = rng.choice(pools.MALE_GIVEN)
        # Two or three brothers (the fathers), each with a household: cousins share grandfather and family.
        for _ in range(rng.randint(1, 3)):
            father_given = rng.choice(pools.MALE_GIVEN)
            father_year = rng.randint(1945, 1985)
            phone = "7" + rng.choice("7310") + _digits(rng, 7)
            wife = (
                rng.choice(pools.FEMALE_GIVEN),
                rng.choice(pools.MALE_GIVEN),
                rng.choice(pools.MALE_GIVEN),
                rng.choice(pools.FAMILIES),
            )
            wife_id = _digits(rng, 11)
            father_id = _digits(rng, 11)
            children = rng.randint(0, 6)
            size = 2 + children
            serial += 1
            people.append(
                Person(
                    f"p{serial}",
                    (father_given, grandfather, great, family),
                    "M",
                    father_year,
                    f"{father_year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                    father_id,
                    phone,
                    district,
                    size,
                    " ".join(wife),
                    wife_id,
                )
            )
            serial += 1
            wife_year = father_year + rng.randint(0, 10)
            people.append(
                Person(
                    f"p{serial}",
                    wife,
                    "F",
                    wife_year,
                    "",
                    wife_id,
                    phone if rng.random() < 0.5 else "",
                    district,
                    size,
                    " ".join((father_given, grandfather, great, family)),
                    father_id,
                )
            )
            for _ in range(children):
                serial += 1
                son = rng.random() < 0.5
                given = rng.choice(pools.MALE_GIVEN if son else pools.FEMALE_GIVEN)
                year = min(2024, father_year + rng.randint(18, 40))
                adult = year <= 2008
                people.append(
                    Person(
                        f"p{serial}",
                        (given, father_given, grandfather, family),
                        "M" if son else "F",
                        year,
                        "",
                        _digits(rng, 11) if adult else "",
                        "",
                        district,
                        size,
                    )
                )
    return people[:n_persons]


def _typed_name(rng: random.Random, person: Person, clerk: Clerk) -> str:
    parts = list(person.parts)
    if len(parts) >= 4 and rng.random() < clerk.drop_grandfather:
        del parts[2]
    if len(parts) >= 3 and rng.random() < clerk.add_bin:
        parts.insert(1, "بن")
    if rng.random() < clerk.family_first:
        parts = parts[-1:] + parts[:-1]
    text = " ".join(parts)
    if rng.random() < clerk.split_compounds:
        text = text.replace("عبدالله", "عبد الله").replace("عبدالرحمن", "عبد الرحمن").replace("باوزير", "با وزير")
    elif rng.random() < clerk.split_compounds:
        text = text.replace("عبد ", "عبد").replace("با ", "با")
    if rng.random() < clerk.drop_hamza:
        text = text.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا").replace("ى", "ي")
    if rng.random() < clerk.taa_as_ha:
        text = " ".join(w[:-1] + "ه" if w.endswith("ة") else w for w in text.split())
    if rng.random() < clerk.typo:
        words = text.split()
        i = rng.randrange(len(words))
        w = words[i]
        positions = [k for k, ch in enumerate(w) if ch in TYPOS and k > 0]
        if positions:
            k = rng.choice(positions)
            words[i] = w[:k] + TYPOS[w[k]] + w[k + 1 :]
        text = " ".join(words)
    if rng.random() < 0.05:
        text = "  " + text.replace(" ", "  ") + " "
    return text


def listing(rng: random.Random, person: Person, clerk: Clerk, record_id: str) -> list[str]:
    """One record of a person as a clerk lists it."""
    nid = person.national_id
    if nid and rng.random() < clerk.misses_id:
        nid = ""
    elif nid and rng.random() < 0.05:  # one mistyped digit
        k = rng.randrange(len(nid))
        nid = nid[:k] + str((int(nid[k]) + rng.randint(1, 9)) % 10) + nid[k + 1 :]
    phone = person.phone
    if phone and rng.random() < 0.2:
        phone = "7" + rng.choice("7310") + _digits(rng, 7)  # a new number
    if phone and rng.random() < 0.3:
        phone = rng.choice(("+967 ", "00967", "0")) + phone
    year = person.birth_year + (rng.choice((-1, 1)) if rng.random() < 0.15 else 0)
    district = person.district if rng.random() > 0.1 else rng.choice(DISTRICTS)
    sex = {"M": rng.choice(("ذكر", "ذ", "M")), "F": rng.choice(("أنثى", "انثى", "أ", "F"))}[person.sex]
    size = person.household_size + (rng.choice((-1, 1)) if rng.random() < 0.2 else 0)
    values = [nid, phone, str(year)]
    if rng.random() < clerk.arabic_digits:
        values = [v.translate(ARABIC_INDIC) for v in values]
    return [
        record_id,
        _typed_name(rng, person, clerk),
        values[0],
        values[1],
        values[2],
        sex,
        district,
        person.birth_date if year == person.birth_year else "",
        str(size),
        person.spouse_name,
        person.spouse_national_id,
        person.true_id,
    ]


def generate(n_records: int, seed: int) -> list[list[str]]:
    rng = random.Random(seed)
    clerks = [
        Clerk(
            drop_hamza=rng.random() * 0.8,
            taa_as_ha=rng.random() * 0.6,
            add_bin=rng.random() * 0.3,
            drop_grandfather=rng.random() * 0.4,
            split_compounds=rng.random() * 0.5,
            family_first=rng.random() * 0.08,
            typo=rng.random() * 0.15,
            arabic_digits=rng.random(),
            misses_id=0.1 + rng.random() * 0.4,
        )
        for _ in range(8)
    ]
    people = families(rng, int(n_records / 1.35))
    rows: list[list[str]] = []
    for person in people:
        first = rng.choice(clerks)
        rows.append(listing(rng, person, first, f"r{len(rows) + 1}"))
        # About a quarter of the persons appear on a second (or third) association's list.
        extra = 1 if rng.random() < 0.25 else 0
        extra += 1 if extra and rng.random() < 0.2 else 0
        for _ in range(extra):
            clerk = rng.choice(clerks)
            if person.sex == "F" and person.spouse_name and rng.random() < 0.3:
                # The household registered under the wife by another association.
                person = replace(person, household_size=person.household_size)
            rows.append(listing(rng, person, clerk, f"r{len(rows) + 1}"))
    rng.shuffle(rows)
    return rows[:n_records]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    rows = generate(args.records, args.seed)
    with args.out.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows)
    print(f"{len(rows):,} records of {len({r[-1] for r in rows}):,} persons written to {args.out}")


if __name__ == "__main__":
    main()
