"""Duplicate detection use cases: checking a list file, a person on entry, a list on import, the whole registry."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from aidoffice.domain.access import Permission
from aidoffice.domain.arabic import COUNTRIES, YEMEN, CountryRules, normalize_text
from aidoffice.domain.display import DEFAULT_STYLE, DisplayStyle
from aidoffice.domain.matching import (
    DEFAULT_LIKELY,
    DEFAULT_REVIEW,
    BlockStats,
    MatchModel,
    MatchRecord,
    NameFrequencies,
    PairScore,
    Scorer,
    blocking_keys,
    build_index,
    cluster,
    common_count,
    find_pairs,
    find_pairs_parallel,
    fit_model,
    key_hash,
)
from aidoffice.domain.persons import clean_person
from aidoffice.domain.vocab import LineStatus
from aidoffice.errors import UserError
from aidoffice.formats import dedup_csv
from aidoffice.services.context import ServiceContext
from aidoffice.store import models as m
from aidoffice.store.base import new_id, utcnow

log = logging.getLogger("aidoffice.dedup")

THRESHOLDS_SETTING = "dedup_thresholds"
# Match probabilities (0–1). Chosen on one labelled generator and checked on another (bench/dedup/run.py).
DEFAULT_THRESHOLDS = {"likely": DEFAULT_LIKELY, "review": DEFAULT_REVIEW}
MODEL_SETTING = "dedup_model"
# A registry this small is fitted on the spot when no scan has stored a model yet.
FIT_ON_DEMAND = 50_000
REGISTRY_PREFIX = "registry:"
# Records whose keys and registered candidates are read together when a list is checked against the registry, and
# how many registered candidates such a check keeps read for the records after them.
CHECK_CHUNK = 500
CHECK_KEPT = 100_000

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class FileDedupResult:
    records: int
    clusters: int
    records_in_clusters: int
    likely_pairs: int
    review_pairs: int
    registry_matches: int
    compared_pairs: int = 0
    split_blocks: int = 0
    skipped_pairs: int = 0


def thresholds(ctx: ServiceContext | None) -> dict[str, float]:
    if ctx is None:
        return dict(DEFAULT_THRESHOLDS)
    with ctx.uow() as uow:
        stored = uow.repo.setting(THRESHOLDS_SETTING) or {}
    values = {k: float(v) for k, v in stored.items() if k in DEFAULT_THRESHOLDS}
    if any(not 0.0 < v < 1.0 for v in values.values()):
        values = {}  # scores of the earlier, hand-weighted engine: not probabilities
    return {**DEFAULT_THRESHOLDS, **values}


def set_thresholds(ctx: ServiceContext, *, likely: float, review: float) -> None:
    """A supervisor's choice of how sure the engine must be (a match probability) before it calls a pair likely,
    or worth a review. The supervisor who decides the review queue sets them."""
    ctx.require(Permission.DECIDE_DUPLICATES)
    for name, value in (("likely", likely), ("review", review)):
        if not 0.0 < value < 1.0:
            raise UserError("الحد احتمال بين ٠ و١ (مثلاً ٠٫٩٩ تعني ٩٩٪).", field=name)
    if not review < likely:
        raise UserError("حد «يحتاج مراجعة» يجب أن يكون أقل من حد «تكرار مرجح».", field="review")
    with ctx.uow() as uow:
        uow.repo.set_setting(THRESHOLDS_SETTING, {"likely": float(likely), "review": float(review)})
        uow.commit()


def registry_records(ctx: ServiceContext, *, prefix: str = "") -> list[MatchRecord]:
    """Every live person of the registry as a match record; `prefix` keeps the ids apart from a file's own."""
    with ctx.uow() as uow:
        return [_record_from_row(row, prefix) for row in uow.repo.match_rows()]


def dedup_file(
    input_path: Path,
    out_path: Path,
    *,
    pairs_path: Path | None = None,
    ctx: ServiceContext | None = None,
    country: str | None = None,
    progress: Progress | None = None,
    thresholds_override: dict[str, float] | None = None,
) -> FileDedupResult:
    """Cluster the persons of a CSV list (and, with a database, against its registry); write CLUSTERS and PAIRS.

    `thresholds_override` ({"likely": p, "review": q}, match probabilities) replaces the office's setting: the
    benchmark sweeps it."""
    rules: CountryRules = ctx.rules if ctx is not None else COUNTRIES.get(country or "YE", YEMEN)
    inputs = [item.record for item in dedup_csv.read_persons(input_path, rules)]
    registry = registry_records(ctx, prefix=REGISTRY_PREFIX) if ctx is not None else []
    pool = registry + inputs
    limits = {**thresholds(ctx), **(thresholds_override or {})}
    freq = NameFrequencies.from_records(pool)
    index = build_index(pool)
    # The weights are learned from the list at hand (and the registry it is checked against).
    model = fit_model(pool, freq, index=index)
    scorer = Scorer(freq, model=model, likely=limits["likely"], review=limits["review"])
    stats = BlockStats()
    pairs = find_pairs(pool, scorer, start=len(registry), progress=progress, index=index, stats=stats)
    # Registry-to-registry pairs are not this file's business (the registry scan handles them).
    pairs = [p for p in pairs if not (p.a.startswith(REGISTRY_PREFIX) and p.b.startswith(REGISTRY_PREFIX))]
    ids = {r.id: r.national_id for r in pool}
    involved = {p.a for p in pairs} | {p.b for p in pairs}
    clusters = cluster(
        [r.id for r in pool if r.id in involved or not r.id.startswith(REGISTRY_PREFIX)],
        pairs,
        ids,
        id_is_valid=rules.national_id.is_valid,
    )
    labels = _labels(inputs, clusters)
    dedup_csv.write_clusters(out_path, [(r.id, labels[r.id]) for r in inputs])
    if pairs_path is not None:
        dedup_csv.write_pairs(pairs_path, pairs)
    groups: dict[str, int] = {}
    for r in inputs:
        groups[labels[r.id]] = groups.get(labels[r.id], 0) + 1
    result = FileDedupResult(
        records=len(inputs),
        clusters=len(groups),
        records_in_clusters=sum(n for n in groups.values() if n > 1),
        likely_pairs=sum(1 for p in pairs if p.decision == "likely"),
        review_pairs=sum(1 for p in pairs if p.decision == "review"),
        registry_matches=sum(1 for r in inputs if labels[r.id].startswith(REGISTRY_PREFIX)),
        compared_pairs=stats.compared,
        split_blocks=stats.split_blocks,
        skipped_pairs=stats.skipped_pairs,
    )
    log.info(
        "dedup-file: %d records, %d pairs compared, %d likely and %d review pairs; %d blocks split by birth year, "
        "%d pairs not compared",
        result.records,
        result.compared_pairs,
        result.likely_pairs,
        result.review_pairs,
        result.split_blocks,
        result.skipped_pairs,
    )
    return result


def _labels(inputs: list[MatchRecord], clusters: dict[str, str]) -> dict[str, str]:
    """A cluster is named after its registry person when it has one, else after its first record in the file."""
    members: dict[str, list[str]] = {}
    for rid, root in clusters.items():
        members.setdefault(root, []).append(rid)
    label_of_root: dict[str, str] = {}
    order = {r.id: i for i, r in enumerate(inputs)}
    for root, group in members.items():
        registry = sorted(g for g in group if g.startswith(REGISTRY_PREFIX))
        if registry:
            label_of_root[root] = registry[0]
        else:
            label_of_root[root] = min((g for g in group if g in order), key=order.__getitem__, default=root)
    return {r.id: label_of_root[clusters[r.id]] for r in inputs}


def pair_key(pair: PairScore) -> tuple[str, str]:
    return (pair.a, pair.b) if pair.a < pair.b else (pair.b, pair.a)


# --- the registry: on entry, on import, full scan -------------------------------------------------------------

FREQUENCIES_SETTING = "name_frequencies"


@lru_cache(maxsize=4096)
def _district_key(name: str | None) -> str | None:
    """A district's name as the matcher compares it (a registry has a few hundred districts, read a million times)."""
    return normalize_text(name) or None


def _record_from_row(row, prefix: str = "") -> MatchRecord:
    return MatchRecord(
        id=prefix + row.id,
        parts=tuple(row.name_parts or ()),
        national_id=row.national_id or "",
        phone=row.phone or "",
        birth_year=row.birth_year,
        sex=row.sex,
        district=_district_key(row.district),
        household_size=row.household_size,
        spouse_parts=tuple(row.spouse_name_norm.split()) if row.spouse_name_norm else (),
        spouse_national_id=row.spouse_national_id or "",
    )


def refresh_frequencies(ctx: ServiceContext) -> NameFrequencies:
    with ctx.uow() as uow:
        given, family, total = uow.repo.name_frequencies()
        uow.repo.set_setting(FREQUENCIES_SETTING, {"given": given, "family": family, "total": total})
        uow.commit()
    return NameFrequencies(given, family, total, common_count(total))


def frequencies(ctx: ServiceContext) -> NameFrequencies:
    """The registry's name frequencies, cached in the settings (refreshed by every full scan)."""
    with ctx.uow() as uow:
        stored = uow.repo.setting(FREQUENCIES_SETTING)
    if not stored:
        return refresh_frequencies(ctx)
    return NameFrequencies(stored["given"], stored["family"], stored["total"], common_count(stored["total"]))


def match_model(ctx: ServiceContext) -> MatchModel:
    """The weights learned from the registry by the last full scan; a small registry is fitted on the spot, a large
    one without a scan yet uses the starting values."""
    with ctx.uow() as uow:
        stored = uow.repo.setting(MODEL_SETTING)
        persons = uow.repo.count(m.Person, at_most=FIT_ON_DEMAND + 1) if not stored else 0
    if stored:
        return MatchModel.from_dict(stored)
    if persons > FIT_ON_DEMAND or persons < 2:
        return MatchModel()
    records = registry_records(ctx)
    model = fit_model(records, NameFrequencies.from_records(records))
    _store_model(ctx, model)
    return model


def _store_model(ctx: ServiceContext, model: MatchModel) -> None:
    with ctx.uow() as uow:
        uow.repo.set_setting(MODEL_SETTING, model.to_dict())
        uow.commit()


def scorer_for(ctx: ServiceContext) -> Scorer:
    limits = thresholds(ctx)
    return Scorer(frequencies(ctx), model=match_model(ctx), likely=limits["likely"], review=limits["review"])


@dataclass(frozen=True)
class Candidate:
    """A registered person the record may be: why (reasons), who (the fields a clerk compares) and what they got."""

    person_id: str
    full_name: str
    national_id: str
    district: str | None
    score: float
    decision: str
    reasons: tuple[str, ...]
    birth_year: int | None = None
    sex: str | None = None
    phone: str = ""
    aid: tuple[str, ...] = ()  # newest first, at most AID_LINES: «سلة غذائية — جمعية … — 2026/05/30 — استلم»
    probability: float | None = None  # that the two are one person


def check_records(
    ctx: ServiceContext,
    records: list[MatchRecord],
    *,
    scorer: Scorer | None = None,
    with_aid: bool = False,
    repo=None,
) -> dict[str, list[Candidate]]:
    """Each record against the registry through the stored keys: record id → its likely and review candidates.

    A registered person whose id is the record's own id is the record itself and never its candidate. `with_aid`
    adds each candidate's latest aid (the form shows it; an import of thousands of rows does not need it). `repo`
    reads inside the caller's unit of work (one that holds the records' locks, see entry_keys)."""
    scorer = scorer or scorer_for(ctx)
    if repo is None:
        with ctx.uow() as uow:
            return check_records(ctx, records, scorer=scorer, with_aid=with_aid, repo=uow.repo)
    out: dict[str, list[Candidate]] = {}
    too_large: dict[str, int] = {}
    # A registered person read once for all the records it may be (a list's records share many candidates): its row
    # and match record, kept up to CHECK_KEPT persons, then let go.
    registered: dict[int, tuple] = {}
    for start in range(0, len(records), CHECK_CHUNK):
        chunk = records[start : start + CHECK_CHUNK]
        rowid_sets = repo.person_rowids_for_records(
            [([key_hash(k) for k in blocking_keys(r)], r.birth_year) for r in chunk], stats=too_large
        )
        wanted = set().union(*rowid_sets)
        if len(registered) + len(wanted) > CHECK_KEPT:
            registered.clear()
        for rowid, row in repo.match_rows_by_rowid(wanted.difference(registered)).items():
            registered[rowid] = (row, _record_from_row(row))
        for record, rowids in zip(chunk, rowid_sets, strict=True):
            found: list[Candidate] = []
            for rowid in sorted(rowids):
                if rowid not in registered:
                    continue  # not a live person (merged into another)
                row, other = registered[rowid]
                if row.id == record.id:
                    continue
                if scorer.decision(other, record) == "distinct":
                    continue  # most candidates: decided without the reasons a clerk would read
                result = scorer.score(other, record)
                found.append(
                    Candidate(
                        row.id,
                        row.full_name,
                        row.national_id,
                        row.district,
                        result.score,
                        result.decision,
                        tuple(result.reasons()),
                        birth_year=row.birth_year,
                        sex=row.sex,
                        phone=row.phone or "",
                        aid=_aid_lines(repo, row.id, ctx.style) if with_aid else (),
                        probability=result.probability,
                    )
                )
            out[record.id] = sorted(found, key=lambda c: -c.score)
    if too_large.get("skipped"):
        # A key shared by more persons than can be compared, even within a birth year: said, not hidden.
        log.info("registry check: %d keys of %d records read only in part", too_large["skipped"], len(records))
    return out


def check_person(
    ctx: ServiceContext, data, *, person_id: str = "", scorer: Scorer | None = None, repo=None
) -> list[Candidate]:
    """On entry: who in the registry this person (as typed in the form) may already be, with their latest aid.

    `person_id` is the record being edited: it, and the persons already decided to be someone else, are left out.
    A new person is checked under a fresh id, which no registered person can have. `repo`: read inside the caller's
    unit of work (the save's, holding entry_keys' locks)."""
    record = entry_record(ctx, data, person_id=person_id)
    found = check_records(ctx, [record], with_aid=True, scorer=scorer, repo=repo)[record.id]
    if person_id:
        decided = remembered_distinct(ctx, person_id) if repo is None else _decided_distinct(repo, person_id)
        found = [c for c in found if c.person_id not in decided]
    return found


def entry_keys(record: MatchRecord) -> list[int]:
    """The locks a save takes before its duplicate check: the record's blocking keys. Two clerks typing the same
    person share them, so the second one's check runs after the first one's save and finds it."""
    return [key_hash(k) for k in blocking_keys(record)]


def entry_record(ctx: ServiceContext, data, *, person_id: str = "") -> MatchRecord:
    """The person as typed, as the matcher reads it (ValidationError while the input is invalid)."""
    clean = clean_person(data, ctx.rules, ctx.today())
    return MatchRecord(
        id=person_id or new_id(),
        parts=clean.name_parts,
        national_id=clean.national_id,
        phone=clean.phone,
        birth_year=clean.birth_year,
        sex=clean.sex,
        district=normalize_text(data.district) or None,
        spouse_parts=tuple(clean.spouse_name_norm.split()),
        spouse_national_id=clean.spouse_national_id,
    )


@dataclass(frozen=True)
class ScanResult:
    persons: int
    likely: int
    review: int
    new_pairs: int
    household_links: int
    seconds: float
    compared_pairs: int = 0
    skipped_pairs: int = 0


def scan_registry(
    ctx: ServiceContext, *, progress: Progress | None = None, should_cancel: Callable[[], bool] | None = None
) -> ScanResult:
    """Every person against every other (through blocking): the review queue is refreshed, decided pairs kept."""
    ctx.require(Permission.ENTER_DATA)
    started = time.perf_counter()
    records = registry_records(ctx)
    freq = refresh_frequencies(ctx)
    limits = thresholds(ctx)
    stats = BlockStats()
    try:
        index = build_index(records, should_cancel=should_cancel)
        model = fit_model(records, freq, index=index)
        scorer = Scorer(freq, model=model, likely=limits["likely"], review=limits["review"])
        pairs = find_pairs_parallel(
            records, scorer, progress=progress, should_cancel=should_cancel, index=index, stats=stats
        )
    except InterruptedError:
        raise UserError("أُلغي الفحص ولم يتغير شيء في قائمة المراجعة.") from None
    _store_model(ctx, model)
    new_pairs = _store_pairs(ctx, pairs)
    with ctx.uow() as uow:
        links = _link_households(ctx, uow)
        uow.commit()
    result = ScanResult(
        len(records),
        sum(p.decision == "likely" for p in pairs),
        sum(p.decision == "review" for p in pairs),
        new_pairs,
        links,
        time.perf_counter() - started,
        stats.compared,
        stats.skipped_pairs,
    )
    log.info(
        "registry scan: %d persons, %d pairs compared, %d not compared (blocks too large), %d likely, %d review, "
        "%d new pairs, %.1f s",
        result.persons,
        result.compared_pairs,
        result.skipped_pairs,
        result.likely,
        result.review,
        result.new_pairs,
        result.seconds,
    )
    return result


def _store_pairs(ctx: ServiceContext, pairs: list[PairScore], batch: int = 5_000) -> int:
    """New pairs inserted, open ones refreshed, open ones no longer found dropped (the registry, the weights or the
    thresholds changed), decided ones (distinct, merged) left alone — in one transaction, written in batches of plain
    rows (ORM objects for a million-person scan would take gigabytes)."""
    now, office, user = utcnow(), ctx.office_id, ctx.username
    new_pairs = 0
    with ctx.uow() as uow:
        existing = uow.repo.pair_states()
        inserts: list[dict] = []
        updates: list[dict] = []
        found_again: set[str] = set()
        for pair in pairs:
            a, b = pair_key(pair)
            contributions = [[c.field, round(c.weight, 3), c.reason] for c in pair.contributions]
            known = existing.get((a, b))
            if known is None:
                inserts.append(
                    {
                        "id": new_id(),
                        "office_id": office,
                        "created_at": now,
                        "updated_at": now,
                        "changed_by": user,
                        "version": 1,
                        "person_a_id": a,
                        "person_b_id": b,
                        "score": round(pair.score, 3),
                        "decision": pair.decision,
                        "reasons": pair.reasons(),
                        "contributions": contributions,
                        "status": "open",
                        "decided_by": None,
                        "decided_at": None,
                    }
                )
                new_pairs += 1
            elif known[1] == "open":
                found_again.add(known[0])
                updates.append(
                    {
                        "pid": known[0],
                        "score": round(pair.score, 3),
                        "decision": pair.decision,
                        "reasons": pair.reasons(),
                        "contributions": contributions,
                        "now": now,
                    }
                )
            if len(inserts) >= batch:
                uow.repo.bulk_insert(m.DuplicatePair, inserts)
                inserts.clear()
            if len(updates) >= batch:
                uow.repo.update_pairs(updates)
                updates.clear()
        uow.repo.bulk_insert(m.DuplicatePair, inserts)
        uow.repo.update_pairs(updates)
        uow.repo.drop_open_pairs(
            [pid for pid, status in existing.values() if status == "open" and pid not in found_again]
        )
        uow.commit()
    return new_pairs


def _link_households(ctx: ServiceContext, uow) -> int:
    made = 0
    seen = {(link.household_a_id, link.household_b_id) for link in uow.repo.all(m.HouseholdLink)}
    for a, b, reason in uow.repo.spouse_household_links():
        key = (a, b) if a < b else (b, a)
        if key in seen:
            continue
        seen.add(key)
        uow.repo.add(
            ctx.stamp(
                m.HouseholdLink(
                    household_a_id=key[0],
                    household_b_id=key[1],
                    reason=f"أسرة واحدة مسجلة باسم الزوج والزوجة: {reason}",
                )
            )
        )
        made += 1
    return made


def linked_households(ctx: ServiceContext, household_id: str) -> set[str]:
    """Households that are the same family as this one (feeds the 'already received' rule)."""
    with ctx.uow() as uow:
        return uow.repo.linked_household_ids(household_id)


# --- on entry ---

AID_LINES = 3


def _aid_lines(repo, person_id: str, style: DisplayStyle = DEFAULT_STYLE) -> tuple[str, ...]:
    """The person's (and household's) latest aid as short lines, newest first, read as the aid history reads it."""
    person = repo.get(m.Person, person_id)
    if person is None:
        return ()
    person_ids = [person.id, *repo.merged_ids_into(person.id)]
    household_ids = [person.membership.household_id] if person.membership else []
    labels = {s.value: s.label for s in LineStatus}
    return tuple(
        " — ".join(
            x
            for x in (aid_name, assoc_name, style.date(dist.distribution_date), labels.get(line.status, line.status))
            if x
        )
        for line, dist, aid_name, assoc_name, _code in repo.aid_history(household_ids, person_ids)[:AID_LINES]
    )


def _decided_distinct(repo, person_id: str) -> set[str]:
    pairs = repo.all(m.DuplicatePair, person_a_id=person_id, status="distinct") + repo.all(
        m.DuplicatePair, person_b_id=person_id, status="distinct"
    )
    return {p.person_b_id if p.person_a_id == person_id else p.person_a_id for p in pairs}


def remembered_distinct(ctx: ServiceContext, person_id: str) -> set[str]:
    """The persons someone already decided are not this person (on entry or in the review queue)."""
    with ctx.uow() as uow:
        return _decided_distinct(uow.repo, person_id)


def unconfirmed_likely(candidates: list[Candidate], distinct_from: Iterable[str]) -> list[Candidate]:
    """The likely candidates the user has not said are someone else: any of them stops a save."""
    confirmed = set(distinct_from)
    return [c for c in candidates if c.decision == "likely" and c.person_id not in confirmed]


def remember_entry_decisions(ctx: ServiceContext, repo, person_id: str, candidates: list[Candidate]) -> int:
    """'Someone else', said on entry about these candidates, stored as decided pairs: the review queue and later
    scans never raise them again. Inside the caller's unit of work, so the person and the decision commit together."""
    now = utcnow()
    made = 0
    for candidate in candidates:
        a, b = sorted((person_id, candidate.person_id))
        pair = repo.first(m.DuplicatePair, person_a_id=a, person_b_id=b)
        if pair is None:
            pair = repo.add(
                ctx.stamp(
                    m.DuplicatePair(
                        id=new_id(),
                        person_a_id=a,
                        person_b_id=b,
                        score=round(candidate.score, 3),
                        decision=candidate.decision,
                        reasons=list(candidate.reasons),
                        contributions=[],
                    )
                )
            )
        elif pair.status == "distinct":
            continue
        pair.status = "distinct"
        pair.decided_by = ctx.username
        pair.decided_at = now
        pair.changed_by = ctx.username
        repo.audit("distinct", "duplicate_pairs", pair.id, {"a": a, "b": b, "on": "entry"}, office_id=ctx.office_id)
        made += 1
    return made


# --- the supervisor's view of the engine ---


@dataclass(frozen=True)
class EngineSettings:
    """What the settings page shows: the thresholds (match probabilities) and where the weights came from."""

    likely: float
    review: float
    fitted_on: int  # records the weights were learned from; 0 = the starting values
    pairs_trained: int
    match_share: float  # among candidate pairs, the share EM found to be one person


def engine_settings(ctx: ServiceContext) -> EngineSettings:
    limits = thresholds(ctx)
    with ctx.uow() as uow:
        stored = uow.repo.setting(MODEL_SETTING)
    model = MatchModel.from_dict(stored) if stored else MatchModel()
    share = 1.0 / (1.0 + 2.0 ** (-model.prior_log2))
    return EngineSettings(limits["likely"], limits["review"], model.records, model.pairs_trained, share)
