"""Lists like a spreadsheet: filters on the column headers, the view on screen exported and printed as it is
(search, filters, order), its count and sums under the table and in the status bar, pages fetched off the GUI thread."""

from __future__ import annotations

import shutil
import threading
from dataclasses import replace

import openpyxl
import pytest
from PySide6.QtCore import Qt

from aidoffice.errors import PermissionDeniedError, UserError
from aidoffice.services import users
from aidoffice.services.exports import PRINT_LIMIT, export_view, print_view
from aidoffice.services.persons import create_household
from aidoffice.services.tables import ColumnFilter, TableQuery, count_rows, page_rows
from aidoffice.ui.models import paged
from aidoffice.ui.models.paged import PAGE, PagedTableModel
from aidoffice.ui.pages.list_page import ListPage
from tests.helpers.databases import raw_connect
from tests.services.test_reports import read_back, squash


def _sql(ctx, statement, *args):
    """What the database holds, read with a connection of its own: the check does not trust the services."""
    conn = raw_connect(ctx)
    try:
        return conn.execute(statement, args).fetchall()
    finally:
        conn.close()


def _persons_page(qtbot, ctx) -> ListPage:
    page = ListPage(ctx, "persons", "المستفيدون")
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    page.reload()
    return page


def _menu_action(menu, starts: str):
    return next(a for a in menu.actions() if a.text().startswith(starts))


def _narrowed(qtbot, ctx):
    """Women in one district whose name holds «محمد», by national ID from the highest: set on screen as a clerk
    would (drop-down, a header's value, a cell's value, a header's "contains"), then sorted by a header click."""
    page = _persons_page(qtbot, ctx)
    total = page.model.rowCount()
    sex = page.filters["sex"]
    sex.setCurrentIndex(sex.findData("F"))
    menu = page.column_menu(5)  # the district's header: its values with how many rows hold each
    district = next(a for a in menu.actions() if a.text().endswith(")") and a.isEnabled())
    district_name = district.text().rsplit("  (", 1)[0]
    district.trigger()
    page.set_column_filter("full_name", ColumnFilter("contains", "محمد", "محمد"))
    page.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    assert 0 < page.model.rowCount() < total
    return page, district_name


def test_a_filtered_sorted_export_holds_only_the_filtered_rows_in_that_order(qtbot, demo_ctx, tmp_path):
    page, district = _narrowed(qtbot, demo_ctx)
    expected = _sql(
        demo_ctx,
        "SELECT p.full_name, p.national_id FROM persons p JOIN districts d ON d.id = p.district_id "
        "WHERE p.merged_into_id IS NULL AND p.sex = 'F' AND d.name = ? AND p.full_name LIKE '%محمد%' "
        "ORDER BY p.national_id DESC",
        district,
    )
    assert page.model.rowCount() == len(expected) > 1
    assert page.chips_bar.isVisible() and "▾" in page.model.headerData(5, Qt.Orientation.Horizontal)

    target = tmp_path / "view.xlsx"
    page.export_view(target)
    qtbot.waitUntil(lambda: page.output_task is None, timeout=10_000)
    assert f"{len(expected):,} صف" in page.message.text()
    sheet = openpyxl.load_workbook(target).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("الاسم", "رقم البطاقة")
    body = rows[1:]
    assert len(body) == len(expected)  # only the filtered rows …
    assert [r[1] or "" for r in body] == [e[1] or "" for e in expected]  # … in the order on screen
    assert sorted(r[0] for r in body) == sorted(e[0] for e in expected)
    assert {r[3] for r in body} == {"أنثى"} and {r[5] for r in body} == {district}
    audit = _sql(demo_ctx, "SELECT action, entity FROM audit_log ORDER BY seq DESC LIMIT 1")
    assert audit == [("export", "persons")]


def test_printing_the_view_prints_its_filter_rows_and_totals(qtbot, demo_ctx, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils (pdftotext) not installed")
    head = _sql(demo_ctx, "SELECT head_person_id FROM households ORDER BY created_at, id LIMIT 1")[0][0]
    sizes = _sql(demo_ctx, "SELECT sum(size), count(*) FROM households WHERE size = 7")[0]
    page = ListPage(demo_ctx, "households", "الأسر")
    qtbot.addWidget(page)
    page.reload()
    page.set_column_filter("size", ColumnFilter("is", 7, "7"))
    target = tmp_path / "view.pdf"
    page.print_view(target)
    qtbot.waitUntil(lambda: page.output_task is None, timeout=20_000)
    text = squash(" ".join(read_back(target)))
    assert squash("عدد الأفراد =") in text  # the view in words above the table
    total = text[text.index("المجموع") :]  # the totals row: the count of rows and the sum of the sizes
    assert f"{sizes[1]:,}" in total and f"{sizes[0]:,}" in total
    assert head and page.model.rowCount() == sizes[1]


def test_count_and_sums_of_the_view_under_the_table_and_in_the_status_bar(qtbot, demo_ctx):
    from aidoffice.ui.main_window import MainWindow

    window = MainWindow(demo_ctx)
    qtbot.addWidget(window)
    window.show()
    listing = window.show_table("households", {})
    listing.set_column_filter("size", ColumnFilter("is", 5, "5"))
    size, members, count = _sql(
        demo_ctx,
        "SELECT sum(h.size), (SELECT count(*) FROM household_members m JOIN households x ON x.id = m.household_id "
        "WHERE x.size = 5), count(*) FROM households h WHERE h.size = 5",
    )[0]
    want = f"{count:,} سجل — مجموع عدد الأفراد: {size:,} — مجموع المسجلون: {members:,}"
    qtbot.waitUntil(lambda: listing.count_label.text() == want, timeout=10_000)
    assert window.status_view.text() == want
    window.go("associations")
    assert "عدد الأفراد" not in window.status_view.text()  # the status bar follows the list on screen


def test_header_menu_offers_values_with_counts_and_the_filters_in_force_can_be_cleared(qtbot, demo_ctx):
    page = _persons_page(qtbot, demo_ctx)
    total = page.model.rowCount()
    women = _sql(demo_ctx, "SELECT count(*) FROM persons WHERE sex = 'F' AND merged_into_id IS NULL")[0][0]
    menu = page.column_menu(3)
    _menu_action(menu, "أنثى").trigger()
    assert f"({women:,})" in _menu_action(menu, "أنثى").text()
    assert page.model.rowCount() == women and page.chips_bar.isVisible()
    chip = page.chips_bar.findChild(type(page.output_button), "chip_sex")
    assert chip.text().startswith("الجنس: أنثى")
    # a cell's own menu: only the rows with this value (the birth year of the first woman)
    year = page.model.row_at(0).raw[4]
    _menu_action(page.cell_menu(0, 4), "إظهار ما يساوي").trigger()
    both = _sql(
        demo_ctx,
        "SELECT count(*) FROM persons WHERE sex = 'F' AND merged_into_id IS NULL AND birth_year IS NOT DISTINCT FROM ?",
        year,
    )[0][0]
    assert page.model.rowCount() == both and len(page.column_filters) == 2
    chip.click()  # the sex filter off, the birth year stays
    assert set(page.column_filters) == {"birth_year"} and page.model.rowCount() >= both
    _menu_action(page.column_menu(0), "مسح كل التصفيات").trigger()
    assert page.model.rowCount() == total and not page.chips_bar.isVisible()
    assert "▾" not in page.model.headerData(3, Qt.Orientation.Horizontal)


def test_header_filters_are_checked_by_the_service(demo_ctx, tmp_path):
    assert count_rows(demo_ctx, "persons", TableQuery(columns={"full_name": ColumnFilter("contains", "%")})) == 0
    assert count_rows(demo_ctx, "persons", TableQuery(columns={"full_name": ColumnFilter("contains", "_")})) == 0
    with pytest.raises(UserError, match="لا تُصفّى"):
        count_rows(demo_ctx, "persons", TableQuery(columns={"merged_into_id": ColumnFilter("is", "x")}))
    with pytest.raises(UserError, match="ليست رقماً"):
        page_rows(demo_ctx, "households", TableQuery(columns={"size": ColumnFilter("is", "سبعة")}), 0, 10)
    with pytest.raises(UserError, match="لا تُصفّى"):
        count_rows(demo_ctx, "audit", TableQuery(columns={"change": ColumnFilter("contains", "x")}))
    users.create_user(demo_ctx, "admin", "كلمة-سر-قوية", "admin")
    users.create_user(demo_ctx, "clerk1", "كلمة-سر-الموظف", "clerk")
    clerk = replace(demo_ctx)
    users.login(clerk, "clerk1", "كلمة-سر-الموظف")
    target = tmp_path / "clerk.xlsx"
    with pytest.raises(PermissionDeniedError):
        export_view(clerk, "persons", TableQuery(), target)
    with pytest.raises(PermissionDeniedError):
        print_view(clerk, "persons", TableQuery(), tmp_path / "clerk.pdf")
    assert not target.exists() and not (tmp_path / "clerk.pdf").exists()
    assert PRINT_LIMIT >= 2_500
    with pytest.raises(UserError, match="أطول من 1,000 صف"):  # the longest list a print takes, here 1,000
        print_view(demo_ctx, "persons", TableQuery(), tmp_path / "all.pdf", limit=1_000)
    assert not list(tmp_path.glob("all.pdf*"))


def test_a_formula_typed_into_a_cell_stays_text_in_the_export_of_the_view(qtbot, ctx, tmp_path):
    from aidoffice.domain.persons import PersonInput
    from aidoffice.services.persons import add_person

    person = add_person(ctx, PersonInput(full_name="سالم علي أحمد باوزير", sex="M"))
    create_household(ctx, person.id, size=3, address='=HYPERLINK("http://x.example","انقر")')
    target = tmp_path / "households.xlsx"
    export_view(ctx, "households", TableQuery(columns={"size": ColumnFilter("is", 3)}), target)
    cell = openpyxl.load_workbook(target).active.cell(row=2, column=6)
    assert cell.data_type == "s" and cell.value.startswith("=HYPERLINK") and cell.quotePrefix


def test_painting_never_queries_on_the_gui_thread(qtbot, demo_ctx, monkeypatch):
    from aidoffice.ui.pages.list_page import RegistryTable

    calls: list[bool] = []
    real = paged.page_rows

    def recorded(*args, **kwargs):
        calls.append(threading.current_thread() is threading.main_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(paged, "page_rows", recorded)
    model = PagedTableModel(demo_ctx, "persons")
    model.refresh()  # the count and the first page, read with the query
    assert calls == [True] and model.index(0, 0).data()
    calls.clear()
    far = PAGE * 5 + 3
    assert model.index(far, 0).data() is None  # not in memory: asked for, not waited for
    with qtbot.waitSignal(model.page_loaded, timeout=10_000):
        pass
    assert calls == [False] and model.index(far, 0).data() == model.row_at(far).values[0]
    view = RegistryTable(model)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    calls.clear()
    last = model.rowCount() - 1
    with qtbot.waitSignal(model.page_loaded, timeout=10_000):
        view.scrollToBottom()
    qtbot.waitUntil(lambda: bool(model.index(last, 0).data()), timeout=10_000)
    assert calls and not any(calls)  # every page the view scrolled to came from the thread pool


def test_a_clerks_export_of_the_view_goes_to_the_supervisor_and_comes_back_as_seen(qtbot, demo_ctx, tmp_path):
    from aidoffice.services import requests

    clerk = replace(demo_ctx, username="clerk1", role="clerk")
    page = ListPage(clerk, "persons", "المستفيدون")
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    page.reload()
    page.set_column_filter("full_name", ColumnFilter("contains", "محمد", "محمد"))
    page.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    qtbot.waitUntil(lambda: page.model.rowCount() > 1)
    seen = [page.model.row_at(r).values[1] for r in range(min(page.model.rowCount(), 50))]
    target = tmp_path / "view.xlsx"
    page.export_view(target)
    dialog = page.request_dialog
    assert dialog is not None and dialog.isVisible() and not target.exists()
    dialog.reason.setPlainText("كشف لجمعية البر")
    dialog.confirm_button.click()
    qtbot.waitUntil(lambda: "أُرسل الطلب" in page.message.text())
    supervisor = replace(demo_ctx, username="super1", role="supervisor")
    asked = requests.list_requests(supervisor, "queue")[0]
    assert requests.approve_request(supervisor, asked.id).status == "approved"
    body = list(openpyxl.load_workbook(target).active.iter_rows(min_row=2, values_only=True))
    assert len(body) == page.model.rowCount() and [r[1] for r in body[: len(seen)]] == seen


def test_a_clerks_print_of_the_view_is_a_request_too(qtbot, demo_ctx, tmp_path):
    """Ctrl+P by a clerk was a dead end («ليست لديك صلاحية»): it is a request, printed when approved."""
    from aidoffice.services import requests

    clerk = replace(demo_ctx, username="clerk1", role="clerk")
    page = ListPage(clerk, "persons", "المستفيدون")
    qtbot.addWidget(page)
    page.show()
    page.reload()
    page.set_column_filter("full_name", ColumnFilter("contains", "محمد", "محمد"))
    assert page.output_button.isEnabled()
    target = tmp_path / "view.pdf"
    page.print_view(target)
    page.request_dialog.reason.setPlainText("للمراجعة الميدانية")
    page.request_dialog.confirm_button.click()
    qtbot.waitUntil(lambda: "أُرسل الطلب" in page.message.text())
    supervisor = replace(demo_ctx, username="super1", role="supervisor")
    asked = requests.list_requests(supervisor, "queue")[0]
    assert requests.approve_request(supervisor, asked.id).status == "approved"
    assert target.read_bytes().startswith(b"%PDF")
