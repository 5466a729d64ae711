"""Duplicate detection for Arabic names: blocking keys, Fellegi–Sunter scoring learned from the data, safe clusters.

The model (Splink's and fastLink's): every candidate pair is compared field by field into a level per field
(γ). m = P(level | same person) is estimated by expectation–maximisation on the candidate pairs of the records at
hand; u = P(level | two different people) is counted on random pairs of the same records; name parts that agree
exactly are weighed by how common the name is (term frequency). The domain rules stay hard constraints, both in
training and in the decision: two different given names are two people (brothers share everything else), a name
shifted by one part is a father and his son, a record with nothing but a given name is never "likely", and a
cluster never holds two different valid national IDs.
"""

from __future__ import annotations

import gc
import hashlib
import math
import random
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler

from aidoffice.domain.arabic import CONNECTORS, normalize_name

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


# --- blocking ----------------------------------------------------------------------------------------------


# A key is "kind:value". Name keys leave out, each, what clerks most often get wrong; three of them leave out the
# given name altogether (a slip in its first letters defeats every key that uses it).
def blocking_keys(r: MatchRecord) -> set[str]:
    """Keys under which a record is looked up: names (phonetic, in several combinations), ID, ID halves, phone.

    Two records are candidates when they share at least one key:
    - n1 given|father|last: the grandfather dropped or added;
    - n2 given|father|third: the family name changed or missing, and a three-part name read both ways (its third
      part is the family name of one list and the grandfather of another: زينب بدر فؤاد / زينب بدر فؤاد الحبشي);
    - n3 given|last|birth year: the father's name spelled differently;
    - g1 father|grandfather|family and g2 father|family|birth year: the given name mistyped (نحمد/محمد, ركات/بركات);
    - the family name typed first (n1 of the rotated name);
    - the national ID, each half of it (a mistyped digit), and the phone.
    """
    keys: set[str] = set()
    p = [skeleton(x) for x in r.parts]
    year = r.birth_year
    if len(p) >= 2:
        first, second, last = p[0], p[1], p[-1]
        keys.add(f"n1:{first}|{second}|{last}")
        if year:
            keys.add(f"n3:{first}|{last}|{year}")
        if len(p) >= 3:
            keys.add(f"n2:{first}|{second}|{p[2]}")
            if year:
                keys.add(f"g2:{second}|{last}|{year}")
            rotated = [skeleton(x) for x in family_first(r.parts)]
            keys.add(f"n1:{rotated[0]}|{rotated[1]}|{rotated[-1]}")
        if len(p) >= 4:
            keys.add(f"g1:{second}|{p[2]}|{last}")
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


def refined_years(year: int | None) -> tuple[int, ...]:
    """The birth years a record is looked up under inside a block too large to compare whole (±1: a year misread)."""
    return (year - 1, year, year + 1) if year else ()


# --- comparison levels ------------------------------------------------------------------------------------

# Each field is compared into one of its levels (index into the tuple), or None when either record lacks it.
LEVELS: dict[str, tuple[str, ...]] = {
    "given": ("exact", "close", "different"),
    # Father, grandfather and family name as one comparison: they agree together for every brother, sister and
    # cousin, so three separate weights would count one fact three times.
    "lineage": ("same", "spelling", "part_missing", "one_different", "two_different"),
    "national_id": ("equal", "one_edit", "different"),
    "phone": ("equal", "different"),
    "birth_year": ("equal", "one", "two_three", "four_nine", "far"),
    "sex": ("equal", "different"),
    "district": ("equal", "different"),
    "household_size": ("close", "near", "far"),
    "spouse": ("equal", "different"),
}
FIELDS = tuple(LEVELS)
_F = {name: i for i, name in enumerate(FIELDS)}

# Starting values (and the prior an estimate is pulled towards when the records at hand are few): m = P(level |
# same person), u = P(level | different people). EM and random pairs replace them on real data.
DEFAULT_M: dict[str, tuple[float, ...]] = {
    "given": (0.86, 0.12, 0.02),
    "lineage": (0.55, 0.12, 0.25, 0.06, 0.02),
    "national_id": (0.90, 0.07, 0.03),
    "phone": (0.65, 0.35),
    "birth_year": (0.78, 0.16, 0.04, 0.015, 0.005),
    "sex": (0.99, 0.01),
    "district": (0.88, 0.12),
    "household_size": (0.85, 0.1, 0.05),
    "spouse": (0.95, 0.05),
}
DEFAULT_U: dict[str, tuple[float, ...]] = {
    "given": (0.02, 0.03, 0.95),
    "lineage": (0.0005, 0.0005, 0.004, 0.03, 0.965),
    "national_id": (1e-7, 1e-5, 0.99999),
    "phone": (0.0005, 0.9995),
    "birth_year": (0.025, 0.05, 0.1, 0.3, 0.525),
    "sex": (0.5, 0.5),
    "district": (0.15, 0.85),
    "household_size": (0.35, 0.3, 0.35),
    "spouse": (1e-6, 0.999999),
}
# What non-matches that share a blocking key look like (relatives, namesakes, neighbours): estimated by EM
# alongside m; these starting values stand until a list or a registry has been fitted.
DEFAULT_V: dict[str, tuple[float, ...]] = {
    "given": (0.25, 0.1, 0.65),
    "lineage": (0.35, 0.05, 0.15, 0.25, 0.2),
    "national_id": (0.0005, 0.002, 0.9975),
    "phone": (0.15, 0.85),
    "birth_year": (0.05, 0.08, 0.12, 0.3, 0.45),
    "sex": (0.5, 0.5),
    "district": (0.6, 0.4),
    "household_size": (0.4, 0.3, 0.3),
    "spouse": (0.01, 0.99),
}
# Weight of the starting values against the data, in pairs (a MAP estimate: few records barely move them).
PSEUDO_PAIRS = 50.0
# Fields EM leaves at their starting m: too rare among candidates to learn from, or decided by a rule.
FIXED_M = frozenset({"spouse", "sex"})

# The prior odds (log2) that two records sharing a blocking key are one person, until a list is fitted.
DEFAULT_PRIOR_LOG2 = -3.0
DEFAULT_LAMBDA = 1.0 / (1.0 + 2.0**-DEFAULT_PRIOR_LOG2)


def _similar(a: str, b: str) -> bool:
    """Spelling variants of one name part: the same phonetic skeleton, one edit apart, or Jaro–Winkler ≥ 0.9."""
    return _similar_cached(a, b) if a < b else _similar_cached(b, a)


@lru_cache(maxsize=500_000)
def _similar_cached(a: str, b: str) -> bool:
    if skeleton(a) == skeleton(b):
        return True
    if max(len(a), len(b)) >= 2 and DamerauLevenshtein.distance(a, b) <= 1:
        return True
    return JaroWinkler.similarity(a, b) >= 0.9


def _part_level(a: str | None, b: str | None) -> int | None:
    if not a or not b:
        return None
    if a == b:
        return 0
    # _similar without its own call: this runs several times for every candidate pair of a scan
    return 1 if (_similar_cached(a, b) if a < b else _similar_cached(b, a)) else 2


def id_level(a: str, b: str) -> str | None:
    if not a or not b:
        return None
    if a == b:
        return "id_equal"
    if len(a) == len(b) and DamerauLevenshtein.distance(a, b) == 1:
        return "id_one_edit"
    return "id_different"


_ID_LEVEL = {None: None, "id_equal": 0, "id_one_edit": 1, "id_different": 2}


def _near_ids(a: str, b: str) -> bool:
    """Two cards of one length at most two slips apart (digits or neighbours swapped)."""
    return len(a) == len(b) and DamerauLevenshtein.distance(a, b) <= 2


def family_first(parts: Sequence[str]) -> list[str]:
    """A name typed family first, put back in order: «بن بريك محمد بكر» → «محمد بكر بريك»."""
    p = list(parts)
    if len(p) >= 4 and p[0] in CONNECTORS:
        p = p[1:]  # «بن بريك»: the connector of a family name that leads
    return p[1:] + p[:1]


def _roles(parts: Sequence[str], layout: int) -> tuple[str | None, str | None, str | None, str | None]:
    """(given, father, grandfather, family) of a name read straight, family name first, or without family name."""
    p = family_first(parts) if layout == 1 and len(parts) >= 3 else list(parts)
    n = len(p)
    given = p[0] if n else None
    father = p[1] if n >= 2 else None
    if layout == 2:  # three parts: given, father, grandfather; no family name
        return given, father, p[2] if n >= 3 else None, None
    family = p[-1] if n >= 3 else None
    grandfather = p[2] if n >= 4 else None
    return given, father, grandfather, family


@lru_cache(maxsize=1 << 16)  # about 28 MB a process: what helps is a record's own readings across its candidates
def _readings(parts: tuple[str, ...]) -> tuple[tuple[str | None, str | None, str | None, str | None], ...]:
    """The roles of one name under each layout (straight, family first, no family name), worked out once per name
    rather than for every pair it is compared in."""
    return tuple(_roles(parts, layout) for layout in (0, 1, 2))


_POINTS = {0: 2.0, 1: 1.0, 2: -2.0, None: 0.0}


def _given_names_differ(pa: tuple[str, ...], pb: tuple[str, ...]) -> bool:
    """Whether every reading _name_levels may choose pairs two different given names (level 2): the names read
    straight, or either family name first (a reading without family name keeps the given name in front)."""
    ra, rb = _readings(pa), _readings(pb)
    if _part_level(ra[0][0], rb[0][0]) != 2:
        return False
    if len(pa) >= 3 and len(pb) >= 3:
        return _part_level(ra[1][0], rb[0][0]) == 2 and _part_level(ra[0][0], rb[1][0]) == 2
    return True


def _name_levels(pa: Sequence[str], pb: Sequence[str]):
    """((layout, given, father, middle, family), (given, father, family) of the first name as read): the reading
    of the two names that agrees best."""
    readings = [(0, 0, 0)]
    if len(pa) >= 3 and len(pb) >= 3:
        readings += [(1, 1, 0), (1, 0, 1)]
    if len(pa) == 3 and len(pb) >= 4:
        readings.append((2, 2, 0))
    if len(pb) == 3 and len(pa) >= 4:
        readings.append((2, 0, 2))
    best = None
    best_points = -1e9
    roles_a, roles_b = _readings(tuple(pa)), _readings(tuple(pb))
    for layout, la, lb in readings:
        ga, fa, ma, fama = roles_a[la]
        gb, fb, mb, famb = roles_b[lb]
        given = _part_level(ga, gb)
        father = _part_level(fa, fb)
        family = _part_level(fama, famb)
        if ma and mb:
            middle = 0 if (ma == mb or _similar(ma, mb)) else 1
        elif ma or mb:
            middle = 2
        else:
            middle = None
        points = (
            _POINTS[given] + _POINTS[father] + _POINTS[family] + (2.0 if middle == 0 else -1.0 if middle == 1 else 0)
        )
        points -= (0.0, 1.0, 0.5)[layout]
        if points > best_points:
            best_points, best = points, ((layout, given, father, middle, family), (ga, fa, fama))
    assert best is not None
    return best


def _year_level(a: int | None, b: int | None) -> int | None:
    if not a or not b:
        return None
    gap = abs(a - b)
    return 0 if gap == 0 else 1 if gap == 1 else 2 if gap <= 3 else 3 if gap < 10 else 4


def compare(a: MatchRecord, b: MatchRecord) -> tuple[int | None, ...]:
    """The comparison vector γ of two records: one level per field of FIELDS (None: a value is missing)."""
    return compare_names(a, b)[0]


_NO_NAMES = ((0, None, None, None, None), (None, None, None))


def compare_names(a: MatchRecord, b: MatchRecord):
    """γ, and the given, father's and family names of the first record as the best reading aligned them."""
    (layout, given, father, middle, family), names = (
        _name_levels(a.parts, b.parts) if a.parts and b.parts else _NO_NAMES
    )
    lineage = _lineage_level(layout, father, middle, family)
    size = None
    if a.household_size and b.household_size:
        gap = abs(a.household_size - b.household_size)
        size = 0 if gap <= 1 else 1 if gap <= 3 else 2
    spouse = None
    if a.spouse_national_id and b.spouse_national_id:
        spouse = 0 if a.spouse_national_id == b.spouse_national_id else 1
    ids = _ID_LEVEL[id_level(a.national_id, b.national_id)]
    # Two digits slipped on a card whose holder agrees in every name and the birth year: one card mistyped twice
    # (a brother has another given name, a cousin another father).
    if (
        ids == 2
        and given is not None
        and given <= 1
        and lineage is not None
        and lineage <= 1
        and _year_level(a.birth_year, b.birth_year) == 0
        and _near_ids(a.national_id, b.national_id)
    ):
        ids = 1
    gamma = (
        given,
        lineage,
        ids,
        (0 if a.phone == b.phone else 1) if a.phone and b.phone else None,
        _year_level(a.birth_year, b.birth_year),
        (0 if a.sex == b.sex else 1) if a.sex and b.sex else None,
        (0 if a.district == b.district else 1) if a.district and b.district else None,
        size,
        spouse,
    )
    return gamma, names, (father, middle, family, layout)


def _lineage_level(layout: int, father: int | None, middle: int | None, family: int | None) -> int | None:
    if father is None and family is None and middle is None:
        return None
    different = (father == 2) + (family == 2) + (middle == 1)
    if different >= 2:
        return 4
    if different == 1:
        return 3
    if father is None or family is None or middle == 2 or layout != 0:
        return 2
    return 1 if 1 in (father, family) else 0


# --- name frequencies (term-frequency adjustment) ---------------------------------------------------------------


@dataclass
class NameFrequencies:
    """How common each normalised given name and family name is among the records at hand."""

    given: dict[str, int] = field(default_factory=dict)
    family: dict[str, int] = field(default_factory=dict)
    total: int = 0
    common_threshold: int = 20
    _sums: tuple[int, int] | None = field(default=None, repr=False, compare=False)
    _agree: tuple[float, float] | None = field(default=None, repr=False, compare=False)

    @classmethod
    def from_records(cls, records: Iterable[MatchRecord], common_threshold: int | None = None) -> NameFrequencies:
        given: dict[str, int] = {}
        family: dict[str, int] = {}
        total = 0
        for r in records:
            total += 1
            if r.parts:
                given[r.parts[0]] = given.get(r.parts[0], 0) + 1
                if len(r.parts) >= 2:  # the father's name is a given name too
                    given[r.parts[1]] = given.get(r.parts[1], 0) + 1
            if len(r.parts) >= 3:
                family[r.parts[-1]] = family.get(r.parts[-1], 0) + 1
        threshold = common_threshold if common_threshold is not None else common_count(total)
        return cls(given, family, total, threshold)

    def is_common_given(self, name: str) -> bool:
        return self.given.get(name, 0) >= self.common_threshold

    def tf_adjustment(self, table: str, name: str) -> float:
        """log2(Σ tf² / tf(name)): positive for a rarer name than average, negative for a commoner one."""
        share = self.share(table, name)
        if share is None:
            return 0.0
        if self._agree is None:
            sums = self._sums or (1, 1)
            self._agree = tuple(
                sum((c / max(1, total)) ** 2 for c in counts.values())
                for counts, total in ((self.given, sums[0]), (self.family, sums[1]))
            )
        agree = self._agree[0] if table == "given" else self._agree[1]
        return math.log2(max(agree, 1e-9) / share)

    def share(self, table: str, name: str) -> float | None:
        """The share of records with this name (its term frequency), or None when nothing is known."""
        if self._sums is None:
            self._sums = (sum(self.given.values()), sum(self.family.values()))
        counts, total = (self.given, self._sums[0]) if table == "given" else (self.family, self._sums[1])
        if total < 50:
            return None
        return (counts.get(name, 0) + 1) / (total + 1)


EMPTY_FREQUENCIES = NameFrequencies()


def common_count(total: int) -> int:
    """How often a given name must occur to be a name of its own, not a slip: 0.2 % of the records, at least 5
    (a clerk's systematic slip, such as عمز for عمر, can recur a few times in one list)."""
    return max(5, total // 500)


# --- the model ----------------------------------------------------------------------------------------------------


@dataclass
class MatchModel:
    """m, u and v per field and level, and the prior odds that two candidates are one person.

    m: P(level | one person), by EM on candidate pairs. u: P(level | two random records), counted on random pairs;
    it weighs an exact name agreement by the name's frequency (Splink's term-frequency adjustment, log2(u / tf)).
    v: P(level | two different people who share a blocking key), by the same EM — brothers share a father, cousins a
    grandfather, namesakes a whole name, so a field's weight among candidates is log2(m / v), not log2(m / u).
    """

    m: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(DEFAULT_M))
    u: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(DEFAULT_U))
    v: dict[str, tuple[float, ...]] = field(default_factory=lambda: dict(DEFAULT_V))
    prior_log2: float = DEFAULT_PRIOR_LOG2
    records: int = 0
    pairs_trained: int = 0
    em_iterations: int = 0

    def __post_init__(self) -> None:
        self.weights: tuple[tuple[float, ...], ...] = tuple(
            tuple(math.log2(max(mv, 1e-9) / max(vv, 1e-9)) for mv, vv in zip(self.m[f], self.v[f], strict=True))
            for f in FIELDS
        )

    def to_dict(self) -> dict:
        return {
            "m": {f: list(x) for f, x in self.m.items()},
            "u": {f: list(x) for f, x in self.u.items()},
            "v": {f: list(x) for f, x in self.v.items()},
            "prior_log2": self.prior_log2,
            "records": self.records,
            "pairs_trained": self.pairs_trained,
            "em_iterations": self.em_iterations,
        }

    @classmethod
    def from_dict(cls, data: dict) -> MatchModel:
        try:
            tables = [{f: tuple(data[t][f]) for f in FIELDS} for t in ("m", "u", "v")]
        except (KeyError, TypeError):
            return cls()
        if any(len(table[f]) != len(LEVELS[f]) for table in tables for f in FIELDS):
            return cls()  # stored by another version of the levels: start again from the defaults
        return cls(*tables, float(data["prior_log2"]), int(data.get("records", 0)), int(data.get("pairs_trained", 0)),
                   int(data.get("em_iterations", 0)))  # fmt: skip


DEFAULT_MODEL = MatchModel()


def estimate_u(records: Sequence[MatchRecord], *, pairs: int = 100_000, seed: int = 1) -> dict[str, tuple[float, ...]]:
    """u from random pairs of the records at hand (true matches among them are too few to matter), pulled towards
    the starting values when the records are few."""
    counts = [[0.0] * len(LEVELS[f]) for f in FIELDS]
    n = len(records)
    if n >= 2:
        rng = random.Random(seed)
        wanted = min(pairs, n * (n - 1) // 2)
        for _ in range(wanted):
            i, j = rng.randrange(n), rng.randrange(n)
            if i == j:
                continue
            for k, level in enumerate(compare(records[i], records[j])):
                if level is not None:
                    counts[k][level] += 1
    out = {}
    for k, f in enumerate(FIELDS):
        total = sum(counts[k])
        out[f] = tuple(
            (c + PSEUDO_PAIRS * d) / (total + PSEUDO_PAIRS) for c, d in zip(counts[k], DEFAULT_U[f], strict=True)
        )
    return out


def estimate_m(
    patterns: Counter, u: dict[str, tuple[float, ...]], *, iterations: int = 60, start_lambda: float = 0.3
) -> tuple[dict[str, tuple[float, ...]], dict[str, tuple[float, ...]], float, int]:
    """m and λ (the share of candidate pairs that are one person) by expectation–maximisation over the comparison
    vectors of candidate pairs. The non-match side is estimated alongside (fastLink's way): candidates that are
    not one person are relatives and namesakes, who agree on far more than random pairs, and holding them to the
    random-pair u would pull them into the match class. Only m and λ are kept; scoring uses the random-pair u.
    Returns (m, the candidates' non-match distribution, λ, iterations)."""
    m = {f: list(DEFAULT_M[f]) for f in FIELDS}
    # The non-matches among candidates start from the random-pair u with the name parts made likelier to agree.
    v = {f: list(u[f]) for f in FIELDS}
    lam = start_lambda
    items = list(patterns.items())
    total = sum(patterns.values())
    if not total:
        return {f: tuple(x) for f, x in m.items()}, {f: tuple(x) for f, x in v.items()}, lam, 0
    done = 0
    for iteration in range(1, iterations + 1):
        done = iteration
        acc_m = [[0.0] * len(LEVELS[f]) for f in FIELDS]
        acc_u = [[0.0] * len(LEVELS[f]) for f in FIELDS]
        matched = 0.0
        for gamma, count in items:
            pm, pu = lam, 1.0 - lam
            for k, level in enumerate(gamma):
                if level is not None:
                    f = FIELDS[k]
                    pm *= m[f][level]
                    pu *= v[f][level]
            w = pm / (pm + pu) if pm + pu > 0 else 0.0
            matched += w * count
            for k, level in enumerate(gamma):
                if level is not None:
                    acc_m[k][level] += w * count
                    acc_u[k][level] += (1.0 - w) * count
        # Pulled towards the starting prior like m and v: five candidate pairs must not decide that most are one.
        new_lam = min(0.999, max(1e-6, (matched + PSEUDO_PAIRS * DEFAULT_LAMBDA) / (total + PSEUDO_PAIRS)))
        change = abs(new_lam - lam)
        lam = new_lam
        for k, f in enumerate(FIELDS):
            s_u = sum(acc_u[k])
            v[f] = [(a + PSEUDO_PAIRS * d) / (s_u + PSEUDO_PAIRS) for a, d in zip(acc_u[k], u[f], strict=True)]
            if f in FIXED_M:
                continue
            s_m = sum(acc_m[k])
            new = [(a + PSEUDO_PAIRS * d) / (s_m + PSEUDO_PAIRS) for a, d in zip(acc_m[k], DEFAULT_M[f], strict=True)]
            change = max(change, max(abs(x - y) for x, y in zip(new, m[f], strict=True)))
            m[f] = new
        if change < 1e-4:
            break
    return {f: tuple(x) for f, x in m.items()}, {f: tuple(x) for f, x in v.items()}, lam, done


# --- scoring ------------------------------------------------------------------------------------------------------


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
    prior_log2: float = DEFAULT_PRIOR_LOG2

    @property
    def probability(self) -> float:
        """The match probability: the prior odds times the evidence (2 ** score)."""
        x = self.score + self.prior_log2
        return 1.0 / (1.0 + 2.0 ** (-x)) if x > -60 else 0.0

    def reasons(self) -> list[str]:
        return [c.reason for c in sorted(self.contributions, key=lambda c: -abs(c.weight)) if c.reason]


ARABIC_DIGITS = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def arabic_number(n: int) -> str:
    return str(n).translate(ARABIC_DIGITS)


_REASONS: dict[str, tuple[str, ...]] = {
    "given": ("نفس الاسم الأول", "الاسم الأول متقارب في الكتابة", "الاسم الأول مختلف"),
    "lineage": ("", "", "", "", ""),  # told part by part (_PART_REASONS)
    "national_id": ("نفس رقم البطاقة", "رقم البطاقة يختلف في خانة واحدة", "رقما بطاقة مختلفان"),
    "phone": ("نفس رقم الهاتف", "رقما هاتف مختلفان"),
    "birth_year": ("نفس سنة الميلاد", "سنة الميلاد تختلف سنة واحدة", "", "", ""),
    "sex": ("", "الجنس مختلف"),
    "district": ("نفس المديرية", "مديريتان مختلفتان"),
    "household_size": ("", "", "عدد أفراد الأسرة مختلف"),
    "spouse": ("نفس رقم بطاقة الزوج/الزوجة", ""),
}

# The hard rules: what they say, and the decision they allow at most.
RULE_TWO_GIVEN = "اسمان أولان مختلفان (شخصان)"
RULE_GENERATION = "اسمان بفارق جيل (أب وابنه)"
RULE_TWO_IDS = "رقما بطاقة مختلفان: شخصان"
RULE_TOO_SHORT = "الاسم ناقص: لا يكفي للحكم"
RULE_TWO_LINEAGES = "أب وجد (أو عائلة) مختلفان: شخصان"
RULE_YEARS_APART = "سنتا الميلاد متباعدتان ولا رقم بطاقة أو هاتف مشترك"
RULE_SAME_ID_OTHER_NAME = "نفس رقم البطاقة باسم أول مختلف"
RULE_YEARS_APART_SHARED = "سنتا الميلاد متباعدتان مع رقم بطاقة أو هاتف مشترك"

# What the lineage comparison saw, part by part, for the reviewer: father, grandfather, family name, reading.
_PART_REASONS = (
    ("نفس اسم الأب", "اسم الأب متقارب في الكتابة", "اسم الأب مختلف"),
    ("نفس اسم الجد", "اسم الجد مختلف", "اسم الجد ناقص في أحد السجلين"),
    ("نفس اسم العائلة", "اسم العائلة متقارب في الكتابة", "اسم العائلة مختلف"),
    ("", "اسم العائلة مكتوب أولاً", "الاسم الثلاثي قُرئ بلا اسم عائلة"),
)


def _lineage_reason(parts) -> str:
    return "، ".join(
        _PART_REASONS[i][level] for i, level in enumerate(parts) if level is not None and _PART_REASONS[i][level]
    )


DEFAULT_LIKELY = 0.99
DEFAULT_REVIEW = 0.5


def _shifted(pa: Sequence[str], pb: Sequence[str]) -> bool:
    """Father and son: the son's name is the father's shifted by one part (given + father's given, …)."""
    for x, y in ((pa, pb), (pb, pa)):
        if len(x) >= 3 and len(y) >= 3 and x[1] == y[0] and x[2] == y[1] and x[0] != y[0] and x[-1] == y[-1]:
            return True
    return False


# A pair a rule calls two people scores at most -20 (log2 odds): this probability, below any threshold in use.
_RULE_DISTINCT_LOG2 = -20.0
_RULE_DISTINCT_PROBABILITY = 1.0 / (1.0 + 2.0**-_RULE_DISTINCT_LOG2)


def _logit2(p: float) -> float:
    return math.log2(p / (1.0 - p))


class Scorer:
    """Scores a candidate pair field by field with a model's weights; thresholds on the match probability decide."""

    def __init__(
        self,
        frequencies: NameFrequencies | None = None,
        *,
        model: MatchModel | None = None,
        likely: float = DEFAULT_LIKELY,
        review: float = DEFAULT_REVIEW,
    ):
        self.freq = frequencies or EMPTY_FREQUENCIES
        self.model = model or DEFAULT_MODEL
        self.likely = likely
        self.review = review
        self._w = self.model.weights
        self._m = self.model.m
        # decision() may leave out a pair a rule calls two people only when both thresholds are well above what the
        # rule leaves it (with a margin for rounding); set_thresholds allows nothing lower.
        self._early = min(likely, review) > 2 * _RULE_DISTINCT_PROBABILITY

    def decide_probability(self, probability: float) -> str:
        if probability >= self.likely:
            return "likely"
        if probability >= self.review:
            return "review"
        return "distinct"

    def _rule(self, a: MatchRecord, b: MatchRecord, gamma) -> tuple[str, str] | None:
        """(the most a hard rule allows, its reason), or None when no rule applies."""
        given, id_level_ = gamma[_F["given"]], gamma[_F["national_id"]]
        if given is not None:
            ga, gb = a.parts[0], b.parts[0]
            two_names = given == 2 or (
                given == 1 and ga != gb and self.freq.is_common_given(ga) and self.freq.is_common_given(gb)
            )
            if two_names:
                # Brothers share father, grandfather, family, phone and district: only the given name tells them
                # apart. One card under two given names is worth a look, never a merge.
                if id_level_ == 0 and gamma[_F["sex"]] != 1:
                    return "review", RULE_SAME_ID_OTHER_NAME
                return "distinct", RULE_TWO_GIVEN
        if _shifted(a.parts, b.parts):
            return "distinct", RULE_GENERATION
        lineage = gamma[_F["lineage"]]
        if (lineage == 4 and id_level_ != 0) or (lineage == 3 and id_level_ != 0 and gamma[_F["phone"]] != 0):
            # The same given name with another father and grandfather (or family): namesakes, cousins. With one part
            # of the lineage different (not misspelt: different), only a card or a phone in common makes it a look.
            return "distinct", RULE_TWO_LINEAGES
        if id_level_ == 2:
            # Two cards are two people; two digits slipped (or swapped twice) may still be one card.
            return ("review", RULE_TWO_IDS) if _near_ids(a.national_id, b.national_id) else ("distinct", RULE_TWO_IDS)
        if len(a.parts) < 2 or len(b.parts) < 2:
            return "review", RULE_TOO_SHORT
        year = gamma[_F["birth_year"]]
        if year is not None and year >= 2 and id_level_ != 0 and gamma[_F["phone"]] != 0:
            # Siblings given one name (after a child who died), cousins named after one grandfather: the household
            # agrees, only the birth year tells them apart. Without a card or a phone in common, years two or more
            # apart are worth a look, never a merge; four or more (more than a guessed age) are two people.
            return ("distinct" if year >= 3 else "review"), RULE_YEARS_APART
        if year is not None and year >= 3 and id_level_ != 2:
            # A household shares one phone and a son is often listed on his father's card: with a card or a phone in
            # common, birth years four or more apart are a mistyped year or another member of the family (a
            # reading of the names family-first can line a son's name up with his father's) — a look, never a merge.
            return "review", RULE_YEARS_APART_SHARED
        return None

    def _weight(self, k: int, level: int, names, parts) -> float:
        """log2(m/v), with Splink's term-frequency adjustment when a name agrees exactly: log2(u / tf), u being the
        chance two random records agree on that part (Σ tf²) — a rare name agreeing says more than a common one."""
        weight = self._w[k][level]
        if k == 0 and level == 0 and names[0]:
            weight += self.freq.tf_adjustment("given", names[0])
        elif k == 1 and parts[2] == 0 and names[2]:
            weight += self.freq.tf_adjustment("family", names[2])
        return weight

    def _evaluate(self, a: MatchRecord, b: MatchRecord, compared=None, rule=None):
        gamma, names, parts = compared or compare_names(a, b)
        total = 0.0
        for k, level in enumerate(gamma):
            if level is not None:
                total += self._weight(k, level, names, parts) if k < 2 else self._w[k][level]
        if compared is None:
            rule = self._rule(a, b, gamma)
        prior = self.model.prior_log2
        rule_weight = 0.0
        if rule is not None:
            cap = rule[0]
            ceiling = _RULE_DISTINCT_LOG2 if cap == "distinct" else _logit2(self.likely) - 1.0
            rule_weight = min(0.0, ceiling - (total + prior))
        return gamma, total, rule, rule_weight, names, parts

    def decision(self, a: MatchRecord, b: MatchRecord) -> str:
        """The decision alone (the full scan calls this for every candidate pair). A rule that calls the pair two
        people caps it far below any threshold (as in _evaluate), so the weights are not worked out for it: most
        candidate pairs of a large registry are brothers, cousins and namesakes."""
        if (
            self._early
            and a.parts
            and b.parts
            and not (a.national_id and a.national_id == b.national_id)
            and _given_names_differ(tuple(a.parts), tuple(b.parts))  # a list of parts is welcome too
        ):
            return "distinct"  # the rule of two given names, without a card in common (see _rule), known early
        compared = compare_names(a, b)
        rule = self._rule(a, b, compared[0])
        if rule is not None and rule[0] == "distinct" and self._early:
            return "distinct"
        _gamma, total, _rule, rule_weight, _names, _parts = self._evaluate(a, b, compared, rule)
        x = total + rule_weight + self.model.prior_log2
        return self.decide_probability(1.0 / (1.0 + 2.0 ** (-x)) if x > -60 else 0.0)

    def score(self, a: MatchRecord, b: MatchRecord) -> PairScore:
        gamma, total, rule, rule_weight, names, parts = self._evaluate(a, b)
        contributions: list[Contribution] = []
        for k, level in enumerate(gamma):
            if level is None:
                continue
            f = FIELDS[k]
            weight = self._weight(k, level, names, parts) if k < 2 else self._w[k][level]
            reason = _lineage_reason(parts) if f == "lineage" else _REASONS[f][level]
            if f == "birth_year" and level >= 2:
                reason = f"سنة الميلاد تختلف {arabic_number(abs((a.birth_year or 0) - (b.birth_year or 0)))} سنوات"
            contributions.append(Contribution(f, weight, reason))
        if rule is not None:
            contributions.append(Contribution("rule", rule_weight, rule[1]))
        score = total + rule_weight
        result = PairScore(a.id, b.id, score, tuple(contributions), "distinct", self.model.prior_log2)
        return PairScore(a.id, b.id, score, result.contributions, self.decide_probability(result.probability),
                         self.model.prior_log2)  # fmt: skip

    def two_people(self, a: MatchRecord, b: MatchRecord, gamma) -> bool:
        """Pairs a rule on the names or the cards calls two people: known non-matches, left out of EM. (Years far
        apart decide a pair but stay in EM: they are the evidence the birth-year weights learn from; taken out, the
        weights learned on list A let more siblings through on list B.)"""
        rule = self._rule(a, b, gamma)
        return rule is not None and rule[0] == "distinct" and rule[1] != RULE_YEARS_APART


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

MAX_BLOCK = 150
# Scoring processes of a full scan at most (each holds what it finds; the pool itself is shared).
MAX_PROCESSES = 16


@dataclass
class BlockStats:
    """What blocking did: candidate pairs compared, blocks split by birth year, pairs left out (and why)."""

    compared: int = 0
    split_blocks: int = 0
    skipped_pairs: int = 0


class BlockIndex:
    """Blocking key → record positions, so one record can be matched against all others that share a key.

    A block that grows past `max_block` no longer tells records apart (a very common name combination, an
    association's own phone typed on every row, one ID repeated): it is split by birth year, and a record is then
    looked up under its year ±1. A sub-block that still grows past `max_block` stops taking members, and every pair
    that is therefore not compared is counted in `skipped_pairs` — nothing is dropped without saying so.
    """

    def __init__(self, year_of, max_block: int = MAX_BLOCK) -> None:
        self.year_of = year_of
        self.max_block = max_block
        self._blocks: dict[int, list[int] | int] = {}
        self._split: dict[int, int] = {}  # split block → how many records it holds
        self._overflow: dict[int, int] = {}  # sub-block → members not stored
        self.stats = BlockStats()

    @staticmethod
    def hashed(keys: Iterable[str]) -> tuple[int, ...]:
        """Keys as in-process hashes: what the index stores (much smaller than the strings for a million records)."""
        return tuple(hash(key) for key in keys)

    def _put(self, h: int, position: int, limit: int | None) -> bool:
        blocks = self._blocks
        current = blocks.get(h)
        if current is None:
            blocks[h] = position  # most keys (IDs, phones) hold one record: no list for them
        elif isinstance(current, int):
            blocks[h] = [current, position]
        elif limit is None or len(current) < limit:
            current.append(position)
        else:
            return False
        return True

    def add(self, position: int, keys: Iterable[str]) -> None:
        self.add_hashed(position, self.hashed(keys))

    def add_hashed(self, position: int, hashes: tuple[int, ...]) -> None:
        year = self.year_of(position)
        for h in hashes:
            if h in self._split:
                self._split[h] += 1
                sub = hash((h, year or 0))
                if not self._put(sub, position, self.max_block):
                    self._overflow[sub] = self._overflow.get(sub, 0) + 1
                continue
            current = self._blocks.get(h)
            if isinstance(current, list) and len(current) >= self.max_block:
                # Too large to tell records apart: split it by birth year from now on.
                del self._blocks[h]
                self._split[h] = 0
                self.stats.split_blocks += 1
                for member in (*current, position):
                    self._split[h] += 1
                    sub = hash((h, self.year_of(member) or 0))
                    if not self._put(sub, member, self.max_block):
                        self._overflow[sub] = self._overflow.get(sub, 0) + 1
                continue
            self._put(h, position, None)

    def candidates(self, keys: Iterable[str], year: int | None = None) -> set[int]:
        return self.candidates_hashed(self.hashed(keys), year)

    def candidates_hashed(self, hashes: tuple[int, ...], year: int | None = None) -> set[int]:
        found: set[int] = set()
        blocks = self._blocks
        for h in hashes:
            if h in self._split:
                subs = [hash((h, y)) for y in refined_years(year)] if year else [hash((h, 0))]
                reached = 0
                for sub in subs:
                    current = blocks.get(sub)
                    if current is None:
                        continue
                    if isinstance(current, int):
                        found.add(current)
                        reached += 1
                    else:
                        found.update(current)
                        reached += len(current)
                # Members of this key not reached: in other birth years, or beyond a full sub-block.
                self.stats.skipped_pairs += sum(self._overflow.get(sub, 0) for sub in subs)
                if not year:
                    self.stats.skipped_pairs += max(0, self._split[h] - reached - 1)
                continue
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


def build_index(pool: Sequence[MatchRecord], *, max_block: int = MAX_BLOCK, should_cancel=None) -> BlockIndex:
    index = BlockIndex(lambda position: pool[position].birth_year, max_block)
    for position, record in enumerate(pool):
        index.add(position, blocking_keys(record))
        if position % 50_000 == 0 and should_cancel is not None and should_cancel():
            raise InterruptedError("cancelled")
    return index


def fit_model(
    pool: Sequence[MatchRecord],
    frequencies: NameFrequencies,
    *,
    index: BlockIndex | None = None,
    sample: int = 20_000,
    random_pairs: int = 100_000,
    seed: int = 1,
) -> MatchModel:
    """Learn the weights from the records at hand: u on random pairs; m, v and the share of matches among
    candidates by EM on the comparison vectors of candidate pairs (of all records, or of a random sample of them
    for a large registry).
    Pairs a hard rule calls two people (brothers, father and son) are known non-matches and stay out of EM."""
    n = len(pool)
    if n < 2:
        return MatchModel()
    u = estimate_u(pool, pairs=random_pairs, seed=seed)
    if index is None:
        index = build_index(pool)
    rule_scorer = Scorer(frequencies)
    everyone = n <= sample
    positions = range(n) if everyone else random.Random(seed).sample(range(n), sample)
    patterns: Counter = Counter()
    eligible = 0
    for i in positions:
        record = pool[i]
        for j in index.candidates(blocking_keys(record), record.birth_year):
            if j == i or (everyone and j > i):
                continue
            gamma = compare(pool[j], record)
            if rule_scorer.two_people(pool[j], record, gamma):
                continue
            patterns[gamma] += 1
            eligible += 1
    m, v, lam, iterations = estimate_m(patterns, u)
    prior = _logit2(min(0.95, max(1e-4, lam)))
    return MatchModel(m, u, v, prior, n, eligible, iterations)


def find_pairs(
    pool: Sequence[MatchRecord],
    scorer: Scorer,
    *,
    start: int = 0,
    index: BlockIndex | None = None,
    keep: str = "review",
    progress=None,
    should_cancel=None,
    stats: BlockStats | None = None,
) -> list[PairScore]:
    """Score every record of `pool` from `start` on against all records before it that share a blocking key.

    The records before `start` (the registry) are matched only against the new ones; duplicates inside the new
    records are found too. Returns the pairs decided `likely` (and `review` when keep='review'). `progress(done,
    total)` is called every 2,000 records and `should_cancel()` checked with it; `stats`, when given, receives
    how many pairs were compared, how many blocks were split and how many pairs were left out.
    """
    if index is None:
        index = build_index(pool, should_cancel=should_cancel)
    wanted = ("likely", "review") if keep == "review" else ("likely",)
    pairs: list[PairScore] = []
    total = len(pool) - start
    compared = 0
    for position in range(start, len(pool)):
        record = pool[position]
        for j in index.candidates(blocking_keys(record), record.birth_year):
            if j >= position:
                continue
            compared += 1
            if scorer.decision(pool[j], record) in wanted:
                pairs.append(scorer.score(pool[j], record))
        done = position - start
        if done % 2000 == 0:
            if should_cancel is not None and should_cancel():
                raise InterruptedError("cancelled")
            if progress is not None:
                progress(done, total)
    if progress is not None:
        progress(total, total)
    if stats is not None:
        stats.compared += compared
        stats.split_blocks += index.stats.split_blocks
        stats.skipped_pairs += index.stats.skipped_pairs
    return pairs


def _pairs_for_positions(pool, scorer, index: BlockIndex, positions: Iterable[int], wanted) -> tuple[list, int]:
    """(j, i) positions of the kept pairs and the count compared: small to hold and to send back; rescored in full
    at the end. Keys are computed again here rather than kept for a million records (about 0.4 GB a process)."""
    out = []
    compared = 0
    for i in positions:
        record = pool[i]
        for j in index.candidates_hashed(BlockIndex.hashed(blocking_keys(record)), record.birth_year):
            if j < i:
                compared += 1
                if scorer.decision(pool[j], record) in wanted:
                    out.append((j, i))
    return out, compared


def find_pairs_parallel(
    pool: Sequence[MatchRecord],
    scorer: Scorer,
    *,
    keep: str = "review",
    progress=None,
    should_cancel=None,
    chunk: int = 2000,
    index: BlockIndex | None = None,
    stats: BlockStats | None = None,
    processes: int | None = None,
) -> list[PairScore]:
    """find_pairs over a whole pool on every core (`processes`, default: the cores this process may use, at most
    MAX_PROCESSES; one: no fork): the block index is built once, then forked workers score their share of the chunks
    of records while this process scores its own (copy-on-write: the pool is not copied up front). Falls back to one
    process where fork is not available (Windows)."""
    import multiprocessing
    import os

    if "fork" not in multiprocessing.get_all_start_methods() or len(pool) < 4 * chunk:
        return find_pairs(
            pool, scorer, keep=keep, progress=progress, should_cancel=should_cancel, index=index, stats=stats
        )
    if index is None:
        index = build_index(pool, should_cancel=should_cancel)
    wanted = ("likely", "review") if keep == "review" else ("likely",)
    starts = list(range(0, len(pool), chunk))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 2)
    count = min(processes or cores, MAX_PROCESSES, len(starts))
    if count < 2:
        return find_pairs(
            pool, scorer, keep=keep, progress=progress, should_cancel=should_cancel, index=index, stats=stats
        )
    shares = [starts[k::count] for k in range(count)]
    context = multiprocessing.get_context("fork")
    skipped_before = index.stats.skipped_pairs

    def worker(share: list[int], sender) -> None:
        found, compared = [], 0
        for start in share:
            more, n = _pairs_for_positions(pool, scorer, index, range(start, min(start + chunk, len(pool))), wanted)
            found.extend(more)
            compared += n
        sender.send((found, compared, index.stats.skipped_pairs - skipped_before))
        sender.close()

    children = []
    positions: list[tuple[int, int]] = []
    compared = 0
    theirs_skipped = 0
    try:
        gc.freeze()  # the collector would otherwise touch (and so copy) every shared page in the workers
        try:
            for share in shares[1:]:
                receiver, sender = context.Pipe(duplex=False)
                child = context.Process(target=worker, args=(share, sender), daemon=True)
                child.start()  # a fork that fails stops the ones started (finally, below)
                sender.close()
                children.append((child, receiver))
        finally:
            gc.unfreeze()
        for n, start in enumerate(shares[0]):
            if should_cancel is not None and should_cancel():
                raise InterruptedError("cancelled")
            more, done = _pairs_for_positions(pool, scorer, index, range(start, min(start + chunk, len(pool))), wanted)
            positions.extend(more)
            compared += done
            if progress is not None:  # the others' share estimated as this one's; the whole only once all are in
                progress(min(len(pool) - 1, count * (n + 1) * chunk), len(pool))
        for child, receiver in children:
            while not receiver.poll(0.5):
                if should_cancel is not None and should_cancel():
                    raise InterruptedError("cancelled")
                if not child.is_alive() and not receiver.poll(0):
                    raise RuntimeError("a duplicate-scan worker stopped without a result")
            found, done, skipped = receiver.recv()
            positions.extend(found)
            compared += done
            theirs_skipped += skipped
    finally:
        for child, receiver in children:
            if child.is_alive():
                child.terminate()
            child.join()
            receiver.close()
    if progress is not None:
        progress(len(pool), len(pool))
    if stats is not None:
        stats.compared += compared
        stats.split_blocks += index.stats.split_blocks
        stats.skipped_pairs += index.stats.skipped_pairs + theirs_skipped
    return [scorer.score(pool[j], pool[i]) for j, i in positions]
