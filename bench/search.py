"""Person search latency (p50, p95): python bench/search.py --db FILE (or --persons N to build one first)."""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from aidoffice.services.context import open_context
from aidoffice.services.demo import generate_demo
from aidoffice.services.persons import search_persons
from bench.common import machine, peak_rss_mb


def _queries(path: Path, n: int, seed: int) -> dict[str, list[str]]:
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    total = conn.execute("SELECT max(search_rowid) FROM persons").fetchone()[0]
    rows = [
        conn.execute(
            "SELECT full_name, national_id, phone FROM persons WHERE search_rowid=?", (rng.randint(1, total),)
        ).fetchone()
        for _ in range(n * 3)
    ]
    conn.close()
    rows = [r for r in rows if r]
    names = [r[0].split() for r in rows]
    return {
        "one part, 3-letter fragment": [rng.choice(p)[:3] for p in names[:n]],
        "one whole part": [rng.choice(p) for p in names[:n]],
        "two parts": [" ".join(p[:2]) for p in names[:n]],
        "given + family (fragment)": [f"{p[0]} {p[-1][:4]}" for p in names[:n]],
        "full name as typed": [" ".join(p) for p in names[:n]],
        "national ID prefix (6 digits)": [r[1][:6] for r in rows if r[1]][:n],
        "phone": [r[2] for r in rows if r[2]][:n],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path)
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--limit", type=int, default=50)
    args = parser.parse_args()
    print(f"machine: {machine()}")
    path = args.db
    if path is None:
        path = Path(tempfile.mkdtemp(prefix="aidoffice-bench-")) / "search.sqlite3"
        ctx = open_context(path, username="bench")
        generate_demo(ctx, args.persons, seed=11)
        ctx.close()
    ctx = open_context(path, username="bench", create=False)
    with sqlite3.connect(path) as conn:
        persons = conn.execute("SELECT count(*) FROM persons").fetchone()[0]
    print(f"database: {path} ({persons:,} persons), limit {args.limit}")
    all_times: list[float] = []
    for label, queries in _queries(path, args.queries, 5).items():
        for q in queries[:20]:  # warm the page cache as a working clerk's session would
            search_persons(ctx, q, limit=args.limit)
        times, hits = [], 0
        for q in queries:
            start = time.perf_counter()
            found = search_persons(ctx, q, limit=args.limit)
            times.append((time.perf_counter() - start) * 1000)
            hits += bool(found)
        all_times += times
        q = statistics.quantiles(times, n=100)
        print(
            f"{label:32s} p50 {q[49]:6.1f} ms  p95 {q[94]:6.1f} ms  max {max(times):6.1f} ms  "
            f"found {hits}/{len(queries)}"
        )
    q = statistics.quantiles(all_times, n=100)
    print(f"{'all queries':32s} p50 {q[49]:6.1f} ms  p95 {q[94]:6.1f} ms  peak memory {peak_rss_mb():.0f} MB")
    ctx.close()


if __name__ == "__main__":
    main()
