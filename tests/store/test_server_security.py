"""The office PCs' role on a PostgreSQL server, hardened: its password reaches the server as a SCRAM verifier only,
it may change and remove rows only where the program does (a clerk's whole day works through the services, psql in
the same account is refused the rest), and a restore run by a superuser leaves the tables the database owner's with
the PCs' rights given again."""

from __future__ import annotations

import uuid
from datetime import date

import psycopg
import pytest
from sqlalchemy import event, make_url
from sqlalchemy.engine import Engine

from aidoffice.domain.persons import PersonInput
from aidoffice.services import backups, sync, users
from aidoffice.services.aid import (
    DistributionInput,
    ProjectInput,
    add_distribution_line,
    approve_distribution,
    create_distribution,
    create_project,
    mark_line,
)
from aidoffice.services.associations import AssociationInput, register_association
from aidoffice.services.context import open_context
from aidoffice.services.duplicates import scan_registry
from aidoffice.services.imports import import_beneficiaries
from aidoffice.services.persons import (
    add_household_member,
    add_person,
    create_household,
    get_person,
    move_household_member,
    update_person,
)
from aidoffice.services.referrals import advance_referral, create_referral
from aidoffice.services.review import merge_pair, review_queue, undo_merge
from aidoffice.store.server import ask_server_administrator, grant_pc_role
from tests.helpers.databases import new_office
from tests.helpers.legacy import entered_before_the_check
from tests.helpers.postgres import SERVER, _admin, fresh_database, libpq, needs_server, sql
from tests.helpers.sync import installation, introduce
from tests.services.test_imports_exports import messy_workbook

PC_PASSWORD = "pc-secret-ZX81-long-enough"
ADMIN_PW, CLERK_PW = "كلمة-سر-المدير", "كلمة-سر-الموظف"
SALEM = {"full_name": "سالم عوض سعيد بامطرف", "national_id": "01010012345", "birth_year": "1980", "sex": "ذكر"}


def _pc(url: str, role: str, password: str = PC_PASSWORD) -> str:
    return make_url(url).set(username=role, password=password).render_as_string(hide_password=False)


@pytest.fixture
def office():
    """An office initialised on a fresh database by the test server's account, and a PC role name (dropped after:
    roles belong to the whole server)."""
    role = f"t_pc_{uuid.uuid4().hex[:10]}"
    with fresh_database() as url:
        new_office(url).close()
        yield url, role
    _admin(f'DROP ROLE IF EXISTS "{role}"')


@pytest.fixture
def statements():
    """Every statement (and its parameters) any engine sends while the test runs."""
    sent: list[str] = []

    def seen(_conn, _cursor, statement, parameters, _context, _many):
        sent.append(f"{statement} {parameters!r}")

    event.listen(Engine, "before_cursor_execute", seen)
    yield sent
    event.remove(Engine, "before_cursor_execute", seen)


def _stored_password(url: str, role: str) -> str:
    return sql(url, "SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,))[0][0]


def _logs_in(url: str, role: str, password: str) -> bool:
    try:
        with psycopg.connect(libpq(_pc(url, role, password)), connect_timeout=5) as conn:
            return conn.execute("SELECT current_user").fetchone()[0] == role
    except psycopg.OperationalError:
        return False


@needs_server
def test_the_pcs_password_reaches_the_server_as_a_scram_verifier_only(office, statements):
    url, role = office
    grant_pc_role(url, role, PC_PASSWORD)  # the role made, its password set
    stored = _stored_password(url, role)
    assert stored.startswith("SCRAM-SHA-256$") and PC_PASSWORD not in stored
    assert _logs_in(url, role, PC_PASSWORD) and not _logs_in(url, role, "not-the-password-at-all")
    changed = "an-other-pc-secret-QW42"
    grant_pc_role(url, role, changed)  # --new-password: the role there already
    assert _stored_password(url, role) != stored and _stored_password(url, role).startswith("SCRAM-SHA-256$")
    assert _logs_in(url, role, changed) and not _logs_in(url, role, PC_PASSWORD)
    # neither password in any statement sent (log_statement = all would have kept it, pg_stat_activity shown it)
    assert statements and not [s for s in statements if PC_PASSWORD in s or changed in s]
    assert any("ALTER ROLE" in s and "PASSWORD 'SCRAM-SHA-256$" in s for s in statements)


def test_the_administrator_is_told_to_set_a_password_with_psqls_password_command():
    """What `server roles` asks of the server's administrator sets the password without a PASSWORD '…' literal."""
    made = ask_server_administrator("aidoffice_pc", "حساب الأجهزة غير موجود.").message
    assert 'psql -c "CREATE ROLE aidoffice_pc LOGIN"' in made and 'psql -c "\\password aidoffice_pc"' in made
    changed = ask_server_administrator("aidoffice_pc", "تغيير كلمة المرور.", exists=True).message
    assert "CREATE ROLE" not in changed and "\\password aidoffice_pc" in changed
    assert "PASSWORD '" not in made + changed


def _forbidden(pc: str, statement: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        sql(pc, statement)


@needs_server
def test_a_clerks_day_works_as_the_pcs_role_and_psql_in_it_is_refused_the_rest(office, tmp_path):
    url, role = office
    grant_pc_role(url, role, PC_PASSWORD)
    pc = _pc(url, role)
    hq = installation(tmp_path / "hq.sqlite3", "HQ", hq=True)
    admin = open_context(pc, username="admin")
    clerk = None
    try:
        introduce(hq, admin, tmp_path)  # sync keys and peers, before the office has users
        # users: made, logged in (a failed attempt first), a password reset by the administrator, then the clerk's own
        users.create_user(admin, "admin", ADMIN_PW, "admin")
        users.login(admin, "admin", ADMIN_PW)
        users.create_user(admin, "clerk1", "first-clerk-pw", "clerk")
        clerk = open_context(pc, username="clerk1", create=False)
        with pytest.raises(Exception):  # noqa: B017 - the refusal's wording is the login tests' business
            users.login(clerk, "clerk1", "wrong-password")
        users.update_user(admin, "clerk1", password=CLERK_PW, unlock=True)
        users.login(clerk, "clerk1", CLERK_PW)
        users.change_own_password(clerk, CLERK_PW, CLERK_PW + "-2")
        # the clerk's entry: persons, an edit, a household, a member moved
        salem = add_person(clerk, PersonInput(**SALEM, categories=("poorest",)))
        update_person(clerk, salem.id, PersonInput(**{**SALEM, "phone": "733111222"}))
        wife = add_person(clerk, PersonInput(full_name="فاطمة علي سالم العمودي", birth_year="1985", sex="أنثى"))
        son = add_person(clerk, PersonInput(full_name="علي سالم عوض بامطرف", birth_year="2005", sex="ذكر"))
        home = create_household(clerk, salem.id, size=4)
        add_household_member(clerk, home.id, wife.id, "spouse")
        other = create_household(clerk, son.id, size=1)
        move_household_member(clerk, wife.id, other.id, "mother")
        # an association, a project and a distribution (approved, a line received), a referral followed up
        assoc = register_association(admin, AssociationInput(name="جمعية الخير الخيرية", registration_number="12/2010"))
        project = create_project(
            admin, ProjectInput(association_id=assoc.id, title="سلال رمضان", aid_type="food_basket")
        )
        dist = create_distribution(admin, DistributionInput(project_id=project.id, distribution_date=date.today()))
        line = add_distribution_line(admin, dist.id, household_id=home.id)
        approve_distribution(admin, dist.id)
        mark_line(admin, line.id, received=True)
        referral = create_referral(clerk, salem.id, assoc.id, "علاج")
        advance_referral(admin, referral.id, "accepted", note="قُبلت")
        # an Excel list imported
        report = import_beneficiaries(admin, messy_workbook(tmp_path / "list.xlsx"), "12/2010")
        assert report.committed and report.imported >= 1
        # duplicates: the scan's pair merged, the merge undone, the pair merged again
        twin = entered_before_the_check(clerk, PersonInput(**{**SALEM, "full_name": "سالم عوض بامطرف"}))
        scan_registry(admin)
        pair = next(p for p in review_queue(admin) if {p.a.id, p.b.id} == {salem.id, twin.id})
        survivor = "a" if pair.a.id == salem.id else "b"
        merge = merge_pair(admin, pair.id, survivor=survivor, take_from_other=())
        undo_merge(admin, merge)
        merge_pair(admin, pair.id, survivor=survivor, take_from_other=())
        assert get_person(admin, salem.id).categories == ("poorest",)
        # sync: the office's package to headquarters, headquarters' reply applied here
        sent = sync.export_package(admin, tmp_path / "usb")
        assert sync.import_package(hq, sent.path).status == "applied"
        reply = sync.export_package(hq, tmp_path / "usb", to_office="TST-01")
        assert sync.import_package(admin, reply.path).status == "applied"
    finally:
        admin.close()
        if clerk is not None:
            clerk.close()
        hq.close()
    assert sql(url, "SELECT count(*) FROM audit_log")[0][0] > 10
    # what the program never does, psql in the PCs' account may not do either
    for statement in (
        "DELETE FROM persons",
        "DELETE FROM households",
        "DELETE FROM referrals",
        "DELETE FROM users",
        "DELETE FROM associations",
        "DELETE FROM distributions",
        "DELETE FROM distribution_lines",
        "UPDATE users SET username = 'boss'",
        "UPDATE users SET office_id = 'x'",
        "UPDATE audit_log SET username = 'x'",
        "DELETE FROM audit_log",
        "UPDATE person_categories SET category_id = category_id",
        "UPDATE alembic_version SET version_num = '0001'",
        "TRUNCATE persons",
        "TRUNCATE sync_outbox",
        "DROP TABLE persons",
        "CREATE TABLE notes (x integer)",
        "ALTER TABLE persons ADD COLUMN x integer",
    ):
        _forbidden(pc, statement)
    # what it does, it may: a user's login columns, a link row removed
    assert sql(pc, "UPDATE users SET failed_logins = failed_logins") == []
    assert sql(pc, "DELETE FROM duplicate_pairs WHERE false") == []
    assert sql(url, "SELECT count(*) FROM persons WHERE merged_into_id IS NULL")[0][0] >= 3


@pytest.fixture
def owned_office():
    """As README says: postgres makes the owner (no CREATEROLE, no superuser) and its database; the owner runs init
    and `server roles` for a PC role the administrator made. Yields (owner's address, PC role, superuser's address)."""
    tag = uuid.uuid4().hex[:10]
    owner, role, database = f"t_owner_{tag}", f"t_pc_{tag}", f"aidoffice_test_{tag}"
    _admin(f"CREATE ROLE \"{owner}\" LOGIN PASSWORD '{PC_PASSWORD}'")
    _admin(f'CREATE DATABASE "{database}" OWNER "{owner}" ENCODING \'UTF8\' TEMPLATE template0')
    _admin(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{PC_PASSWORD}'")
    superuser = make_url(SERVER).set(drivername="postgresql+psycopg", database=database)
    owner_url = superuser.set(username=owner, password=PC_PASSWORD).render_as_string(hide_password=False)
    try:
        ctx = new_office(owner_url)
        try:
            users.create_user(ctx, "admin", ADMIN_PW, "admin")
        finally:
            ctx.close()
        grant_pc_role(owner_url, role, None)
        yield owner_url, role, superuser.render_as_string(hide_password=False)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        _admin(f'DROP ROLE IF EXISTS "{role}"')
        _admin(f'DROP ROLE IF EXISTS "{owner}"')


def _owners(url: str) -> set[str]:
    return {r[0] for r in sql(url, "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")}


def _restore_as(url: str, archive) -> None:
    ctx = open_context(url, username="admin", create=False)
    users.login(ctx, "admin", ADMIN_PW)
    backups.restore_backup(ctx, archive).ctx.close()


@needs_server
def test_a_restore_by_a_superuser_leaves_the_tables_the_owners_and_the_pcs_at_work(owned_office, tmp_path):
    owner_url, role, superuser_url = owned_office
    owner = make_url(owner_url).username
    pc = _pc(owner_url, role)
    ctx = open_context(pc, username="admin", create=False)
    try:
        users.login(ctx, "admin", ADMIN_PW)
        add_person(ctx, PersonInput(**SALEM))
    finally:
        ctx.close()
    ctx = open_context(owner_url, username="admin", create=False)
    try:
        users.login(ctx, "admin", ADMIN_PW)
        archive = backups.make_backup(ctx, tmp_path / "usb").path
    finally:
        ctx.close()
    sql(owner_url, "UPDATE persons SET phone = '700000000'")  # changed after the backup: the restore puts it back
    _restore_as(superuser_url, archive)
    assert _owners(owner_url) == {owner}  # not the superuser who restored
    functions = sql(
        owner_url, "SELECT DISTINCT pg_get_userbyid(proowner) FROM pg_proc WHERE proname LIKE %s", ("sync%",)
    )
    assert functions == [(owner,)]
    # the PCs work on the restored tables, with today's rights (not the archive's, not the default privileges')
    ctx = open_context(pc, username="admin", create=False)
    try:
        users.login(ctx, "admin", ADMIN_PW)
        assert add_person(ctx, PersonInput(full_name="فاطمة علي سالم العمودي", birth_year="1985", sex="أنثى"))
    finally:
        ctx.close()
    assert sql(owner_url, "SELECT count(*) FROM persons WHERE phone = '700000000'") == [(0,)]
    for statement in ("DELETE FROM persons", "UPDATE audit_log SET username = 'x'", "DROP TABLE persons"):
        _forbidden(pc, statement)
    # the owner's later migration and `server roles` go on as before (they were refused when the superuser owned them)
    sql(owner_url, "ALTER TABLE persons ADD COLUMN later_column integer")
    sql(owner_url, "ALTER TABLE persons DROP COLUMN later_column")
    sql(owner_url, "CREATE TABLE later_table (x integer)")  # a later migration's table reaches the PCs as before
    assert sql(pc, "SELECT count(*) FROM later_table") == [(0,)]
    sql(owner_url, "DROP TABLE later_table")
    grant_pc_role(owner_url, role, None)
    # the owner's own restore afterwards: still possible
    _restore_as(owner_url, archive)
    assert _owners(owner_url) == {owner}
    _forbidden(pc, "DELETE FROM persons")


@needs_server
def test_tables_a_superuser_restore_of_an_older_program_left_its_own_are_handed_back(owned_office, tmp_path):
    """The state this program's earlier restores left (the tables the superuser's): a superuser's restore now makes
    them the owner's again instead of failing to drop them as the owner."""
    owner_url, role, superuser_url = owned_office
    owner, superuser = make_url(owner_url).username, make_url(SERVER).username
    ctx = open_context(owner_url, username="admin", create=False)
    try:
        users.login(ctx, "admin", ADMIN_PW)
        add_person(ctx, PersonInput(**SALEM))
        archive = backups.make_backup(ctx, tmp_path / "usb").path
    finally:
        ctx.close()
    for (table,) in sql(owner_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"):
        sql(superuser_url, f'ALTER TABLE "{table}" OWNER TO "{superuser}"')
    assert _owners(owner_url) == {superuser}
    _restore_as(superuser_url, archive)
    assert _owners(owner_url) == {owner}
    assert sql(_pc(owner_url, role), "SELECT count(*) FROM persons") == [(1,)]


@needs_server
def test_between_the_restore_and_the_rights_given_again_the_pcs_remove_nothing(owned_office, tmp_path, monkeypatch):
    """The restored tables take no rights from the owner's default privileges (all of them, for later migrations):
    in the instant before the PCs' rights are given again, the PCs' role may not remove persons."""
    from aidoffice.store import server_backup

    owner_url, role, _superuser_url = owned_office
    ctx = open_context(owner_url, username="admin", create=False)
    try:
        users.login(ctx, "admin", ADMIN_PW)
        add_person(ctx, PersonInput(**SALEM))
        archive = backups.make_backup(ctx, tmp_path / "usb").path
    finally:
        ctx.close()
    seen: list[str] = []
    given_again = server_backup._grant_again

    def looking_first(url, roles):
        try:
            sql(_pc(owner_url, role), "DELETE FROM persons WHERE false")
            seen.append("removes")
        except psycopg.errors.InsufficientPrivilege:
            seen.append("refused")
        given_again(url, roles)

    monkeypatch.setattr(server_backup, "_grant_again", looking_first)
    _restore_as(owner_url, archive)
    assert seen == ["refused"] and sql(_pc(owner_url, role), "SELECT count(*) FROM persons") == [(1,)]
    _forbidden(_pc(owner_url, role), "DELETE FROM persons")


@needs_server
def test_a_restore_whose_pc_rights_could_not_be_given_again_says_what_to_run(owned_office, tmp_path, monkeypatch):
    """The restore stands, but the restored tables carry no rights for the PCs: if giving them again fails, the
    administrator is told (by name of the role and the command), not left to find every other PC refused."""
    from sqlalchemy.exc import OperationalError

    from aidoffice.store import server

    owner_url, role, _superuser_url = owned_office
    ctx = open_context(owner_url, username="admin", create=False)
    try:
        users.login(ctx, "admin", ADMIN_PW)
        archive = backups.make_backup(ctx, tmp_path / "usb").path
    finally:
        ctx.close()

    def lost(conn, pc_role):
        raise OperationalError("GRANT", {}, Exception("server closed the connection"))

    monkeypatch.setattr(server, "grant_rights", lost)
    ctx = open_context(owner_url, username="admin", create=False)
    users.login(ctx, "admin", ADMIN_PW)
    done = backups.restore_backup(ctx, archive)
    done.ctx.close()
    assert role in done.warning and "server roles" in done.warning
    monkeypatch.undo()
    _forbidden(_pc(owner_url, role), "SELECT count(*) FROM persons")  # as the warning says: the PCs are refused
    grant_pc_role(owner_url, role, None)  # the command it names puts them back to work
    assert sql(_pc(owner_url, role), "SELECT count(*) FROM persons") == [(0,)]
