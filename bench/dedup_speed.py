"""Duplicate engine speed on a registry: one new person (p50/p95), 10,000 on import, and a full scan with memory.

python -m bench.dedup_speed --db FILE [--skip-scan]   (build FILE with: aidoffice-cli demo --persons 1000000 --db FILE)
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import time
from pathlib import Path

from aidoffice.domain.matching import MatchRecord
from aidoffice.services.context import open_context
from aidoffice.services.duplicates import check_records, scan_registry, scorer_for
from bench.common import machine, peak_rss_mb


def _sample(path: Path, n: int, seed: int) -> list[MatchRecord]:
    """Registry persons as an association would list them again: some parts re-spelled, some fields missing."""
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    top = conn.execute("SELECT max(search_rowid) FROM persons").fetchone()[0]
    out = []
    while len(out) < n:
        row = conn.execute(
            "SELECT p.name_parts, p.national_id, p.phone, p.birth_year, p.sex, d.name FROM persons p "
            "LEFT JOIN districts d ON d.id = p.district_id WHERE p.search_rowid = ?",
            (rng.randint(1, top),),
        ).fetchone()
        if not row:
            continue
        import json

        parts = json.loads(row[0])
        if len(parts) >= 4 and rng.random() < 0.3:
            del parts[2]
        out.append(
            MatchRecord(
                id=f"new{len(out)}",
                parts=tuple(parts),
                national_id=row[1] if rng.random() < 0.6 else "",
                phone=row[2],
                birth_year=(row[3] or 0) + rng.choice((0, 0, 1)) or None,
                sex=row[4],
                district=row[5],
            )
        )
    conn.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--entries", type=int, default=300)
    parser.add_argument("--import-size", type=int, default=10_000)
    parser.add_argument("--skip-scan", action="store_true")
    parser.add_argument("--only-scan", action="store_true")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    ctx = open_context(args.db, username="bench", create=False)
    with sqlite3.connect(args.db) as conn:
        persons = conn.execute("SELECT count(*) FROM persons").fetchone()[0]
    print(f"registry: {persons:,} persons")
    scorer = scorer_for(ctx)

    if not args.only_scan:
        entries = _sample(args.db, args.entries, 1)
        for record in entries[:20]:
            check_records(ctx, [record], scorer=scorer)
        times, found = [], 0
        for record in entries:
            start = time.perf_counter()
            result = check_records(ctx, [record], scorer=scorer)
            times.append((time.perf_counter() - start) * 1000)
            found += bool(result[record.id])
        q = statistics.quantiles(times, n=100)
        print(
            f"on entry: p50 {q[49]:.1f} ms  p95 {q[94]:.1f} ms  max {max(times):.1f} ms  "
            f"(a candidate found for {found}/{len(entries)})"
        )
        batch = _sample(args.db, args.import_size, 2)
        start = time.perf_counter()
        result = check_records(ctx, batch, scorer=scorer)
        seconds = time.perf_counter() - start
        print(
            f"on import: {len(batch):,} persons against the registry in {seconds:.1f} s "
            f"({sum(bool(v) for v in result.values()):,} with candidates)"
        )

    if not args.skip_scan:
        last = [0.0]

        def progress(done: int, total: int) -> None:
            now = time.perf_counter()
            if now - last[0] > 30:
                last[0] = now
                print(f"  scan {done:,}/{total:,}", flush=True)

        scan = scan_registry(ctx, progress=progress)
        print(
            f"full scan: {scan.persons:,} persons in {scan.seconds:.0f} s; {scan.likely:,} likely, "
            f"{scan.review:,} review pairs; {scan.household_links:,} spouse household links"
        )
    print(f"peak memory: {peak_rss_mb():.0f} MB")
    ctx.close()


if __name__ == "__main__":
    main()
