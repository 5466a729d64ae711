"""Many writers at once on one database (several clerks' PCs on one office server): the audit chain, the outbox's
change numbers, the clock and the search keys stay right. Real threads, each with its own context and connection."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable

import openpyxl
import pytest
from sqlalchemy import select, text

from aidoffice.domain.arabic import name_tokens, normalize_name
from aidoffice.services.associations import AssociationInput, register_association
from aidoffice.services.audit import verify_audit
from aidoffice.services.context import ServiceContext, open_context
from aidoffice.services.imports import import_beneficiaries
from aidoffice.services.persons import PersonInput, add_person
from aidoffice.store import models as m
from aidoffice.store import sync as store_sync
from aidoffice.store.base import new_id
from aidoffice.store.engine import write_lock_first
from tests.helpers.databases import new_office
from tests.helpers.postgres import fresh_database

WRITERS = 10
FIRST = ("أحمد", "سالم", "خالد", "منصور", "عمر", "ناصر", "فهد", "جمال", "رياض", "وليد", "هشام", "ياسر")
SECOND = ("عبد الرحمن", "حسين", "مبارك", "عوض", "سعيد", "صالح")
FAMILY = ("باوزير", "العمودي", "الكثيري", "بن طالب", "الجفري", "بلفقيه", "باعباد", "السقاف", "الحامد", "باسلامة")


@pytest.fixture
def office(engine, tmp_path, monkeypatch):
    """(context, address) of an initialised office on the engine under test; other contexts open the address (each
    thread its own)."""
    # Writers wait their turn here rather than give up after the tests' usual 300 ms (read when an engine is made).
    monkeypatch.setenv("AIDOFFICE_BUSY_TIMEOUT_MS", "60000")
    if engine == "sqlite":
        path = tmp_path / "office.sqlite3"
        context = new_office(path)
        yield context, str(path)
        context.close()
        return
    with fresh_database() as url:
        context = new_office(url)
        try:
            yield context, url
        finally:
            context.close()


def run_at_once(where: str, work: list[Callable[[ServiceContext], None]]) -> None:
    """Each job in a thread with a context of its own, all started together; the first failure is raised."""
    start = threading.Barrier(len(work))
    failures: list[BaseException] = []

    def run(job) -> None:
        try:
            context = open_context(where, username="tester")
            try:
                context.office_id  # noqa: B018 - read before the race, as a clerk's window has it
                start.wait()
                with write_lock_first():  # SQLite: wait at BEGIN for the other writers, as the command line does
                    job(context)
            finally:
                context.close()
        except BaseException as exc:  # handed back to the test
            failures.append(exc)
            start.abort()

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not any(t.is_alive() for t in threads), "a writer never finished"
    if failures:
        raise failures[0]


def scalars(ctx: ServiceContext, sql: str) -> list:
    with ctx.uow() as uow:
        return list(uow.session.execute(text(sql)).scalars())


def test_ten_writers_keep_the_audit_chain_and_the_clock(office):
    ctx, where = office

    def clerk(n: int) -> Callable[[ServiceContext], None]:
        def job(context: ServiceContext) -> None:
            for i, second in enumerate(SECOND[:3]):
                name = f"{FIRST[n]} {second} {FIRST[(n + i + 3) % len(FIRST)]} {FAMILY[n]}"
                person = add_person(context, PersonInput(full_name=name, national_id=f"{n + 1:02d}{i:09d}"))
                with context.uow() as uow:  # an edit: read, change, commit
                    uow.repo.get(m.Person, person.id).phone = f"77{n}{i:07d}"
                    uow.commit()

        return job

    run_at_once(where, [clerk(n) for n in range(WRITERS)])

    report = verify_audit(ctx)
    assert report.broken_at is None and not report.reason, report
    seqs = scalars(ctx, "SELECT seq FROM audit_log ORDER BY seq")
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # unique and contiguous: no rollback happened
    assert len(scalars(ctx, "SELECT id FROM persons")) == WRITERS * 3
    # One stamp per transaction, in commit order: each person's stamp is its last edit's, and those edits were
    # committed in the order of their change numbers.
    rows = scalars(
        ctx,
        "SELECT s.hlc FROM sync_stamps s JOIN (SELECT entity_id, max(change_no) AS last FROM sync_outbox "
        "WHERE entity = 'persons' GROUP BY entity_id) o ON o.entity_id = s.entity_id "
        "WHERE s.entity = 'persons' AND s.field = '' ORDER BY o.last",
    )
    assert len(rows) == WRITERS * 3
    assert all(a < b for a, b in itertools.pairwise(rows)), "stamps not strictly increasing in commit order"
    with ctx.uow() as uow:
        conn = uow.session.connection()
        assert store_sync.clock(conn) == max(rows)
        newest = store_sync.newest_change(conn)
        assert store_sync._number(conn, store_sync.STAMPED_SETTING) == newest  # every change stamped


def beneficiaries_list(path, names: list[str], first_id: int):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["الاسم الرباعي", "رقم الهوية", "الجنس", "المديرية"])
    for i, name in enumerate(names):
        ws.append([name, f"{first_id + i:011d}", "ذكر" if i % 2 else "انثى", "المكلا"])
    wb.save(path)
    return path


def test_two_imports_at_once_both_land_with_their_own_search_keys(office, tmp_path):
    ctx, where = office
    association = register_association(ctx, AssociationInput(name="جمعية الخير الخيرية", registration_number="12/2010"))
    lists = []
    for k in range(2):
        names = [
            f"{FIRST[i % len(FIRST)]} {SECOND[(i // len(FIRST)) % len(SECOND)]} {FAMILY[(i + k * 5) % len(FAMILY)]} "
            f"{FAMILY[k]}"
            for i in range(60)
        ]
        lists.append(beneficiaries_list(tmp_path / f"list{k}.xlsx", names, 30_000_000_000 + k * 1000))
    reports = []

    def importer(path) -> Callable[[ServiceContext], None]:
        return lambda context: reports.append(import_beneficiaries(context, path, association.id))

    run_at_once(where, [importer(p) for p in lists])

    assert sorted(r.imported for r in reports) == [60, 60]
    rowids = scalars(ctx, "SELECT search_rowid FROM persons")
    assert len(rowids) == 120 and len(set(rowids)) == 120 and None not in rowids
    report = verify_audit(ctx)
    assert report.broken_at is None and not report.reason, report


def test_a_late_commit_is_never_skipped_by_the_outbox(office):
    """The first writer takes its change number, a second commits meanwhile, an export reads its watermark, and only
    then does the first commit: the next export after that watermark still lists the first writer's record."""
    ctx, where = office
    first = open_context(where, username="tester")
    second = open_context(where, username="tester")
    flushed, go, second_done = threading.Event(), threading.Event(), threading.Event()
    failures: list[BaseException] = []
    late_id = new_id(first.office_id)
    second.office_id  # noqa: B018

    def late_writer() -> None:
        try:
            with first.uow() as uow:
                name, now = "سالم عوض مبارك باوزير", m.utcnow()
                # written as an import writes (Core, no audit entry of its own), under its own index key: the two
                # writers meet nowhere but in the outbox
                uow.repo.bulk_insert_persons(
                    [
                        {
                            "id": late_id,
                            "office_id": first.office_id,
                            "created_at": now,
                            "updated_at": now,
                            "changed_by": "tester",
                            "version": 1,
                            "full_name": name,
                            "name_norm": normalize_name(name),
                            "name_parts": name_tokens(name),
                            "search_rowid": 1_000_000,
                        }
                    ]
                )  # its change number is taken here
                flushed.set()
                go.wait(60)
                uow.commit()
        except BaseException as exc:
            failures.append(exc)
            flushed.set()

    def other_writer() -> None:
        try:
            with write_lock_first():
                add_person(second, PersonInput(full_name="خالد سعيد صالح العمودي"))
        except BaseException as exc:
            failures.append(exc)
        finally:
            second_done.set()

    threads = [threading.Thread(target=late_writer)]
    threads[0].start()
    try:
        assert flushed.wait(60)
        threads.append(threading.Thread(target=other_writer))
        threads[1].start()
        second_done.wait(3)  # it commits now if nothing makes it wait for the first (no assertion on time)
        with ctx.uow() as uow:  # the export's watermark, read between the two commits
            conn = uow.session.connection()
            watermark = store_sync.newest_change(conn)
            sent = store_sync.changed_ids(conn, 0, watermark, ("persons",), local_only=True).get("persons", [])
    finally:
        go.set()
        for t in threads:
            t.join(60)
        first.close()
        second.close()
    if failures:
        raise failures[0]
    with ctx.uow() as uow:
        conn = uow.session.connection()
        later = store_sync.changed_ids(conn, watermark, store_sync.newest_change(conn), ("persons",), local_only=True)
        persons = set(uow.session.scalars(select(m.Person.id)))
        stamped = set(
            uow.session.execute(
                text("SELECT entity_id FROM sync_stamps WHERE entity = 'persons' AND field = ''")
            ).scalars()
        )
    assert late_id in persons
    assert late_id in set(sent) | set(later.get("persons", [])), "the late commit was skipped for good"
    assert persons <= set(sent) | set(later.get("persons", []))
    assert late_id in stamped, "the late commit's change was never stamped"


def test_readers_never_wait_and_a_writer_waits_only_the_busy_timeout(office, engine, monkeypatch):
    """Another PC holds the write lock (mid-import): this PC still reads, and its save gives up after the busy
    timeout with the Arabic 'busy' message, having written nothing. On a server the lock is the writers' advisory
    lock; on a file it is SQLite's own (another program's BEGIN IMMEDIATE; WAL lets readers through)."""
    import sqlite3

    from sqlalchemy import create_engine

    from aidoffice.errors import StorageError
    from aidoffice.store import dialect

    first, where = office
    before = add_person(first, PersonInput(full_name="هدى سالم باوزير"))
    monkeypatch.setenv("AIDOFFICE_BUSY_TIMEOUT_MS", "300")
    ctx = open_context(where, username="tester")  # this PC's program, started with the short timeout
    try:
        if engine == "postgresql":
            other_pc = create_engine(ctx.db.engine.url)
            holder = other_pc.connect()  # a transaction of its own, left open while this PC works
            holder.exec_driver_sql(f"SELECT pg_advisory_xact_lock({dialect.WRITER_LOCK_KEY})")
            release = lambda: (holder.rollback(), holder.close(), other_pc.dispose())  # noqa: E731
        else:
            holder = sqlite3.connect(where, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            release = lambda: (holder.execute("ROLLBACK"), holder.close())  # noqa: E731
        try:
            with ctx.uow() as uow:
                assert uow.repo.get(m.Person, before.id) is not None
            with pytest.raises(StorageError, match="مشغولة"):
                add_person(ctx, PersonInput(full_name="خالد سعيد صالح العمودي"))
        finally:
            release()
        assert len(scalars(ctx, "SELECT id FROM persons")) == 1
        add_person(ctx, PersonInput(full_name="خالد سعيد صالح العمودي"))  # the lock is free again
        assert len(scalars(ctx, "SELECT id FROM persons")) == 2
    finally:
        ctx.close()


def test_a_record_lock_held_by_a_stalled_pc_is_waited_for_only_the_busy_timeout(office, engine, monkeypatch):
    """A PC that went to sleep holding a household's lock: another clerk's save of that household waits the busy
    timeout, then reads the Arabic "busy" — never an endless wait (the server's own lock_timeout is 0)."""
    import sqlite3

    from sqlalchemy import create_engine

    from aidoffice.errors import StorageError
    from aidoffice.store import locks

    _first, where = office
    monkeypatch.setenv("AIDOFFICE_BUSY_TIMEOUT_MS", "300")
    ctx = open_context(where, username="tester")
    try:
        if engine == "postgresql":
            other_pc = create_engine(ctx.db.engine.url)
            holder = other_pc.connect()
            holder.exec_driver_sql(f"SELECT pg_advisory_xact_lock({locks.key_for('households', 'h-1')})")
            release = lambda: (holder.rollback(), holder.close(), other_pc.dispose())  # noqa: E731
        else:
            holder = sqlite3.connect(where, isolation_level=None)
            holder.execute("BEGIN IMMEDIATE")
            release = lambda: (holder.execute("ROLLBACK"), holder.close())  # noqa: E731
        outcome: list[BaseException | None] = []

        def save() -> None:
            try:
                with ctx.uow() as uow:
                    uow.records.lock_records("households", ["h-1"])
                outcome.append(None)
            except BaseException as exc:
                outcome.append(exc)

        try:
            clerk = threading.Thread(target=save, daemon=True)
            clerk.start()
            clerk.join(60)  # a liveness bound, not a timing: without a lock_timeout the wait never ends
            assert not clerk.is_alive(), "the clerk is still waiting for the stalled PC's lock"
        finally:
            release()
        assert isinstance(outcome[0], StorageError) and "مشغولة" in outcome[0].message, outcome
        with ctx.uow() as uow:  # free again: taken at once
            uow.records.lock_records("households", ["h-1"])
    finally:
        ctx.close()
