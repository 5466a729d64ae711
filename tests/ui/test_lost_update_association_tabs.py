"""An association file open on one PC while another clerk corrects a year's reports or a visit's follow-up: the
save in the file's tab says who changed what below its form, the tab's table shows their change, what was typed
stays, and a second save, once told, goes ahead."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QPushButton

from aidoffice.app import make_application
from aidoffice.services.associations import (
    AssociationInput,
    add_field_visit,
    get_association,
    record_compliance,
    register_association,
    update_field_visit,
)
from aidoffice.services.context import open_context
from aidoffice.ui.pages.associations import AssociationDialog


@pytest.fixture
def other_clerk(ctx):
    """The same database opened as another clerk's PC."""
    where = ctx.db.path if ctx.db.path is not None else ctx.db.engine.url.render_as_string(hide_password=False)
    other = open_context(where, username="clerk2")
    yield other
    other.close()


def _open_tab(qtbot, dialog: AssociationDialog, title: str):
    qtbot.addWidget(dialog)
    dialog.show()
    index = next(i for i in range(dialog.tabs.count()) if dialog.tabs.tabText(i) == title)
    dialog.tabs.setCurrentIndex(index)
    return dialog.tabs.widget(index)


def _click(tab, text: str) -> None:
    (button,) = [b for b in tab.findChildren(QPushButton) if b.text() == text]
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def _cells(table, column: int) -> list[str]:
    return [table.item(row, column).text() for row in range(table.rowCount())]


def test_a_years_reports_corrected_meanwhile_say_so_and_keep_the_ticks(qtbot, ctx, other_clerk):
    make_application()
    assoc = register_association(ctx, AssociationInput(name="جمعية الإحسان", registration_number="55/2015"))
    record_compliance(ctx, assoc.id, 2024, admin_report=False, financial_report=False)
    dialog = AssociationDialog(ctx, assoc.id)
    tab = _open_tab(qtbot, dialog, "الامتثال السنوي")
    # Meanwhile, on another PC: the financial report of 2024 came in.
    opened = get_association(other_clerk, assoc.id).compliance[0].version
    record_compliance(other_clerk, assoc.id, 2024, admin_report=False, financial_report=True, expected_version=opened)

    f = dialog.compliance_form.fields
    f["year"].setValue(2024)
    QTest.keyClick(f["admin_report"], Qt.Key.Key_Space)
    _click(tab, "حفظ")

    message = dialog.compliance_form.general
    assert message.isVisible()
    text = message.text()
    assert f"عدّل clerk2 تقارير الجمعية لسنة {ctx.style.year(2024)}" in text and "التقرير المالي" in text, text
    assert "لم يُحفظ تعديلك" in text
    assert f["year"].value() == 2024 and f["admin_report"].isChecked() and not f["financial_report"].isChecked()
    assert _cells(dialog.compliance_table, 2) == ["✓"]  # their change is shown
    saved = get_association(ctx, assoc.id).compliance[0]
    assert saved.financial_report and not saved.admin_report  # nothing written over it

    # Told, the clerk saves what the form says on purpose: it goes ahead.
    _click(tab, "حفظ")
    assert not message.isVisible()
    done = dialog.compliance_form.done
    assert done.isVisible() and done.text() == f"حُفظت تقارير سنة {ctx.style.year(2024)}."
    # refreshed, the table still fills its width (its last column stretched: it stopped doing so after a refresh)
    table = dialog.compliance_table
    assert table.horizontalHeader().length() >= table.viewport().width() - 1
    saved = get_association(ctx, assoc.id).compliance[0]
    assert saved.admin_report and not saved.financial_report
    assert _cells(dialog.compliance_table, 1) == ["✓"]


def test_a_follow_up_changed_meanwhile_is_shown_before_it_is_marked_done(qtbot, ctx, other_clerk):
    make_application()
    assoc = register_association(ctx, AssociationInput(name="جمعية الإحسان", registration_number="55/2015"))
    visit_id = add_field_visit(
        ctx, assoc.id, visit_date=ctx.today(), visitors="لجنة المكتب", follow_up="تسليم كشف المستفيدين"
    )
    dialog = AssociationDialog(ctx, assoc.id)
    tab = _open_tab(qtbot, dialog, "الزيارات الميدانية")
    opened = get_association(other_clerk, assoc.id).visits[0].version
    update_field_visit(other_clerk, visit_id, follow_up="تسليم التقرير المالي أيضاً", expected_version=opened)

    visitors = dialog.visit_form.fields["visitors"]
    visitors.setText("مدير المكتب")  # the next visit, being typed
    table = dialog.visits_table
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualItemRect(table.item(0, 0)).center())
    _click(tab, "تمت المتابعة للزيارة المحددة")

    message = dialog.visit_form.general
    assert message.isVisible()
    text = message.text()
    assert "عدّل clerk2 الزيارة الميدانية المحددة" in text and "المتابعة" in text, text
    assert "اضغط «تمت المتابعة للزيارة المحددة» مرة أخرى" in text and "احفظ" not in text, text
    assert _cells(dialog.visits_table, 4) == ["تسليم التقرير المالي أيضاً"]  # their change is shown
    assert _cells(dialog.visits_table, 6) == [""]
    assert table.currentRow() == 0  # still the visit chosen
    assert visitors.text() == "مدير المكتب"
    assert not get_association(ctx, assoc.id).visits[0].follow_up_done

    _click(tab, "تمت المتابعة للزيارة المحددة")
    assert not message.isVisible()
    assert dialog.visit_form.done.isVisible() and dialog.visit_form.done.text() == "سُجّلت المتابعة: تمت."
    assert get_association(ctx, assoc.id).visits[0].follow_up_done
    assert _cells(dialog.visits_table, 6) == ["نعم"]


@pytest.mark.parametrize("digits", ["western", "arabic"])
def test_the_year_and_the_rating_are_written_in_the_offices_digits(qtbot, ctx, digits):
    """The application's Arabic locale wrote the compliance year ٢٠٢٤ beside a table showing 2024."""
    from aidoffice.services.display import set_display_style

    make_application()
    set_display_style(ctx, digits=digits)
    assoc = register_association(ctx, AssociationInput(name="جمعية الإحسان", registration_number="56/2015"))
    dialog = AssociationDialog(ctx, assoc.id)
    _open_tab(qtbot, dialog, "الامتثال السنوي")
    year, rating = dialog.compliance_form.fields["year"], dialog.visit_form.fields["rating"]
    year.setValue(2024)
    rating.setValue(4)
    assert year.text() == ("٢٠٢٤" if digits == "arabic" else "2024")
    assert rating.text() == ("٤" if digits == "arabic" else "4")
    # typed, either kind of digits is read (a keyboard may give ٠–٩ whatever the office shows)
    for typed in ("٢٠١٠", "2011"):
        year.lineEdit().selectAll()
        year.lineEdit().insert(typed)
        year.interpretText()
        assert year.value() == int(typed.translate(str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789"))), typed
