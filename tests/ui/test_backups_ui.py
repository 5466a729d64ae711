"""Backups from the desktop: one now, one on closing, restore from the settings page, and a damaged database at
start-up restored from the newest good backup (the damaged file kept aside, never an empty one in its place)."""

from __future__ import annotations

from aidoffice import paths
from aidoffice.domain.persons import PersonInput
from aidoffice.services import backups
from aidoffice.services.persons import add_person, search_persons
from aidoffice.ui.main_window import MainWindow


def test_backup_now_on_close_and_restore_from_settings(qtbot, file_ctx):
    ctx = file_ctx  # a SQLite file: the test is about the file itself
    add_person(ctx, PersonInput(full_name="خالد سعيد الجابري"))
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    window.go("settings")
    page = window.settings_page
    page.backup_now()
    qtbot.waitUntil(lambda: page.backup_table.rowCount() == 1, timeout=10_000)
    add_person(ctx, PersonInput(full_name="سالم عوض بامطرف"))
    page.backup_table.setCurrentCell(0, 0)
    with qtbot.waitSignal(window.replaced, timeout=10_000) as replaced:
        page.restore_selected()
    restored = replaced.args[0]
    try:
        assert search_persons(restored, "بامطرف") == [] and len(search_persons(restored, "الجابري")) == 1
    finally:
        restored.close()


def test_closing_the_window_takes_a_backup(qtbot, file_ctx):
    ctx = file_ctx  # a SQLite file: the test is about the file itself
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.backup_on_exit = True
    window.close()
    assert [b.kind for b in backups.list_backups(backups.backup_folder(ctx))] == ["exit"]


def test_a_damaged_database_at_start_is_restored_from_the_newest_good_backup(qtbot, file_ctx):
    ctx = file_ctx  # a SQLite file: the test is about the file itself
    from aidoffice.app import DamagedDialog

    add_person(ctx, PersonInput(full_name="خالد سعيد الجابري"))
    backups.make_backup(ctx, paths.backups_dir())
    db_path = ctx.db.path
    ctx.close()
    data = bytearray(db_path.read_bytes())
    for page in range(1, len(data) // 4096):
        data[page * 4096 : page * 4096 + 12] = b"\xff" * 12
    db_path.write_bytes(bytes(data))
    problem = backups.check_database(db_path)
    assert problem != "ok"
    dialog = DamagedDialog(db_path, problem)
    qtbot.addWidget(dialog)
    assert dialog.good is not None and dialog.restore_button.isEnabled()
    restored = dialog.restore()
    try:
        assert len(search_persons(restored, "الجابري")) == 1
    finally:
        restored.close()
    assert list(db_path.parent.glob("*-damaged-*.sqlite3"))  # kept aside for support


def test_a_damaged_encrypted_database_is_restored_with_its_key(qtbot, file_ctx):
    ctx = file_ctx  # a SQLite file: the test is about the file itself
    from aidoffice.app import DamagedDialog
    from aidoffice.services import users
    from aidoffice.services.encryption import encrypt_database, open_encrypted

    users.create_user(ctx, "admin", "كلمة-سر-قوية", "admin")
    users.login(ctx, "admin", "كلمة-سر-قوية")
    add_person(ctx, PersonInput(full_name="خالد سعيد الجابري"))
    enc = encrypt_database(ctx, "كلمة-سر-قوية")
    backups.make_backup(enc, paths.backups_dir())
    db_path, key = enc.db.path, enc.db.key
    enc.close()
    data = bytearray(db_path.read_bytes())
    for page in range(1, len(data) // 4096):
        data[page * 4096 + 100 : page * 4096 + 140] = b"\xff" * 40
    db_path.write_bytes(bytes(data))
    problem = backups.check_database(db_path, key)
    assert problem != "ok"
    dialog = DamagedDialog(db_path, problem, key=key)
    qtbot.addWidget(dialog)
    assert dialog.good is not None
    dialog.restore().close()
    again = open_encrypted(db_path, "admin", "كلمة-سر-قوية")
    try:
        assert len(search_persons(again, "الجابري")) == 1
    finally:
        again.close()
