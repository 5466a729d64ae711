"""Duplicate scoring on hard cases, blocking keys and constrained clustering."""

from __future__ import annotations

import pytest

from aidoffice.domain.matching import (
    MatchRecord,
    NameFrequencies,
    PairScore,
    Scorer,
    blocking_keys,
    cluster,
    skeleton,
)
from aidoffice.services import demo_pools as pools

COMMON = ["محمد", "احمد", "علي", "عبدالله", "سالم", "صالح", "عمر", "حسن", "حسين", "فاطمه", "مريم", "عوض", "سعيد"]


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    # A registry with the real frequencies of the demo pools: محمد and the big families are common, others rare.
    records = [
        MatchRecord.from_name(
            str(i),
            " ".join(
                (
                    pools.MALE_GIVEN[i % len(pools.MALE_GIVEN)],
                    pools.MALE_GIVEN[(i * 7) % len(pools.MALE_GIVEN)],
                    pools.MALE_GIVEN[(i * 13) % len(pools.MALE_GIVEN)],
                    pools.FAMILIES[(i * 11) % len(pools.FAMILIES)],
                )
            ),
        )
        for i in range(20_000)
    ]
    return Scorer(NameFrequencies.from_records(records))


def rec(rid, name, **values) -> MatchRecord:
    return MatchRecord.from_name(rid, name, **values)


# (case, a, b, expected decision)
HARD_CASES = [
    (
        "brothers محمد/أحمد, same father, grandfather, family",
        rec("a", "محمد سالم عوض باوزير", birth_year=1990, sex="M", district="المكلا", phone="777111222"),
        rec("b", "أحمد سالم عوض باوزير", birth_year=1993, sex="M", district="المكلا", phone="777111222"),
        "distinct",
    ),
    (
        "brothers without IDs, same birth year (twins)",
        rec("a", "حسن علي سعيد العمودي", birth_year=2001, sex="M"),
        rec("b", "حسين علي سعيد العمودي", birth_year=2001, sex="M"),
        "distinct",
    ),
    (
        "father and son, names shifted by one part",
        rec("a", "سالم عوض سعيد الكثيري", birth_year=1995, sex="M", district="الشحر"),
        rec("b", "عوض سعيد عمر الكثيري", birth_year=1968, sex="M", district="الشحر"),
        "distinct",
    ),
    (
        "true namesakes in one district, different IDs",
        rec("a", "محمد علي سالم باعباد", national_id="01010012345", birth_year=1980, district="المكلا"),
        rec("b", "محمد علي سالم باعباد", national_id="02020098765", birth_year=1980, district="المكلا"),
        "distinct",
    ),
    (
        "namesakes without IDs, ten years apart",
        rec("a", "محمد علي سالم باعباد", birth_year=1970, sex="M", district="المكلا"),
        rec("b", "محمد علي سالم باعباد", birth_year=1980, sex="M", district="المكلا"),
        "distinct",
    ),
    (
        "a wife listed under her husband's ID",
        rec("a", "سالم عوض سعيد الكثيري", national_id="01010012345", sex="M", birth_year=1970),
        rec("b", "فاطمة علي صالح العمودي", national_id="01010012345", sex="F", birth_year=1975),
        "distinct",
    ),
    (
        "family name typed first",
        rec("a", "العمودي محمد سالم علي", national_id="01010012345", birth_year=1985),
        rec("b", "محمد سالم علي العمودي", national_id="01010012345", birth_year=1985),
        "likely",
    ),
    (
        "family name typed first, no ID",
        rec("a", "الجابري خالد سالم عوض", birth_year=1985, district="الشحر", phone="733222111"),
        rec("b", "خالد سالم عوض الجابري", birth_year=1985, district="الشحر", phone="733222111"),
        "likely",
    ),
    (
        "three parts against five",
        rec("a", "محمد سالم العمودي", birth_year=1985, district="المكلا", phone="777123456"),
        rec("b", "محمد سالم عوض عمر العمودي", birth_year=1985, district="المكلا", phone="777123456"),
        "likely",
    ),
    (
        "three parts against five, nothing else shared",
        rec("a", "محمد سالم العمودي", birth_year=1985),
        rec("b", "محمد سالم عوض عمر العمودي", birth_year=1985),
        "review",
    ),
    (
        "same person, hamza, split compound and با",
        rec("a", "أحمد عبد الله سالم با وزير", national_id="01010012345", birth_year=1979),
        rec("b", "احمد عبدالله سالم باوزير", national_id="01010012345", birth_year=1980),
        "likely",
    ),
    (
        "same person, grandfather dropped, same phone and year",
        rec("a", "عبدالله صالح عوض بامطرف", birth_year=1966, phone="777555444", district="غيل باوزير"),
        rec("b", "عبد الله صالح بامطرف", birth_year=1966, phone="777555444", district="غيل باوزير"),
        "likely",
    ),
    (
        "same person, one mistyped ID digit",
        rec("a", "سعيد عمر حسن الجابري", national_id="01010012345", birth_year=1990),
        rec("b", "سعيد عمر حسن الجابري", national_id="01010012845", birth_year=1990),
        "likely",
    ),
    (
        "same name and year, no other evidence",
        rec("a", "سعيد عمر حسن الجابري", birth_year=1990),
        rec("b", "سعيد عمر حسن الجابري", birth_year=1990),
        "review",
    ),
    (
        "a typo in a rare given name with the same ID",
        rec("a", "عوبثاني سالم عوض الكثيري", national_id="01010012345"),
        rec("b", "عوبثان سالم عوض الكثيري", national_id="01010012345"),
        "likely",
    ),
    (
        "same person, different ID (two cards): never likely",
        rec("a", "سعيد عمر حسن الجابري", national_id="01010012345", birth_year=1990, phone="777000111"),
        rec("b", "سعيد عمر حسن الجابري", national_id="09090054321", birth_year=1990, phone="777000111"),
        "distinct",
    ),
    (
        "same full name and year, corroborated by district and household size",
        rec("a", "سعيد عمر حسن الجابري", birth_year=1990, district="الشحر", household_size=6),
        rec("b", "سعيد عمر حسن الجابري", birth_year=1990, district="الشحر", household_size=5),
        "likely",
    ),
]


@pytest.mark.parametrize(("case", "a", "b", "expected"), HARD_CASES, ids=[c[0] for c in HARD_CASES])
def test_hard_cases(scorer, case, a, b, expected):
    result = scorer.score(a, b)
    assert result.decision == expected, (case, result.score, result.reasons())
    assert scorer.score(b, a).decision == expected  # symmetric decisions


def test_reasons_are_arabic_and_explain_the_score(scorer):
    result = scorer.score(
        rec("a", "محمد علي سالم باعباد", national_id="01010012345", birth_year=1980),
        rec("b", "محمد علي سالم باعباد", national_id="01010012345", birth_year=1983),
    )
    assert "نفس رقم البطاقة" in result.reasons()
    assert "سنة الميلاد تختلف ٣ سنوات" in result.reasons()
    assert abs(sum(c.weight for c in result.contributions) - result.score) < 1e-9
    assert 0.0 < result.probability <= 1.0


def test_skeleton_folds_spellings_but_keeps_names_apart():
    assert skeleton("محمد") != skeleton("احمد")
    assert skeleton("العمودي") == skeleton("عمودي")
    assert skeleton("ثابت") == skeleton("سابت")


def test_blocking_keys_survive_clerical_variation():
    a = rec("a", "محمد سالم عوض باوزير", national_id="01010012345", birth_year=1980, district="d1", phone="777")
    for b in (
        rec("b", "محمد سالم باوزير", birth_year=1981),  # grandfather dropped, year ±1
        rec("b", "باوزير محمد سالم عوض"),  # family name first
        rec("b", "محمد سالم عوض", district="d1"),  # family name missing
        rec("b", "مجمد سالم عوض باوزير", national_id="01010012345"),  # typo in given name, ID kept
        rec("b", "x y", national_id="01010012845"),  # one mistyped ID digit
        rec("b", "x y", phone="777"),
    ):
        assert blocking_keys(a) & blocking_keys(b), b


def _pair(a, b, score, decision="likely"):
    return PairScore(a, b, score, (), decision)


def test_cluster_never_joins_two_valid_ids_and_stops_chains():
    ids = {"a": "111", "b": "", "c": "222", "d": ""}
    pairs = [_pair("a", "b", 20), _pair("b", "c", 19), _pair("c", "d", 18), _pair("a", "d", 1, "review")]
    out = cluster(list(ids), pairs, ids)
    assert out["a"] == out["b"] and out["c"] == out["d"] and out["a"] != out["c"]
    chain = [str(i) for i in range(20)]
    out = cluster(chain, [_pair(chain[i], chain[i + 1], 15) for i in range(19)], {}, max_size=6)
    assert max(list(out.values()).count(v) for v in set(out.values())) <= 6


def _labelled_pool(n: int) -> list[MatchRecord]:
    from bench.dedup.generate import generate

    rows = generate(n, 3)
    return [
        MatchRecord.from_name(
            r[0],
            r[1],
            national_id=r[2] if r[2].isdigit() else "",
            birth_year=int(r[4]) if r[4].isdigit() else None,
            district=r[6],
        )
        for r in rows
    ]


def test_parallel_scan_finds_exactly_the_serial_pairs(scorer):
    from aidoffice.domain.matching import find_pairs, find_pairs_parallel

    pool = _labelled_pool(3000)
    serial = {(p.a, p.b, p.decision) for p in find_pairs(pool, scorer)}
    parallel = find_pairs_parallel(pool, scorer, chunk=200)
    assert {tuple(sorted((p.a, p.b))) for p in parallel} == {tuple(sorted((a, b))) for a, b, _ in serial}
    assert len(parallel) == len(serial) > 0


def test_parallel_scan_can_be_cancelled(scorer):
    from aidoffice.domain.matching import find_pairs_parallel

    with pytest.raises(InterruptedError):
        find_pairs_parallel(_labelled_pool(3000), scorer, chunk=200, should_cancel=lambda: True)
