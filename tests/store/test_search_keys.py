"""Persons' search keys (persons.search_rowid): on a server drawn from the sequence of migration 0012, on a file max + 1
under its one writer. Writers at once, bulk imports among single adds, a deleted newest person, an upgrade of a
registry from before the sequence and the PCs' role: no two persons ever share a key, and the search finds them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import nullcontext

import pytest
from alembic import command
from sqlalchemy import make_url, text

from aidoffice.domain.arabic import normalize_name
from aidoffice.domain.persons import PersonInput
from aidoffice.services import sync
from aidoffice.services.associations import AssociationInput, register_association
from aidoffice.services.context import ServiceContext, open_context
from aidoffice.services.imports import import_beneficiaries
from aidoffice.services.persons import add_person, search_persons
from aidoffice.store import migrate
from aidoffice.store.migrate import alembic_config
from aidoffice.store.search import SEARCH_ROWID_SEQUENCE
from tests.helpers.databases import RawConnection, new_office
from tests.helpers.postgres import _admin, fresh_database, needs_server
from tests.helpers.postgres import sql as server_sql
from tests.helpers.sync import installation, introduce
from tests.store.test_many_writers import FAMILY, FIRST, SECOND, beneficiaries_list, run_at_once
from tests.test_cli import run

PC_PASSWORD = "pc-password-long-enough"


@pytest.fixture
def office(engine, tmp_path, monkeypatch):
    """(context, address) of an initialised office on the engine under test; each thread opens the address."""
    monkeypatch.setenv("AIDOFFICE_BUSY_TIMEOUT_MS", "60000")  # writers wait their turn here
    if engine == "sqlite":
        context = new_office(tmp_path / "office.sqlite3")
        yield context, str(tmp_path / "office.sqlite3")
        context.close()
        return
    with fresh_database() as url:
        context = new_office(url)
        try:
            yield context, url
        finally:
            context.close()


def keys(ctx: ServiceContext) -> list[int]:
    with ctx.uow() as uow:
        return list(uow.session.execute(text("SELECT search_rowid FROM persons ORDER BY search_rowid")).scalars())


def next_key_on_server(ctx: ServiceContext) -> int:
    """The key the sequence gives next (read without drawing it)."""
    with ctx.uow() as uow:
        last, called = uow.session.execute(text(f"SELECT last_value, is_called FROM {SEARCH_ROWID_SEQUENCE}")).one()
    return last + 1 if called else last


def name(n: int, family: int = 0) -> str:
    """A four-part name of its own for each n (no two alike enough to be held as duplicates)."""
    return (
        f"{FIRST[n % len(FIRST)]} {SECOND[(n // len(FIRST)) % len(SECOND)]} "
        f"{FIRST[(n // (len(FIRST) * len(SECOND)) + 3) % len(FIRST)]} {FAMILY[(n + family) % len(FAMILY)]}"
    )


def test_writers_adding_persons_at_once_never_share_a_key(office, engine, tmp_path):
    ctx, where = office
    association = register_association(ctx, AssociationInput(name="جمعية الخير الخيرية", registration_number="12/2010"))
    lists = [
        beneficiaries_list(
            tmp_path / f"list{k}.xlsx", [f"{name(i)} {FAMILY[k]}" for i in range(40)], 40_000_000_000 + k * 1000
        )
        for k in range(2)
    ]

    def clerk(n: int) -> Callable[[ServiceContext], None]:
        def job(context: ServiceContext) -> None:
            for i in range(4):
                add_person(context, PersonInput(full_name=name(200 + n * 4 + i, n), national_id=f"{n + 1:02d}{i:09d}"))

        return job

    def importer(path) -> Callable[[ServiceContext], None]:
        return lambda context: import_beneficiaries(context, path, association.id)

    run_at_once(where, [clerk(n) for n in range(6)] + [importer(p) for p in lists])

    found = keys(ctx)
    assert len(found) == 6 * 4 + 2 * 40 and len(set(found)) == len(found) and None not in found
    if engine == "postgresql":
        assert next_key_on_server(ctx) > max(found)
    assert [p.full_name for p in search_persons(ctx, name(200))] == [name(200)]


def test_a_bulk_import_among_single_adds_keeps_every_key_unique(ctx, engine, tmp_path):
    association = register_association(ctx, AssociationInput(name="جمعية البر", registration_number="7/2011"))
    for i in range(3):
        add_person(ctx, PersonInput(full_name=name(i), national_id=f"5{i:010d}"))
    listing = beneficiaries_list(tmp_path / "list.xlsx", [name(100 + i, 3) for i in range(50)], 60_000_000_000)
    assert import_beneficiaries(ctx, listing, association.id).imported == 50
    for i in range(3, 5):
        add_person(ctx, PersonInput(full_name=name(i), national_id=f"5{i:010d}"))
    again = beneficiaries_list(tmp_path / "again.xlsx", [name(100 + i, 3) for i in range(60)], 60_000_000_000)
    assert import_beneficiaries(ctx, again, association.id).imported == 10  # 50 of them known already

    found = keys(ctx)
    assert len(found) == 3 + 50 + 2 + 10 and len(set(found)) == len(found)
    with ctx.uow() as uow:
        imported = list(
            uow.session.execute(
                text("SELECT search_rowid FROM persons WHERE national_id LIKE '6%' ORDER BY search_rowid")
            ).scalars()
        )
    assert imported[:50] == list(range(imported[0], imported[0] + 50))  # one import: one unbroken run
    assert imported[50:] == list(range(imported[50], imported[50] + 10))
    if engine == "postgresql":
        assert next_key_on_server(ctx) > max(found)
    for typed in (name(0), name(4), name(101, 3), name(155, 3)):
        assert [p.full_name for p in search_persons(ctx, typed)] == [typed], typed


@needs_server
def test_a_key_drawn_on_a_server_is_never_given_again():
    """max + 1 gave the newest person's key again once that person was removed (or a transaction that drew keys
    rolled back): the sequence never does."""
    with fresh_database() as url:
        ctx = new_office(url)
        try:
            add_person(ctx, PersonInput(full_name=name(1), national_id="01000000001"))
            newest = add_person(ctx, PersonInput(full_name=name(2), national_id="01000000002"))
            taken = keys(ctx)
            with ctx.uow() as uow:
                uow.session.execute(text("DELETE FROM household_members WHERE person_id = :p"), {"p": newest.id})
                uow.session.execute(text("DELETE FROM persons WHERE id = :p"), {"p": newest.id})
                uow.commit()
            with ctx.uow() as uow:  # a save that drew keys, then was given up (no commit: rolled back)
                uow.repo.reserve_search_rowids(5)
            later = add_person(ctx, PersonInput(full_name=name(3), national_id="01000000003"))
            with ctx.uow() as uow:
                key = uow.session.execute(text("SELECT search_rowid FROM persons WHERE id = :p"), {"p": later.id})
                assert key.scalar() == max(taken) + 6
            assert [p.full_name for p in search_persons(ctx, name(3))] == [name(3)]
        finally:
            ctx.close()


def test_headquarters_applying_an_office_s_persons_among_its_own_adds_keeps_keys_unique(engine, hq_where, tmp_path):
    """Sync apply draws its new persons' keys as an import does: among persons headquarters registers itself."""
    hq = installation(hq_where(), "HQ", hq=True)
    office = installation(tmp_path / "office.sqlite3", "HDR-01")
    try:
        introduce(hq, office, tmp_path)
        add_person(hq, PersonInput(full_name=name(1), national_id="04000000001"))
        sent = [
            add_person(office, PersonInput(full_name=name(10 + i, 5), national_id=f"0410000000{i}")) for i in range(3)
        ]
        assert sync.import_package(hq, sync.export_package(office, tmp_path / "usb").path).status == "applied"
        add_person(hq, PersonInput(full_name=name(2), national_id="04000000002"))
        found = keys(hq)
        assert len(found) == len(set(found)) == 5
        if engine == "postgresql":
            assert next_key_on_server(hq) > max(found)
        for person in sent:
            assert [p.id for p in search_persons(hq, person.full_name)] == [person.id]
        assert [p.full_name for p in search_persons(hq, name(2))] == [name(2)]
    finally:
        hq.close()
        office.close()


def test_an_upgrade_from_0011_sets_the_sequence_past_every_key(engine, tmp_path):
    """A registry written before the sequence (some keys far ahead, as another program may leave them): after the
    upgrade a new person takes the key after the largest one, and the search finds both."""
    with fresh_database() if engine == "postgresql" else nullcontext(tmp_path / "office.sqlite3") as where:
        ctx = new_office(where)
        try:
            add_person(ctx, PersonInput(full_name=name(1), national_id="02000000001"))
        finally:
            ctx.close()
        command.downgrade(alembic_config(where), "0011")
        with RawConnection(where) as raw:  # another program writes at 0011: a key far ahead
            if engine == "postgresql":
                assert raw.rows(f"SELECT to_regclass('{SEARCH_ROWID_SEQUENCE}')") == [(None,)]
            first = raw.rows("SELECT search_rowid FROM persons")[0][0]
            given = {"id": "?", "full_name": "?", "name_norm": "?", "national_id": "?", "search_rowid": "?"}
            columns = raw.columns("persons")
            raw.execute(
                f"INSERT INTO persons ({', '.join(columns)}) SELECT {', '.join(given.get(c, c) for c in columns)} "
                "FROM persons",
                tuple(
                    {
                        "id": uuid.uuid4().hex,
                        "full_name": name(2),
                        "name_norm": normalize_name(name(2)),
                        "national_id": "02000000002",
                        "search_rowid": first + 1000,
                    }[c]
                    for c in columns
                    if c in given
                ),
            )
            raw.commit()

        ctx = open_context(where, username="tester")  # upgrades to the head
        try:
            assert migrate.current_revision(where) == migrate.head_revision()
            if engine == "postgresql":
                owned = server_sql(where, "SELECT pg_get_serial_sequence('persons', 'search_rowid')")
                assert owned == [(f"public.{SEARCH_ROWID_SEQUENCE}",)]  # goes with the table (dumps, drops)
            added = add_person(ctx, PersonInput(full_name=name(3), national_id="02000000003"))
            found = keys(ctx)
            with ctx.uow() as uow:
                key = uow.session.execute(
                    text("SELECT search_rowid FROM persons WHERE id = :p"), {"p": added.id}
                ).scalar()
            assert len(set(found)) == 3 and key == first + 1001
            for typed in (name(1), name(2), name(3)):
                assert [p.full_name for p in search_persons(ctx, typed)] == [typed], typed
        finally:
            ctx.close()


@needs_server
def test_the_pcs_role_draws_keys_from_a_sequence_made_after_its_grant(capsys, monkeypatch):
    """The role was granted on a 0011 database; the owner then upgraded it (init) without granting again: the
    default privileges give the role the sequence, and a PC adds persons."""
    role = f"t_pc_{uuid.uuid4().hex[:10]}"
    try:
        with fresh_database() as url:
            assert run(capsys, "init", "--db", url, "--office-name", "مكتب عدن")[0] == 0
            command.downgrade(alembic_config(url), "0011")
            monkeypatch.setenv("AIDOFFICE_NEW_PASSWORD", PC_PASSWORD)
            code, _out, err = run(capsys, "server", "roles", "--db", url, "--role", role)
            assert code == 0, err
            code, _out, err = run(capsys, "init", "--db", url)
            assert code == 0, err
            pc = make_url(url).set(username=role, password=PC_PASSWORD).render_as_string(hide_password=False)
            for i, nid in enumerate(("03000000001", "03000000002")):
                code, _out, err = run(capsys, "person", "add", "--db", pc, "--name", name(i), "--national-id", nid)
                assert code == 0, err
            assert server_sql(url, "SELECT count(DISTINCT search_rowid) FROM persons") == [(2,)]
    finally:
        _admin(f'DROP ROLE IF EXISTS "{role}"')
