"""Desktop figures: cold start to the first painted window, search latency and memory on a big database, and the
longest GUI-thread stall in the everyday flows.

python -m bench.ui --db FILE      (a demo database: aidoffice-cli demo --persons 1000000 --db FILE)
Runs offscreen unless QT_QPA_PLATFORM says otherwise. Copies nothing: use a database you can write to.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import machine, peak_rss_mb

COLD_START = r"""
import sys, time
t0 = float(sys.argv[2])
from pathlib import Path
from PySide6.QtCore import QEvent, QObject, QTimer
from aidoffice.app import make_application, open_office
from aidoffice.ui.main_window import MainWindow
app = make_application()
ctx = open_office(Path(sys.argv[1]))
window = MainWindow(ctx)

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print(f"{time.time() - t0:.3f}")
            sys.stdout.flush()
            QTimer.singleShot(0, app.quit)
            obj.removeEventFilter(self)
        return False

painted = FirstPaint()
window.installEventFilter(painted)
window.show()
app.exec()
"""


def cold_start(db: Path, runs: int) -> list[float]:
    out = []
    env = {**os.environ, "QT_QPA_PLATFORM": os.environ.get("QT_QPA_PLATFORM", "offscreen")}
    for _ in range(runs):
        result = subprocess.run(
            [sys.executable, "-c", COLD_START, str(db), repr(time.time())],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        out.append(float(result.stdout.strip().splitlines()[-1]))
    return out


class Stalls:
    """Each GUI action below runs on the GUI thread from start to end: its duration is the stall a clerk feels."""

    def __init__(self, app) -> None:
        self.app = app
        self.times: dict[str, list[float]] = {}

    def run(self, name: str, action):
        start = time.perf_counter()
        result = action()
        self.app.processEvents()
        self.times.setdefault(name, []).append((time.perf_counter() - start) * 1000)
        return result

    def report(self) -> None:
        worst = max(self.times.items(), key=lambda kv: max(kv[1]))
        for name, values in sorted(self.times.items(), key=lambda kv: -max(kv[1])):
            p50 = statistics.median(values)
            print(f"  {name:<46} n={len(values):>3}  p50 {p50:7.1f} ms  max {max(values):7.1f} ms")
        print(f"longest GUI-thread stall: {max(worst[1]):.0f} ms ({worst[0]})")


def flows(db: Path) -> None:
    from PySide6.QtCore import Qt

    from aidoffice.app import make_application, open_office
    from aidoffice.services.tables import TableQuery, page_rows
    from aidoffice.ui.main_window import MainWindow

    app = make_application()
    ctx = open_office(db)
    stalls = Stalls(app)
    window = stalls.run("open the main window (home page)", lambda: MainWindow(ctx))
    window.resize(1366, 768)
    window.show()
    app.processEvents()
    for key in ("associations", "persons", "aid", "referrals", "home", "settings"):
        stalls.run(f"go to page: {key}", lambda key=key: window.go(key))

    page = window.persons_page.persons
    window.go("persons")
    total = page.model.rowCount()
    print(f"persons table: {total:,} rows")
    # search as you type: every keystroke's query as the debounce timer would send it
    people = page_rows(ctx, "persons", TableQuery(), 0, 5000)
    sample = people[:: max(1, len(people) // 40)][:40]
    for person in sample:
        parts = person.values[0].split()
        for typed in (parts[0][:3], parts[0], " ".join(parts[:2]), " ".join([parts[0], parts[-1]])):
            page.search.setText(typed)
            stalls.run("search as you type (name)", page.reload)
        if person.values[1]:
            page.search.setText(person.values[1][:6])
            stalls.run("search as you type (ID prefix)", page.reload)
    page.search.setText("")
    stalls.run("clear the search (all persons)", page.reload)
    # scrolling: the scrollbar dragged to places far apart, each painting one screenful
    bar = page.table.verticalScrollBar()
    for fraction in (0.1, 0.5, 0.9, 1.0, 0.3, 0.7):
        stalls.run("scroll to a far place and paint", lambda f=fraction: bar.setValue(int(bar.maximum() * f)))
    stalls.run("sort by national ID (indexed)", lambda: page.table.sortByColumn(1, Qt.SortOrder.AscendingOrder))
    stalls.run("back to registration order", lambda: page.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder))
    district = page.filters["district"]
    stalls.run("filter by district", lambda: district.setCurrentIndex(1))
    stalls.run("filter back to all districts", lambda: district.setCurrentIndex(0))
    rss_search = peak_rss_mb()

    person = sample[0]
    dialog = stalls.run(
        "open a person (form, household, aid history)", lambda: window.persons_page.open_person(person.id)
    )
    dialog.reject()
    window.go("associations")
    assoc = window.associations_page.model.id_at(0)
    dialog = stalls.run("open an association's file", lambda: window.associations_page.open_association(assoc))
    dialog.reject()
    window.go("aid")
    distribution = page_rows(ctx, "distributions", TableQuery(), 0, 1)[0]
    sheet = stalls.run("open a distribution sheet", lambda: window.aid_page.open_distribution(distribution.id))
    for person in sample[:10]:
        stalls.run("add a recipient (already-received check)", lambda p=person: sheet.add_person(p.id))
        if sheet.reason_dialog is not None and sheet.reason_dialog.isVisible():
            sheet.reason_dialog.reject()
    print(f"peak memory after the searches and scrolling: {rss_search:.0f} MB; at the end {peak_rss_mb():.0f} MB")
    stalls.report()
    ctx.close()


def _watch_sql(slow_ms: float) -> None:
    """Name the statement behind a stall: every SQL statement slower than `slow_ms` is printed with its time."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    @event.listens_for(Engine, "before_cursor_execute")
    def _before(conn, _cursor, _statement, _parameters, _context, _executemany):
        conn.info["bench_started"] = time.perf_counter()

    @event.listens_for(Engine, "after_cursor_execute")
    def _after(conn, _cursor, statement, _parameters, _context, _executemany):
        took = (time.perf_counter() - conn.info.pop("bench_started", time.perf_counter())) * 1000
        if took > slow_ms:
            print(f"  slow SQL {took:.0f} ms: {' '.join(statement.split())[:300]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--slow-ms", type=float, default=300, help="print SQL statements slower than this")
    args = parser.parse_args()
    _watch_sql(args.slow_ms)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    print(f"machine: {machine()}")
    print(f"database: {args.db} ({args.db.stat().st_size / 1e9:.2f} GB)")
    starts = cold_start(args.db, args.runs)
    print(f"cold start to first painted window: median {statistics.median(starts):.2f} s, max {max(starts):.2f} s")
    flows(args.db)


if __name__ == "__main__":
    main()
