"""Match quality side by side: AidOffice's engine, Splink (DuckDB, same blocking) and exact normalised names.

python -m bench.dedup.run --records 20000   (Splink runs if it is importable: pip install splink)
"""

from __future__ import annotations

import argparse
import csv
import itertools
import resource
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from aidoffice.domain.arabic import YEMEN, normalize_name
from aidoffice.domain.matching import skeleton
from aidoffice.services.duplicates import dedup_file
from bench.common import machine
from bench.dedup.generate import HEADER, generate


def _pairs_of_clusters(clusters: dict[str, str]) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for rid, cid in clusters.items():
        groups[cid].append(rid)
    out: set[tuple[str, str]] = set()
    for members in groups.values():
        for a, b in itertools.combinations(sorted(members), 2):
            out.add((a, b))
    return out


def _metrics(
    name: str,
    truth: dict[str, str],
    predicted: dict[str, str],
    seconds: float,
    mem_mb: float,
    likely: set | None = None,
    review: set | None = None,
) -> dict:
    true_pairs = _pairs_of_clusters(truth)
    pred_pairs = _pairs_of_clusters(predicted)
    tp = len(true_pairs & pred_pairs)
    precision = tp / len(pred_pairs) if pred_pairs else 1.0
    recall = tp / len(true_pairs) if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    groups: dict[str, set[str]] = defaultdict(set)
    for rid, cid in predicted.items():
        groups[cid].add(rid)
    multi = [g for g in groups.values() if len(g) > 1]
    pure = sum(1 for g in multi if len({truth[r] for r in g}) == 1)
    row = {
        "engine": name,
        "pair_precision": precision,
        "pair_recall": recall,
        "f1": f1,
        "cluster_precision": pure / len(multi) if multi else 1.0,
        "seconds": seconds,
        "peak_mb": mem_mb,
    }
    if likely is not None and review is not None:
        row["likely_precision"] = len(likely & true_pairs) / len(likely) if likely else 1.0
        row["recall_likely_plus_review"] = len((likely | review) & true_pairs) / len(true_pairs)
        row["review_per_100"] = 100 * len(review) / len(truth)
    return row


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_aidoffice(csv_path: Path, work: Path) -> tuple[dict[str, str], set, set, float]:
    out, pairs = work / "clusters.csv", work / "pairs.csv"
    start = time.perf_counter()
    dedup_file(csv_path, out, pairs_path=pairs)
    seconds = time.perf_counter() - start
    with out.open(encoding="utf-8") as fh:
        clusters = {r["record_id"]: r["cluster_id"] for r in csv.DictReader(fh)}
    likely, review = set(), set()
    with pairs.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            key = tuple(sorted((r["record_id_a"], r["record_id_b"])))
            (likely if r["decision"] == "likely" else review).add(key)
    return clusters, likely, review, seconds


def run_exact(rows: list[dict]) -> tuple[dict[str, str], float]:
    start = time.perf_counter()
    clusters = {r["record_id"]: normalize_name(r["full_name"]) for r in rows}
    return clusters, time.perf_counter() - start


def _splink_table(rows: list[dict], path: Path) -> None:
    """The same normalised values and blocking columns our engine uses, so Splink gets a fair start."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                "unique_id",
                "given",
                "father",
                "middle",
                "family",
                "sk_given",
                "sk_father",
                "sk_middle",
                "sk_family",
                "national_id",
                "id_a",
                "id_b",
                "phone",
                "birth_year",
                "sex",
                "district",
            ]
        )
        for r in rows:
            parts = normalize_name(r["full_name"]).split() or [""]
            nid = YEMEN.national_id.normalize(r["national_id"])
            phone = YEMEN.phone.normalize(r["phone"])
            year = "".join(ch for ch in normalize_name(r["birth_year"]) if ch.isdigit())
            sk = [skeleton(p) if p else "" for p in parts]
            writer.writerow(
                [
                    r["record_id"],
                    parts[0],
                    parts[1] if len(parts) > 1 else "",
                    parts[2] if len(parts) > 3 else "",
                    parts[-1] if len(parts) > 2 else "",
                    sk[0],
                    sk[1] if len(sk) > 1 else "",
                    sk[2] if len(sk) > 3 else "",
                    sk[-1] if len(sk) > 2 else "",
                    nid or None,
                    nid[: len(nid) // 2] if nid else None,
                    nid[len(nid) // 2 :] if nid else None,
                    phone or None,
                    year or None,
                    "M" if r["sex"] in ("ذكر", "ذ", "M") else "F",
                    normalize_name(r["district"]),
                ]
            )


def run_splink(rows: list[dict], work: Path, threshold: float = 0.9) -> tuple[dict[str, str], float] | None:
    try:
        import splink.comparison_level_library as cll
        import splink.comparison_library as cl
        from splink import DuckDBAPI, Linker, SettingsCreator, block_on
    except ImportError:
        return None
    table = work / "splink_input.csv"
    _splink_table(rows, table)
    start = time.perf_counter()
    db_api = DuckDBAPI()
    df = db_api.register_from_csv(str(table))
    settings = SettingsCreator(
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=[
            block_on("sk_given", "sk_father", "sk_family"),
            block_on("sk_given", "sk_father", "sk_middle"),
            block_on("sk_given", "sk_family", "birth_year"),
            block_on("sk_given", "sk_father", "district"),
            block_on("national_id"),
            block_on("id_a"),
            block_on("id_b"),
            block_on("phone"),
        ],
        comparisons=[
            cl.JaroWinklerAtThresholds("given", [0.95, 0.88]).configure(term_frequency_adjustments=True),
            cl.JaroWinklerAtThresholds("father", [0.95, 0.88]),
            cl.JaroWinklerAtThresholds("middle", [0.95, 0.88]),
            cl.JaroWinklerAtThresholds("family", [0.95, 0.88]).configure(term_frequency_adjustments=True),
            cl.LevenshteinAtThresholds("national_id", [1]),
            cl.ExactMatch("phone"),
            cl.CustomComparison(
                output_column_name="birth_year",
                comparison_levels=[
                    cll.NullLevel("birth_year"),
                    cll.ExactMatchLevel("birth_year"),
                    cll.AbsoluteDifferenceLevel("birth_year", 1),
                    cll.AbsoluteDifferenceLevel("birth_year", 3),
                    cll.ElseLevel(),
                ],
            ),
            cl.ExactMatch("sex"),
            cl.ExactMatch("district"),
        ],
        retain_intermediate_calculation_columns=False,
    )
    linker = Linker(df, settings)
    linker.training.estimate_probability_two_random_records_match(
        [block_on("national_id"), block_on("sk_given", "sk_father", "sk_family", "birth_year")], recall=0.8
    )
    linker.training.estimate_u_using_random_sampling(max_pairs=2e6)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("sk_family", "birth_year"))
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("national_id"))
    predictions = linker.inference.predict(threshold_match_probability=0.5)
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, threshold)
    result = clustered.as_duckdbpyrelation().select("unique_id, cluster_id").fetchall()
    seconds = time.perf_counter() - start
    return {str(uid): str(cid) for uid, cid in result}, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="aidoffice-dedup-"))
    csv_path = work / "labelled.csv"
    generated = generate(args.records, args.seed)
    with csv_path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(generated)
    rows = [dict(zip(HEADER, r, strict=True)) for r in generated]
    truth = {r["record_id"]: r["true_id"] for r in rows}
    true_pairs = len(_pairs_of_clusters(truth))
    print(f"machine: {machine()}")
    print(f"data: {len(rows):,} records of {len(set(truth.values())):,} persons, {true_pairs:,} true duplicate pairs")

    results = []
    clusters, likely, review, seconds = run_aidoffice(csv_path, work)
    results.append(_metrics("AidOffice", truth, clusters, seconds, _peak_mb(), likely, review))
    clusters, seconds = run_exact(rows)
    results.append(_metrics("exact normalised name", truth, clusters, seconds, _peak_mb()))
    splink = run_splink(rows, work)
    if splink is None:
        print("Splink not installed: pip install splink (it brings DuckDB) to compare")
    else:
        results.append(_metrics("Splink 0.9 (DuckDB)", truth, splink[0], splink[1], _peak_mb()))

    print(
        f"{'engine':24s} {'precision':>9s} {'recall':>7s} {'F1':>6s} {'cluster P':>9s} {'likely P':>8s} "
        f"{'recall L+R':>10s} {'review/100':>10s} {'time s':>7s} {'peak MB':>8s}"
    )
    for r in results:
        extra = (
            f"{r['likely_precision']:8.4f} {r['recall_likely_plus_review']:10.4f} {r['review_per_100']:10.2f}"
            if "likely_precision" in r
            else f"{'':8s} {'':10s} {'':10s}"
        )
        print(
            f"{r['engine']:24s} {r['pair_precision']:9.4f} {r['pair_recall']:7.4f} {r['f1']:6.4f} "
            f"{r['cluster_precision']:9.4f} {extra} {r['seconds']:7.1f} {r['peak_mb']:8.0f}"
        )


if __name__ == "__main__":
    main()
