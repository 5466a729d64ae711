"""`aidoffice --self-test`: prove on this machine (and inside the bundle) that every part the program needs works.

Each step runs in a temporary folder, never on the user's data; the result is printed and written to the log folder
(a windowed program on Windows has no console to print to). Exit 0 when every step passed, 1 otherwise.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path


def _steps(folder: Path, results: dict, make_application: Callable) -> list[tuple[str, Callable[[], str]]]:
    from aidoffice.domain.persons import PersonInput

    state: dict = {}

    def database() -> str:
        from aidoffice.services.context import open_context
        from aidoffice.services.office import initialise_office
        from aidoffice.store import migrate

        ctx = open_context(folder / "selftest.sqlite3", username="selftest")
        initialise_office(ctx, name="مكتب الاختبار الذاتي", governorate="حضرموت")
        state["ctx"] = ctx
        return f"created and migrated to revision {migrate.head_revision()}"

    def record() -> str:
        from aidoffice.services.persons import add_person, search_persons

        ctx = state["ctx"]
        add_person(ctx, PersonInput(full_name="مُحَمَّد سالم عوض العمودي", national_id="01010012345"))
        found = search_persons(ctx, "محمد العمودي")
        if len(found) != 1:
            raise RuntimeError(f"search found {len(found)} persons instead of 1")
        return "a person written, found by an Arabic search"

    def pdf() -> str:
        from aidoffice.services.reports import write_monthly_report

        ctx = state["ctx"]
        path = write_monthly_report(ctx, f"{ctx.today():%Y-%m}", folder / "selftest.pdf")
        data = path.read_bytes()
        if not data.startswith(b"%PDF") or b"AidOffice" not in data or len(data) < 5000:
            raise RuntimeError("the PDF is not complete")
        return f"an Arabic PDF page rendered ({len(data):,} bytes, bundled font)"

    def excel() -> str:
        from aidoffice.formats.spreadsheet import read_sheets
        from aidoffice.services.exports import export_list

        target = folder / "selftest.xlsx"
        rows = export_list(state["ctx"], "persons", target)
        sheets = read_sheets(target)
        return f"{rows} row written with openpyxl, read back with calamine ({len(sheets)} sheet)"

    def encryption() -> str:
        from aidoffice.services import users
        from aidoffice.services.encryption import encrypt_database, open_encrypted

        ctx = state.pop("ctx")
        users.create_user(ctx, "selftest", "self-test-password", "admin")
        users.login(ctx, "selftest", "self-test-password")
        path = ctx.db.path
        encrypt_database(ctx, "self-test-password").close()
        again = open_encrypted(path, "selftest", "self-test-password")
        state["ctx"] = again
        return "SQLCipher encryption, Argon2id unlock"

    def sync_package() -> str:
        from aidoffice.formats import package as pkg

        sender, receiver = pkg.KeyPair.generate(), pkg.KeyPair.generate()
        records = [{"t": "persons", "id": "selftest", "row": {"full_name": "اختبار ذاتي"}, "s": [1, "x", 0]}]
        manifest = {"kind": "changes", "package_id": "00000000-0000-4000-8000-000000000000"}
        path = pkg.write_package(
            folder, "SELFTEST.aidpkg", manifest, records, sender, {"recipient": receiver.kx_public}
        ).path
        opened = pkg.open_package(path.read_bytes(), [sender.sign_public], [receiver.kx_private])
        if opened.records != records:
            raise RuntimeError("the package did not open to what was sealed")
        return "Ed25519 signature, X25519 key wrap, AES-GCM chunks: sealed and opened"

    def window() -> str:
        from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer

        from aidoffice.ui.main_window import MainWindow

        make_application()
        loop = QEventLoop()  # its own loop: quitting it cannot end anyone else's (the application's, a test's)
        start = time.perf_counter()
        main = MainWindow(state["ctx"])
        painted: dict[str, float] = {}

        class _Painted(QObject):
            def eventFilter(self, _obj, event) -> bool:
                if event.type() == QEvent.Type.Paint and "at" not in painted:
                    painted["at"] = time.perf_counter() - start
                    painted["painted_wall"] = time.time()
                    QTimer.singleShot(0, loop.quit)
                return False

        watcher = _Painted()
        main.installEventFilter(watcher)
        main.show()
        deadline = QTimer()  # never wait forever for a paint; stopped afterwards so it cannot fire later
        deadline.setSingleShot(True)
        deadline.timeout.connect(loop.quit)
        deadline.start(15_000)
        loop.exec()
        deadline.stop()
        main.close()
        if "at" not in painted:
            raise RuntimeError("the main window was never painted")
        painted["wall_after"] = time.time() - painted["painted_wall"]  # the time since the paint, taken back off
        results["first_paint_s"] = painted["at"]
        launched = os.environ.get("AIDOFFICE_SPAWNED_AT")  # set by bench/bundle.py: the cold start, measured
        since = f", {time.time() - float(launched) - painted['wall_after']:.2f} s after launch" if launched else ""
        return f"main window opened, painted in {painted['at']:.2f} s{since}, closed"

    return [
        ("database", database),
        ("record", record),
        ("pdf", pdf),
        ("excel", excel),
        ("encryption", encryption),
        ("sync package", sync_package),
        ("window", window),
    ]


def run(make_application: Callable) -> int:
    """`make_application` is app.py's: the window is tested in the application exactly as the program makes it."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # the window is opened and closed without a screen
    started = time.perf_counter()
    lines: list[str] = []
    failed = 0
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="aidoffice-selftest-") as tmp:
        folder = Path(tmp)
        previous_home = os.environ.get("AIDOFFICE_HOME")
        os.environ["AIDOFFICE_HOME"] = str(folder / "home")  # logs and backups of the test stay in the test
        try:
            for name, step in _steps(folder, results, make_application):
                try:
                    lines.append(f"PASS {name}: {step()}")
                except Exception as exc:  # every failure is reported, then the next step runs
                    failed += 1
                    where = traceback.extract_tb(exc.__traceback__)[-1]
                    missing = f" ({exc.name})" if isinstance(exc, ImportError) and exc.name else ""  # a module name
                    lines.append(
                        f"FAIL {name}: {type(exc).__name__}{missing} at {Path(where.filename).name}:{where.lineno}"
                    )
        finally:
            if previous_home is None:
                os.environ.pop("AIDOFFICE_HOME", None)
            else:
                os.environ["AIDOFFICE_HOME"] = previous_home
    frozen = "bundle" if getattr(sys, "frozen", False) else "source"
    lines.append(
        f"{'OK' if not failed else 'FAILED'}: {len(lines) - failed} passed, {failed} failed "
        f"({frozen}, {time.perf_counter() - started:.1f} s)"
    )
    report = "\n".join(lines)
    _emit(report)
    return 0 if not failed else 1


def _emit(report: str) -> None:
    """Print (when there is a console) and write the report to the log folder (always)."""
    if sys.stdout is not None:
        sys.stdout.write(report + "\n")
        sys.stdout.flush()
    try:
        from aidoffice import paths

        folder = paths.ensure_dir(paths.logs_dir())
        (folder / "selftest.txt").write_text(report + "\n", encoding="utf-8")
    except OSError:
        pass
