"""Edits made from a screen opened earlier check the versions it showed: an association file's visit (its follow-up
marked done) and a year's reports (a year it showed none of included), and the review page's merge of two records
shown side by side. A change another clerk saved meanwhile is refused with who changed what, never overwritten or
dropped unseen. SQLite file and PostgreSQL."""

from __future__ import annotations

import pytest

from aidoffice.domain.persons import PersonInput
from aidoffice.errors import LostUpdateError, UserError
from aidoffice.services import associations
from aidoffice.services.associations import (
    AssociationInput,
    add_field_visit,
    get_association,
    record_compliance,
    register_association,
    update_field_visit,
)
from aidoffice.services.context import open_context
from aidoffice.services.persons import add_person, get_person, update_person
from tests.helpers.legacy import entered_before_the_check
from tests.services.test_races import Meet, after, at_once


@pytest.fixture
def clerks(ctx, monkeypatch):
    """Two more contexts on the same database, as two clerks' PCs (a wait for the write lock long enough for the
    other clerk's whole save)."""
    monkeypatch.setenv("AIDOFFICE_BUSY_TIMEOUT_MS", "20000")
    where = ctx.db.path if ctx.db.path is not None else ctx.db.engine.url.render_as_string(hide_password=False)
    opened = [open_context(where, username=name) for name in ("clerk1", "clerk2")]
    yield opened
    for clerk in opened:
        clerk.close()


@pytest.fixture
def assoc(ctx):
    return register_association(ctx, AssociationInput(name="جمعية الإحسان", registration_number="55/2015"))


def _visit(ctx, association_id: str) -> str:
    return add_field_visit(
        ctx,
        association_id,
        visit_date=ctx.today(),
        visitors="لجنة المكتب",
        follow_up="تسليم كشف المستفيدين",
    )


def test_a_follow_up_changed_meanwhile_is_not_marked_done_unseen(ctx, clerks, assoc):
    visit_id = _visit(ctx, assoc.id)
    shown = {v.id: v.version for v in get_association(clerks[1], assoc.id).visits}  # clerk2's file opens
    update_field_visit(
        clerks[0], visit_id, follow_up="تسليم كشف المستفيدين والتقرير المالي", expected_version=shown[visit_id]
    )

    with pytest.raises(LostUpdateError) as told:
        update_field_visit(clerks[1], visit_id, follow_up_done=True, expected_version=shown[visit_id])
    assert told.value.fields == ("المتابعة",) and told.value.by == "clerk1"
    assert "عدّل clerk1 الزيارة الميدانية المحددة" in told.value.message
    assert not get_association(ctx, assoc.id).visits[0].follow_up_done

    # Told (and shown the new follow-up), the clerk marks it done on purpose: it goes ahead.
    update_field_visit(clerks[1], visit_id, follow_up_done=True, expected_version=told.value.version)
    visit = get_association(ctx, assoc.id).visits[0]
    assert visit.follow_up_done and visit.follow_up == "تسليم كشف المستفيدين والتقرير المالي"


def test_a_years_reports_corrected_meanwhile_are_not_written_over(ctx, clerks, assoc):
    record_compliance(ctx, assoc.id, 2024, admin_report=True, financial_report=False)
    shown = {c.year: c.version for c in get_association(clerks[1], assoc.id).compliance}
    record_compliance(clerks[0], assoc.id, 2024, admin_report=True, financial_report=True, expected_version=shown[2024])

    with pytest.raises(LostUpdateError) as told:
        record_compliance(
            clerks[1], assoc.id, 2024, admin_report=False, financial_report=False, expected_version=shown[2024]
        )
    assert told.value.fields == ("التقرير المالي",) and told.value.by == "clerk1"
    assert f"تقارير الجمعية لسنة {ctx.style.year(2024)}" in told.value.message
    (kept,) = get_association(ctx, assoc.id).compliance
    assert kept.admin_report and kept.financial_report

    record_compliance(
        clerks[1], assoc.id, 2024, admin_report=False, financial_report=False, expected_version=told.value.version
    )
    (saved,) = get_association(ctx, assoc.id).compliance
    assert not saved.admin_report and not saved.financial_report


def test_a_year_the_file_showed_none_of_but_recorded_meanwhile_is_refused(ctx, clerks, assoc):
    shown = {c.year: c.version for c in get_association(clerks[1], assoc.id).compliance}
    assert 2024 not in shown
    record_compliance(clerks[0], assoc.id, 2024, admin_report=True, financial_report=True, expected_version=0)

    with pytest.raises(LostUpdateError) as told:
        record_compliance(
            clerks[1], assoc.id, 2024, admin_report=True, financial_report=False, expected_version=shown.get(2024, 0)
        )
    assert told.value.by == "clerk1"
    assert get_association(ctx, assoc.id).compliance[0].financial_report
    # Another year the file showed none of is no conflict.
    record_compliance(clerks[1], assoc.id, 2023, admin_report=True, financial_report=False, expected_version=0)


def test_two_clerks_recording_the_same_new_year_at_once_one_is_told(ctx, clerks, assoc, monkeypatch):
    """Both files showed no reports for 2024 and both save at once: the second waits for the first, then is told
    (without the lock both find no row and both insert: the second fails on the unique year, or is overwritten)."""
    after(associations, "_load", Meet(), monkeypatch)
    results = at_once(
        *[
            lambda c=c, done=done: record_compliance(
                c, assoc.id, 2024, admin_report=True, financial_report=done, expected_version=0
            )
            for c, done in zip(clerks, (True, False), strict=True)
        ]
    )
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], LostUpdateError), results
    (kept,) = get_association(ctx, assoc.id).compliance
    assert kept.financial_report == (results[0] is None)  # the one saved is the one not refused


def test_the_command_line_passes_no_version_and_is_not_checked(ctx, assoc):
    visit_id = _visit(ctx, assoc.id)
    update_field_visit(ctx, visit_id, findings="المقر مغلق")
    update_field_visit(ctx, visit_id, follow_up_done=True)
    record_compliance(ctx, assoc.id, 2024, admin_report=True, financial_report=False)
    record_compliance(ctx, assoc.id, 2024, admin_report=True, financial_report=True)
    record = get_association(ctx, assoc.id)
    assert record.visits[0].follow_up_done and record.visits[0].findings == "المقر مغلق"
    assert record.compliance[0].financial_report and record.compliance[0].version == 2


# --- the review page's merge: two records shown side by side ---------------------------------------------------

SALEM = dict(
    full_name="سالم عوض سعيد بامطرف", national_id="01010012345", birth_year="1980", sex="ذكر", district="المكلا"
)


@pytest.fixture
def pair(ctx):
    """An open pair as an upgraded office's registry holds them (the second entered before the check on entry)."""
    from aidoffice.services.duplicates import scan_registry
    from aidoffice.services.review import review_queue

    add_person(ctx, PersonInput(**SALEM))
    entered_before_the_check(ctx, PersonInput(**{**SALEM, "full_name": "سالم عوض بامطرف", "phone": "777123456"}))
    scan_registry(ctx)
    (found,) = review_queue(ctx)
    return found


def test_a_merge_of_a_record_changed_since_the_pair_was_shown_is_refused(ctx, clerks, pair):
    from aidoffice.services.review import get_review_pair, merge_pair, review_queue

    shown = get_review_pair(clerks[1], pair.id)  # the reviewer's page
    other = get_person(ctx, shown.b.id)
    update_person(  # meanwhile a clerk adds the birth date to record b
        clerks[0],
        other.id,
        PersonInput(**{**SALEM, "full_name": other.full_name, "phone": other.phone, "birth_date": "15/03/1980"}),
        expected_version=other.version,
    )
    seen = (shown.a.version, shown.b.version)

    with pytest.raises(LostUpdateError) as told:
        merge_pair(clerks[1], pair.id, survivor="a", expected_versions=seen)
    assert told.value.fields == ("تاريخ الميلاد",) and told.value.by == "clerk1"
    assert "سجل المستفيد" in told.value.message
    assert [p.id for p in review_queue(ctx)] == [pair.id]  # nothing merged: the pair still waits
    assert get_person(ctx, shown.b.id).birth_date is not None

    again = get_review_pair(clerks[1], pair.id)  # shown again, with the change: the merge goes ahead
    assert again.b.values["birth_date"] == "15/03/1980"
    merge_pair(
        clerks[1],
        pair.id,
        survivor="a",
        take_from_other=("birth_date",),
        expected_versions=(again.a.version, again.b.version),
    )
    assert str(get_person(ctx, shown.a.id).birth_date) == "1980-03-15"


def test_a_pair_closed_by_another_merge_while_this_one_waited_is_said_decided(ctx, clerks, monkeypatch):
    """Two reviewers merge two pairs sharing one person at once: the second, having found its pair open, waits for
    that person's lock while the first merges the person away; it must read its pair again after the wait and say
    it was decided (on a server it went on with a pair no longer open and was stopped only later, by a "changed by"
    or "already merged" refusal: not the true answer)."""
    import threading

    from aidoffice.services.duplicates import scan_registry
    from aidoffice.services.review import merge_pair, review_queue
    from aidoffice.store.repositories import Records

    entered_before_the_check(ctx, PersonInput(**SALEM))
    entered_before_the_check(ctx, PersonInput(**{**SALEM, "full_name": "سالم عوض بامطرف", "phone": "777123456"}))
    entered_before_the_check(ctx, PersonInput(**{**SALEM, "full_name": "سالم عوض سعيد بامطرف", "phone": "777123456"}))
    scan_registry(ctx)
    pairs = review_queue(ctx)
    first, second = next((x, y) for x in pairs for y in pairs if x.id != y.id and {x.a.id, x.b.id} & {y.a.id, y.b.id})
    shared = ({first.a.id, first.b.id} & {second.a.id, second.b.id}).pop()
    keep_first = "b" if first.a.id == shared else "a"  # the first merge drops the shared person
    keep_second = "b" if second.a.id == shared else "a"

    holding, read_open = threading.Event(), threading.Event()
    real = Records.lock_records

    def lock_records(self, kind, idents):
        if kind == "persons" and threading.current_thread().name == "second":
            read_open.set()  # found its pair open; now waits for the persons, held by the first reviewer
        real(self, kind, idents)
        if kind == "persons" and threading.current_thread().name == "first":
            holding.set()
            read_open.wait(3)  # (on a file the second waits at its first statement instead: nothing to wait for)

    monkeypatch.setattr(Records, "lock_records", lock_records)
    results: dict = {}

    def run(name, clerk, pair, keep):
        try:
            results[name] = merge_pair(clerk, pair.id, survivor=keep)
        except Exception as exc:  # the outcome under test
            results[name] = exc

    one = threading.Thread(target=run, name="first", args=("first", clerks[0], first, keep_first))
    one.start()
    assert holding.wait(30)
    two = threading.Thread(target=run, name="second", args=("second", clerks[1], second, keep_second))
    two.start()
    one.join(60)
    two.join(60)
    assert isinstance(results["first"], str), results
    assert isinstance(results["second"], UserError) and "تم البت" in results["second"].message, results
    assert second.id not in [p.id for p in review_queue(ctx)]
