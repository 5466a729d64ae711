"""Demo generation rate and database size per 1,000 persons: python bench/load.py --persons 100000."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from aidoffice.services.context import open_context
from aidoffice.services.demo import generate_demo
from bench.common import machine, peak_rss_mb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=100_000)
    parser.add_argument("--out", type=Path, help="keep the database here (default: a temporary folder)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="aidoffice-bench-"))
    path = args.out or folder / "bench.sqlite3"
    print(f"machine: {machine()}")
    ctx = open_context(path, username="bench")
    start = time.perf_counter()
    summary = generate_demo(ctx, args.persons, seed=11)
    elapsed = time.perf_counter() - start
    ctx.close()
    size = sum(p.stat().st_size for p in path.parent.glob(path.name + "*"))
    print(
        f"persons: {summary.persons:,}  households: {summary.households:,}  "
        f"distribution lines: {summary.distribution_lines:,}  associations: {summary.associations}"
    )
    print(f"demo generation: {elapsed:.1f} s  ({summary.persons / elapsed:,.0f} persons/s)")
    print(f"file size: {size / 1e6:.1f} MB  ({size / summary.persons * 1000 / 1e6:.2f} MB per 1,000 persons)")
    print(f"peak memory: {peak_rss_mb():.0f} MB")
    print(f"database: {path}")


if __name__ == "__main__":
    main()
