"""Users and roles: Argon2id login, lock-out, and a role × action matrix proving the services refuse what a role
may not do (whatever the screens show)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from aidoffice import paths
from aidoffice.domain.persons import PersonInput
from aidoffice.errors import PermissionDeniedError, UserError, ValidationError
from aidoffice.services import users
from aidoffice.services.aid import (
    DistributionInput,
    ProjectInput,
    add_distribution_line,
    approve_distribution,
    create_distribution,
    create_project,
)
from aidoffice.services.associations import AssociationInput, register_association
from aidoffice.services.duplicates import scan_registry, set_thresholds
from aidoffice.services.exports import export_list
from aidoffice.services.indicators import IndicatorFilter, export_indicators
from aidoffice.services.office import initialise_office, set_aid_window
from aidoffice.services.persons import add_person, create_household, get_person, update_person
from aidoffice.services.review import decide_distinct, review_queue
from aidoffice.store import models as m
from tests.helpers.legacy import entered_before_the_check


@pytest.fixture
def office(ctx):
    assoc = register_association(ctx, AssociationInput(name="جمعية الإحسان", registration_number="55/2015"))
    project = create_project(ctx, ProjectInput(association_id=assoc.id, title="سلال", aid_type="food_basket"))
    return ctx, assoc, project


def _out(name):
    """Where a test's exports go: the user's data folder of this test (the database may be on a server)."""
    return paths.ensure_dir(paths.data_dir()) / name


def as_role(ctx, role):
    return replace(ctx, username=f"user-{role}", role=role)


def _household(ctx, name):
    person = add_person(ctx, PersonInput(full_name=name))
    return create_household(ctx, person.id).id


def _round(ctx, project, day):
    return create_distribution(ctx, DistributionInput(project_id=project.id, distribution_date=day)).id


def _override(ctx, project):
    """Prepared as the system: a household that received this month; the role then keeps it with a reason."""
    household = _household(ctx, "سالم عوض بامطرف")
    add_distribution_line(ctx, _round(ctx, project, date(2026, 3, 2)), household_id=household)
    later = _round(ctx, project, date(2026, 3, 20))
    return lambda c: add_distribution_line(c, later, household_id=household, override_reason="أسرة نازحة")


def _pair(ctx):
    # An open pair, as an upgraded office's registry holds them (typed today, the second would be stopped on entry).
    add_person(ctx, PersonInput(full_name="فاطمة علي صالح العمودي", national_id="02020012345", sex="أنثى"))
    entered_before_the_check(
        ctx, PersonInput(full_name="فاطمه علي صالح العمودي", national_id="02020012345", sex="أنثى")
    )
    scan_registry(ctx)
    pair = review_queue(ctx, limit=1)[0]
    return lambda c: decide_distinct(c, pair.id)


ACTIONS = {
    # action: (who may, how to prepare it as the system and return the call made as the role)
    "enter a person": (
        {"clerk", "supervisor", "admin"},
        lambda ctx, p: lambda c: add_person(c, PersonInput(full_name="زكريا منصور القعيطي")),
    ),
    "register an association": (
        {"clerk", "supervisor", "admin"},
        lambda ctx, p: (
            lambda c: register_association(c, AssociationInput(name="جمعية الأمل", registration_number=f"9/{c.role}"))
        ),
    ),
    "list a household": (
        {"clerk", "supervisor", "admin"},
        lambda ctx, p: (lambda r, h: lambda c: add_distribution_line(c, r, household_id=h))(
            _round(ctx, p, date(2026, 6, 1)), _household(ctx, "حسن علي الكثيري")
        ),
    ),
    "approve a distribution": (
        {"supervisor", "admin"},
        lambda ctx, p: (lambda r: lambda c: approve_distribution(c, r))(_round(ctx, p, date(2026, 7, 1))),
    ),
    "keep an already-received line": ({"supervisor", "admin"}, lambda ctx, p: _override(ctx, p)),
    "decide a duplicate pair": ({"supervisor", "admin"}, lambda ctx, p: _pair(ctx)),
    "export a list": (
        {"supervisor", "admin"},
        lambda ctx, p: lambda c: export_list(c, "persons", _out(f"persons-{c.role}.xlsx")),
    ),
    "export indicators": (
        {"supervisor", "admin"},
        lambda ctx, p: (
            lambda c: export_indicators(c, IndicatorFilter("2026-01", "2026-03"), _out(f"ind-{c.role}.xlsx"))
        ),
    ),
    "change an aid window": ({"admin"}, lambda ctx, p: lambda c: set_aid_window(c, "food_basket", "days", "20")),
    "change the office profile": ({"admin"}, lambda ctx, p: lambda c: initialise_office(c, name="مكتب أبين")),
    "change duplicate thresholds": (
        {"supervisor", "admin"},
        lambda ctx, p: lambda c: set_thresholds(c, likely=0.99, review=0.5),
    ),
    "create a user": (
        {"admin"},
        lambda ctx, p: (
            users.create_user(ctx, "admin", "كلمة-سر-قوية", "admin"),  # the first user, made at set-up
            users.login(replace(ctx), "admin", "كلمة-سر-قوية"),  # its key opens only at its login
            lambda c: users.create_user(replace(c, username="admin"), f"u-{c.role}", "كلمة-سر-قوية", "clerk"),
        )[2],
    ),
    "list users": ({"admin"}, lambda ctx, p: lambda c: users.list_users(c)),
}


@pytest.mark.parametrize("role", ["clerk", "supervisor", "admin", "nobody"])
@pytest.mark.parametrize("action", list(ACTIONS))
def test_role_action_matrix(office, role, action):
    ctx, _assoc, project = office
    who, prepare = ACTIONS[action]
    call = prepare(ctx, project)
    if role in who:
        call(as_role(ctx, role))
    else:
        with pytest.raises(PermissionDeniedError, match="ليست لديك صلاحية"):
            call(as_role(ctx, role))


def test_refused_actions_change_nothing(office):
    ctx, _assoc, project = office
    dist = _round(ctx, project, date(2026, 8, 1))
    with pytest.raises(PermissionDeniedError):
        approve_distribution(as_role(ctx, "clerk"), dist)
    with ctx.uow() as uow:
        assert uow.repo.get(m.Distribution, dist).status == "draft"


def test_sensitive_categories_only_for_roles_allowed(office):
    ctx = office[0]
    person = add_person(ctx, PersonInput(full_name="هدى سالم باوزير", categories=("gbv", "widow")))
    codes = set(get_person(ctx, person.id).categories)
    assert "gbv" in codes
    clerk = as_role(ctx, "clerk")
    assert "gbv" not in get_person(clerk, person.id).categories
    assert "gbv" in get_person(as_role(ctx, "supervisor"), person.id).categories
    # a clerk editing the person cannot remove what the clerk cannot see
    update_person(clerk, person.id, PersonInput(full_name="هدى سالم باوزير", categories=("widow",)))
    assert "gbv" in get_person(ctx, person.id).categories


def test_login_lockout_and_password_rules(office):
    ctx = office[0]
    users.create_user(ctx, "admin", "كلمة-سر-قوية", "admin", "مدير النظام")
    with pytest.raises(ValidationError):
        users.create_user(ctx, "clerk1", "short", "clerk")
    users.create_user(ctx, "clerk1", "كلمة-سر-الموظف", "clerk", "موظف الإدخال")
    with pytest.raises(UserError, match="مستخدم من قبل"):
        users.create_user(ctx, "clerk1", "كلمة-سر-أخرى", "clerk")
    session = replace(ctx)
    record = users.login(session, "clerk1", "كلمة-سر-الموظف")
    assert (record.role, session.role, session.username) == ("clerk", "clerk", "clerk1")
    with ctx.uow() as uow:
        stored = uow.repo.first(m.User, username="clerk1").password_hash
    assert stored.startswith("$argon2id$") and "كلمة" not in stored
    for _ in range(users.MAX_FAILED_LOGINS):
        with pytest.raises(UserError, match="غير صحيحة"):
            users.login(replace(ctx), "clerk1", "wrong-password")
    with pytest.raises(UserError, match="مقفل"):
        users.login(replace(ctx), "clerk1", "كلمة-سر-الموظف")  # even the right password, until it opens
    with ctx.uow() as uow:
        user = uow.repo.first(m.User, username="clerk1")
        user.locked_until = user.locked_until - timedelta(minutes=users.LOCKOUT_MINUTES + 1)
        uow.commit()
    assert users.login(replace(ctx), "clerk1", "كلمة-سر-الموظف").username == "clerk1"
    with pytest.raises(UserError, match="غير صحيحة"):
        users.login(replace(ctx), "nobody-here", "whatever-password")
    users.logout(session)
    with pytest.raises(PermissionDeniedError):
        add_person(session, PersonInput(full_name="زكريا منصور القعيطي"))


def test_the_first_user_is_the_administrator(ctx):
    with pytest.raises(UserError, match="مدير النظام"):
        users.create_user(ctx, "clerk", "كلمة-سر-قوية", "clerk")
    assert users.create_user(ctx, "admin", "كلمة-سر-قوية", "admin").role == "admin"
    assert users.has_users(ctx)


def test_consent_to_sharing_is_recorded_with_its_date(ctx):
    person = add_person(ctx, PersonInput(full_name="هدى سالم باوزير"))
    assert get_person(ctx, person.id).consent_sharing is False
    update_person(ctx, person.id, PersonInput(full_name="هدى سالم باوزير", consent=True))
    record = get_person(ctx, person.id)
    assert record.consent_sharing and record.consent_on == ctx.today()
    update_person(ctx, person.id, PersonInput(full_name="هدى سالم باوزير"))  # not on the form: unchanged
    assert get_person(ctx, person.id).consent_sharing


def test_users_change_their_own_password(ctx):
    users.create_user(ctx, "admin", "كلمة-سر-قوية", "admin")
    session = replace(ctx)
    users.login(session, "admin", "كلمة-سر-قوية")
    with pytest.raises(UserError, match="الحالية غير صحيحة"):
        users.change_own_password(session, "wrong-password", "كلمة-سر-جديدة")
    users.change_own_password(session, "كلمة-سر-قوية", "كلمة-سر-جديدة")
    assert users.login(replace(ctx), "admin", "كلمة-سر-جديدة").username == "admin"


def test_an_office_from_before_seals_is_sealed_at_its_administrators_first_login(tmp_path):
    """An office upgraded to revision 0010: its rows have no seal and there is no administrators' key yet. Users
    still log in; the first administrator's login makes the key and seals every row as it stands; from then on a row
    edited outside the program is refused."""
    import sqlite3

    from alembic import command

    from aidoffice.services.context import open_context
    from aidoffice.store.migrate import alembic_config
    from tests.helpers.databases import new_office

    path = tmp_path / "old.sqlite3"
    ctx = new_office(path)
    users.create_user(ctx, "admin", "كلمة-سر-قوية", "admin")
    users.create_user(ctx, "clerk1", "كلمة-سر-الموظف", "clerk")
    ctx.close()
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM settings WHERE key = 'security.admin_key'")
    conn.commit()
    conn.close()
    command.downgrade(alembic_config(path), "0009")
    ctx = open_context(path)  # migrated again: the seal column comes back empty
    try:
        assert users.login(replace(ctx), "clerk1", "كلمة-سر-الموظف").role == "clerk"
        users.login(replace(ctx), "admin", "كلمة-سر-قوية")
        conn = sqlite3.connect(path)
        assert conn.execute("SELECT count(*) FROM users WHERE seal IS NULL").fetchone() == (0,)
        conn.execute("UPDATE users SET role = 'supervisor' WHERE username = 'clerk1'")
        conn.commit()
        conn.close()
        with pytest.raises(UserError, match="توقيع مدير النظام"):
            users.login(replace(ctx), "clerk1", "كلمة-سر-الموظف")
    finally:
        ctx.close()


def test_an_administrators_key_held_for_one_database_is_not_held_for_another(ctx, engine, pg_templates, tmp_path):
    """Two databases in one process (two files, or two databases on one server): an administrator who logged in to
    one holds the administrators' key for that one only, not for the same name at the other."""
    from aidoffice.services import trust
    from aidoffice.services.context import open_context
    from tests.helpers import postgres
    from tests.helpers.databases import new_office

    users.create_user(ctx, "admin", "كلمة-سر-قوية", "admin")
    admin = replace(ctx)
    users.login(admin, "admin", "كلمة-سر-قوية")
    if engine == "sqlite":
        where = tmp_path / "other.sqlite3"
        new_office(where).close()
    else:
        where = postgres.server_copy(pg_templates, "office", None)
    other = open_context(where, username="admin")
    try:
        assert trust.held(admin) is not None
        assert trust.held(other) is None
    finally:
        other.close()
        if engine != "sqlite":
            postgres.drop_database(where)
