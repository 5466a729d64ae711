"""Duplicate detection use cases: checking a list file, (later) on entry, on import and full registry scans."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aidoffice.domain.arabic import COUNTRIES, YEMEN, CountryRules, normalize_text
from aidoffice.domain.matching import MatchRecord, NameFrequencies, PairScore, Scorer, cluster, find_pairs
from aidoffice.errors import UserError
from aidoffice.formats import dedup_csv
from aidoffice.services.context import ServiceContext

log = logging.getLogger("aidoffice.dedup")

THRESHOLDS_SETTING = "dedup_thresholds"
DEFAULT_THRESHOLDS = {"likely": 12, "review": 4.0}
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
    if not review < likely:
        raise UserError("حد «يحتاج مراجعة» يجب أن يكون أقل من حد «تكرار مرجح».", field="review")
    with ctx.uow() as uow:
        uow.repo.set_setting(THRESHOLDS_SETTING, {"likely": float(likely), "review": float(review)})
        uow.commit()


def registry_records(ctx: ServiceContext) -> list[MatchRecord]:
    """Every live person of the registry as a match record (id prefixed so it never collides with a file's ids)."""
    with ctx.uow() as uow:
        return [
            MatchRecord(
                id=REGISTRY_PREFIX + row.id,
                parts=tuple(row.name_parts or ()),
                national_id=row.national_id,
                phone=row.phone,
                birth_year=row.birth_year,
                sex=row.sex,
                district=normalize_text(row.district) or None,
                household_size=row.household_size,
                spouse_parts=tuple(row.spouse_name_norm.split()) if row.spouse_name_norm else (),
                spouse_national_id=row.spouse_national_id,
            )
            for row in uow.repo.match_rows()
        ]


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
    registry = registry_records(ctx) if ctx is not None else []
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
