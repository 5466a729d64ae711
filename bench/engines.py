"""The same office on SQLite and on PostgreSQL, side by side: demo load, name search, a searched table page, the
monthly report, the duplicate check on entry, an Excel import, clerks saving at once; peak memory and size.

python -m bench.engines [--parts demo,search,report,entry,import,clerks] [--persons 5000] [--queries 300]
    [--entries 200] [--import-rows 100000] [--clerks 10] [--seconds 20]
    [--server postgresql+psycopg://user:pw@host:port/postgres] [--sqlite-db FILE] [--server-db URL]

--server defaults to AIDOFFICE_TEST_PG (an account that may create databases; without one, SQLite only): each run
gets a new database there, dropped afterwards. --sqlite-db / --server-db use (and keep) a database of your own, so
the parts after a long demo can be run again without it (--parts search,report,...). Each engine runs in its own
process, so its peak memory is its own; on PostgreSQL that is the program's memory, not the server's. The parts
run in the order above: the import adds its persons after the registry was searched and checked, and the clerks
save into the registry the import left.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from bench.common import machine, peak_rss_mb, server_database

PARTS = ("demo", "search", "report", "entry", "import", "clerks")
IMPORT_ASSOCIATION = ("جمعية قياس الاستيراد", "9999/2026")


class Figures:
    """What one engine measured: (row, value) in order, printed as it comes and handed to the parent as JSON."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.rows: list[tuple[str, str]] = []

    def add(self, row: str, value: str) -> None:
        self.rows.append((row, value))
        print(f"{self.label}: {row}: {value}", flush=True)


def _pcts(times: list[float]) -> tuple[float, float]:
    if len(times) < 2:
        return (times[0], times[0]) if times else (0.0, 0.0)
    q = statistics.quantiles(times, n=100)
    return q[49], q[94]


def _p95(times: list[float]) -> str:
    p50, p95 = _pcts(times)
    return f"p50 {p50:.1f} ms, p95 {p95:.1f} ms"


# --- the registry as clerks type it ---------------------------------------------------------------------------


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


def _registered(ctx, n: int, seed: int) -> list:
    """`n` registered persons drawn at random (id, full name, card, phone, sex, birth year, district's name)."""
    from sqlalchemy import func, select

    from aidoffice.store import models as m

    rng = random.Random(seed)
    with ctx.uow() as uow:
        top = uow.session.scalar(select(func.max(m.Person.search_rowid))) or 0
        picks = rng.sample(range(1, top + 1), min(top, 2 * n + 20))
        rows = []
        for start in range(0, len(picks), 500):
            rows += uow.session.execute(
                select(
                    m.Person.id,
                    m.Person.full_name,
                    m.Person.national_id,
                    m.Person.phone,
                    m.Person.sex,
                    m.Person.birth_year,
                    m.District.name.label("district"),
                )
                .outerjoin(m.District, m.District.id == m.Person.district_id)
                .where(m.Person.search_rowid.in_(picks[start : start + 500]))
            ).all()
    rows.sort(key=lambda r: r.id)
    rng.shuffle(rows)
    return rows[:n]


def _typed(rows: list, seed: int) -> list:
    """Registered persons typed again in the person form: half as registered, half with a hurried clerk's slips
    (one letter swapped for a neighbour, hamza or taa marbuta dropped, the grandfather left out) and no card."""
    from aidoffice.domain.persons import PersonInput
    from bench.dedup.generate import Clerk, Person, _typed_name

    exact = Clerk(0, 0, 0, 0, 0, 0, 0, 0, 0)
    hurried = Clerk(0.3, 0.3, 0, 0.2, 0.2, 0, 1.0, 0, 0)
    rng = random.Random(seed)
    out = []
    for i, r in enumerate(rows):
        clerk = hurried if i % 2 else exact
        person = Person("", tuple(r.full_name.split()), r.sex or "", r.birth_year or 0, "", "", "", "", 1)
        out.append(
            PersonInput(
                full_name=_typed_name(rng, person, clerk).strip(),
                national_id=(r.national_id or "") if clerk is exact and rng.random() < 0.6 else "",
                phone=r.phone or "",
                sex=r.sex or "",
                birth_year=r.birth_year,
                district=r.district or "",
            )
        )
    return out


def _new_person(rng: random.Random, districts: list[str]):
    """A person not registered yet, as a clerk fills the form."""
    from aidoffice.domain.persons import PersonInput
    from aidoffice.services import demo_pools as pools

    male = rng.random() < 0.5
    given = rng.choice(pools.MALE_GIVEN if male else pools.FEMALE_GIVEN)
    name = " ".join((given, rng.choice(pools.MALE_GIVEN), rng.choice(pools.MALE_GIVEN), rng.choice(pools.FAMILIES)))
    return PersonInput(
        full_name=name,
        national_id=f"{rng.randint(10**10, 3 * 10**10 - 1):011d}",
        phone=f"77{rng.randint(0, 9999999):07d}",
        sex="M" if male else "F",
        birth_year=rng.randint(1950, 2008),
        district=rng.choice(districts) if districts else "",
    )


def _failure(exc: BaseException) -> str:
    """What kind of failure, from the driver's own error when there is one (its SQLSTATE or SQLite's name, and a
    constraint's name): never the message, which may quote the values."""
    seen, e = 0, exc
    while e is not None and seen < 10:
        orig = getattr(e, "orig", None) or e
        module = type(orig).__module__
        if module.startswith("psycopg"):
            diag = getattr(orig, "diag", None)
            constraint = getattr(diag, "constraint_name", None) if diag else None
            extra = f" on {constraint}" if constraint else ""
            return f"{type(orig).__name__} {getattr(orig, 'sqlstate', '')}{extra}"
        if module.startswith("sqlite3") or module.startswith("sqlcipher"):
            return f"sqlite {getattr(orig, 'sqlite_errorname', type(orig).__name__)}"
        e, seen = e.__cause__ or e.__context__, seen + 1
    return type(exc).__name__


# --- the parts ---------------------------------------------------------------------------------------------------


def _demo(ctx, persons: int, out: Figures) -> None:
    from aidoffice.services.demo import generate_demo

    start = time.perf_counter()
    generate_demo(ctx, persons, seed=11)
    seconds = time.perf_counter() - start
    out.add(f"demo: {persons:,} persons", f"{seconds:.1f} s ({persons / seconds:,.0f}/s)")


def _search(ctx, queries: int, out: Figures) -> None:
    from aidoffice.services.persons import search_persons
    from aidoffice.services.tables import TableQuery, count_rows, page_rows

    typed = _queries(ctx, queries, 5)
    for q in typed[:20]:  # a working clerk's warm cache
        search_persons(ctx, q, limit=50)
    times, found = [], 0
    for q in typed:
        start = time.perf_counter()
        found += bool(search_persons(ctx, q, limit=50))
        times.append((time.perf_counter() - start) * 1000)
    out.add(f"name search, {len(typed)} typed", f"{_p95(times)} ({found} found)")
    times = []
    for q in typed[:100]:
        view = TableQuery(text=q, filters={"sex": "F"}, sort="birth_year")
        start = time.perf_counter()
        count_rows(ctx, "persons", view, cap=1000)
        page_rows(ctx, "persons", view, 0, 200)
        times.append((time.perf_counter() - start) * 1000)
    out.add("table: searched, filtered, sorted", _p95(times))


def _report(ctx, folder: Path, out: Figures) -> None:
    from aidoffice.services import reports
    from aidoffice.services.tables import TableQuery, page_rows

    months = [r.values[0].strftime("%Y-%m") for r in page_rows(ctx, "distributions", TableQuery(), 0, 9999)]
    if not months:
        out.add("monthly report", "no rounds")
        return
    month = max(set(months), key=months.count)
    reports.monthly_data(ctx, month)  # warm
    start = time.perf_counter()
    figures = reports.monthly_data(ctx, month)
    data_s = time.perf_counter() - start
    start = time.perf_counter()
    reports.write_monthly_report(ctx, month, folder / f"monthly-{os.getpid()}.pdf")
    pdf_s = time.perf_counter() - start
    out.add(
        "monthly report: figures, PDF",
        f"{data_s * 1000:.0f} ms, {pdf_s * 1000:.0f} ms ({figures.figures['lines_received']:,} lines)",
    )


def _entry(ctx, entries: int, out: Figures) -> None:
    """The person form's check (services/duplicates.check_person, called as the form calls it: no scorer handed
    in, so each check reads the engine's settings as the form's does) on registered persons typed again."""
    from aidoffice.services.duplicates import check_person

    typed = _typed(_registered(ctx, entries + 20, 7), 7)
    for data in typed[:20]:  # warm
        check_person(ctx, data)
    times, likely, any_found = [], 0, 0
    for data in typed[20:]:
        start = time.perf_counter()
        found = check_person(ctx, data)
        times.append((time.perf_counter() - start) * 1000)
        any_found += bool(found)
        likely += any(c.decision == "likely" for c in found)
    out.add(f"entry check, {len(times)} typed", f"{_p95(times)}, max {max(times):.0f} ms")
    out.add("entry check: a candidate found", f"{any_found}/{len(times)} ({likely} likely)")


def _import(ctx, source: Path, rows: int, out: Figures) -> None:
    """The clerk's import, duplicates checked in the file and against the registry, into the demo office."""
    from aidoffice.errors import NotFoundError
    from aidoffice.services.associations import AssociationInput, find_association, register_association
    from aidoffice.services.duplicates import scorer_for
    from aidoffice.services.imports import import_beneficiaries

    name, number = IMPORT_ASSOCIATION
    try:
        find_association(ctx, number)
    except NotFoundError:
        register_association(ctx, AssociationInput(name=name, registration_number=number))
    scorer_for(ctx)  # a registry below FIT_ON_DEMAND without a scan yet fits its weights once: not the import's time
    start = time.perf_counter()
    report = import_beneficiaries(ctx, source, number)
    seconds = time.perf_counter() - start
    out.add(f"import: {rows:,}-row Excel list", f"{seconds:.1f} s ({report.rows_read / seconds:,.0f} rows/s)")
    out.add(
        "import: new/linked/twice/rejected",
        f"{report.imported:,}/{report.duplicates_in_registry:,}/{report.duplicates_in_file:,}/{report.rejected:,}",
    )


def _clerks(ctx, where: str, clerks: int, seconds: float, out: Figures) -> None:
    """`clerks` threads, each with its own context (connection pool) and user, saving for `seconds`: half new
    persons (a likely duplicate confirmed as someone else and saved again, as a clerk would), half edits of a
    person of its own (the phone changed). Every failure is counted by kind."""
    from aidoffice.domain.persons import PersonInput
    from aidoffice.domain.vocab import Role
    from aidoffice.errors import LikelyDuplicateError, UserError
    from aidoffice.services.context import open_context
    from aidoffice.services.duplicates import scorer_for
    from aidoffice.services.persons import add_person, get_person, update_person

    scorer_for(ctx)  # the engine's settings stored once, before the clerks start
    with ctx.uow() as uow:
        districts = [d.name for d in uow.repo.districts()]
    mine = [r.id for r in _registered(ctx, clerks * 200, 9)]
    barrier = threading.Barrier(clerks + 1)
    lock = threading.Lock()
    latencies: list[float] = []
    failures: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    shown: set[str] = set()

    def fail(kind: str, exc: BaseException) -> None:
        with lock:
            failures[kind] += 1
            if kind not in shown and not isinstance(exc, UserError):  # a bug's traceback, once
                shown.add(kind)
                traceback.print_exception(exc, file=sys.stderr)

    def clerk(i: int, ids: list[str]) -> None:
        rng = random.Random(100 + i)
        try:
            own = open_context(where, username=f"clerk{i:02d}")
            own.role = Role.CLERK.value
        except BaseException as exc:
            fail(f"open: {_failure(exc)}", exc)
            barrier.wait()
            return
        mine_lat: list[float] = []
        try:
            barrier.wait()
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:
                edit = bool(ids) and rng.random() < 0.5
                try:
                    if edit:
                        rec = get_person(own, rng.choice(ids))
                        data = PersonInput(
                            full_name=rec.full_name,
                            national_id=rec.national_id or "",
                            phone=f"71{rng.randint(0, 9999999):07d}",
                            sex=rec.sex or "",
                            birth_date=rec.birth_date,
                            birth_year=rec.birth_year,
                            district=rec.district or "",
                            spouse_name=rec.spouse_name or "",
                            spouse_national_id=rec.spouse_national_id or "",
                            notes=rec.notes or "",
                        )

                        def save(others, rec=rec, data=data):
                            return update_person(own, rec.id, data, expected_version=rec.version, distinct_from=others)
                    else:
                        data = _new_person(rng, districts)

                        def save(others, data=data):
                            return add_person(own, data, distinct_from=others)

                    start = time.perf_counter()
                    try:
                        save(())
                    except LikelyDuplicateError as dup:  # the clerk reads the cards, says «someone else», saves
                        with lock:
                            counts["likely"] += 1
                        start = time.perf_counter()
                        save([c.person_id for c in dup.candidates if c.decision == "likely"])
                    mine_lat.append((time.perf_counter() - start) * 1000)
                    with lock:
                        counts["edit" if edit else "add"] += 1
                except Exception as exc:  # counted, not hidden
                    fail(_failure(exc), exc)
        finally:
            own.close()
            with lock:
                latencies.extend(mine_lat)

    threads = [
        threading.Thread(target=clerk, args=(i, mine[i::clerks]), name=f"clerk{i}", daemon=True) for i in range(clerks)
    ]
    for t in threads:
        t.start()
    waits: Counter[str] = Counter()
    stop = threading.Event()
    sampler = threading.Thread(target=_server_waits, args=(ctx, waits, stop), daemon=True)
    barrier.wait()
    start = time.perf_counter()
    if ctx.db.on_server:
        sampler.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    stop.set()
    saves = counts["add"] + counts["edit"]
    p50, p95 = _pcts(latencies)
    out.add(
        f"{clerks} clerks × {seconds:.0f} s: saves/s",
        f"{saves / wall:.1f} ({counts['add']:,} new, {counts['edit']:,} edits)",
    )
    out.add("clerks: per save", f"p50 {p50:.0f} ms, p95 {p95:.0f} ms, max {max(latencies, default=0):.0f} ms")
    out.add("clerks: failed saves", ", ".join(f"{n} {kind}" for kind, n in failures.most_common()) or "none")
    if waits:
        total = sum(waits.values())
        out.add(
            "clerks: server backends were (sampled)",
            ", ".join(f"{what} {n / total:.0%}" for what, n in waits.most_common(4)),
        )
    out.add("clerks: saves taken for likely dup.", f"{counts['likely']} (confirmed someone else, saved again)")


def _server_waits(ctx, waits: Counter, stop: threading.Event) -> None:
    """Every 0.2 s, what the database's other backends in a transaction are doing: running a query, waiting for
    a lock (a row's, a transaction's, an advisory one...) or for the program (its Python), to tell where saves
    queue."""
    from sqlalchemy import text

    with ctx.db.engine.connect() as conn:
        while not stop.wait(0.2):
            rows = conn.execute(
                text(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND state IN ('active', 'idle in transaction')"
                )
            ).all()
            conn.rollback()
            for state, kind, event in rows:
                if state != "active":
                    waits["in a transaction, waiting for the program"] += 1
                else:
                    waits[f"waiting {kind}:{event}" if kind else "running a query"] += 1


def _size(ctx, where: str) -> str:
    if ctx.db.on_server:
        from sqlalchemy import text

        with ctx.db.engine.connect() as conn:
            size = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    else:
        size = sum(Path(where + tail).stat().st_size for tail in ("", "-wal") if Path(where + tail).exists())
    return f"{size / 1e6:,.0f} MB"


def _child(args) -> None:
    from aidoffice.services.context import open_context

    out = Figures(args.label)
    parts = args.parts
    peaks: list[str] = []
    ctx = open_context(args.child, username="bench")
    try:
        steps = {
            "demo": lambda: _demo(ctx, args.persons, out),
            "search": lambda: _search(ctx, args.queries, out),
            "report": lambda: _report(ctx, Path(args.list).parent, out),
            "entry": lambda: _entry(ctx, args.entries, out),
            "import": lambda: _import(ctx, Path(args.list), args.import_rows, out),
            "clerks": lambda: _clerks(ctx, args.child, args.clerks, args.seconds, out),
        }
        for part in PARTS:
            if part not in parts:
                continue
            try:
                steps[part]()
            except Exception as exc:  # said in the table, and the next parts still run
                traceback.print_exc()
                out.add(f"{part}: FAILED", _failure(exc))
            peaks.append(f"{peak_rss_mb():.0f}")
        out.add(f"peak memory after {'/'.join(p for p in PARTS if p in parts)}", f"{'/'.join(peaks)} MB")
        out.add("database size", _size(ctx, args.child))
    finally:
        ctx.close()
        Path(args.out).write_text(json.dumps(out.rows, ensure_ascii=False), encoding="utf-8")


def _table(columns: list[tuple[str, list[tuple[str, str]]]]) -> None:
    """One row a measure, one column an engine, as a Markdown table."""
    rows: list[str] = []
    for _, figures in columns:
        rows += [r for r, _ in figures if r not in rows]
    rows.sort(key=lambda r: r in ("whole run", "FAILED"))  # stable: the measures in order, then the run's own
    cells = [["", *(label for label, _ in columns)]]
    cells += [[row, *(dict(figures).get(row, "—") for _, figures in columns)] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(cells[0]))]
    print()
    for n, line in enumerate(cells):
        print("| " + " | ".join(f"{cell:{w}}" for cell, w in zip(line, widths, strict=True)) + " |")
        if n == 0:
            print("|" + "|".join("-" * (w + 2) for w in widths) + "|")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parts", default=",".join(PARTS), help="any of " + ",".join(PARTS))
    parser.add_argument("--persons", type=int, default=5000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--entries", type=int, default=200)
    parser.add_argument("--import-rows", type=int, default=100_000)
    parser.add_argument("--clerks", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--server", default=os.environ.get("AIDOFFICE_TEST_PG", ""))
    parser.add_argument("--sqlite-db", help="an SQLite file to use and keep (default: a new one, removed)")
    parser.add_argument("--server-db", help="a database on the server to use and keep (default: a new one, dropped)")
    parser.add_argument("--engines", default="sqlite,server", help="sqlite, server or both")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--label", help=argparse.SUPPRESS)
    parser.add_argument("--list", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = set(args.parts) - set(PARTS)
    if unknown:
        parser.error(f"unknown parts: {', '.join(sorted(unknown))}")
    if args.child:
        _child(args)
        return

    print(f"machine: {machine()}")
    print(
        f"parts: {','.join(args.parts)}; {args.persons:,} persons, {args.import_rows:,} import rows, "
        f"{args.clerks} clerks × {args.seconds:.0f} s"
    )
    columns: list[tuple[str, list[tuple[str, str]]]] = []
    engines = args.engines.split(",")
    with ExitStack() as stack:
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="aidoffice-engines-")))
        source = folder / "list.xlsx"
        if "import" in args.parts:
            from bench.excel import make_list

            start = time.perf_counter()
            make_list(source, args.import_rows)
            print(
                f"Excel list: {args.import_rows:,} rows, {source.stat().st_size / 1e6:.1f} MB, "
                f"written in {time.perf_counter() - start:.0f} s",
                flush=True,
            )
        targets: list[tuple[str, str]] = []
        if "sqlite" in engines:
            import sqlite3

            targets.append((f"SQLite {sqlite3.sqlite_version}", args.sqlite_db or str(folder / "bench.sqlite3")))
        if "server" in engines and (args.server or args.server_db):
            import psycopg

            with psycopg.connect((args.server_db or args.server).replace("+psycopg", ""), autocommit=True) as conn:
                version = conn.execute("SHOW server_version").fetchone()[0].split()[0]
            url = args.server_db or stack.enter_context(server_database(args.server))
            targets.append((f"PostgreSQL {version}", url))
        for label, where in targets:
            result = folder / f"{len(columns)}.json"
            start = time.perf_counter()
            done = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "bench.engines",
                    "--child",
                    where,
                    "--label",
                    label,
                    "--out",
                    str(result),
                    "--list",
                    str(source),
                    "--parts",
                    ",".join(args.parts),
                    "--persons",
                    str(args.persons),
                    "--queries",
                    str(args.queries),
                    "--entries",
                    str(args.entries),
                    "--import-rows",
                    str(args.import_rows),
                    "--clerks",
                    str(args.clerks),
                    "--seconds",
                    str(args.seconds),
                ],
                check=False,
            )
            figures = [tuple(r) for r in json.loads(result.read_text(encoding="utf-8"))] if result.exists() else []
            figures.append(("whole run", f"{time.perf_counter() - start:.0f} s"))
            if done.returncode:
                figures.append(("FAILED", f"exit {done.returncode} (see above)"))
            columns.append((label, figures))
    _table(columns)


if __name__ == "__main__":
    main()
