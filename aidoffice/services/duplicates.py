"""Duplicate detection use cases: checking a list file, a person on entry, a list on import, the whole registry."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aidoffice.domain.access import Permission
from aidoffice.domain.arabic import COUNTRIES, YEMEN, CountryRules, normalize_text
from aidoffice.domain.matching import (
    MatchRecord,
    NameFrequencies,
    PairScore,
    Scorer,
    blocking_keys,
    cluster,
    find_pairs,
    find_pairs_parallel,
    key_hash,
)
from aidoffice.domain.persons import clean_person
from aidoffice.errors import UserError
from aidoffice.formats import dedup_csv
from aidoffice.services.context import ServiceContext
from aidoffice.store import models as m
from aidoffice.store.base import new_id, utcnow

log = logging.getLogger("aidoffice.dedup")

THRESHOLDS_SETTING = "dedup_thresholds"
DEFAULT_THRESHOLDS = {"likely": 12.0, "review": 8.0}
REGISTRY_PREFIX = "registry:"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class FileDedupResult:
    records: int
    clusters: int
    records_in_clusters: int
    likely_pairs: int
    review_pairs: int
    registry_matches: int


def thresholds(ctx: ServiceContext | None) -> dict[str, float]:
    if ctx is None:
        return dict(DEFAULT_THRESHOLDS)
    with ctx.uow() as uow:
        stored = uow.repo.setting(THRESHOLDS_SETTING) or {}
    return {**DEFAULT_THRESHOLDS, **{k: float(v) for k, v in stored.items() if k in DEFAULT_THRESHOLDS}}


def set_thresholds(ctx: ServiceContext, *, likely: float, review: float) -> None:
    """A supervisor's choice of how sure the engine must be before it calls a pair likely, or worth a review."""
    ctx.require(Permission.SETTINGS)
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
) -> FileDedupResult:
    """Cluster the persons of a CSV list (and, with a database, against its registry); write CLUSTERS and PAIRS."""
    rules: CountryRules = ctx.rules if ctx is not None else COUNTRIES.get(country or "YE", YEMEN)
    inputs = [item.record for item in dedup_csv.read_persons(input_path, rules)]
    registry = registry_records(ctx, prefix=REGISTRY_PREFIX) if ctx is not None else []
    pool = registry + inputs
    limits = thresholds(ctx)
    scorer = Scorer(NameFrequencies.from_records(pool), likely=limits["likely"], review=limits["review"])
    pairs = find_pairs(pool, scorer, start=len(registry), progress=progress)
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
    )
    log.info(
        "dedup-file: %d records, %d likely and %d review pairs",
        result.records,
        result.likely_pairs,
        result.review_pairs,
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


def _record_from_row(row, prefix: str = "") -> MatchRecord:
    return MatchRecord(
        id=prefix + row.id,
        parts=tuple(row.name_parts or ()),
        national_id=row.national_id or "",
        phone=row.phone or "",
        birth_year=row.birth_year,
        sex=row.sex,
        district=normalize_text(row.district) or None,
        household_size=row.household_size,
        spouse_parts=tuple(row.spouse_name_norm.split()) if row.spouse_name_norm else (),
        spouse_national_id=row.spouse_national_id or "",
    )


def refresh_frequencies(ctx: ServiceContext) -> NameFrequencies:
    with ctx.uow() as uow:
        given, family, total = uow.repo.name_frequencies()
        uow.repo.set_setting(FREQUENCIES_SETTING, {"given": given, "family": family, "total": total})
        uow.commit()
    return NameFrequencies(given, family, total, max(3, total // 5000))


def frequencies(ctx: ServiceContext) -> NameFrequencies:
    """The registry's name frequencies, cached in the settings (refreshed by every full scan)."""
    with ctx.uow() as uow:
        stored = uow.repo.setting(FREQUENCIES_SETTING)
    if not stored:
        return refresh_frequencies(ctx)
    return NameFrequencies(stored["given"], stored["family"], stored["total"], max(3, stored["total"] // 5000))


def scorer_for(ctx: ServiceContext) -> Scorer:
    limits = thresholds(ctx)
    return Scorer(frequencies(ctx), likely=limits["likely"], review=limits["review"])


@dataclass(frozen=True)
class Candidate:
    person_id: str
    full_name: str
    national_id: str
    district: str | None
    score: float
    decision: str
    reasons: tuple[str, ...]


def check_records(
    ctx: ServiceContext, records: list[MatchRecord], *, scorer: Scorer | None = None
) -> dict[str, list[Candidate]]:
    """Each record against the registry through the stored keys: record id → its likely and review candidates."""
    scorer = scorer or scorer_for(ctx)
    out: dict[str, list[Candidate]] = {}
    with ctx.uow() as uow:
        for record in records:
            rowids = uow.repo.person_rowids_for_keys([key_hash(k) for k in blocking_keys(record)])
            found: list[Candidate] = []
            for row in uow.repo.match_rows_by_rowids(rowids):
                if row.id == record.id:
                    continue
                result = scorer.score(_record_from_row(row), record)
                if result.decision != "distinct":
                    found.append(
                        Candidate(
                            row.id,
                            row.full_name,
                            row.national_id,
                            row.district,
                            result.score,
                            result.decision,
                            tuple(result.reasons()),
                        )
                    )
            out[record.id] = sorted(found, key=lambda c: -c.score)
    return out


def check_person(ctx: ServiceContext, data, *, person_id: str = "") -> list[Candidate]:
    """On entry: who in the registry this person (as typed in the form) may already be."""
    clean = clean_person(data, ctx.rules, ctx.today())
    record = MatchRecord(
        id=person_id or "(new)",
        parts=clean.name_parts,
        national_id=clean.national_id,
        phone=clean.phone,
        birth_year=clean.birth_year,
        sex=clean.sex,
        district=normalize_text(data.district) or None,
        spouse_parts=tuple(clean.spouse_name_norm.split()),
        spouse_national_id=clean.spouse_national_id,
    )
    return check_records(ctx, [record])[record.id]


@dataclass(frozen=True)
class ScanResult:
    persons: int
    likely: int
    review: int
    new_pairs: int
    household_links: int
    seconds: float


def scan_registry(
    ctx: ServiceContext, *, progress: Progress | None = None, should_cancel: Callable[[], bool] | None = None
) -> ScanResult:
    """Every person against every other (through blocking): the review queue is refreshed, decided pairs kept."""
    ctx.require(Permission.ENTER_DATA)
    started = time.perf_counter()
    records = registry_records(ctx)
    freq = refresh_frequencies(ctx)
    limits = thresholds(ctx)
    scorer = Scorer(freq, likely=limits["likely"], review=limits["review"])
    try:
        pairs = find_pairs_parallel(records, scorer, progress=progress, should_cancel=should_cancel)
    except InterruptedError:
        raise UserError("أُلغي الفحص ولم يتغير شيء في قائمة المراجعة.") from None
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
    )
    log.info(
        "registry scan: %d persons, %d likely, %d review, %d new pairs, %.1f s",
        result.persons,
        result.likely,
        result.review,
        result.new_pairs,
        result.seconds,
    )
    return result


def _store_pairs(ctx: ServiceContext, pairs: list[PairScore], batch: int = 5_000) -> int:
    """New pairs inserted, open ones refreshed, decided ones (distinct, merged) left alone — in one transaction,
    written in batches of plain rows (ORM objects for a million-person scan would take gigabytes)."""
    now, office, user = utcnow(), ctx.office_id, ctx.username
    new_pairs = 0
    with ctx.uow() as uow:
        existing = uow.repo.pair_states()
        inserts: list[dict] = []
        updates: list[dict] = []
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
