"""The settings page's backup buttons on a database on the PostgreSQL test server: a pg_dump archive now, the table
of this database's archives, restore of the selected one, and the folder of the PostgreSQL tools."""

from __future__ import annotations

import pytest

from aidoffice.domain.persons import PersonInput
from aidoffice.services import backups, users
from aidoffice.services.context import open_context
from aidoffice.services.persons import add_person, search_persons
from aidoffice.ui.main_window import MainWindow
from tests.helpers.databases import new_office
from tests.helpers.postgres import create_database, drop_database, needs_server, sql

pytestmark = needs_server
ADMIN_PW = "كلمة-سر-المدير"


@pytest.fixture
def server_admin():
    url = create_database()
    ctx = new_office(url)
    users.create_user(ctx, "admin", ADMIN_PW, "admin")
    ctx.close()
    ctx = open_context(url, username="admin", create=False)
    users.login(ctx, "admin", ADMIN_PW)
    yield ctx
    ctx.close()
    drop_database(url)


def test_backup_now_and_restore_from_settings_on_a_server(qtbot, server_admin, tmp_path):
    ctx = server_admin
    url = ctx.db.engine.url.render_as_string(hide_password=False)
    add_person(ctx, PersonInput(full_name="خالد سعيد الجابري"))
    (backups.backup_folder(ctx)).mkdir(parents=True, exist_ok=True)
    (backups.backup_folder(ctx) / "aidoffice-20260101-000000-daily.sqlite3").write_bytes(b"x")  # a file's copy
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    window.go("settings")
    page = window.settings_page
    assert page.backup_table.rowCount() == 0  # a file's copies are not offered for a server's database
    page.backup_now()
    qtbot.waitUntil(lambda: page.backup_table.rowCount() == 1, timeout=30_000)
    assert ".pgdump" in page.message.text()
    add_person(ctx, PersonInput(full_name="سالم عوض بامطرف"))
    page.backup_table.setCurrentCell(0, 0)
    with qtbot.waitSignal(window.replaced, timeout=60_000) as replaced:
        page.restore_selected()
    restored = replaced.args[0]
    try:
        assert search_persons(restored, "بامطرف") == [] and len(search_persons(restored, "الجابري")) == 1
        assert sql(url, "SELECT count(*) FROM persons") == [(1,)]
    finally:
        restored.close()


def test_the_tools_folder_from_settings(qtbot, server_admin, tmp_path):
    window = MainWindow(server_admin)
    qtbot.addWidget(window)
    window.show()
    window.go("settings")
    page = window.settings_page
    empty = tmp_path / "bin"
    empty.mkdir()
    page.choose_tools_folder(empty)
    assert str(empty) in page.message.text()
    page.backup_now()
    qtbot.waitUntil(lambda: "لم توجد أداتا pg_dump" in page.message.text(), timeout=30_000)
    assert page.backup_table.rowCount() == 0
