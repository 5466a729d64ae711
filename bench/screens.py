"""Screenshots of every page and the main dialogs on a demo office, for a person to look at.

xvfb-run -a python -m bench.screens --out /tmp/screens   (or QT_QPA_PLATFORM=offscreen)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path("screens"))
    parser.add_argument("--persons", type=int, default=3000)
    parser.add_argument("--size", default="1280x720", help="window size; 1280×720 is the smallest screen supported")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtWidgets import QApplication

    from aidoffice.app import make_application
    from aidoffice.services.context import open_context
    from aidoffice.services.demo import generate_demo
    from aidoffice.services.tables import TableQuery, page_rows
    from aidoffice.ui.main_window import PAGES, MainWindow

    make_application()
    ctx = open_context(Path(tempfile.mkdtemp(prefix="aidoffice-screens-")) / "demo.sqlite3", username="desktop")
    generate_demo(ctx, args.persons, seed=3)
    window = MainWindow(ctx)
    width, height = (int(x) for x in args.size.split("x"))
    window.resize(width, height)  # 1366×768 less a taskbar is the offices' PCs; 1280×720 the smallest supported
    window.show()

    def settle() -> None:
        for _ in range(10):
            QApplication.processEvents()

    def shot(widget, name: str) -> None:
        settle()
        widget.grab().save(str(args.out / f"{name}.png"))

    for i, (key, _label) in enumerate(PAGES, start=1):
        window.go(key)
        shot(window, f"{i:02d}-{key}")

    window.go("reports")
    window.reports_page.tabs.setCurrentWidget(window.reports_page.indicators)
    window.reports_page.indicators.first.setText("2020-01")
    window.reports_page.indicators.refresh()
    shot(window, "15-indicators")

    window.go("associations")
    dialog = window.associations_page.open_association(window.associations_page.model.id_at(0))
    for t in range(dialog.tabs.count()):
        dialog.tabs.setCurrentIndex(t)
        shot(dialog, f"20-association-tab{t}")
    dialog.reject()
    new = window.associations_page.open_association(None)
    new.save_profile()  # empty: the reasons beside the fields
    shot(new, "21-association-new-refused")
    new.reject()

    window.go("persons")
    person = page_rows(ctx, "persons", TableQuery(), 0, 1)[0]
    person_dialog = window.persons_page.open_person(person.id)
    for t in range(person_dialog.tabs.count()):
        person_dialog.tabs.setCurrentIndex(t)
        shot(person_dialog, f"30-person-tab{t}")
    person_dialog.reject()

    # The check on entry: a registered person typed again, spelled another way, before saving and after حفظ.
    from aidoffice.services.persons import get_person

    known = get_person(ctx, person.id)
    typed = window.persons_page.open_person(None)
    fields = typed.form.fields
    fields["full_name"].setText(known.full_name.replace("ة", "ه").replace("أ", "ا"))
    fields["birth_year"].setText(str(known.birth_year or ""))
    fields["phone"].setText(known.phone)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not typed.candidates.candidates:
        settle()
        time.sleep(0.05)
    shot(typed, "31-person-new-candidates")
    typed.save()
    shot(typed, "32-person-new-refused")
    typed.reject()

    window.go("review")
    from aidoffice.services.duplicates import scan_registry

    scan_registry(ctx)
    window.review_page.refresh()
    shot(window, "35-review-after-scan")
    window.go("settings")
    window.settings_page.tabs.setCurrentWidget(window.settings_page.duplicates)
    window.settings_page.ensure_loaded()
    shot(window, "36-settings-duplicates")

    # One style for numbers and dates: Arabic-Indic digits chosen in «عام», then a list and the home page in them.
    window.settings_page.tabs.setCurrentIndex(0)
    window.settings_page.ensure_loaded()
    style_box = window.settings_page.style_box
    style_box.digits.setCurrentIndex(style_box.digits.findData("arabic"))
    style_box.save()
    shot(window, "37-settings-number-style")
    window.go("associations")
    window.associations_page.ensure_loaded()
    shot(window, "38-associations-arabic-digits")
    window.go("reports")
    window.reports_page.tabs.setCurrentWidget(window.reports_page.indicators)
    window.reports_page.indicators.refresh()
    shot(window, "39-indicators-arabic-digits")
    style_box.digits.setCurrentIndex(style_box.digits.findData("western"))
    style_box.save()

    window.go("aid")
    distribution = page_rows(ctx, "distributions", TableQuery(), 0, 1)[0]
    sheet = window.aid_page.open_distribution(distribution.id)
    shot(sheet, "40-distribution-sheet")
    received = page_rows(ctx, "lines", TableQuery(filters={"distribution": distribution.id}), 0, 1)
    if received:
        # the same household again in another round of the same month: the warning a supervisor sees
        from aidoffice.services.aid import DistributionInput, create_distribution, get_distribution
        from aidoffice.services.persons import search_persons

        view = get_distribution(ctx, distribution.id)
        again = create_distribution(
            ctx, DistributionInput(project_id=view.record.project_id, distribution_date=view.record.distribution_date)
        )
        other = window.aid_page.open_distribution(again.id)
        found = search_persons(ctx, received[0].values[1] or received[0].values[0], limit=1)
        if found:
            other.add_person(found[0].id)
            if other.reason_dialog is not None:
                shot(other.reason_dialog, "41-already-received")
                other.reason_dialog.reject()
            # a clerk at the same warning: the reason goes to the supervisor, whose queue then holds it
            from dataclasses import replace

            from aidoffice.ui.pages.distributions import DistributionDialog

            clerk_sheet = DistributionDialog(replace(ctx, username="clerk1", role="clerk"), again.id, window)
            clerk_sheet.add_person(found[0].id)
            clerk_sheet.reason_dialog.reason.setPlainText("أسرة نازحة فقدت مسكنها في السيول")
            shot(clerk_sheet.reason_dialog, "42-clerk-asks-the-supervisor")
            clerk_sheet.reason_dialog.confirm_button.click()
            clerk_sheet.reject()
            window.go("requests")
            window.requests_page.table.setCurrentCell(0, 0)
            window.requests_page.note.setText("موافق: النزوح موثق في كشف الجمعية")
            shot(window, "43-requests-queue")
    window.go("persons")
    family = window.persons_page.open_family()
    rows = (
        ("عبدالله سالم محمد باحاج", "head", "M", "1975", "01010020001"),
        ("فاطمة عمر أحمد العمودي", "spouse", "F", "1980", ""),
        ("سالم عبدالله سالم باحاج", "son", "M", "2001", ""),
        ("خديجة عبدالله سالم باحاج", "daughter", "F", "15/03/2004", ""),
    )
    for i, (name, relation, sex, born, national_id) in enumerate(rows):
        row = 0 if i == 0 else family.add_row()
        family.set_row(row, name, relation=relation, sex=sex, born=born, national_id=national_id)
    for row in range(len(rows)):
        family.check_row(row)
    for _ in range(100):
        if family.check_task is None and not family.pending:
            break
        time.sleep(0.05)
        settle()
    shot(family, "45-family-form")
    family.reject()
    _list_screens(window, shot)
    _sync_screens(shot, args.out)
    print(f"screens in {args.out}")


def _list_screens(window, shot) -> None:
    """The households filtered from a column's header (its menu open beside), the view's count and sums in the
    status bar; then the audit's «ما تغيّر اليوم»."""
    from PySide6.QtWidgets import QApplication

    from aidoffice.services.tables import ColumnFilter

    listing = window.show_table("households", {})
    listing.set_column_filter("size", ColumnFilter("is", 6, "6"))
    for _ in range(100):  # the sums arrive from the thread pool
        if "مجموع" in listing.summary:
            break
        time.sleep(0.05)
        QApplication.processEvents()
    shot(window, "46-list-header-filter")
    listing.clear_filters()
    window.go("settings")
    window.settings_page.tabs.setCurrentWidget(window.settings_page.audit)
    window.settings_page.ensure_loaded()
    shot(window, "47-audit-today")


def _sync_screens(shot, out: Path) -> None:
    """Headquarters' Sync page after an office's package with a conflicting edit: history, queue, keys."""
    from aidoffice.domain.persons import PersonInput
    from aidoffice.services import associations, persons, sync
    from aidoffice.services.associations import AssociationInput
    from aidoffice.ui.main_window import MainWindow
    from tests.helpers.sync import installation, introduce

    folder = Path(tempfile.mkdtemp(prefix="aidoffice-screens-sync-"))
    hq = installation(folder / "hq.sqlite3", "HQ", hq=True)
    office = installation(folder / "office.sqlite3", "HDR-01")
    introduce(hq, office, folder)
    assoc = associations.register_association(
        hq, AssociationInput(name="جمعية الخير للتنمية", registration_number="H-12")
    )
    sync.import_package(office, sync.export_package(hq, folder / "usb", to_office="HDR-01").path)
    persons.add_person(office, PersonInput(full_name="سالم عوض بن حويل", national_id="01234567890"))
    edit = AssociationInput(name="جمعية الخير للتنمية", registration_number="H-12", address="المكلا - فوة")
    associations.update_association(office, assoc.id, edit)
    edit = AssociationInput(name="جمعية الخير للتنمية", registration_number="H-12", address="المكلا - الشرج")
    associations.update_association(hq, assoc.id, edit)
    sync.import_package(hq, sync.export_package(office, folder / "usb").path)
    window = MainWindow(hq)
    window.resize(1366, 768)
    window.show()
    window.go("sync")
    page = window.sync_page
    page.folder.setText(str(folder / "usb"))
    for t in range(page.tabs.count()):
        page.tabs.setCurrentIndex(t)
        shot(window, f"50-sync-tab{t}")
    window.close()


if __name__ == "__main__":
    main()
