"""A clerk's round trip on the keyboard, in the real window offscreen: register a family of five in one form, put it
on a round, mark it received. Prints the program's own time for each step and the keys a clerk presses.

xvfb-run -a python -m bench.clerk_roundtrip [--persons 5000]   (or QT_QPA_PLATFORM=offscreen)

The program's time is measured: from the key that starts a step until its result is on screen (the checks on entry
answered, the household saved, the line listed, the line marked). The keys are counted as a clerk would press them:
every character of the names, the years and the card numbers, Tab between cells, the shortcuts. A clerk's own
typing time is then estimated at 120 keys a minute (two a second, an unhurried typist on an Arabic keyboard).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

KEYS_PER_SECOND = 2.0
FAMILY = (
    ("عبدالرحمن سالم محمد باحميش", "head", "M", "1978", "01010030001"),
    ("نور عمر أحمد باعشن", "spouse", "F", "1984", "01010030002"),
    ("سالم عبدالرحمن سالم باحميش", "son", "M", "2006", ""),
    ("هند عبدالرحمن سالم باحميش", "daughter", "F", "2009", ""),
    ("يوسف عبدالرحمن سالم باحميش", "son", "M", "2014", ""),
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=5000)
    args = parser.parse_args()

    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from aidoffice.app import make_application
    from aidoffice.services.aid import DistributionInput, ProjectInput, create_distribution, create_project
    from aidoffice.services.associations import AssociationInput, register_association
    from aidoffice.services.context import open_context
    from aidoffice.services.demo import generate_demo
    from aidoffice.ui.main_window import MainWindow
    from bench.common import machine

    print(machine())
    make_application()
    ctx = open_context(Path(tempfile.mkdtemp(prefix="aidoffice-roundtrip-")) / "office.sqlite3", username="desktop")
    generate_demo(ctx, args.persons, seed=5)
    assoc = register_association(ctx, AssociationInput(name="جمعية الوفاء الخيرية", registration_number="31/2018"))
    project = create_project(
        ctx, ProjectInput(association_id=assoc.id, title="كسوة الشتاء", aid_type="winter_kit", start_date="01/11/2026")
    )
    create_distribution(ctx, DistributionInput(project_id=project.id, distribution_date=date(2026, 12, 6)))
    window = MainWindow(ctx)
    window.resize(1280, 720)
    window.show()
    window.activateWindow()
    QTest.qWaitForWindowActive(window)

    steps: list[tuple[str, float, int]] = []

    def wait_until(condition, timeout=30.0) -> None:
        end = time.perf_counter() + timeout
        while not condition():
            if time.perf_counter() > end:
                raise TimeoutError("step did not finish")
            QApplication.processEvents()
            time.sleep(0.002)

    def step(name: str, keys: int, action, done) -> None:
        start = time.perf_counter()
        action()
        wait_until(done)
        steps.append((name, time.perf_counter() - start, keys))

    # 1. the households list, Ctrl+N: the family form with the cursor in the head's name
    step("Alt+3, households tab, Ctrl+N", 3,
         lambda: (QTest.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier),
                  window.persons_page.select_table("households"),
                  QTest.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)),
         lambda: window.persons_page.family is not None and window.persons_page.family.isVisible())  # fmt: skip
    family = window.persons_page.family

    # 2. five rows: name, relation, sex, year, card; Ctrl+Enter for each new row; each row checked on entry
    typed = 0
    for i, (name, relation, sex, born, national_id) in enumerate(FAMILY):
        keys = len(name) + 1 + 2 + 2 + len(born) + 1 + len(national_id) + 1 + (1 if i else 0)
        typed += keys

        def fill(i=i, name=name, relation=relation, sex=sex, born=born, national_id=national_id):
            row = 0 if i == 0 else family.add_row()
            family.set_row(row, name, relation=relation, sex=sex, born=born, national_id=national_id)
            family.check_row(row)

        step(f"row {i + 1} typed and checked on entry", keys, fill,
             lambda: family.check_task is None and not family.pending)  # fmt: skip
    step("Ctrl+S: the household saved", 1,
         lambda: QTest.keyClick(family, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier),
         lambda: family.household_id is not None)  # fmt: skip

    # 3. the head's record, «إضافة إلى توزيع…», the open round chosen: the line listed
    page = window.persons_page
    from aidoffice.services.persons import get_household

    head_id = get_household(ctx, family.household_id).head_person_id
    step("Enter on the household: the head's record", 1, lambda: page.open_person(head_id),
         lambda: page.dialog is not None and page.dialog.isVisible())  # fmt: skip
    record = page.dialog
    step("Tab ×4, Enter: choose the round", 5, record.add_to_round,
         lambda: record.round_chooser is not None and record.round_chooser.isVisible())  # fmt: skip
    chooser = record.round_chooser
    step("Down, Enter: listed on the round", 2,
         lambda: (chooser.choice.setCurrentIndex(1), chooser.accept()),
         lambda: record.round_dialog is not None and record.round_dialog.lines.rowCount() == 1)  # fmt: skip
    sheet = record.round_dialog

    # 4. on the sheet: the line selected, F9
    def mark() -> None:
        sheet.activateWindow()
        QTest.qWaitForWindowActive(sheet)
        sheet.table.setFocus()
        sheet.table.setCurrentIndex(sheet.lines.index(0, 0))
        QTest.keyClick(sheet, Qt.Key.Key_F9)

    step("Tab, Down, F9: marked received", 3, mark, lambda: sheet.lines.index(0, 3).data() == "استلم")

    program = sum(seconds for _name, seconds, _keys in steps)
    keys = sum(k for _name, _seconds, k in steps)
    print(f"registry: {args.persons:,} persons; window 1280×720 offscreen")
    for name, seconds, k in steps:
        print(f"  {name:<48} {seconds * 1000:8.0f} ms  {k:4d} keys")
    print(f"program's time: {program:.2f} s; keys pressed: {keys}")
    typing = keys / KEYS_PER_SECOND
    print(f"a clerk at {KEYS_PER_SECOND * 60:.0f} keys a minute: about {typing / 60:.1f} min of typing, "
          f"{(typing + program) / 60:.1f} min in all")  # fmt: skip
    ctx.close()


if __name__ == "__main__":
    main()
