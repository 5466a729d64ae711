"""Duplicate scoring on hard cases, blocking keys and constrained clustering."""

from __future__ import annotations

from collections import Counter

import pytest

from aidoffice.domain.matching import (
    BlockStats,
    MatchModel,
    MatchRecord,
    NameFrequencies,
    PairScore,
    Scorer,
    blocking_keys,
    cluster,
    find_pairs,
    fit_model,
    skeleton,
)
from aidoffice.services import demo_pools as pools

COMMON = ["محمد", "احمد", "علي", "عبدالله", "سالم", "صالح", "عمر", "حسن", "حسين", "فاطمه", "مريم", "عوض", "سعيد"]


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    # Weights learned as the office's engine learns them: from a list at hand (a labelled list of 6,000 records,
    # families, clerks' habits), with the default thresholds.
    pool = _labelled_pool(6000)
    frequencies = NameFrequencies.from_records(pool)
    return Scorer(frequencies, model=fit_model(pool, frequencies))


def rec(rid, name, **values) -> MatchRecord:
    return MatchRecord.from_name(rid, name, **values)


# (case, a, b, expected decision)
HARD_CASES = [
    (
        "the form's case: امنه/آمنة, same father, grandfather, family, sex and year",
        rec("a", "آمنة أحمد حسين الجابري", birth_year=1960, sex="F"),
        rec("b", "امنه احمد حسين الجابري", birth_year=1960, sex="F"),
        "likely",
    ),
    (
        "given-name slip in the first letter (نحمد/محمد), same phone and lineage",
        rec("a", "محمد علي سالم باوزير", phone="777111222", birth_year=1980, sex="M"),
        rec("b", "نحمد علي سالم باوزير", phone="777111222", birth_year=1980, sex="M"),
        "likely",
    ),
    (
        "given name missing its first letter (ركات/بركات), same phone and lineage",
        rec("a", "بركات عوض سعيد الكثيري", phone="733444555", birth_year=1975, sex="M"),
        rec("b", "ركات عوض سعيد الكثيري", phone="733444555", birth_year=1975, sex="M"),
        "likely",
    ),
    (
        "a short given name missing its first letter (كي/زكي), same phone",
        rec("a", "زكي صالح عمر بامطرف", phone="771000222", birth_year=1990, sex="M"),
        rec("b", "كي صالح عمر بامطرف", phone="771000222", birth_year=1990, sex="M"),
        "likely",
    ),
    (
        "three parts read as given, father, grandfather against four parts",
        rec("a", "زينب بدر فؤاد", phone="777222333", birth_year=1985, sex="F"),
        rec("b", "زينب بدر فؤاد الحبشي", phone="777222333", birth_year=1985, sex="F"),
        "likely",
    ),
    (
        "family name typed first after بن",
        rec("a", "بن بريك محمد بكر", national_id="01010012345", birth_year=2002),
        rec("b", "محمد بكر سعيد بريك", national_id="01010012345", birth_year=2002),
        "likely",
    ),
    (
        "brothers with rare given names, one phone, one district",
        rec("a", "عوبثان سالم عوض الكثيري", phone="777333444", birth_year=1990, sex="M", district="الشحر"),
        rec("b", "مطيع سالم عوض الكثيري", phone="777333444", birth_year=1992, sex="M", district="الشحر"),
        "distinct",
    ),
    (
        "husband and wife on one phone",
        rec("a", "سالم عوض سعيد الكثيري", phone="777333444", birth_year=1970, sex="M"),
        rec("b", "فاطمة علي صالح الكثيري", phone="777333444", birth_year=1975, sex="F"),
        "distinct",
    ),
    (
        "nothing but a given name is never likely, even with one phone",
        rec("a", "محمد", phone="777333444", birth_year=1970, sex="M"),
        rec("b", "محمد", phone="777333444", birth_year=1970, sex="M"),
        "review",
    ),
    (
        "two swapped ID digits, moved district, new phone",
        rec("a", "خالد سعيد عمر الجابري", national_id="01010012345", phone="777000111", district="المكلا"),
        rec("b", "خالد سعيد عمر الجابري", national_id="01010021345", phone="733999888", district="الشحر"),
        "likely",
    ),
    (
        "one name, two birth years three apart, no card or phone: a look",
        rec("a", "محمد علي سالم باعباد", birth_year=1980, sex="M", district="المكلا"),
        rec("b", "محمد علي سالم باعباد", birth_year=1983, sex="M", district="المكلا"),
        "review",
    ),
    (
        "father and son on one phone, the son's name read family-first, 36 years apart: a look, never a merge",
        rec("a", "عدنان نبيل لؤي", phone="772125805", birth_year=1952, sex="M", district="القصير"),
        rec("b", "نبيل عدنان نبيل الأتاسي", phone="772125805", birth_year=1988, sex="M", district="القصير"),
        "review",
    ),
    (
        "one card and one name, the birth year's digits swapped (1985/1958): a look, never a merge",
        rec("a", "صالح عوض سالم بامطرف", national_id="01010012345", birth_year=1985, sex="M"),
        rec("b", "صالح عوض سالم بامطرف", national_id="01010012345", birth_year=1958, sex="M"),
        "review",
    ),
    (
        "one phone and one name, one year apart: still one person",
        rec("a", "صالح عوض سالم بامطرف", phone="777123456", birth_year=1985, sex="M"),
        rec("b", "صالح عوض سالم بامطرف", phone="777123456", birth_year=1986, sex="M"),
        "likely",
    ),
    (
        "two wrong ID digits, every name and the year agree: one card mistyped twice",
        rec("a", "خالد سعيد عمر الجابري", national_id="01010012345", birth_year=1980),
        rec("b", "خالد سعيد عمر الجابري", national_id="01010019945", birth_year=1980),
        "likely",
    ),
    (
        "two wrong ID digits and another birth year: worth a look, never a merge",
        rec("a", "خالد سعيد عمر الجابري", national_id="01010012345", birth_year=1980),
        rec("b", "خالد سعيد عمر الجابري", national_id="01010019945", birth_year=1981),
        "review",
    ),
    (
        "two wrong ID digits, another grandfather: two people",
        rec("a", "خالد سعيد عمر الجابري", national_id="01010012345", birth_year=1980),
        rec("b", "خالد سعيد صالح الجابري", national_id="01010019945", birth_year=1980),
        "distinct",
    ),
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
        "three parts against five, same birth year, nothing else (learned weights: enough)",
        rec("a", "محمد سالم العمودي", birth_year=1985),
        rec("b", "محمد سالم عوض عمر العمودي", birth_year=1985),
        "likely",
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
        "same four-part name and birth year, nothing else (learned weights: enough)",
        rec("a", "سعيد عمر حسن الجابري", birth_year=1990),
        rec("b", "سعيد عمر حسن الجابري", birth_year=1990),
        "likely",
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
            phone=r[3][-9:] if r[3].isdigit() else "",
            birth_year=int(r[4]) if r[4].isdigit() else None,
            sex="M" if r[5] in ("ذكر", "ذ", "M") else "F",
            district=r[6],
            household_size=int(r[8]) if r[8].isdigit() else None,
        )
        for r in rows
    ]


@pytest.mark.parametrize("processes", [1, 2, 5])
def test_parallel_scan_finds_exactly_the_serial_pairs(scorer, processes):
    from aidoffice.domain.matching import find_pairs, find_pairs_parallel

    pool = _labelled_pool(3000)
    serial = {(p.a, p.b, p.decision) for p in find_pairs(pool, scorer)}
    parallel = find_pairs_parallel(pool, scorer, chunk=200, processes=processes)
    assert {tuple(sorted((p.a, p.b))) for p in parallel} == {tuple(sorted((a, b))) for a, b, _ in serial}
    assert len(parallel) == len(serial) > 0


def test_the_scans_quick_decision_is_the_full_scores(scorer):
    """decision() leaves out the weights of a pair a rule calls two people, and works out early the rule of two given
    names: on every candidate pair of a labelled list (and on random pairs) it decides what score() decides."""
    import random

    from aidoffice.domain.matching import build_index

    # One card under two given names (a look, never two people), beside the list.
    pool = [
        *_labelled_pool(3000),
        rec("card-1", "محمد علي سالم العمودي", national_id="01234567890"),
        rec("card-2", "خالد علي سالم العمودي", national_id="01234567890"),
    ]
    assert scorer.decision(pool[-2], pool[-1]) == "review"
    index = build_index(pool)
    pairs = [(j, i) for i, r in enumerate(pool) for j in index.candidates(blocking_keys(r), r.birth_year) if j < i]
    rng = random.Random(4)
    pairs += [(rng.randrange(len(pool)), rng.randrange(len(pool))) for _ in range(3000)]
    decided = Counter()
    for j, i in pairs:
        full = scorer.score(pool[j], pool[i]).decision
        assert scorer.decision(pool[j], pool[i]) == full, (pool[j].parts, pool[i].parts)
        decided[full] += 1
    assert decided["likely"] > 50 and decided["review"] > 10 and decided["distinct"] > 1000
    # With a threshold below what a rule leaves a pair (about one in a million), nothing is decided early.
    for likely, review in ((0.9, 1e-9), (1e-7, 0.5), (0.99, 9.5367e-7)):
        lenient = Scorer(scorer.freq, model=scorer.model, likely=likely, review=review)
        assert all(lenient.decision(pool[j], pool[i]) == lenient.score(pool[j], pool[i]).decision for j, i in pairs)


def test_parallel_scan_can_be_cancelled(scorer):
    from aidoffice.domain.matching import find_pairs_parallel

    with pytest.raises(InterruptedError):
        find_pairs_parallel(_labelled_pool(3000), scorer, chunk=200, should_cancel=lambda: True)


def test_weights_are_learned_from_the_records_at_hand():
    pool = _labelled_pool(4000)
    frequencies = NameFrequencies.from_records(pool)
    model = fit_model(pool, frequencies)
    assert model.pairs_trained > 1000 and model.em_iterations > 1
    # Agreement is far likelier among true duplicates than among the relatives and namesakes a block brings (the
    # given name less so: brothers, whose given names differ, are known non-matches and stay out of EM).
    assert model.m["given"][0] > model.v["given"][0]
    for field_name in ("lineage", "national_id", "phone"):
        assert model.m[field_name][0] > 2 * model.v[field_name][0], field_name
    assert model.m["birth_year"][4] < model.v["birth_year"][4]  # decades apart: two people
    again = MatchModel.from_dict(model.to_dict())
    assert again.weights == model.weights and again.prior_log2 == model.prior_log2


def test_a_rare_name_agreeing_weighs_more_than_a_common_one(scorer):
    common = scorer.score(rec("a", "محمد علي سالم باعباد", birth_year=1980), rec("b", "محمد علي سالم باعباد"))
    rare = scorer.score(rec("a", "عوبثان علي سالم باعباد", birth_year=1980), rec("b", "عوبثان علي سالم باعباد"))

    def given(result):
        return next(c.weight for c in result.contributions if c.field == "given")

    assert given(rare) > given(common) + 1


def test_a_huge_block_is_split_and_what_is_skipped_is_counted():
    # An association typed its own phone on 600 rows, and one ID 300 times: the block is split by birth year, the
    # pairs compared stay far below 600²/2, and the duplicate hidden among them is still found.
    pool = [
        rec(str(i), f"{pools.MALE_GIVEN[i % 90]} {pools.MALE_GIVEN[(i * 7) % 90]} {pools.FAMILIES[i % 80]}",
            phone="777000000", national_id="01234567890" if i < 300 else "", birth_year=1950 + i % 50)
        for i in range(600)
    ]  # fmt: skip
    pool.append(rec("dup", " ".join(pool[10].parts), phone="777000000", birth_year=pool[10].birth_year))
    frequencies = NameFrequencies.from_records(pool)
    stats = BlockStats()
    pairs = find_pairs(pool, Scorer(frequencies), stats=stats)
    assert stats.split_blocks >= 2
    assert stats.compared < 600 * 599 // 20
    assert any({p.a, p.b} == {"10", "dup"} for p in pairs)
    # Records without a birth year in a split block are compared only among themselves: counted, not hidden.
    pool += [rec(f"n{i}", f"سالم علي {pools.FAMILIES[i]}", phone="777000000") for i in range(5)]
    stats = BlockStats()
    find_pairs(pool, Scorer(NameFrequencies.from_records(pool)), stats=stats)
    assert stats.skipped_pairs > 0


def test_a_pair_found_alone_is_found_inside_a_large_list():
    a = rec("a", "سالم عوض سعيد الكثيري", phone="777123123", birth_year=1970, sex="M")
    b = rec("b", "سالم عوض الكثيري", phone="777123123", birth_year=1970, sex="M")
    alone = find_pairs([a, b], Scorer())
    big = _labelled_pool(6000)
    crowd = [a, *big[:3000], b, *big[3000:]]
    frequencies = NameFrequencies.from_records(crowd)
    found = find_pairs(crowd, Scorer(frequencies, model=fit_model(crowd, frequencies)))
    assert alone and any({p.a, p.b} == {"a", "b"} for p in found)


def test_a_list_of_empty_names_does_not_blow_up():
    pool = [MatchRecord(str(i), (), phone="", birth_year=None) for i in range(2000)]
    stats = BlockStats()
    assert find_pairs(pool, Scorer(), stats=stats) == []
    assert stats.compared == 0
