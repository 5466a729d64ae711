"""The same office on SQLite and on PostgreSQL: demo load, name search p95, a searched table page and the monthly
report, side by side.

python -m bench.engines [--persons 5000] [--queries 300] [--server postgresql+psycopg://user:pw@host:port/postgres]
(--server defaults to AIDOFFICE_TEST_PG; without one, SQLite only)
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

from bench.common import machine, server_database


def _queries(ctx, n: int, seed: int) -> list[str]:
    """Name searches as clerks type them: a fragment, a whole part, two parts, given name and family fragment."""
    from sqlalchemy import select

    from aidoffice.store import models as m

    rng = random.Random(seed)
    with ctx.uow() as uow:
        names = list(uow.session.scalars(select(m.Person.full_name).order_by(m.Person.search_rowid)))
    picked = [rng.choice(names).split() for _ in range(n)]
    shapes = (
        lambda p: rng.choice(p)[:3],
        lambda p: rng.choice(p),
        lambda p: " ".join(p[:2]),
        lambda p: f"{p[0]} {p[-1][:4]}",
    )
    return [shapes[i % len(shapes)](p) for i, p in enumerate(picked)]


def _p95(times: list[float]) -> str:
    q = statistics.quantiles(times, n=100)
    return f"p50 {q[49]:6.1f} ms, p95 {q[94]:6.1f} ms"


def _run(label: str, where: str, persons: int, queries: int, folder: Path) -> None:
    from aidoffice.services import reports
    from aidoffice.services.context import open_context
    from aidoffice.services.demo import generate_demo
    from aidoffice.services.persons import search_persons
    from aidoffice.services.tables import TableQuery, count_rows, page_rows

    ctx = open_context(where, username="bench")
    try:
        start = time.perf_counter()
        generate_demo(ctx, persons, seed=11)
        print(f"{label}: demo of {persons:,} persons {time.perf_counter() - start:6.1f} s")
        typed = _queries(ctx, queries, 5)
        for q in typed[:20]:  # a working clerk's warm cache
            search_persons(ctx, q, limit=50)
        times, found = [], 0
        for q in typed:
            start = time.perf_counter()
            found += bool(search_persons(ctx, q, limit=50))
            times.append((time.perf_counter() - start) * 1000)
        print(f"{label}: name search ({len(typed)} queries, found {found}) {_p95(times)}")
        times = []
        for q in typed[:100]:
            view = TableQuery(text=q, filters={"sex": "F"}, sort="birth_year")
            start = time.perf_counter()
            count_rows(ctx, "persons", view, cap=1000)
            page_rows(ctx, "persons", view, 0, 200)
            times.append((time.perf_counter() - start) * 1000)
        print(f"{label}: registry table, searched, filtered, sorted (count + first page) {_p95(times)}")
        months = [r.values[0].strftime("%Y-%m") for r in page_rows(ctx, "distributions", TableQuery(), 0, 9999)]
        month = max(set(months), key=months.count)
        reports.monthly_data(ctx, month)  # warm
        start = time.perf_counter()
        figures = reports.monthly_data(ctx, month)
        data_s = time.perf_counter() - start
        start = time.perf_counter()
        reports.write_monthly_report(ctx, month, folder / f"monthly-{label}.pdf")
        pdf_s = time.perf_counter() - start
        print(
            f"{label}: monthly report {month} ({figures.figures['lines_received']:,} lines received): "
            f"figures {data_s * 1000:.0f} ms, whole PDF {pdf_s * 1000:.0f} ms"
        )
    finally:
        ctx.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--server", default=os.environ.get("AIDOFFICE_TEST_PG", ""))
    args = parser.parse_args()
    print(f"machine: {machine()}")
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        _run("SQLite", str(folder / "bench.sqlite3"), args.persons, args.queries, folder)
        if args.server:
            import psycopg

            with psycopg.connect(args.server.replace("+psycopg", ""), autocommit=True) as conn:
                version = conn.execute("SHOW server_version").fetchone()[0].split()[0]
            url = stack.enter_context(server_database(args.server))
            _run(f"PG {version}", url, args.persons, args.queries, folder)


if __name__ == "__main__":
    main()
