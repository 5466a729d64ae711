"""The reports page offscreen: a report generated in the background from its parameters, errors shown in Arabic."""

from __future__ import annotations

import shutil

import pytest

from aidoffice.ui.pages.reports import ReportsPage


@pytest.fixture
def page(qtbot, demo_ctx):
    widget = ReportsPage(demo_ctx)
    qtbot.addWidget(widget)
    widget.show()
    widget.load_choices()
    return widget


def _wait(qtbot, page):
    qtbot.waitUntil(lambda: page.task is None, timeout=20_000)


def test_monthly_report_and_distribution_sheet_are_written_in_the_background(qtbot, page, tmp_path):
    page.kind.setCurrentIndex(page.kind.findData("monthly"))
    page.month.setText("٢٠٢٦-١٠")
    with qtbot.waitSignal(page.report_written, timeout=20_000) as written:
        page.generate(tmp_path / "monthly.pdf")
    assert written.args[0].endswith("monthly.pdf") and (tmp_path / "monthly.pdf").read_bytes()[:4] == b"%PDF"
    assert page.open_button.isEnabled() and "حُفظ التقرير" in page.message.text()
    page.kind.setCurrentIndex(page.kind.findData("sheet"))
    assert page.parameters.currentIndex() == 1 and page.distribution.count() > 0
    page.generate(tmp_path / "sheet.pdf")
    _wait(qtbot, page)
    assert (tmp_path / "sheet.pdf").exists()


def test_a_bad_month_cannot_be_chosen(qtbot, page, tmp_path):
    """The month is picked (month by name, year), so a month that does not exist never reaches the service."""
    page.kind.setCurrentIndex(page.kind.findData("monthly"))
    shown = page.month.text()
    assert not page.month.setText("2026-13") and not page.month.setText("1850-01")
    assert page.month.text() == shown and page.month.month.count() == 12


@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_cards_for_picked_persons(qtbot, page, demo_ctx, tmp_path):
    import subprocess
    import unicodedata

    from aidoffice.services.tables import TableQuery, page_rows

    page.kind.setCurrentIndex(page.kind.findData("cards"))
    person = page_rows(demo_ctx, "persons", TableQuery(), 0, 1)[0]
    page.card_picker.edit.setText(person.values[0])
    page.card_picker.search()
    page.card_picker.results.setCurrentRow(0)
    page._add_card()
    page._add_card()  # the same person once only
    assert page.card_list.count() == 1
    page.generate(tmp_path / "cards.pdf")
    _wait(qtbot, page)
    text = subprocess.run(["pdftotext", str(tmp_path / "cards.pdf"), "-"], capture_output=True, text=True).stdout
    assert person.values[0] in unicodedata.normalize("NFKC", text) and "AidOffice" not in text  # no app name


def test_indicators_with_filters_matrix_and_export(qtbot, page, demo_ctx, tmp_path):
    import openpyxl

    page.tabs.setCurrentWidget(page.indicators)
    panel = page.indicators
    panel.first.setText("2020-01")
    panel.last.setText(f"{demo_ctx.today():%Y-%m}")
    assert panel.refresh()
    total = int(panel.figures["households_reached"].text().replace(",", ""))
    assert total > 0 and panel.chart.rows
    assert panel.matrix.rowCount() == panel.district.count() - 1 and panel.matrix.columnCount() == 8
    colours = {
        panel.matrix.item(r, c).background().color().name()
        for r in range(panel.matrix.rowCount())
        for c in range(panel.matrix.columnCount())
    }
    assert "#fdecea" in colours  # gaps exist in a demo office
    panel.district.setCurrentIndex(1)
    assert panel.refresh()
    assert int(panel.figures["households_reached"].text().replace(",", "")) < total
    assert panel.export(tmp_path / "ind.xlsx")
    book = openpyxl.load_workbook(tmp_path / "ind.xlsx")
    assert book.sheetnames == ["المؤشرات", "حسب نوع المساعدة", "حسب المديرية", "من يعمل ماذا وأين"]
    assert all(book[name].sheet_view.rightToLeft for name in book.sheetnames)
    panel.last.setText("2019-01")
    assert not panel.refresh() and "قبل بدايتها" in panel.message.text()
