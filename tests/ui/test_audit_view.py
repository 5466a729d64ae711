"""An audit trail a person can read: Arabic tables and fields, the record's name, old ← new values, local time, the
user's full name; «ما فعلته اليوم» for anyone, «ما تغيّر اليوم» for the administrator; personal values hidden from a
role that may not see them, and never logged."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import date, datetime, timedelta

import openpyxl
import pytest
from PySide6.QtCore import Qt

from aidoffice.cli import main
from aidoffice.domain.persons import PersonInput
from aidoffice.errors import PermissionDeniedError
from aidoffice.services import users
from aidoffice.services.audit_view import HIDDEN_VALUE
from aidoffice.services.exports import export_view
from aidoffice.services.persons import add_person, update_person
from aidoffice.services.tables import TableQuery, count_rows, page_rows
from tests.helpers.databases import address, raw_connect

TODAY = TableQuery(filters={"view": "today"})
MINE = TableQuery(filters={"view": "mine"})


@pytest.fixture
def aden_time(monkeypatch):
    """The office's clock: Aden, three hours ahead of UTC all year (no daylight saving)."""
    monkeypatch.setenv("TZ", "Asia/Aden")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def office(ctx):
    """An administrator and a clerk, each logged in on their own context, with their full names."""
    users.create_user(ctx, "admin", "كلمة-سر-قوية", "admin", "أمينة سالم باحميد")
    admin = replace(ctx)
    users.login(admin, "admin", "كلمة-سر-قوية")
    users.create_user(admin, "clerk1", "كلمة-سر-الموظف", "clerk", "فهد عمر الكثيري")
    clerk = replace(ctx)
    users.login(clerk, "clerk1", "كلمة-سر-الموظف")
    return admin, clerk


def _entry(rows, action: str, record: str):
    return next(r for r in rows if r.values[2] == action and r.values[4] == record)


def test_a_change_reads_in_arabic_with_names_old_and_new_values_and_local_time(ctx, office, aden_time, tmp_path):
    admin, _clerk = office
    person = add_person(admin, PersonInput(full_name="خالد سعيد الجابري", phone="777123456", sex="أنثى"))
    update_person(admin, person.id, PersonInput(full_name="خالد سعيد الجابري", phone="733123456", sex="ذكر"))
    rows = page_rows(admin, "audit", TODAY, 0, 50)
    at, user, _action, table, _record, change = _entry(rows, "تعديل", "خالد سعيد الجابري").values
    assert (user, table) == ("أمينة سالم باحميد", "المستفيدون")
    assert "الهاتف: 777123456 ← 733123456" in change and "الجنس: أنثى ← ذكر" in change
    assert person.id not in " ".join(str(v) for v in _entry(rows, "تعديل", "خالد سعيد الجابري").values)
    conn = raw_connect(ctx)
    try:
        stored = conn.execute("SELECT at FROM audit_log WHERE action = 'update' AND entity = 'persons'").fetchone()[0]
    finally:
        conn.close()
    stored = stored if isinstance(stored, datetime) else datetime.fromisoformat(stored)  # a server's is typed
    assert at == stored + timedelta(hours=3)  # stored in UTC, read in Aden's time
    login = next(r for r in rows if r.values[2] == "دخول")
    assert login.values[3] == "المستخدمون" and login.values[4] in ("أمينة سالم باحميد", "فهد عمر الكثيري")

    target = tmp_path / "audit.xlsx"
    export_view(admin, "audit", TODAY, target)
    sheet = openpyxl.load_workbook(target).active
    header, *body = list(sheet.iter_rows(values_only=True))
    assert header[:4] == ("الوقت", "المستخدم", "الإجراء", "الجدول")
    line = next(r for r in body if r[2] == "تعديل" and r[4] == "خالد سعيد الجابري")
    assert abs(line[0] - at) < timedelta(seconds=1) and "733123456" in line[5]  # a typed date and time


def test_the_command_line_and_the_system_are_named_in_arabic(ctx):
    assert main(["person", "add", "--db", address(ctx), "--name", "سالم علي أحمد باوزير", "--sex", "ذكر"]) == 0
    rows = page_rows(ctx, "audit", TableQuery(filters={"view": "today", "username": "cli"}), 0, 10)
    created = _entry(rows, "إضافة", "سالم علي أحمد باوزير")
    assert created.values[1] == "سطر الأوامر" and created.values[3] == "المستفيدون"
    assert "الجنس: ذكر" in created.values[5]


def test_what_i_did_today_is_mine_only_and_what_changed_today_is_for_the_administrator(ctx, office, caplog):
    admin, clerk = office
    caplog.set_level("DEBUG")
    add_person(clerk, PersonInput(full_name="مريم عبدالله باعشن", phone="771234567"))
    add_person(admin, PersonInput(full_name="عمر حسن بن لادن", phone="779876543"))
    mine = page_rows(clerk, "audit", MINE, 0, 100)
    assert mine and {r.values[1] for r in mine} == {"فهد عمر الكثيري"}
    created = _entry(mine, "إضافة", "مريم عبدالله باعشن")
    assert f"الهاتف: {HIDDEN_VALUE}" in created.values[5] and "771234567" not in created.values[5]
    assert not any(r.values[4] == "عمر حسن بن لادن" for r in mine)
    # asking for someone else's entries through the same view changes nothing
    forged = TableQuery(filters={"view": "mine", "username": "admin"})
    assert count_rows(clerk, "audit", forged) == len(mine)
    for view in ("today", "all"):
        with pytest.raises(PermissionDeniedError):
            count_rows(clerk, "audit", TableQuery(filters={"view": view}))
    tomorrow = replace(clerk, today=lambda: date.today() + timedelta(days=1))
    assert count_rows(tomorrow, "audit", MINE) == 0  # today's work is yesterday's tomorrow
    everyone = page_rows(admin, "audit", TODAY, 0, 200)
    theirs = _entry(everyone, "إضافة", "مريم عبدالله باعشن")
    assert theirs.values[1] == "فهد عمر الكثيري" and "الهاتف: 771234567" in theirs.values[5]
    assert _entry(everyone, "إضافة", "عمر حسن بن لادن").values[1] == "أمينة سالم باحميد"
    for secret in ("771234567", "779876543", "باعشن", "لادن"):
        assert secret not in caplog.text


def test_the_settings_tab_offers_the_views_by_role(qtbot, ctx, office):
    from aidoffice.ui.pages.settings import SettingsPage

    admin, clerk = office
    add_person(clerk, PersonInput(full_name="مريم عبدالله باعشن", phone="771234567"))
    page = SettingsPage(admin)
    qtbot.addWidget(page)
    page.show()
    page.tabs.setCurrentWidget(page.audit)
    audit = page.audit
    assert audit.view == "today" and audit.listing.title.text() == "ما تغيّر اليوم"
    model = audit.listing.model
    users_today = {model.index(r, 1).data() for r in range(model.rowCount())}
    assert {"أمينة سالم باحميد", "فهد عمر الكثيري"} <= users_today
    assert [model.headerData(i, Qt.Orientation.Horizontal) for i in (0, 3)] == ["الوقت", "الجدول"]
    audit.view_buttons["mine"].click()
    assert audit.view == "mine" and audit.listing.title.text() == "ما فعلته اليوم"
    assert {model.index(r, 1).data() for r in range(model.rowCount())} == {"أمينة سالم باحميد"}

    other = SettingsPage(clerk)
    qtbot.addWidget(other)
    other.show()
    other.tabs.setCurrentWidget(other.audit)
    shown = [key for key, button in other.audit.view_buttons.items() if not button.isHidden()]
    assert shown == ["mine"] and not other.audit.verify_button.isEnabled()
    assert other.audit.listing.filters["username"].isHidden()
    rows = other.audit.listing.model
    names = {rows.index(r, 4).data() for r in range(rows.rowCount())}
    assert "مريم عبدالله باعشن" in names
    other.audit.show_view("today")  # a forged click: the clerk stays on their own day
    assert other.audit.view == "mine"
