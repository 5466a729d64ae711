"""One style for numbers and dates: chosen in الإعدادات ← عام, then followed by a table's cells, the list's count and
sums, an exported workbook (typed cells with a number format) and a printed list; months picked, never typed."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace
from datetime import date

import openpyxl
import pytest
from PySide6.QtCore import Qt

from aidoffice.domain.display import DisplayStyle
from aidoffice.errors import PermissionDeniedError, UserError
from aidoffice.services.display import set_display_style
from aidoffice.services.exports import export_view, print_view
from aidoffice.services.tables import TableQuery, view_totals
from aidoffice.ui.pages.list_page import ListPage
from aidoffice.ui.pages.reports import ReportsPage
from aidoffice.ui.pages.settings import SettingsPage
from tests.helpers.databases import raw_connect
from tests.services.test_reports import read_back

WESTERN_DIGIT = re.compile(r"[0-9]")
ARABIC_INDIC = re.compile(r"[٠-٩]")
SIZE, MEMBERS = 2, 3  # the households' columns «عدد الأفراد» and «المسجلون»


def _stored_style(ctx) -> dict:
    conn = raw_connect(ctx)
    try:
        row = conn.execute("SELECT value FROM settings WHERE key = 'display.style'").fetchone()
    finally:
        conn.close()
    if not row:
        return {}
    return json.loads(row[0]) if isinstance(row[0], str) else row[0]  # a server's json comes decoded


def _households(qtbot, ctx) -> ListPage:
    page = ListPage(ctx, "households", "الأسر")
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    page.reload()
    return page


def _choose_arabic_indic(qtbot, ctx) -> SettingsPage:
    settings = SettingsPage(ctx)
    qtbot.addWidget(settings)
    settings.show()
    settings.ensure_loaded()
    box = settings.style_box
    assert box.digits.currentData() == "western" and box.date_order.currentData() == "dmy"  # the default
    box.digits.setCurrentIndex(box.digits.findData("arabic"))
    assert box.save()
    assert "حُفظت طريقة الكتابة" in box.message.text() and "١٬٢٥٠" in box.message.text()
    return settings


def test_the_default_is_the_tables_digits_and_the_date_fields_order(qtbot, demo_ctx):
    page = _households(qtbot, demo_ctx)
    count = page.model.total()
    qtbot.waitUntil(lambda: "مجموع" in page.count_label.text(), timeout=10_000)
    assert page.count_label.text().startswith(f"{count:,} سجل") and not ARABIC_INDIC.search(page.count_label.text())
    assert page.model.index(0, SIZE).data() == str(page.model.row_at(0).values[SIZE])


def test_arabic_indic_digits_reach_the_table_the_count_the_workbook_and_the_paper(qtbot, demo_ctx, tmp_path):
    _choose_arabic_indic(qtbot, demo_ctx)
    assert _stored_style(demo_ctx)["digits"] == "arabic"  # kept in the database, read back by its own driver

    page = _households(qtbot, demo_ctx)
    first = page.model.row_at(0)
    size = first.values[SIZE]
    cell = page.model.index(0, SIZE).data()
    assert cell == str(size).translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")) and not WESTERN_DIGIT.search(cell)
    count = page.model.total()
    totals = view_totals(demo_ctx, "households", TableQuery()).sums
    east = DisplayStyle("arabic")
    want = f"{east.number(count)} سجل — مجموع عدد الأفراد: {east.number(totals['size'])}"
    qtbot.waitUntil(lambda: page.count_label.text().startswith(want), timeout=10_000)
    assert (
        totals["size"] >= 1000 and "٬" in page.count_label.text() and not WESTERN_DIGIT.search(page.count_label.text())
    )

    # The workbook: the figures stay numbers (Excel adds them), shown in Arabic-Indic digits by their format.
    target = tmp_path / "households.xlsx"
    assert export_view(demo_ctx, "households", TableQuery(), target) == count
    sheet = openpyxl.load_workbook(target).active
    row = next(sheet.iter_rows(min_row=2, max_row=2))
    assert isinstance(row[SIZE].value, int) and row[SIZE].value == size
    assert row[SIZE].number_format == "[$-2000000]#,##0" and row[SIZE].data_type == "n"
    assert row[1].value == first.values[1] and row[1].number_format == "@"  # the ID stays the text typed

    # Dates in a workbook are dates, in the office's order and digits.
    rounds = tmp_path / "rounds.xlsx"
    export_view(demo_ctx, "distributions", TableQuery(), rounds)
    cell = openpyxl.load_workbook(rounds).active["A2"]
    assert isinstance(cell.value, date) and cell.number_format == "[$-2000000]DD/MM/YYYY"


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_a_printed_list_is_written_in_the_chosen_digits(qtbot, demo_ctx, tmp_path):
    query = TableQuery(text="محمد")
    before = tmp_path / "before.pdf"
    print_view(demo_ctx, "households", query, before)
    western = "".join(read_back(before))
    assert WESTERN_DIGIT.search(western) and not ARABIC_INDIC.search(western)

    _choose_arabic_indic(qtbot, demo_ctx)
    after = tmp_path / "after.pdf"
    rows = print_view(demo_ctx, "households", query, after)
    text = "".join(read_back(after))
    # Every figure on the paper — sizes, the count, the date, the page number — in Arabic-Indic digits.
    assert not WESTERN_DIGIT.search(text), WESTERN_DIGIT.findall(text)[:5]
    assert "المجموع" in text and f"{DisplayStyle('arabic').number(rows)}" in text
    assert DisplayStyle("arabic").date(demo_ctx.today()) in text


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_the_month_picker_gives_the_monthly_report_its_month(qtbot, demo_ctx, tmp_path):
    page = ReportsPage(demo_ctx)
    qtbot.addWidget(page)
    page.show()
    page.kind.setCurrentIndex(page.kind.findData("monthly"))
    picker = page.month
    today = demo_ctx.today()
    before = today.replace(day=1).toordinal() - 1
    last = date.fromordinal(before)
    assert picker.value() == (last.year, last.month)  # the last full month, as the command line takes it
    picker.month.setCurrentIndex(2)  # مارس, chosen by name
    picker.year.setCurrentIndex(picker.year.findData(today.year))
    assert picker.text() == f"{today.year}-03"
    assert not picker.setText("2026-13") and not picker.setText("1850-01") and picker.text() == f"{today.year}-03"
    with qtbot.waitSignal(page.report_written, timeout=30_000):
        page.generate(tmp_path / "monthly.pdf")
    assert f"التقرير الشهري — مارس {today.year}" in read_back(tmp_path / "monthly.pdf")[0]


def test_a_clerk_cannot_change_the_style_and_nothing_is_stored(qtbot, demo_ctx):
    as_clerk = replace(demo_ctx, username="clerk1", role="clerk", _style=None)
    with pytest.raises(PermissionDeniedError):
        set_display_style(as_clerk, digits="arabic")
    assert _stored_style(demo_ctx) == {} and as_clerk.style == DisplayStyle()
    settings = SettingsPage(as_clerk)
    qtbot.addWidget(settings)
    settings.show()
    settings.ensure_loaded()
    settings.style_box.digits.setCurrentIndex(settings.style_box.digits.findData("arabic"))
    assert not settings.style_box.save() and settings.style_box.message.text()
    assert _stored_style(demo_ctx) == {}
    assert settings.style_box.digits.findData("roman") == -1


def test_an_unknown_choice_is_refused_in_arabic(demo_ctx):
    with pytest.raises(UserError, match="نوع الأرقام غير معروف") as refused:
        set_display_style(demo_ctx, digits="roman", date_order="ymd")
    assert refused.value.field == "digits" and _stored_style(demo_ctx) == {}
    assert set_display_style(demo_ctx, date_order="ymd") == DisplayStyle(date_order="ymd")
    assert _stored_style(demo_ctx) == {"digits": "western", "date_order": "ymd", "month_names": True}


def test_the_style_is_kept_in_the_table_model_until_the_next_query(qtbot, demo_ctx):
    page = _households(qtbot, demo_ctx)
    set_display_style(demo_ctx, digits="arabic")
    assert not ARABIC_INDIC.search(page.model.index(0, SIZE).data())  # the rows on screen keep their query's style
    page.reload()
    assert ARABIC_INDIC.search(page.model.index(0, SIZE).data())
    assert page.model.index(0, SIZE).data(Qt.ItemDataRole.TextAlignmentRole)
