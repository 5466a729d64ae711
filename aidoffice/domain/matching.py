"""Duplicate detection for Arabic names: blocking keys, Fellegi–Sunter pair scoring with reasons, safe clustering."""

from __future__ import annotations

import gc
import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from aidoffice.domain.arabic import normalize_name

# --- records ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MatchRecord:
    """What the engine compares: normalised values only (see domain.arabic)."""

    id: str
    parts: tuple[str, ...]
    national_id: str = ""
    phone: str = ""
    birth_year: int | None = None
    sex: str | None = None
    district: str | None = None
    household_size: int | None = None
    spouse_parts: tuple[str, ...] = ()
    spouse_national_id: str = ""

    @classmethod
    def from_name(cls, id: str, full_name: str, **values) -> MatchRecord:
        return cls(id=id, parts=tuple(normalize_name(full_name).split()), **values)


# --- phonetic skeleton -----------------------------------------------------------------------------------

# Letters clerks confuse by ear or by keyboard fold into one class; long vowels and the article carry little.
_SKELETON_MAP = str.maketrans(
    {
        "ث": "س", "ص": "س", "ز": "ذ", "ظ": "ذ", "ض": "د", "ط": "ت", "ق": "ك", "غ": "خ",
        "ا": None, "و": None, "ي": None, "ع": None, "ه": None,
    }
)  # fmt: skip


@lru_cache(maxsize=200_000)
def skeleton(part: str) -> str:
    """A coarse phonetic key of one normalised name part: محمد→محمد, احمد→حمد, حسين→حسن, العمودي→لمد."""
    if part.startswith("ال") and len(part) > 3:
        part = part[2:]
    core = part.translate(_SKELETON_MAP)
    out = []
    for ch in core:
        if not out or out[-1] != ch:
            out.append(ch)
    return "".join(out) or part[:2]


def blocking_keys(r: MatchRecord) -> set[str]:
    """Keys under which a record is looked up: names (phonetic, in several combinations), ID, ID halves, phone.

    Two records are candidates when they share at least one key. Each name key leaves out what clerks most often
    get wrong: the grandfather (dropped or added), the family name, the birth year (±1) or the district (moved).
    """
    keys: set[str] = set()
    p = [skeleton(x) for x in r.parts]
    if len(p) >= 2:
        first, second, last = p[0], p[1], p[-1]
        keys.add(f"n1:{first}|{second}|{last}")  # grandfather dropped or added
        if len(p) >= 3:
            keys.add(f"n2:{first}|{second}|{p[2]}")  # family name changed or missing
            keys.add(f"n4:{second}|{p[2] if len(p) > 3 else ''}|{last}|{first[:1]}")  # given name mistyped
        if r.birth_year:
            keys.add(f"n3:{first}|{last}|{r.birth_year}")  # father's name spelled differently
        if r.district:
            decade = r.birth_year // 10 if r.birth_year else ""
            keys.add(f"n5:{first}|{second}|{r.district}|{decade}")  # family name changed, same place and age
        rotated = p[1:] + p[:1]
        if len(rotated) >= 3:
            keys.add(f"n1:{rotated[0]}|{rotated[1]}|{rotated[-1]}")
    nid = r.national_id
    if nid:
        keys.add(f"id:{nid}")
        half = len(nid) // 2
        if half >= 4:
            keys.add(f"ia:{nid[:half]}")
            keys.add(f"ib:{nid[half:]}")
    if r.phone:
        keys.add(f"ph:{r.phone}")
    return keys


def key_hash(key: str) -> int:
    """A stable signed 64-bit hash of a blocking key, for storage (Python's own hash() changes per process)."""
    return int.from_bytes(hashlib.blake2b(key.encode("utf-8"), digest_size=8).digest(), "big", signed=True)


# --- Fellegi–Sunter scoring --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Contribution:
    """One field's evidence: its weight (log2 of m/u) and an Arabic reason a reviewer reads."""

    field: str
    weight: float
    reason: str


@dataclass(frozen=True)
class PairScore:
    a: str
    b: str
    score: float
    contributions: tuple[Contribution, ...]
    decision: str = "distinct"

    @property
    def probability(self) -> float:
        return 1.0 / (1.0 + 2.0 ** (-(self.score + PRIOR_LOG2_ODDS)))

    def reasons(self) -> list[str]:
        return [c.reason for c in sorted(self.contributions, key=lambda c: -abs(c.weight)) if c.reason]


# However well two names agree, names alone (with a birth year and a district) stay below "likely": namesakes exist,
# and a false merge denies a needy person aid. An ID or a phone has to speak too.
NAME_CAP = 8.5
FULL_NAME_BONUS = 1.0
# Evidence beyond the name and birth year; at least one must agree before a pair is called likely.
CORROBORATING = frozenset({"national_id", "phone", "spouse", "district", "household_size"})

# Prior odds that two candidates (sharing a blocking key) are the same person, log2.
PRIOR_LOG2_ODDS = -6.0

# log2(m/u) per comparison level: m = P(level | same person), u = P(level | different people who share a block).
# Stated here, not hidden in code, so a reviewer and the benchmark can read them.
WEIGHTS = {
    "id_equal": 11.0,
    "id_one_edit": 5.0,
    "id_different": -12.0,
    "spouse_id_cross": 2.0,
    "spouse_id_husband": 6.0,
    "phone_equal": 3.5,
    "phone_different": -0.5,
    "year_equal": 2.5,
    "year_1": 1.6,
    "year_2_3": -2.0,
    "year_far": -9.0,
    "year_very_far": -12.0,
    "sex_equal": 0.4,
    "sex_different": -9.0,
    "district_equal": 1.4,
    "district_different": -1.2,
    "size_close": 0.6,
    "size_far": -0.6,
    "given_equal": 3.0,  # scaled by rarity below
    "given_close": 0.5,
    "given_different": -9.0,
    "given_different_common": -14.0,
    "father_equal": 2.5,
    "father_close": 0.3,
    "father_different": -7.0,
    "middle_equal": 2.0,
    "middle_different": -4.0,
    "middle_missing": -0.3,
    "family_equal": 2.0,  # scaled by rarity below
    "family_close": 0.5,
    "family_different": -3.5,
    "family_missing": -0.5,
    "shifted_generation": -12.0,
    "rotated_order": -0.5,
}

ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def arabic_number(n: int) -> str:
    return str(n).translate(ARABIC_DIGITS)


@dataclass
class NameFrequencies:
    """How common each normalised given name and family name is in the registry; drives rarity weights."""

    given: dict[str, int] = field(default_factory=dict)
    family: dict[str, int] = field(default_factory=dict)
    total: int = 0
    common_threshold: int = 20

    @classmethod
    def from_records(cls, records: Iterable[MatchRecord], common_threshold: int | None = None) -> NameFrequencies:
        given: dict[str, int] = {}
        family: dict[str, int] = {}
        total = 0
        for r in records:
            total += 1
            if r.parts:
                given[r.parts[0]] = given.get(r.parts[0], 0) + 1
                for p in r.parts[1:-1]:  # fathers and grandfathers are given names too
                    given[p] = given.get(p, 0) + 1
            if len(r.parts) >= 3:
                family[r.parts[-1]] = family.get(r.parts[-1], 0) + 1
        threshold = common_threshold if common_threshold is not None else max(3, total // 5000)
        return cls(given, family, total, threshold)

    def is_common_given(self, name: str) -> bool:
        return self.given.get(name, 0) >= self.common_threshold

    def rarity_bonus(self, table: dict[str, int], name: str) -> float:
        """Extra log2 weight for agreeing on a rare name: 0 for the most common, up to +4 for a unique one."""
        if not self.total:
            return 1.0
        share = (table.get(name, 0) + 1) / (self.total + 1)
        return max(0.0, min(4.0, -math.log2(share) - 5.0))


EMPTY_FREQUENCIES = NameFrequencies()


def _jw(a: str, b: str) -> float:
    return JaroWinkler.similarity(a, b)


def _same_part(a: str, b: str) -> bool:
    return a == b or (skeleton(a) == skeleton(b) and _jw(a, b) >= 0.9)


def id_level(a: str, b: str) -> str | None:
    if not a or not b:
        return None
    if a == b:
        return "id_equal"
    if len(a) == len(b) and DamerauLevenshtein.distance(a, b) == 1:
        return "id_one_edit"
    return "id_different"


class Scorer:
    """Scores a candidate pair field by field; thresholds turn the score into a decision."""

    def __init__(self, frequencies: NameFrequencies | None = None, *, likely: float = 12.0, review: float = 8.0):
        self.freq = frequencies or EMPTY_FREQUENCIES
        self.likely = likely
        self.review = review

    def decide(self, score: float) -> str:
        if score >= self.likely:
            return "likely"
        if score >= self.review:
            return "review"
        return "distinct"

    # --- names ---
    def _given(self, a: str, b: str, out: list[Contribution]) -> None:
        if a == b:
            w = WEIGHTS["given_equal"] + self.freq.rarity_bonus(self.freq.given, a)
            out.append(Contribution("given", w, "نفس الاسم الأول"))
            return
        sim = _jw(a, b)
        both_known = self.freq.is_common_given(a) and self.freq.is_common_given(b)
        if both_known:
            # محمد / أحمد: two different names that both exist are two people, however alike they look.
            out.append(Contribution("given", WEIGHTS["given_different_common"], "اسمان أولان مختلفان (شخصان)"))
        elif sim >= 0.88 or skeleton(a) == skeleton(b):
            out.append(Contribution("given", WEIGHTS["given_close"], "الاسم الأول متقارب في الكتابة"))
        else:
            out.append(Contribution("given", WEIGHTS["given_different"], "الاسم الأول مختلف"))

    def _part(self, label: str, field_name: str, a: str, b: str, out: list[Contribution]) -> None:
        if a == b:
            out.append(Contribution(field_name, WEIGHTS[f"{field_name}_equal"], f"نفس {label}"))
        elif _same_part(a, b) or _jw(a, b) >= 0.92:
            out.append(Contribution(field_name, WEIGHTS[f"{field_name}_close"], f"{label} متقارب في الكتابة"))
        else:
            out.append(Contribution(field_name, WEIGHTS[f"{field_name}_different"], f"{label} مختلف"))

    def _names(self, pa: Sequence[str], pb: Sequence[str]) -> tuple[float, list[Contribution]]:
        out: list[Contribution] = []
        if not pa or not pb:
            return 0.0, out
        self._given(pa[0], pb[0], out)
        if len(pa) >= 2 and len(pb) >= 2:
            self._part("اسم الأب", "father", pa[1], pb[1], out)
        # Family name: the last part when a list has three or more; a two-part name may end with either.
        fa = pa[-1] if len(pa) >= 3 else None
        fb = pb[-1] if len(pb) >= 3 else None
        if fa and fb:
            if fa == fb:
                w = WEIGHTS["family_equal"] + self.freq.rarity_bonus(self.freq.family, fa)
                out.append(Contribution("family", w, "نفس اسم العائلة"))
            elif _same_part(fa, fb) or _jw(fa, fb) >= 0.9:
                out.append(Contribution("family", WEIGHTS["family_close"], "اسم العائلة متقارب في الكتابة"))
            else:
                out.append(Contribution("family", WEIGHTS["family_different"], "اسم العائلة مختلف"))
        else:
            out.append(Contribution("family", WEIGHTS["family_missing"], ""))
        # Middle parts: grandfather (and great-grandfather). One list may drop the grandfather or add one more.
        ma = list(pa[2:-1]) if len(pa) >= 4 else []
        mb = list(pb[2:-1]) if len(pb) >= 4 else []
        if ma and mb:
            if ma[0] == mb[0] or _same_part(ma[0], mb[0]):
                out.append(Contribution("middle", WEIGHTS["middle_equal"], "نفس اسم الجد"))
            else:
                out.append(Contribution("middle", WEIGHTS["middle_different"], "اسم الجد مختلف"))
        elif ma or mb:
            out.append(Contribution("middle", WEIGHTS["middle_missing"], "اسم الجد ناقص في أحد السجلين"))
        total = sum(c.weight for c in out)
        # The cap rises with what makes a namesake unlikely: a rare family name, and all four parts agreeing.
        cap = NAME_CAP
        if fa and fb and fa == fb:
            cap += self.freq.rarity_bonus(self.freq.family, fa)
        if ma and mb and len(pa) >= 4 and len(pb) >= 4 and all(c.weight > 0 for c in out):
            cap += FULL_NAME_BONUS
        if total > cap:
            out.append(Contribution("name_cap", cap - total, ""))
            total = cap
        return total, out

    def _shifted(self, pa: Sequence[str], pb: Sequence[str]) -> bool:
        """Father and son: the son's name is the father's shifted by one part (given + father's given, …)."""
        for x, y in ((pa, pb), (pb, pa)):
            if len(x) >= 3 and len(y) >= 3 and x[1] == y[0] and x[2] == y[1] and x[0] != y[0] and x[-1] == y[-1]:
                return True
        return False

    def score(self, a: MatchRecord, b: MatchRecord) -> PairScore:
        contributions: list[Contribution] = []
        name_score, name_parts = self._names(a.parts, b.parts)
        # Family name typed first: try the rotated order and keep the better reading (with a small penalty).
        # Only when the straight reading disagrees on the given or the family name can a rotation read better.
        straight_agrees = all(c.weight > 0 for c in name_parts if c.field in ("given", "family"))
        if len(a.parts) >= 3 and len(b.parts) >= 3 and not straight_agrees:
            for pa, pb in ((a.parts[1:] + a.parts[:1], b.parts), (a.parts, b.parts[1:] + b.parts[:1])):
                alt_score, alt_parts = self._names(pa, pb)
                if alt_score + WEIGHTS["rotated_order"] > name_score:
                    alt_parts.append(Contribution("order", WEIGHTS["rotated_order"], "اسم العائلة مكتوب أولاً"))
                    name_score, name_parts = alt_score + WEIGHTS["rotated_order"], alt_parts
        contributions.extend(name_parts)
        if self._shifted(a.parts, b.parts):
            contributions.append(
                Contribution("generation", WEIGHTS["shifted_generation"], "اسمان بفارق جيل (أب وابنه)")
            )

        level = id_level(a.national_id, b.national_id)
        if level == "id_equal":
            contributions.append(Contribution("national_id", WEIGHTS[level], "نفس رقم البطاقة"))
        elif level == "id_one_edit":
            contributions.append(Contribution("national_id", WEIGHTS[level], "رقم البطاقة يختلف في خانة واحدة"))
        elif level == "id_different":
            contributions.append(Contribution("national_id", WEIGHTS[level], "رقما بطاقة مختلفان"))
        if a.spouse_national_id and a.spouse_national_id == b.spouse_national_id:
            # Two men with the same wife's ID are one man; two wives may share a husband.
            key = "spouse_id_husband" if a.sex == "M" and b.sex == "M" else "spouse_id_cross"
            contributions.append(Contribution("spouse", WEIGHTS[key], "نفس رقم بطاقة الزوج/الزوجة"))

        if a.phone and b.phone:
            if a.phone == b.phone:
                contributions.append(Contribution("phone", WEIGHTS["phone_equal"], "نفس رقم الهاتف"))
            else:
                contributions.append(Contribution("phone", WEIGHTS["phone_different"], "رقما هاتف مختلفان"))
        if a.birth_year and b.birth_year:
            gap = abs(a.birth_year - b.birth_year)
            if gap == 0:
                contributions.append(Contribution("birth_year", WEIGHTS["year_equal"], "نفس سنة الميلاد"))
            elif gap == 1:
                contributions.append(Contribution("birth_year", WEIGHTS["year_1"], "سنة الميلاد تختلف سنة واحدة"))
            else:
                key = "year_2_3" if gap <= 3 else "year_far" if gap < 10 else "year_very_far"
                contributions.append(
                    Contribution("birth_year", WEIGHTS[key], f"سنة الميلاد تختلف {arabic_number(gap)} سنوات")
                )
        if a.sex and b.sex:
            if a.sex == b.sex:
                contributions.append(Contribution("sex", WEIGHTS["sex_equal"], ""))
            else:
                contributions.append(Contribution("sex", WEIGHTS["sex_different"], "الجنس مختلف"))
        if a.district and b.district:
            if a.district == b.district:
                contributions.append(Contribution("district", WEIGHTS["district_equal"], "نفس المديرية"))
            else:
                contributions.append(Contribution("district", WEIGHTS["district_different"], "مديريتان مختلفتان"))
        if a.household_size and b.household_size:
            if abs(a.household_size - b.household_size) <= 1:
                contributions.append(Contribution("household_size", WEIGHTS["size_close"], ""))
            elif abs(a.household_size - b.household_size) > 3:
                contributions.append(Contribution("household_size", WEIGHTS["size_far"], "عدد أفراد الأسرة مختلف"))
        total = sum(c.weight for c in contributions)
        decision = self.decide(total)
        if decision == "likely" and not any(c.field in CORROBORATING and c.weight > 0 for c in contributions):
            decision = "review"  # names and a birth year alone never make a likely duplicate
        return PairScore(a.id, b.id, total, tuple(contributions), decision)


def _ids_compatible(left: set[str], right: set[str]) -> bool:
    """Two groups may join when every ID of one equals, or is one mistyped digit from, every ID of the other."""
    return all(id_level(x, y) in ("id_equal", "id_one_edit") for x in left for y in right)


# --- clustering ----------------------------------------------------------------------------------------------


def cluster(
    record_ids: Sequence[str],
    pairs: Iterable[PairScore],
    national_ids: dict[str, str],
    *,
    id_is_valid=lambda _nid: True,
    max_size: int = 6,
) -> dict[str, str]:
    """record id → cluster id (the smallest member id). Links are taken strongest first; a link is refused when the
    joined cluster would hold two different valid national IDs or grow past `max_size` (no runaway chains)."""
    parent = {rid: rid for rid in record_ids}
    members: dict[str, set[str]] = {rid: {rid} for rid in record_ids}
    ids: dict[str, set[str]] = {
        rid: ({national_ids[rid]} if national_ids.get(rid) and id_is_valid(national_ids[rid]) else set())
        for rid in record_ids
    }

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for pair in sorted(pairs, key=lambda p: -p.score):
        if pair.decision != "likely" or pair.a not in parent or pair.b not in parent:
            continue
        ra, rb = find(pair.a), find(pair.b)
        if ra == rb:
            continue
        if not _ids_compatible(ids[ra], ids[rb]) or len(members[ra]) + len(members[rb]) > max_size:
            continue
        if len(members[ra]) < len(members[rb]):
            ra, rb = rb, ra
        parent[rb] = ra
        members[ra] |= members.pop(rb)
        ids[ra] |= ids.pop(rb)
    out: dict[str, str] = {}
    for group in members.values():
        label = min(group)
        for rid in group:
            out[rid] = label
    return out


# --- candidate generation --------------------------------------------------------------------------------------


class BlockIndex:
    """Blocking key → record positions, filled incrementally, so one record can be matched against all earlier ones.

    A block that grows past `max_block` stops taking members: such a key (a very common name combination) no longer
    tells records apart, and the other keys (with birth year, district, ID, phone) still bring real duplicates together.
    """

    def __init__(self, max_block: int = 100) -> None:
        self.max_block = max_block
        self._blocks: dict[int, list[int] | int] = {}

    @staticmethod
    def hashed(keys: Iterable[str]) -> tuple[int, ...]:
        """Keys as in-process hashes: what the index stores (much smaller than the strings for a million records)."""
        return tuple(hash(key) for key in keys)

    def add(self, position: int, keys: Iterable[str]) -> None:
        self.add_hashed(position, self.hashed(keys))

    def add_hashed(self, position: int, hashes: tuple[int, ...]) -> None:
        blocks = self._blocks
        for h in hashes:
            current = blocks.get(h)
            if current is None:
                blocks[h] = position  # most keys (IDs, phones) hold one record: no list for them
            elif isinstance(current, int):
                blocks[h] = [current, position]
            elif len(current) < self.max_block:
                current.append(position)

    def candidates(self, keys: Iterable[str]) -> set[int]:
        return self.candidates_hashed(self.hashed(keys))

    def candidates_hashed(self, hashes: tuple[int, ...]) -> set[int]:
        found: set[int] = set()
        blocks = self._blocks
        for h in hashes:
            current = blocks.get(h)
            if current is None:
                continue
            if isinstance(current, int):
                found.add(current)
            else:
                found.update(current)
        return found

    def __len__(self) -> int:
        return len(self._blocks)


def find_pairs(
    pool: Sequence[MatchRecord],
    scorer: Scorer,
    *,
    start: int = 0,
    index: BlockIndex | None = None,
    keep: str = "review",
    progress=None,
    should_cancel=None,
) -> list[PairScore]:
    """Score every record of `pool` from `start` on against all records before it that share a blocking key.

    `index` may already hold the positions before `start` (the registry, indexed once); records from `start` on are
    added as they are matched, so duplicates inside the new records are found too. Returns the pairs decided
    `likely` (and `review` when keep='review'). `progress(done, total)` is called every 2,000 records and
    `should_cancel()` checked with it.
    """
    if index is None:
        index = BlockIndex()
        for position in range(start):
            index.add(position, blocking_keys(pool[position]))
    wanted = ("likely", "review") if keep == "review" else ("likely",)
    pairs: list[PairScore] = []
    total = len(pool) - start
    for position in range(start, len(pool)):
        record = pool[position]
        keys = blocking_keys(record)
        for j in index.candidates(keys):
            result = scorer.score(pool[j], record)
            if result.decision in wanted:
                pairs.append(result)
        index.add(position, keys)
        done = position - start
        if done % 2000 == 0:
            if should_cancel is not None and should_cancel():
                raise InterruptedError("cancelled")
            if progress is not None:
                progress(done, total)
    if progress is not None:
        progress(total, total)
    return pairs


def _pairs_for_positions(pool, scorer, index: BlockIndex, positions: Iterable[int], wanted) -> list:
    """(j, i) positions of the kept pairs: small to hold and to send back; rescored in full at the end.
    Keys are computed again here rather than kept for a million records (about 0.4 GB a process)."""
    out = []
    for i in positions:
        record = pool[i]
        for j in index.candidates_hashed(BlockIndex.hashed(blocking_keys(record))):
            if j < i and scorer.score(pool[j], record).decision in wanted:
                out.append((j, i))
    return out


def find_pairs_parallel(
    pool: Sequence[MatchRecord],
    scorer: Scorer,
    *,
    keep: str = "review",
    progress=None,
    should_cancel=None,
    chunk: int = 2000,
) -> list[PairScore]:
    """find_pairs over a whole pool on two cores: the block index is built once, then a forked worker scores every
    other chunk of records while this process scores the rest (copy-on-write: the pool is not copied up front).
    Falls back to one process where fork is not available (Windows)."""
    import multiprocessing

    if "fork" not in multiprocessing.get_all_start_methods() or len(pool) < 4 * chunk:
        return find_pairs(pool, scorer, keep=keep, progress=progress, should_cancel=should_cancel)
    index = BlockIndex()
    for position, record in enumerate(pool):
        index.add(position, blocking_keys(record))
        if position % 50_000 == 0 and should_cancel is not None and should_cancel():
            raise InterruptedError("cancelled")
    wanted = ("likely", "review") if keep == "review" else ("likely",)
    starts = list(range(0, len(pool), chunk))
    mine, theirs = starts[0::2], starts[1::2]
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)

    def worker() -> None:
        found = []
        for start in theirs:
            found.extend(_pairs_for_positions(pool, scorer, index, range(start, min(start + chunk, len(pool))), wanted))
        sender.send(found)
        sender.close()

    child = context.Process(target=worker, daemon=True)
    gc.freeze()  # the collector would otherwise touch (and so copy) every shared page in the worker
    try:
        child.start()
    finally:
        gc.unfreeze()
    sender.close()
    positions: list[tuple[int, int]] = []
    try:
        for n, start in enumerate(mine):
            if should_cancel is not None and should_cancel():
                raise InterruptedError("cancelled")
            positions.extend(
                _pairs_for_positions(pool, scorer, index, range(start, min(start + chunk, len(pool))), wanted)
            )
            if progress is not None:
                progress(min(len(pool), 2 * (n + 1) * chunk), len(pool))
        while not receiver.poll(0.5):
            if should_cancel is not None and should_cancel():
                raise InterruptedError("cancelled")
            if not child.is_alive() and not receiver.poll(0):
                raise RuntimeError("the duplicate-scan worker stopped without a result")
        positions.extend(receiver.recv())
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        receiver.close()
    if progress is not None:
        progress(len(pool), len(pool))
    return [scorer.score(pool[j], pool[i]) for j, i in positions]
