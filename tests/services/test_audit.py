"""The audit trail: who changed what, before and after, as a hash chain that an edit, a deletion or a cut-off tail
breaks; `aidoffice-cli audit verify` says where."""

from __future__ import annotations

import json

import pytest

from aidoffice.cli import main
from aidoffice.domain.persons import PersonInput
from aidoffice.services import users
from aidoffice.services.audit import verify_audit
from aidoffice.services.exports import export_list
from aidoffice.services.persons import add_person, update_person
from aidoffice.services.tables import TableQuery, count_rows, page_rows
from tests.helpers.databases import address, raw_connect, sql


def _rows(ctx, statement, *args):
    return sql(ctx, statement, args)


def _json(value):
    """A before/after column as read back: JSON text in a SQLite file, already decoded from PostgreSQL's json."""
    return json.loads(value) if isinstance(value, str) else value


def _tamper(ctx, *statements):
    """What someone with the file and sqlite3 (or the server's owner and psql) could do: drop the guard triggers,
    then change rows."""
    on = " ON audit_log" if ctx.db.on_server else ""
    with raw_connect(ctx, autocommit=True) as conn:
        conn.execute(f"DROP TRIGGER audit_log_no_update{on}")
        conn.execute(f"DROP TRIGGER audit_log_no_delete{on}")
        for statement in statements:
            conn.execute(statement)


@pytest.fixture
def trail(ctx, tmp_path):
    person = add_person(ctx, PersonInput(full_name="خالد سعيد الجابري", phone="777123456"))
    update_person(ctx, person.id, PersonInput(full_name="خالد سعيد بن بريك", phone="777123456"))
    export_list(ctx, "persons", tmp_path / "p.xlsx")
    return ctx, person


def test_changes_are_recorded_with_who_before_and_after(trail):
    ctx, person = trail
    rows = _rows(ctx, "SELECT username, action, entity, entity_id, before, after FROM audit_log ORDER BY seq")
    actions = [(r[1], r[2]) for r in rows]
    assert ("create", "persons") in actions and ("update", "persons") in actions and ("export", "persons") in actions
    update = next(r for r in rows if r[1] == "update" and r[2] == "persons")
    assert update[0] == ctx.username and update[3] == person.id
    before, after = _json(update[4]), _json(update[5])  # before and after, only what changed
    assert "الجابري" in before["full_name"] and "بريك" in after["full_name"] and "phone" not in after
    report = verify_audit(ctx)
    assert report.broken_at is None and not report.reason and report.entries == len(rows)


def test_a_district_changed_through_the_form_is_in_the_trail(ctx):
    """The district is set through its relationship; its key column only follows at the flush."""
    with ctx.uow() as uow:
        first, second = (d.name for d in uow.repo.districts()[:2])
        ids = {d.name: d.id for d in uow.repo.districts()[:2]}
    person = add_person(ctx, PersonInput(full_name="خالد سعيد عمر الجابري", district=first))
    update_person(ctx, person.id, PersonInput(full_name="خالد سعيد عمر الجابري", district=second))
    rows = _rows(ctx, "SELECT before, after FROM audit_log WHERE action = 'update' AND entity = 'persons'")
    before, after = _json(rows[-1][0]), _json(rows[-1][1])
    assert (before["district_id"], after["district_id"]) == (ids[first], ids[second])


def test_the_trail_refuses_updates_and_deletes(trail):
    ctx, _ = trail
    with raw_connect(ctx, autocommit=True) as conn:
        with pytest.raises(conn.IntegrityError, match="append-only"):
            conn.execute("UPDATE audit_log SET username = 'x'")
        with pytest.raises(conn.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM audit_log")


@pytest.mark.parametrize(
    ("statement", "broken"),
    [
        ("UPDATE audit_log SET username = 'someone-else' WHERE seq = 2", 2),
        ("DELETE FROM audit_log WHERE seq = 2", 3),
        ('UPDATE audit_log SET after = \'{"full_name": "x"}\' WHERE seq = 1', 1),
    ],
)
def test_an_edited_or_deleted_row_breaks_the_chain_where_it_was(trail, statement, broken, capsys):
    ctx, _ = trail
    _tamper(ctx, statement)
    report = verify_audit(ctx)
    assert report.broken_at == broken
    assert main(["audit", "verify", "--db", address(ctx)]) == 2
    assert f"رقم {broken}" in capsys.readouterr().err


def test_a_cut_off_tail_is_noticed(trail, capsys):
    ctx, _ = trail
    last = _rows(ctx, "SELECT max(seq) FROM audit_log")[0][0]
    _tamper(ctx, f"DELETE FROM audit_log WHERE seq = {last}")
    report = verify_audit(ctx)
    assert report.broken_at is None and report.reason
    assert main(["audit", "verify", "--db", address(ctx)]) == 2


def test_verify_says_the_chain_holds(trail, capsys):
    ctx, _ = trail
    assert main(["audit", "verify", "--db", address(ctx)]) == 0
    assert "سليمة" in capsys.readouterr().out


def test_logins_are_recorded_and_only_the_administrator_reads_the_trail(ctx):
    users.create_user(ctx, "admin", "كلمة-سر-قوية", "admin")
    users.create_user(ctx, "clerk1", "كلمة-سر-الموظف", "clerk")
    from dataclasses import replace

    with pytest.raises(Exception, match="غير صحيحة"):
        users.login(replace(ctx), "clerk1", "wrong-password")
    clerk = replace(ctx)
    users.login(clerk, "clerk1", "كلمة-سر-الموظف")
    actions = [r[0] for r in _rows(ctx, "SELECT action FROM audit_log WHERE entity = 'users'")]
    assert "login_failed" in actions and "login" in actions
    with pytest.raises(Exception, match="ليست لديك صلاحية"):
        count_rows(clerk, "audit", TableQuery())
    admin = replace(ctx)
    users.login(admin, "admin", "كلمة-سر-قوية")
    rows = page_rows(admin, "audit", TableQuery(filters={"action": "login"}), 0, 50)
    assert rows and {r.values[2] for r in rows} == {"دخول"} and rows[0].values[1] == "admin"
