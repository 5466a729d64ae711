"""The main window offscreen: right-to-left, counts in the status bar, search as you type over a demo office."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester

from aidoffice.app import make_application, open_office
from aidoffice.domain.arabic import normalize_name
from aidoffice.services.persons import search_persons
from aidoffice.ui.main_window import MainWindow


@pytest.fixture
def window(qtbot, demo_ctx):
    make_application()
    win = MainWindow(demo_ctx)
    qtbot.addWidget(win)
    win.show()
    return win


def test_window_is_right_to_left_with_counts(window):
    assert window.layoutDirection().name == "RightToLeft"
    assert "المستفيدون: 2,500" in window.status_counts.text()
    assert window.status_office.text()


def test_search_as_you_type_fills_the_table(qtbot, window, demo_ctx):
    window.search_edit.setText("باوزير")
    qtbot.waitUntil(lambda: window.results.rowCount() > 0, timeout=3000)
    for row in range(window.results.rowCount()):
        assert "باوزير" in normalize_name(window.results.person_at(row).full_name).split()
    assert window.message.text().endswith("نتيجة")
    window.search_edit.setText("")
    qtbot.waitUntil(lambda: window.results.rowCount() == 0, timeout=3000)


def test_person_model_passes_qt_model_tester(qtbot, window, demo_ctx):
    window.results.set_rows(search_persons(demo_ctx, "محمد", limit=50))
    tester = ModelTester(None)
    tester.check(window.results, force_py=True)
    assert window.results.rowCount() == 50
    assert window.results.headerData(0, Qt.Orientation.Horizontal) == "الاسم"
    assert window.results.data(window.results.index(0, 0)) == window.results.person_at(0).full_name


def test_open_office_creates_profile_on_first_run(tmp_path, qtbot):
    ctx = open_office(tmp_path / "first.sqlite3")
    try:
        win = MainWindow(ctx)
        qtbot.addWidget(win)
        assert "المستفيدون: 0" in win.status_counts.text()
    finally:
        ctx.close()


def test_every_list_exports_from_the_menu(qtbot, window, tmp_path):
    import openpyxl

    titles = [a.text() for a in window.export_menu.actions() if a.text()]
    assert len(titles) == 9
    window.export("persons", tmp_path / "persons.xlsx")
    qtbot.waitUntil(lambda: window.export_task is None, timeout=10_000)
    assert "تم التصدير: 2,500" in window.statusBar().currentMessage()
    assert openpyxl.load_workbook(tmp_path / "persons.xlsx").active.sheet_view.rightToLeft
    window.export("persons", tmp_path / "missing-folder" / "x.xlsx")
    qtbot.waitUntil(lambda: window.export_task is None, timeout=10_000)
    assert "تعذر حفظ" in window.statusBar().currentMessage()
