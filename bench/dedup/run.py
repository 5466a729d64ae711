"""Match quality we cannot fool ourselves with: tune AidOffice's thresholds on one labelled list, report on the other.

List A comes from generate.py (the list the engine was built on), list B from generate_b.py (written from published
patterns of Arabic name variation and registration error, with error classes per record). The two thresholds are
tuned on one list and the figures reported on the other, both ways; Splink (at its own best clustering threshold on
the reported list) and exact normalised names run beside it.

python -m bench.dedup.run --records 20000 [--seed-a 42 --seed-b 7] [--tune-only A|B] [--json out.json] [--no-splink]
"""

from __future__ import annotations

import argparse
import csv
import itertools
import json
import logging
import multiprocessing
import resource
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

from aidoffice.domain.arabic import YEMEN, normalize_name
from aidoffice.domain.matching import skeleton
from bench.common import machine
from bench.dedup import generate as gen_a
from bench.dedup import generate_b as gen_b

PRECISION_MARGIN = 0.995  # tuning asks a margin above the 0.99 target
REVIEW_PER_100_MAX = 2.0
RECALL_GAIN = 0.005  # a laxer likely threshold than the default must find half a point more of the true pairs
REVIEW_BAND = (0.2, 0.8)
SPLINK_THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999)


# --- thresholds: unit and grid --------------------------------------------------------------------------------


def threshold_grid() -> tuple[str, list[float], list[float], dict[str, float]]:
    """(pairs-file column, likely grid, review grid, defaults): log2 scores when the default likely is > 1, else
    match probabilities."""
    from aidoffice.services.duplicates import DEFAULT_THRESHOLDS

    defaults = {k: float(v) for k, v in DEFAULT_THRESHOLDS.items()}
    if defaults["likely"] > 1:
        likely = [x / 2 for x in range(12, 33)]  # 6 .. 16 by 0.5
        review = [x / 2 for x in range(4, 29)]  # 2 .. 14 by 0.5
        return "score", likely, review, defaults
    likely = [
        0.5,
        0.6,
        0.7,
        0.8,
        0.85,
        0.9,
        0.93,
        0.95,
        0.96,
        0.97,
        0.98,
        0.985,
        0.99,
        0.993,
        0.995,
        0.997,
        0.999,
        0.9995,
        0.9999,
    ]
    review = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95, 0.97, 0.99, 0.995, 0.999, 0.9995]
    return "probability", likely, review, defaults


def _peak_mb() -> float:
    """This process's peak resident memory. VmHWM starts afresh in a spawned process (ru_maxrss survives exec)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- running the engine in a fresh process (its own time and peak memory) -------------------------------------


def _dedup_child(csv_path: str, out: str, pairs: str, limits: dict[str, float] | None) -> dict:
    from aidoffice.services.duplicates import dedup_file

    start = time.perf_counter()
    result = dedup_file(Path(csv_path), Path(out), pairs_path=Path(pairs), thresholds_override=limits)
    seconds = time.perf_counter() - start
    info = {
        name: getattr(result, name, None)
        for name in ("records", "clusters", "likely_pairs", "review_pairs", "compared_pairs", "skipped_pairs")
    }
    info["seconds"] = seconds
    info["peak_mb"] = _peak_mb()
    return info


def run_engine(csv_path: Path, work: Path, tag: str, limits: dict[str, float] | None) -> dict:
    out, pairs = work / f"clusters-{tag}.csv", work / f"pairs-{tag}.csv"
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        info = pool.apply(_dedup_child, (str(csv_path), str(out), str(pairs), limits))
    with out.open(encoding="utf-8") as fh:
        info["clusters_map"] = {r["record_id"]: r["cluster_id"] for r in csv.DictReader(fh)}
    info["pairs"] = read_pairs(pairs)
    return info


def read_pairs(path: Path) -> list[dict]:
    out = []
    with path.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            a, b = sorted((r["record_id_a"], r["record_id_b"]))
            out.append(
                {
                    "pair": (a, b),
                    "score": float(r.get("score") or "nan"),
                    "probability": float(r.get("probability") or "nan"),
                    "decision": r["decision"],
                }
            )
    return out


# --- labelled lists ----------------------------------------------------------------------------------------------


class LabelledList:
    def __init__(self, name: str, path: Path, rows: list[dict], people: dict | None = None) -> None:
        self.name, self.path, self.rows, self.people = name, path, rows, people
        self.truth = {r["record_id"]: r["true_id"] for r in rows}
        self.classes = {r["record_id"]: set(filter(None, r.get("error_classes", "").split(";"))) for r in rows}
        self.true_pairs = pairs_of_clusters(self.truth)
        self.n = len(rows)


def write_list(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> list[dict]:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return [dict(zip(header, r, strict=True)) for r in rows]


def pairs_of_clusters(clusters: dict[str, str]) -> set[tuple[str, str]]:
    groups: dict[str, list[str]] = defaultdict(list)
    for rid, cid in clusters.items():
        groups[cid].append(rid)
    out: set[tuple[str, str]] = set()
    for members in groups.values():
        out.update(itertools.combinations(sorted(members), 2))
    return out


def _prf(predicted: set, truth: set) -> tuple[float, float, float]:
    tp = len(predicted & truth)
    p = tp / len(predicted) if predicted else 1.0
    r = tp / len(truth) if truth else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def cluster_metrics(data: LabelledList, clusters: dict[str, str]) -> dict:
    predicted = pairs_of_clusters(clusters)
    p, r, f1 = _prf(predicted, data.true_pairs)
    groups: dict[str, set[str]] = defaultdict(set)
    for rid, cid in clusters.items():
        groups[cid].add(rid)
    multi = [g for g in groups.values() if len(g) > 1]
    pure = sum(1 for g in multi if len({data.truth[x] for x in g}) == 1)
    return {
        "pair_precision": p,
        "pair_recall": r,
        "f1": f1,
        "cluster_precision": pure / len(multi) if multi else 1.0,
        "predicted_pairs": len(predicted),
    }


# --- tuning ------------------------------------------------------------------------------------------------------


def _sweep_child(csv_path: str, work: str, tag: str, limits: dict[str, float]) -> list[dict]:
    from aidoffice.services.duplicates import dedup_file

    out, pairs = Path(work) / f"clusters-{tag}.csv", Path(work) / f"pairs-{tag}.csv"
    dedup_file(Path(csv_path), out, pairs_path=pairs, thresholds_override=limits)
    return read_pairs(pairs)


def _choose_likely(measured: dict[float, tuple[float, float, bool]], default: float) -> float | None:
    """The likely threshold a supervisor would take from a labelled list: the engine's default unless the list shows
    a reason to move. If the default misses the precision margin, the lowest stricter value that meets it; if it
    meets it, a laxer value only for a real gain in recall (RECALL_GAIN) at the margin — where precision and recall
    are flat, the lowest value fits the tuning list and nothing else (tuned on list B, whose likely precision is
    flat from 0.5 to 0.9999, it took 0.5, and list A's namesake siblings then fell into "likely")."""
    meets = sorted(lk for lk, (prec, _rec, any_) in measured.items() if any_ and prec >= PRECISION_MARGIN)
    if not meets:
        return None
    if default not in measured or default not in meets:
        stricter = [lk for lk in meets if lk > default]
        return stricter[0] if stricter else meets[-1]
    base = measured[default][1]
    gains = [lk for lk in meets if lk < default and measured[lk][1] - base >= RECALL_GAIN]
    return gains[-1] if gains else default


def tune(
    data: LabelledList, work: Path, column: str, likely_grid, review_grid, default: float
) -> tuple[dict, list[str], int]:
    """One engine run per likely value (the engine may cap a score relative to it, so nothing is extrapolated);
    the review threshold is then read off the run at the chosen likely value, whose review floor is the grid's."""
    floor = review_grid[0]
    jobs = [(str(data.path), str(work), f"tune-{data.name}-{k}", {"likely": lk, "review": floor})
            for k, lk in enumerate(likely_grid)]  # fmt: skip
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        runs = pool.starmap(_sweep_child, jobs)
    lines = []
    measured = {}
    best = None
    for lk, pairs in zip(likely_grid, runs, strict=True):
        likely = {p["pair"] for p in pairs if p["decision"] == "likely"}
        prec = len(likely & data.true_pairs) / len(likely) if likely else 1.0
        rec = len(likely & data.true_pairs) / (len(data.true_pairs) or 1)
        measured[lk] = (prec, rec, bool(likely))
        lines.append(f"    likely ≥ {lk:<6g}: {len(likely):6,} likely pairs, precision {prec:.4f}, recall {rec:.4f}")
        if likely and (best is None or prec > best[1]):
            best = (lk, prec)
    chosen = _choose_likely(measured, default)
    if chosen is None:
        chosen = best[0] if best else likely_grid[-1]
        lines.append(f"    no likely threshold reaches {PRECISION_MARGIN}: taking the most precise, {chosen:g}")
    pairs = runs[likely_grid.index(chosen)]
    options = []
    for rv in review_grid:
        if rv >= chosen:
            continue
        review = {p["pair"] for p in pairs if p["decision"] == "review" and p[column] >= rv}
        prec = len(review & data.true_pairs) / len(review) if review else 0.0
        per100 = 100 * len(review) / data.n
        options.append((rv, per100, prec, len(review)))
        lines.append(f"    review ≥ {rv:<6g}: {len(review):6,} pairs, {per100:5.2f} per 100, band precision {prec:.3f}")
    fitting = [o for o in options if o[1] <= REVIEW_PER_100_MAX and o[3]]
    if fitting:
        review_at = min(fitting, key=lambda o: (abs(o[2] - 0.5), o[0]))[0]
    elif options:
        review_at = min(options, key=lambda o: (o[1], -o[0]))[0]
    else:
        review_at = floor
    return {"likely": chosen, "review": review_at}, lines, len(jobs)


# --- blocking ----------------------------------------------------------------------------------------------------


def blocking_stats(data: LabelledList) -> dict:
    """Distinct pairs sharing at least one blocking key (no block cap) and the share of true pairs among them."""
    from aidoffice.domain.matching import blocking_keys
    from aidoffice.formats.dedup_csv import read_persons

    records = [item.record for item in read_persons(data.path, YEMEN)]
    keys = [blocking_keys(r) for r in records]
    pos = {r.id: i for i, r in enumerate(records)}
    blocks: dict[str, list[int]] = defaultdict(list)
    for i, k in enumerate(keys):
        for key in k:
            blocks[key].append(i)
    n = len(records)
    shared: set[int] = set()
    largest = max((len(v) for v in blocks.values()), default=0)
    for members in blocks.values():
        if len(members) > 1:
            shared.update(i * n + j for i, j in itertools.combinations(members, 2))
    sharing = sum(1 for a, b in data.true_pairs if keys[pos[a]] & keys[pos[b]])
    return {
        "key_sharing_pairs": len(shared),
        "largest_block": largest,
        "blocking_recall": sharing / (len(data.true_pairs) or 1),
        "keys": keys,
        "pos": pos,
    }


# --- baselines ---------------------------------------------------------------------------------------------------


def run_exact(data: LabelledList) -> tuple[dict[str, str], float]:
    start = time.perf_counter()
    clusters = {r["record_id"]: normalize_name(r["full_name"]) or r["record_id"] for r in data.rows}
    return clusters, time.perf_counter() - start


def _splink_table(rows: list[dict], path: Path) -> None:
    """The same normalised values and blocking columns our engine uses, so Splink gets a fair start."""
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(
            [
                *("unique_id", "given", "father", "middle", "family", "sk_given", "sk_father", "sk_middle"),
                *("sk_family", "national_id", "id_a", "id_b", "phone", "birth_year", "sex", "district"),
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
                    "M" if r["sex"] in ("ذكر", "ذ", "M", "m") else "F",
                    normalize_name(r["district"]),
                ]
            )


def _splink_child(table: str) -> tuple[list[tuple[str, str, float]], float, float]:
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    logging.disable(logging.CRITICAL)  # Splink's training chatter (this child process only)
    start = time.perf_counter()
    db_api = DuckDBAPI()
    df = db_api.register_from_csv(table)
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
    predictions = linker.inference.predict(threshold_match_probability=min(SPLINK_THRESHOLDS))
    edges = predictions.as_duckdbpyrelation().select("unique_id_l, unique_id_r, match_probability").fetchall()
    seconds = time.perf_counter() - start
    peak = _peak_mb()
    return [(str(a), str(b), float(p)) for a, b, p in edges], seconds, peak


def _components(ids: list[str], edges: list[tuple[str, str, float]], threshold: float) -> dict[str, str]:
    parent = {x: x for x in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b, p in edges:
        if p >= threshold:
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in ids}


def run_splink(data: LabelledList, work: Path) -> dict | None:
    """Splink's connected components at each clustering threshold; its best F1 on this list is kept (an oracle
    choice in Splink's favour)."""
    try:
        import splink  # noqa: F401
    except ImportError:
        return None
    table = work / f"splink-{data.name}.csv"
    _splink_table(data.rows, table)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        edges, seconds, peak = pool.apply(_splink_child, (str(table),))
    ids = [r["record_id"] for r in data.rows]
    best = None
    sweep = []
    for t in SPLINK_THRESHOLDS:
        m = cluster_metrics(data, _components(ids, edges, t))
        sweep.append((t, m["f1"]))
        if best is None or m["f1"] > best[1]["f1"]:
            best = (t, m)
    return {"threshold": best[0], "metrics": best[1], "seconds": seconds, "peak_mb": peak, "sweep": sweep}


# --- reporting ---------------------------------------------------------------------------------------------------


def engine_row(data: LabelledList, run: dict) -> dict:
    likely = {p["pair"] for p in run["pairs"] if p["decision"] == "likely"}
    review = {p["pair"] for p in run["pairs"] if p["decision"] == "review"}
    row = cluster_metrics(data, run["clusters_map"])
    row.update(
        likely_precision=len(likely & data.true_pairs) / len(likely) if likely else 1.0,
        recall_likely_plus_review=len((likely | review) & data.true_pairs) / (len(data.true_pairs) or 1),
        review_precision=len(review & data.true_pairs) / len(review) if review else 0.0,
        review_per_100=100 * len(review) / data.n,
        likely_pairs=len(likely),
        review_pairs=len(review),
        seconds=run["seconds"],
        peak_mb=run["peak_mb"],
        compared_pairs=run.get("compared_pairs"),
        skipped_pairs=run.get("skipped_pairs"),
    )
    return row


def per_class(data: LabelledList, run: dict, keys: list[set[str]], pos: dict[str, int]) -> list[tuple]:
    """For each error class: true pairs where either record carries it, found (same likely cluster), in review only,
    missed because no blocking key is shared, missed although compared."""
    found = pairs_of_clusters(run["clusters_map"])
    review = {p["pair"] for p in run["pairs"] if p["decision"] == "review"}
    table: dict[str, Counter] = defaultdict(Counter)
    for a, b in data.true_pairs:
        classes = (data.classes[a] | data.classes[b]) or {"(both clean)"}
        if (a, b) in found:
            outcome = "found"
        elif (a, b) in review:
            outcome = "review"
        elif not keys[pos[a]] & keys[pos[b]]:
            outcome = "unblocked"
        else:
            outcome = "scored_low"
        for c in (*classes, "(all)"):
            table[c][outcome] += 1
            table[c]["n"] += 1
    rows = []
    for c, cnt in sorted(table.items(), key=lambda kv: -kv[1]["n"]):
        n = cnt["n"]
        rows.append((c, n, cnt["found"] / n, cnt["review"] / n, (cnt["unblocked"] + cnt["scored_low"]) / n,
                     cnt["unblocked"] / n))  # fmt: skip
    return rows


def false_pairs_by_relation(data: LabelledList, run: dict) -> dict[str, Counter]:
    """False likely (clustered) and false review pairs of list B, by how the two persons are related."""
    out = {"likely": Counter(), "review": Counter()}
    if not data.people:
        return out
    found = pairs_of_clusters(run["clusters_map"]) - data.true_pairs
    review = {p["pair"] for p in run["pairs"] if p["decision"] == "review"} - data.true_pairs
    for kind, pairs in (("likely", found), ("review", review)):
        for a, b in pairs:
            pa, pb = data.people.get(data.truth[a]), data.people.get(data.truth[b])
            rel = gen_b.relation(pa, pb) if pa and pb else "?"
            if "bad_input" in data.classes[a] | data.classes[b]:
                rel += "+bad_input"
            out[kind][rel] += 1
    return out


def _fmt_table(rows: list[dict]) -> list[str]:
    head = (
        f"  {'engine':34s} {'pair P':>7s} {'pair R':>7s} {'F1':>6s} {'clust P':>7s} {'likely P':>8s} "
        f"{'R L+R':>6s} {'rev P':>6s} {'rev/100':>7s} {'time s':>7s} {'peak MB':>7s}"
    )
    out = [head]
    for r in rows:
        eng = "likely_precision" in r
        extra = (
            f"{r['likely_precision']:8.4f} {r['recall_likely_plus_review']:6.4f} {r['review_precision']:6.3f} "
            f"{r['review_per_100']:7.2f}"
            if eng
            else f"{'':8s} {'':6s} {'':6s} {'':7s}"
        )
        out.append(
            f"  {r['engine']:34s} {r['pair_precision']:7.4f} {r['pair_recall']:7.4f} {r['f1']:6.4f} "
            f"{r['cluster_precision']:7.4f} {extra} {r['seconds']:7.1f} {r['peak_mb']:7.0f}"
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--seed-a", "--seed", dest="seed_a", type=int, default=42)
    parser.add_argument("--seed-b", type=int, default=7)
    parser.add_argument("--tune-only", choices=("A", "B"), help="tune on this list only, report on the other")
    parser.add_argument("--json", type=Path, help="save the figures here")
    parser.add_argument("--no-splink", action="store_true")
    args = parser.parse_args()
    t0 = time.perf_counter()
    print(f"machine: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="aidoffice-dedup-"))

    path_a, path_b = work / "list_a.csv", work / "list_b.csv"
    list_a = LabelledList("A", path_a, write_list(path_a, gen_a.HEADER, gen_a.generate(args.records, args.seed_a)))
    rows_b, people_b = gen_b.generate_labelled(args.records, args.seed_b)
    list_b = LabelledList("B", path_b, write_list(path_b, gen_b.HEADER, rows_b), people_b)
    lists = {"A": list_a, "B": list_b}
    print(f"list A: generate.py seed {args.seed_a}: {list_a.n:,} records of {len(set(list_a.truth.values())):,} "
          f"persons, {len(list_a.true_pairs):,} true pairs")  # fmt: skip
    print(f"list B: generate_b.py seed {args.seed_b}:")
    print("  " + gen_b.stats(rows_b, people_b).replace("\n", "\n  "))

    column, likely_grid, review_grid, defaults = threshold_grid()
    unit = "log2 score" if column == "score" else "match probability"
    print(f"\nthreshold unit: {unit} (engine defaults likely {defaults['likely']:g}, review {defaults['review']:g})")
    print(f"likely grid {likely_grid[0]:g}..{likely_grid[-1]:g} ({len(likely_grid)} values), "
          f"review grid {review_grid[0]:g}..{review_grid[-1]:g} ({len(review_grid)} values)")  # fmt: skip
    print(f"tuning rule: likely stays at the default unless the tuning list shows a reason — the lowest stricter "
          f"value with likely-pair precision ≥ {PRECISION_MARGIN} when the default misses it, a laxer one only for "
          f"{RECALL_GAIN * 100:g} point(s) more recall at that precision; review "
          f"with ≤ {REVIEW_PER_100_MAX:g} review pairs per 100 records and band precision closest to 0.5")  # fmt: skip

    results: dict = {"unit": unit, "defaults": defaults, "lists": {}, "directions": {}}
    blocking = {}
    print("\nblocking (aidoffice.domain.matching.blocking_keys; the engine caps large blocks, see its counts below):")
    for name, data in lists.items():
        b = blocking_stats(data)
        blocking[name] = b
        print(f"  list {name}: {b['key_sharing_pairs']:,} distinct pairs share a key "
              f"({b['key_sharing_pairs'] / data.n:.1f} per record, largest block {b['largest_block']}); "
              f"blocking recall (true pairs sharing a key) {b['blocking_recall']:.4f}")  # fmt: skip
        results["lists"][name] = {
            "records": data.n,
            "true_pairs": len(data.true_pairs),
            "key_sharing_pairs": b["key_sharing_pairs"],
            "largest_block": b["largest_block"],
            "blocking_recall": b["blocking_recall"],
        }

    tuned = {}
    directions = [("A", "B"), ("B", "A")]
    if args.tune_only:
        directions = [d for d in directions if d[0] == args.tune_only]
    for name in sorted({d[0] for d in directions}):
        start = time.perf_counter()
        tuned[name], lines, runs = tune(lists[name], work, column, likely_grid, review_grid, defaults["likely"])
        print(f"\ntuning on list {name} ({runs} engine runs, review floor {review_grid[0]:g}, "
              f"{time.perf_counter() - start:.0f} s):")  # fmt: skip
        print("\n".join(lines))
        print(f"  → tuned on {name}: likely {tuned[name]['likely']:g}, review {tuned[name]['review']:g}")

    splink_cache: dict[str, dict | None] = {}
    for tuned_on, reported_on in directions:
        data = lists[reported_on]
        limits = tuned[tuned_on]
        print(f"\n=== tuned on {tuned_on} → reported on {reported_on} (likely {limits['likely']:g}, "
              f"review {limits['review']:g}) ===")  # fmt: skip
        run = run_engine(data.path, work, f"{tuned_on}to{reported_on}", limits)
        row = {"engine": f"AidOffice tuned on {tuned_on}", **engine_row(data, run)}
        default_run = run_engine(data.path, work, f"default-{reported_on}", None)
        default_row = {"engine": "AidOffice defaults", **engine_row(data, default_run)}
        rows = [row, default_row]
        exact, seconds = run_exact(data)
        rows.append({"engine": "exact normalised name", **cluster_metrics(data, exact), "seconds": seconds,
                     "peak_mb": _peak_mb()})  # fmt: skip
        if not args.no_splink and reported_on not in splink_cache:
            splink_cache[reported_on] = run_splink(data, work)
        splink = splink_cache.get(reported_on)
        if splink:
            rows.append({"engine": f"Splink best (cluster ≥ {splink['threshold']:g})", **splink["metrics"],
                         "seconds": splink["seconds"], "peak_mb": splink["peak_mb"]})  # fmt: skip
        print("\n".join(_fmt_table(rows)))
        print(f"  engine counts: compared_pairs {run.get('compared_pairs')}, skipped_pairs {run.get('skipped_pairs')}; "
              f"likely pairs {row['likely_pairs']:,}, review pairs {row['review_pairs']:,}")  # fmt: skip
        if splink:
            sweep = ", ".join(f"{t:g}:{f:.4f}" for t, f in splink["sweep"])
            print(f"  Splink clustering threshold swept on this (reported) list, best F1 kept: {sweep}")
        else:
            print("  Splink not run (not installed or --no-splink)")
        if reported_on == "B":
            b = blocking["B"]
            print("  per error class (true pairs where either record carries the class; found = same likely cluster):")
            print(f"    {'class':24s} {'pairs':>6s} {'found':>6s} {'review':>6s} {'missed':>6s} {'unblocked':>9s}")
            for c, n, f, rv, miss, unb in per_class(data, run, b["keys"], b["pos"]):
                print(f"    {c:24s} {n:6d} {f:6.3f} {rv:6.3f} {miss:6.3f} {unb:9.3f}")
            rel = false_pairs_by_relation(data, run)
            for kind in ("likely", "review"):
                text = ", ".join(f"{k} {v}" for k, v in rel[kind].most_common()) or "none"
                print(f"  false {kind} pairs by relation: {text}")
        splink_f1 = splink["metrics"]["f1"] if splink else None
        checks = [
            ("likely-only F1 above Splink's best", splink_f1 is not None and row["f1"] > splink_f1,
             f"{row['f1']:.4f} vs {splink_f1:.4f}" if splink_f1 is not None else "Splink not run"),
            ("likely precision ≥ 0.99", row["likely_precision"] >= 0.99, f"{row['likely_precision']:.4f}"),
            ("≤ 2 review pairs per 100 records", row["review_per_100"] <= 2, f"{row['review_per_100']:.2f}"),
            ("review-band precision in 0.2–0.8", REVIEW_BAND[0] <= row["review_precision"] <= REVIEW_BAND[1],
             f"{row['review_precision']:.3f}"),
        ]  # fmt: skip
        print("  targets:")
        for label, ok, value in checks:
            print(f"    [{'met' if ok else 'NOT met'}] {label}: {value}")
        results["directions"][f"{tuned_on}->{reported_on}"] = {
            "thresholds": limits,
            "rows": rows,
            "targets": {label: ok for label, ok, _ in checks},
            "splink_sweep": splink["sweep"] if splink else None,
        }

    print(f"\ntotal time {time.perf_counter() - t0:.0f} s; work files in {work}")
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
        print(f"figures saved to {args.json}")


if __name__ == "__main__":
    main()
