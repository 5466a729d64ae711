"""The main window offscreen: right-to-left, navigation, shortcuts, status bar, home page and exports."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontInfo
from PySide6.QtWidgets import QApplication

from aidoffice.app import FirstRunDialog, make_application, open_office
from aidoffice.services import sync
from aidoffice.services.office import get_office
from aidoffice.ui.main_window import PAGES, MainWindow


@pytest.fixture
def window(qtbot, demo_ctx):
    make_application()
    win = MainWindow(demo_ctx)
    qtbot.addWidget(win)
    win.show()
    return win


def test_window_is_right_to_left_with_the_bundled_font_and_counts(window):
    assert window.layoutDirection() == Qt.LayoutDirection.RightToLeft
    assert QFontInfo(QApplication.font()).family() == "IBM Plex Sans Arabic"
    assert not QApplication.windowIcon().isNull()
    assert "المستفيدون: 2,500" in window.status_counts.text()
    assert window.status_office.text()
    db = window.ctx.db
    assert window.status_file.text() == (
        f"{db.engine.url.database} @ {db.engine.url.host}" if db.on_server else "demo.sqlite3"
    )


def test_every_page_opens_from_the_navigation_and_alt_keys(qtbot, window):
    for i, (key, label) in enumerate(PAGES):
        window.navigation.setCurrentRow(i)
        assert window.current_page() is window.pages[key]
        assert window.navigation.item(i).text() == label
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert window.current_page() is window.associations_page
    assert window.associations_page.model.rowCount() > 0


def test_ctrl_f_goes_to_the_search_box_and_esc_clears_it(qtbot, window):
    window.go("home")
    window.focus_search()
    page = window.persons_page.persons
    assert window.current_page() is window.persons_page
    page.search.setText("محمد")
    window.clear_search()
    assert page.search.text() == ""


def test_ctrl_n_opens_the_new_record_form_of_the_page(qtbot, window):
    window.go("associations")
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = window.associations_page.dialog
    assert dialog is not None and dialog.isVisible() and dialog.association_id is None
    dialog.reject()


def test_home_page_shows_todays_work_and_opens_the_filtered_table(qtbot, window, demo_ctx):
    from aidoffice.services.aid import DistributionInput, create_distribution
    from aidoffice.services.tables import TableQuery, page_rows

    project = page_rows(demo_ctx, "projects", TableQuery(), 0, 1)[0]
    create_distribution(demo_ctx, DistributionInput(project_id=project.id, distribution_date=demo_ctx.today()))
    window.go("associations")
    window.go("home")  # coming back to the home page reads the database again
    cards = window.home_page.cards
    assert set(cards) == {"requests", "overdue_referrals", "pending_referrals", "dormant", "licences", "approvals"}
    approvals = cards["approvals"]
    assert int(approvals.count.text().replace(",", "")) == approvals.item.count > 0
    assert approvals.rows.count() == min(approvals.item.count, 8)
    listing = window.show_table("distributions", approvals.item.filters)
    assert window.current_page() is window.aid_page
    assert listing.filters["status"].currentData() == "draft"
    assert listing.model.rowCount() == approvals.item.count
    statuses = {listing.model.index(r, 5).data() for r in range(listing.model.rowCount())}
    assert statuses == {"مسودة"}


def test_first_run_asks_for_the_office_profile(tmp_path, qtbot):
    make_application()
    dialog = FirstRunDialog()
    qtbot.addWidget(dialog)
    dialog.form.fields["name"].setText("")
    dialog._accept_if_valid()
    assert dialog.result() == 0 and dialog.form.errors["name"].text() == "اسم المكتب مطلوب."
    asked = []

    def ask():
        asked.append(True)
        return {
            "name": "مكتب الشؤون الاجتماعية - أبين",
            "governorate": "أبين",
            "office_code": "ABY-01",
            "country": "YE",
            "mode": dialog.values()["mode"],
        }

    assert dialog.values()["mode"] == "office"  # the default; headquarters is the other choice
    dialog.mode.setCurrentIndex(1)
    ctx = open_office(tmp_path / "first.sqlite3", ask)
    try:
        assert asked and get_office(ctx).governorate == "أبين"
        assert sync.mode(ctx).value == "hq"
    finally:
        ctx.close()
    again = open_office(tmp_path / "first.sqlite3", lambda: pytest.fail("asked twice"))
    again.close()


def test_every_list_exports_from_the_menu_and_the_reports_page(qtbot, window, tmp_path):
    import openpyxl

    titles = [a.text() for a in window.export_menu.actions() if a.text()]
    assert len(titles) == 9 + 2 and len(window.reports_page.buttons) == 9  # + the list on screen, Excel and print
    window.export("persons", tmp_path / "persons.xlsx")
    qtbot.waitUntil(lambda: window.export_task is None, timeout=10_000)
    assert "تم التصدير: 2,500" in window.statusBar().currentMessage()
    assert openpyxl.load_workbook(tmp_path / "persons.xlsx").active.sheet_view.rightToLeft
    window.export("persons", tmp_path / "missing-folder" / "x.xlsx")
    qtbot.waitUntil(lambda: window.export_task is None, timeout=10_000)
    assert "تعذر حفظ" in window.statusBar().currentMessage()


def test_standard_buttons_speak_arabic(qtbot):
    from PySide6.QtWidgets import QDialogButtonBox

    make_application()
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Close | QDialogButtonBox.StandardButton.Cancel)
    qtbot.addWidget(box)
    texts = {
        box.button(b).text().replace("&", "")
        for b in (QDialogButtonBox.StandardButton.Close, QDialogButtonBox.StandardButton.Cancel)
    }
    assert texts.isdisjoint({"Close", "Cancel"})


def test_coming_back_to_a_page_shows_what_changed_meanwhile(qtbot, window, demo_ctx):
    from aidoffice.services.associations import AssociationInput, register_association

    window.go("aid")
    projects = window.aid_page.projects
    window.aid_page.select_table("projects")
    before = projects.filters["association"].count()
    register_association(demo_ctx, AssociationInput(name="جمعية الفجر الجديد", registration_number="999/2026"))
    window.go("home")
    window.go("aid")
    assert projects.filters["association"].count() == before + 1


def test_demo_office_is_generated_behind_a_progress_bar(qtbot):
    from aidoffice.app import make_demo
    from aidoffice.services import overview

    ctx = make_demo(persons=300)
    try:
        counts = overview.stats(ctx)
        assert counts["persons"] >= 300 and counts["associations"] > 0
        assert "aidoffice-demo-" in str(ctx.db.path)
    finally:
        ctx.close()


def test_the_window_fits_an_old_screen_with_its_taskbar(qtbot, window):
    """1366×768 less a taskbar: every page, at its own minimum, fits 1366×728; at 1280×720 the status bar shows."""
    for i in range(len(PAGES)):
        window.navigation.setCurrentRow(i)
        hint = window.minimumSizeHint().expandedTo(window.minimumSize())
        assert hint.width() <= 1366 and hint.height() <= 728, (PAGES[i][0], hint)
    window.resize(1280, 720)
    qtbot.waitUntil(lambda: window.height() <= 720)
    assert window.statusBar().geometry().bottom() < 720


def test_an_associations_file_fits_the_screen_less_its_taskbar_and_title_bar(qtbot, demo_ctx):
    """The file's profile fields scroll: unscrolled, they made the dialog at least 756 px tall, its buttons below a
    1366×768 screen's taskbar."""
    from aidoffice.store import models as m
    from aidoffice.ui.pages.associations import AssociationDialog

    make_application()
    with demo_ctx.uow() as uow:
        association_id = uow.records.all(m.Association, limit=1)[0].id
    for ident in (None, association_id):
        dialog = AssociationDialog(demo_ctx, ident)
        qtbot.addWidget(dialog)
        dialog.show()
        assert dialog.minimumSizeHint().height() <= 728 - 30, dialog.minimumSizeHint()


def test_home_finds_a_beneficiary_and_registers_a_new_one(qtbot, window):
    window.go("home")
    home = window.home_page
    name = window.persons_page.persons.model.row_at(0).values[0] if window.persons_page.persons.model.rowCount() else ""
    family = (name or "محمد").split()[-1]
    home.search.setText(family)
    qtbot.keyClick(home.search, Qt.Key.Key_Return)
    listing = window.persons_page.persons
    assert window.current_page() is window.persons_page and listing.search.text() == family
    qtbot.waitUntil(lambda: listing.model.rowCount() > 0)
    window.go("home")
    home.new_person_button.click()
    dialog = window.persons_page.dialog
    assert dialog is not None and dialog.isVisible() and dialog.person_id is None
    dialog.reject()


def test_the_window_opens_no_taller_than_the_screen_less_its_taskbar(qtbot, demo_ctx, monkeypatch):
    from PySide6.QtCore import QRect

    class Screen:  # a 1366×768 PC whose taskbar takes 40 pixels
        def availableGeometry(self):
            return QRect(0, 0, 1366, 728)

    monkeypatch.setattr("aidoffice.ui.main_window.QApplication.primaryScreen", lambda: Screen())
    win = MainWindow(demo_ctx)
    qtbot.addWidget(win)
    assert win.height() <= 728 - 30 and win.width() <= 1366
