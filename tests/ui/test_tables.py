"""Paged table models through Qt's model tester, sorting and filtering in SQL, layout kept in QSettings."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester

from aidoffice.app import make_application
from aidoffice.services.tables import TABLES
from aidoffice.ui.models.paged import KEPT_PAGES, PAGE, PagedTableModel
from aidoffice.ui.pages.list_page import ListPage


@pytest.mark.parametrize("kind", [k for k in TABLES if k != "lines"])
def test_every_model_passes_the_qt_model_tester(qtbot, demo_ctx, kind):
    make_application()
    model = PagedTableModel(demo_ctx, kind)
    model.refresh()
    assert model.rowCount() > 0
    ModelTester(None).check(model, force_py=True)
    assert model.headerData(0, Qt.Orientation.Horizontal) == TABLES[kind].columns[0].title


def test_lines_model_passes_the_model_tester(qtbot, demo_ctx):
    from aidoffice.services.tables import TableQuery, page_rows

    make_application()
    distribution = page_rows(demo_ctx, "distributions", TableQuery(), 0, 1)[0]
    model = PagedTableModel(demo_ctx, "lines")
    model.query.filters = {"distribution": distribution.id}
    model.refresh()
    assert model.rowCount() >= distribution.values[6] > 0  # reversal lines are shown too
    ModelTester(None).check(model, force_py=True)


def test_scrolling_keeps_only_a_few_pages_in_memory(qtbot, demo_ctx):
    model = PagedTableModel(demo_ctx, "persons")
    model.refresh()
    seen = set()
    for row in range(0, model.rowCount(), 37):
        seen.add(model.index(row, 1).data(Qt.ItemDataRole.UserRole + 1) or model.id_at(row))
    assert len(model._pages) <= KEPT_PAGES
    last = model.rowCount() - 1
    assert model.id_at(last) is not None and model.id_at(last + 1) is None
    assert len(seen) == len(range(0, model.rowCount(), 37))
    assert model.rowCount() > PAGE * 10


def test_dates_and_numbers_read_left_to_right_with_the_hijri_date_as_tooltip(qtbot, demo_ctx):
    model = PagedTableModel(demo_ctx, "distributions")
    model.refresh()
    index = model.index(0, 0)
    assert "/" in index.data() and len(index.data()) == 10
    assert index.data(Qt.ItemDataRole.ToolTipRole).endswith("هـ")
    assert index.data(Qt.ItemDataRole.TextAlignmentRole) & int(Qt.AlignmentFlag.AlignLeft)


def test_search_filter_sort_and_remembered_layout(qtbot, demo_ctx, qt_settings_in_tmp):
    make_application()
    page = ListPage(demo_ctx, "persons", "المستفيدون")
    qtbot.addWidget(page)
    page.show()
    page.reload()
    total = page.model.rowCount()
    page.search.setText("سالم")
    qtbot.waitUntil(lambda: 0 < page.model.rowCount() < total, timeout=3000)
    assert page.count_label.text().endswith("سجل")
    names = [page.model.index(r, 0).data() for r in range(page.model.rowCount())]
    page.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)  # a narrowed list: any column sorts
    assert [page.model.index(r, 0).data() for r in range(page.model.rowCount())] == sorted(names)
    women = page.filters["sex"]
    women.setCurrentIndex(women.findData("F"))
    assert {page.model.index(r, 3).data() for r in range(page.model.rowCount())} <= {"أنثى"}
    page.table.setColumnWidth(1, 222)
    page.table.save_layout()
    again = ListPage(demo_ctx, "persons", "المستفيدون")
    qtbot.addWidget(again)
    assert again.table.columnWidth(1) == 222
    assert again.table.horizontalHeader().sortIndicatorSection() == 0


def test_unindexed_column_of_a_huge_table_is_not_sorted(qtbot, demo_ctx, monkeypatch):
    import aidoffice.ui.models.paged as paged

    monkeypatch.setattr(paged, "SORT_ANY_UP_TO", 100)
    model = PagedTableModel(demo_ctx, "persons")
    model.refresh()
    first = model.id_at(0)
    with qtbot.waitSignal(model.notice) as notice:
        model.sort(0, Qt.SortOrder.DescendingOrder)
    assert "ابحث" in notice.args[0] and model.id_at(0) == first
    model.sort(1, Qt.SortOrder.DescendingOrder)  # national ID has an index: sorted by SQLite
    ids = [model.index(r, 1).data() for r in range(50)]
    assert ids == sorted(ids, reverse=True)
