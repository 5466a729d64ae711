"""Words a clerk uses and the keyboard: no jargon on any page, empty pages that say what to do next, Ctrl+N into the
first field, Down from a search box into its results, shortcuts shown in menus and tooltips."""

from __future__ import annotations

from datetime import timedelta

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QListWidget,
    QMenu,
    QTableView,
    QTableWidget,
    QTabWidget,
    QWidget,
)

from aidoffice.app import make_application
from aidoffice.domain.persons import PersonInput
from aidoffice.services.associations import AssociationInput, register_association
from aidoffice.services.home import todays_work
from aidoffice.services.persons import add_person
from aidoffice.services.referrals import create_referral
from aidoffice.ui.main_window import PAGES, MainWindow
from aidoffice.ui.pages.import_page import CHOOSE_ASSOCIATION, ImportPage
from aidoffice.ui.pages.list_page import ListPage
from aidoffice.ui.pages.review import ReviewPage

# What the clerks told us reads wrong, and technical words that do not belong in a label.
BANNED = (
    "أزواج",  # "husbands", not duplicate pairs
    "مرجح:",
    "الدرجة",
    "يؤخذ من الآخر",
    "قيد عكسي",
    "عكس قيد",
    "الرد قبل",
    "PDF",
    "Excel",
    "USB",
    "UTC",
)


@pytest.fixture
def window(qtbot, demo_ctx):
    make_application()
    win = MainWindow(demo_ctx)
    qtbot.addWidget(win)
    win.show()
    return win


def _texts(root: QWidget) -> list[str]:
    """Every word a clerk can read in a widget: labels, buttons, tooltips, placeholders, titles, tabs, drop-downs,
    table headers and cells, menus."""
    out: list[str] = []
    for w in [root, *root.findChildren(QWidget)]:
        out += [w.toolTip(), w.windowTitle()]
        if isinstance(w, QLabel | QAbstractButton):
            out.append(w.text())
        if isinstance(w, QLineEdit):
            out += [w.text(), w.placeholderText()]
        if isinstance(w, QGroupBox):
            out.append(w.title())
        if isinstance(w, QTabWidget):
            out += [w.tabText(i) for i in range(w.count())] + [w.tabToolTip(i) for i in range(w.count())]
        if isinstance(w, QComboBox):
            out += [w.itemText(i) for i in range(w.count())]
        if isinstance(w, QListWidget):
            out += [w.item(i).text() for i in range(w.count())] + [w.item(i).toolTip() for i in range(w.count())]
        if isinstance(w, QTableWidget):
            for c in range(w.columnCount()):
                header = w.horizontalHeaderItem(c)
                out.append(header.text() if header else "")
                out += [w.item(r, c).text() for r in range(min(w.rowCount(), 50)) if w.item(r, c)]
        elif isinstance(w, QTableView) and w.model() is not None:
            model = w.model()
            out += [str(model.headerData(c, Qt.Orientation.Horizontal) or "") for c in range(model.columnCount())]
        if isinstance(w, QMenu):
            out += [a.text() for a in w.actions()] + [a.toolTip() for a in w.actions()]
    return out


def _banned_in(texts: list[str]) -> list[tuple[str, str]]:
    return [(word, text) for text in texts for word in BANNED if word.lower() in text.lower()]


def test_no_page_shows_jargon_or_technical_words(qtbot, window):
    window.resize(1280, 720)
    found = []
    for key, _label in PAGES:
        page = window.go(key)
        qtbot.wait(10)
        found += [(key, *hit) for hit in _banned_in(_texts(page))]
    found += [("menus", *hit) for hit in _banned_in(_texts(window.menuBar()))]
    found += [("window", *hit) for hit in _banned_in(_texts(window.navigation) + _texts(window.statusBar()))]
    # the new-record forms and a distribution sheet too
    for key in ("associations", "persons", "referrals"):
        window.go(key)
        qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
        page = window.current_page()
        dialog = page.dialog
        found += [(f"{key}: new", *hit) for hit in _banned_in(_texts(dialog))]
        dialog.close()
        _back_to(qtbot, window)
    window.go("aid")
    sheet = window.aid_page.open_distribution(window.aid_page.distributions.model.id_at(0))
    found += [("sheet", *hit) for hit in _banned_in(_texts(sheet))]
    sheet.close()
    assert found == []


def test_the_scan_catches_a_banned_word():
    """The scan above can fail: a label with a banned word is found."""
    widget = QWidget()
    QLabel("تصدير إلى Excel", widget)
    assert _banned_in(_texts(widget)) == [("Excel", "تصدير إلى Excel")]


def test_raw_file_paths_stay_out_of_labels(window):
    db = window.ctx.db
    if db.on_server:  # the database and server's names; the address (never with its password) only in the tooltip
        url = db.engine.url
        hidden, name = url.render_as_string(hide_password=False), f"{url.database} @ {url.host}"
    else:
        hidden, name = str(db.path.parent), db.path.name
    shown = [w.text() for w in window.findChildren(QLabel) if w.isVisible()]
    assert not [text for text in shown if hidden in text]
    assert window.status_file.text() == name


def _back_to(qtbot, window) -> None:
    """A dialog closed: the main window is the active one again (as the desktop does it)."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)


def test_ctrl_n_puts_the_cursor_in_the_first_field_of_the_new_form(qtbot, window):
    window.go("persons")
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = window.persons_page.dialog
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.form.fields["full_name"])
    dialog.reject()

    _back_to(qtbot, window)
    window.go("associations")
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = window.associations_page.dialog
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.form.fields["name"])
    dialog.reject()

    _back_to(qtbot, window)
    window.go("referrals")
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = window.referrals_page.dialog
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.picker.edit)  # who is referred comes first
    dialog.reject()


def test_down_or_enter_in_a_search_box_moves_into_the_results_and_enter_opens(qtbot, window):
    window.go("persons")
    listing = window.persons_page.persons
    listing.search.setFocus()
    listing.search.setText("محمد")
    qtbot.keyClick(listing.search, Qt.Key.Key_Down)  # before the pause in typing: searched at once
    assert listing.search.text() == "محمد" and listing.model.rowCount() > 0
    assert "محمد" in str(listing.model.index(0, 0).data())
    qtbot.waitUntil(lambda: QApplication.focusWidget() is listing.table)
    assert listing.table.current_id() == listing.model.id_at(0)
    qtbot.keyClick(listing.table, Qt.Key.Key_Down)
    assert listing.table.current_id() == listing.model.id_at(1)
    qtbot.keyClick(listing.table, Qt.Key.Key_Return)
    dialog = window.persons_page.dialog
    assert dialog is not None and dialog.person_id == listing.model.id_at(1)
    dialog.reject()

    window.go("associations")
    other = window.associations_page
    other.search.setFocus()
    qtbot.keyClick(other.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is other.table)
    assert other.table.current_id() == other.model.id_at(0)


def test_shortcuts_are_shown_in_menus_and_tooltips(window):
    actions = {a.text(): a.shortcut().toString() for a in window.go_menu.actions()}
    assert actions["البحث في القائمة المعروضة"] == "Ctrl+F" and actions["سجل جديد في القائمة المعروضة"] == "Ctrl+N"
    for i, (_key, label) in enumerate(PAGES[:10], start=1):
        assert actions[label] == f"Alt+{i % 10}"
        assert window.navigation.item(i - 1).toolTip().endswith(f"Alt+{i % 10}")
    printing = [a for a in window.export_menu.actions() if a.text().startswith("طباعة القائمة المعروضة")]
    assert printing[0].shortcut().toString() == "Ctrl+P"
    assert window.associations_page.new_button.toolTip().endswith("Ctrl+N")
    assert "Ctrl+F" in window.persons_page.persons.search.toolTip()
    review = window.review_page
    for button, key in ((review.merge_button, "F5"), (review.distinct_button, "F6"), (review.skip_button, "F7")):
        assert button.toolTip().endswith(key)
    assert review.swap_button.toolTip().endswith("F8")


def test_empty_pages_say_what_to_do_next(qtbot, ctx, tmp_path):
    make_application()
    review = ReviewPage(ctx)
    qtbot.addWidget(review)
    assert "فحص السجل بحثاً عن التكرار" in review.header.text() and "أزواج" not in review.header.text()
    assert review.counts.text().startswith("تنتظر المراجعة: 0")

    page = ImportPage(ctx)
    qtbot.addWidget(page)
    assert page.title.text() == "استيراد قائمة مستفيدين من جمعية" and "فحص القائمة" in page.hint.text()
    assert "سجّل الجمعية أولاً" in page.summary.text()  # no association yet: where to register one
    register_association(ctx, AssociationInput(name="جمعية الخير", registration_number="12/2010"))
    page.ensure_loaded()
    assert page.association_combo.currentText() == CHOOSE_ASSOCIATION  # the clerk chooses, nothing is picked
    page.file_edit.setText(str(tmp_path / "list.xlsx"))
    page.check()
    assert page.task is None and "اختر الجمعية" in page.summary.text()

    listing = ListPage(ctx, "persons", "المستفيدون")
    qtbot.addWidget(listing)
    listing.show()
    listing.ensure_loaded()
    assert listing.empty_hint.isVisible() and "Ctrl+N" in listing.empty_hint.text()
    add_person(ctx, PersonInput(full_name="سالم عوض سعيد بامطرف", national_id="01010012345"))
    listing.search.setText("لا أحد بهذا الاسم")
    listing.reload()
    assert listing.empty_hint.isVisible() and "لا نتيجة" in listing.empty_hint.text()
    listing.search.clear()
    listing.reload()
    assert not listing.empty_hint.isVisible()


def test_an_overdue_referral_says_it_is_late_and_by_how_many_days(ctx):
    association = register_association(ctx, AssociationInput(name="جمعية الخير", registration_number="12/2010"))
    someone = add_person(ctx, PersonInput(full_name="سالم عوض سعيد بامطرف", national_id="01010012345"))
    today = ctx.today()
    create_referral(ctx, someone.id, association.id, "علاج", referred_on=today - timedelta(days=20), due_in_days=5)
    overdue = next(item for item in todays_work(ctx) if item.key == "overdue_referrals")
    assert overdue.count == 1
    assert "متأخرة 15 يوماً" in overdue.lines[0] and "الرد قبل" not in overdue.lines[0]
