"""The migration chain from an empty database to head on SQLite and on PostgreSQL, and `alembic check` on each.

python -m bench.migrations [--server postgresql+psycopg://user:password@host:port/postgres] [--runs 5]
(the server's account must be able to create and drop databases; without --server, AIDOFFICE_TEST_PG; without
either, SQLite alone)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from bench.common import machine, server_database


def _timed(action) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def _sqlite_run(folder: Path) -> tuple[float, float]:
    from alembic import command

    from aidoffice.store import migrate

    path = folder / f"{uuid.uuid4().hex}.sqlite3"
    return _timed(lambda: migrate.upgrade(path)), _timed(lambda: command.check(migrate.alembic_config(path)))


def _server_run(server: str) -> tuple[float, float]:
    from alembic import command

    from aidoffice.store import migrate

    with server_database(server) as url:
        return _timed(lambda: migrate.upgrade(url)), _timed(lambda: command.check(migrate.alembic_config(url)))


def _line(engine: str, runs: list[tuple[float, float]]) -> str:
    up = [r[0] * 1000 for r in runs]
    check = statistics.median(r[1] * 1000 for r in runs)
    spread = f"min {min(up):.0f}, max {max(up):.0f}"
    return (
        f"{engine:<11} upgrade 0001→head: median {statistics.median(up):6.0f} ms ({spread}); "
        f"alembic check: median {check:5.0f} ms  [{len(runs)} runs]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", default=os.environ.get("AIDOFFICE_TEST_PG", ""))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    print(machine())
    with tempfile.TemporaryDirectory() as folder:
        print(_line("SQLite", [_sqlite_run(Path(folder)) for _ in range(args.runs)]))
    if args.server:
        import psycopg

        runs = [_server_run(args.server) for _ in range(args.runs)]
        with psycopg.connect(args.server.replace("+psycopg", ""), autocommit=True) as conn:
            version = conn.execute("SHOW server_version").fetchone()[0]
        print(_line(f"PG {version.split()[0]}", runs))


if __name__ == "__main__":
    main()
