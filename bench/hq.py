"""Headquarters on PostgreSQL: N demo offices on SQLite send their first packages, headquarters applies them, then
name search and the consolidated duplicate scan run over everyone.

    python -m bench.hq --offices 10 --persons 500000 --server postgresql+psycopg://user:pw@host/postgres

Each office is a demo registry of `--persons` persons (its own seed, the same name pools: a country's offices share
names), built in parallel processes and kept in `--work` so a second run can reuse them (`--reuse`). Prints, per
package: records, size, export and import seconds and records/s; then search p50/p95 at headquarters, the full scan's
time and peak memory (of this process: the scan runs here on every core, the server serves the rows), and the
database size. `--hq-db NAME --no-scan` keeps headquarters' database; `--hq-db NAME --scan-only` scans it later.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from bench.common import children_peak_rss_mb, machine, peak_rss_mb, server_database


def _build_office(args: tuple[str, str, int, int, str]) -> tuple[str, float]:
    """One office's demo registry (in a child process): its code and the seconds it took."""
    folder, code, persons, seed, home = args
    os.environ["AIDOFFICE_HOME"] = home
    from aidoffice.services.demo import generate_demo
    from tests.helpers.sync import installation

    path = Path(folder) / f"{code}.sqlite3"
    if path.exists():
        path.unlink()
    start = time.perf_counter()
    office = installation(path, code)
    generate_demo(office, persons, seed=seed)
    office.db.engine.dispose()
    # The demo numbers every office's associations from 1000/<year>; headquarters holds proclamation numbers unique
    # country-wide and refuses a package whose number another office already uses (see the note): give each
    # office's numbers its code, as a governorate's own numbering would differ.
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE associations SET registration_number = registration_number || '-' || ?", (code,))
    return code, time.perf_counter() - start


def _queries(ctx, n: int, seed: int) -> list[str]:
    """Search texts as a clerk types them: the first two or three parts of registered names."""
    from aidoffice.store import models as m

    with ctx.uow() as uow:
        names = [p.full_name for p in uow.records.all(m.Person, limit=20_000)]
    rng = random.Random(seed)
    return [" ".join(rng.choice(names).split()[: rng.choice((2, 3))]) for _ in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--offices", type=int, default=10)
    parser.add_argument("--persons", type=int, default=500_000, help="persons per office")
    parser.add_argument("--server", default=os.environ.get("AIDOFFICE_TEST_PG", ""))
    parser.add_argument("--work", help="folder for the offices' files and packages (kept)")
    parser.add_argument("--reuse", action="store_true", help="reuse offices already built in --work")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--no-scan", action="store_true")
    parser.add_argument("--build-only", action="store_true", help="build the offices in --work and stop")
    parser.add_argument("--hq-db", help="a database on the server to use and keep (default: a new one, dropped)")
    parser.add_argument("--scan-only", action="store_true", help="only the full scan, of the --hq-db kept before")
    args = parser.parse_args()
    if not args.server:
        sys.exit("--server URL (or AIDOFFICE_TEST_PG) is required")
    if args.scan_only:
        if not args.hq_db:
            parser.error("--scan-only scans the headquarters database kept by an earlier run: give its --hq-db")
        from sqlalchemy import make_url

        os.environ.setdefault("AIDOFFICE_HOME", tempfile.mkdtemp(prefix="aidoffice-hq-"))
        print(f"machine: {machine()}; load {os.getloadavg()[0]:.1f}", flush=True)
        from aidoffice.services.context import open_context

        _scan(open_context(make_url(args.server).set(database=args.hq_db).render_as_string(False), username="admin"))
        return
    work = Path(args.work or tempfile.mkdtemp(prefix="aidoffice-hq-"))
    work.mkdir(parents=True, exist_ok=True)
    home = str(work / "home")
    os.environ["AIDOFFICE_HOME"] = home
    print(f"machine: {machine()}; load {os.getloadavg()[0]:.1f}", flush=True)
    codes = [f"HDR-{i + 1:02d}" for i in range(args.offices)]

    todo = [c for c in codes if not (args.reuse and (work / f"{c}.sqlite3").exists())]
    if todo:
        start = time.perf_counter()
        jobs = [(str(work), c, args.persons, 1000 + i, home) for i, c in enumerate(codes) if c in todo]
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:
            for code, seconds in pool.map(_build_office, jobs):
                print(f"office {code}: demo of {args.persons:,} persons in {seconds:.0f} s", flush=True)
        print(f"{len(todo)} offices built in {time.perf_counter() - start:.0f} s ({args.jobs} processes)", flush=True)

    if args.build_only:
        return
    if args.hq_db:
        from sqlalchemy import make_url

        _run(args, work, codes, make_url(args.server).set(database=args.hq_db).render_as_string(hide_password=False))
    else:
        with server_database(args.server) as url:
            _run(args, work, codes, url)


def _run(args, work: Path, codes: list[str], url: str) -> None:
    from sqlalchemy import text

    from aidoffice.services import persons, sync
    from aidoffice.services.context import open_context
    from tests.helpers.sync import installation, introduce

    hq = installation(url, "HQ", hq=True)
    total_records = total_import = 0.0
    for code in codes:
        office = open_context(work / f"{code}.sqlite3", username="admin")
        introduce(hq, office, work)
        start = time.perf_counter()
        out = sync.export_package(office, work / "usb")
        export_s = time.perf_counter() - start
        start = time.perf_counter()
        result = sync.import_package(hq, out.path)
        import_s = time.perf_counter() - start
        total_records += out.records
        total_import += import_s
        print(
            f"{code}: package of {out.records:,} records, {out.size / 1e6:.1f} MB, export {export_s:.1f} s; "
            f"headquarters applied {result.applied:,} (skipped {result.skipped:,}) in {import_s:.1f} s = "
            f"{out.records / import_s:,.0f} records/s; peak memory {peak_rss_mb():.0f} MB",
            flush=True,
        )
        office.db.engine.dispose()
    with hq.db.engine.connect() as conn:
        people = conn.execute(text("SELECT count(*) FROM persons")).scalar_one()
        conn.execute(text("ANALYZE"))
        conn.commit()
    print(
        f"headquarters: {people:,} persons; {total_records:,.0f} records imported in {total_import:.0f} s "
        f"({total_records / total_import:,.0f} records/s overall)",
        flush=True,
    )

    queries = _queries(hq, args.queries, seed=11)
    times, hits = [], 0
    for q in queries:
        start = time.perf_counter()
        hits += bool(persons.search_persons(hq, q))
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    print(
        f"search at headquarters: {len(queries)} queries, p50 {statistics.median(times):.1f} ms, "
        f"p95 {times[int(len(times) * 0.95) - 1]:.1f} ms, max {times[-1]:.1f} ms, {hits} with results",
        flush=True,
    )

    if not args.no_scan:
        _scan(hq)
    with hq.db.engine.connect() as conn:
        size = conn.execute(text("SELECT pg_size_pretty(pg_database_size(current_database()))")).scalar_one()
    print(f"database size at headquarters: {size}", flush=True)
    hq.db.engine.dispose()


def _scan(hq) -> None:
    """The consolidated duplicate scan at headquarters, with its progress, time and memory."""
    from aidoffice.services import duplicates

    before = peak_rss_mb()
    started, shown = time.perf_counter(), [0]

    def progress(done: int, total: int) -> None:
        if done - shown[0] >= total // 20 or done == total:
            shown[0] = done
            print(f"  scan: {done:,} of {total:,} persons scored, {time.perf_counter() - started:.0f} s", flush=True)

    result = duplicates.scan_registry(hq, progress=progress)
    print(
        f"full scan at headquarters: {result.persons:,} persons in {result.seconds:.0f} s, "
        f"{result.compared_pairs:,} pairs compared ({result.skipped_pairs:,} in blocks too large), "
        f"{result.likely:,} likely, {result.review:,} review; peak memory {peak_rss_mb():.0f} MB "
        f"(before the scan {before:.0f} MB; the largest scoring worker {children_peak_rss_mb():.0f} MB, most of it "
        "shared with this process)",
        flush=True,
    )


if __name__ == "__main__":
    main()
