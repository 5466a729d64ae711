"""Two clerks at once on one database (real threads, two contexts): "already received", the duplicate check on entry
and edit forms' versions hold when both act in the same moment, on a SQLite file and on PostgreSQL."""

from __future__ import annotations

import contextlib
import threading
from datetime import date

import pytest

from aidoffice.domain.persons import PersonInput
from aidoffice.errors import LikelyDuplicateError, LostUpdateError
from aidoffice.services import aid, associations, persons
from aidoffice.services.aid import AlreadyReceivedError, DistributionInput, ProjectInput
from aidoffice.services.associations import AssociationInput, get_association, register_association
from aidoffice.services.context import ServiceContext, open_context
from aidoffice.services.duplicates import frequencies
from aidoffice.services.persons import add_person, create_household, get_person
from aidoffice.store import locks
from aidoffice.store import models as m
from aidoffice.store.uow import UnitOfWork

SALEM = dict(
    full_name="سالم عوض سعيد بامطرف",
    national_id="01010012345",
    birth_year="1980",
    sex="ذكر",
    district="المكلا",
    phone="777123456",
)


@pytest.fixture
def clerks(ctx, monkeypatch):
    """Two more contexts on the same database, as two clerks' PCs: a wait for the write lock long enough for the
    other clerk's whole save (the tests' 300 ms would turn a wait into a refusal)."""
    monkeypatch.setenv("AIDOFFICE_BUSY_TIMEOUT_MS", "20000")
    where = ctx.db.path if ctx.db.path is not None else ctx.db.engine.url.render_as_string(hide_password=False)
    opened = [open_context(where, username=name) for name in ("clerk1", "clerk2")]
    yield opened
    for clerk in opened:
        clerk.close()


class Meet:
    """Each clerk, once past the check, waits a moment for the other to be past theirs too. Without a lock both get
    there and go on together: the race, every time. With it, the other is still waiting for the lock, the wait ends
    (the barrier breaks) and this clerk saves alone."""

    def __init__(self, wait: float = 1.0) -> None:
        self.barrier = threading.Barrier(2)
        self.wait = wait

    def __call__(self) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            self.barrier.wait(self.wait)


def after(module, name: str, meet: Meet, monkeypatch) -> None:
    """`module.name` (the check) runs as before, then meets the other clerk."""
    original = getattr(module, name)

    def checked(*args, **kwargs):
        result = original(*args, **kwargs)
        meet()
        return result

    monkeypatch.setattr(module, name, checked)


def at_once(*calls) -> list:
    """Each call on a thread of its own, started together; each one's result or the error it raised."""
    start = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(i: int, call) -> None:
        start.wait()
        try:
            results[i] = call()
        except Exception as exc:  # the outcome under test, looked at by the caller
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


def without_locks(monkeypatch) -> None:
    """The code as it was before the locks: deferred units of work, no advisory lock."""
    monkeypatch.setattr(locks, "lock_keys", lambda session, keys: None)
    monkeypatch.setattr(ServiceContext, "uow", lambda self, **_kw: UnitOfWork(self.db, actor=self.username))


# --- "already received" ----------------------------------------------------------------------------------------


@pytest.fixture
def two_rounds(ctx):
    """One household, and two rounds of the same aid type by two associations on the same day."""
    head = add_person(ctx, PersonInput(full_name="سالم عوض بامطرف"))
    household = create_household(ctx, head.id)
    rounds = []
    for name, number in (("جمعية الإحسان", "55/2015"), ("جمعية البر", "56/2015")):
        assoc = register_association(ctx, AssociationInput(name=name, registration_number=number))
        project = aid.create_project(ctx, ProjectInput(association_id=assoc.id, title="سلال", aid_type="food_basket"))
        rounds.append(
            aid.create_distribution(ctx, DistributionInput(project_id=project.id, distribution_date=date.today())).id
        )
    return household.id, rounds


def _add_both(clerks, household_id, rounds):
    calls = [
        lambda c=c, r=r: aid.add_distribution_line(c, r, household_id=household_id)
        for c, r in zip(clerks, rounds, strict=True)
    ]
    return at_once(*calls)


def test_two_clerks_adding_one_household_to_two_rounds_of_one_aid_type_one_is_refused(
    ctx, clerks, two_rounds, monkeypatch
):
    household_id, rounds = two_rounds
    after(aid, "_already", Meet(), monkeypatch)
    results = _add_both(clerks, household_id, rounds)
    kept = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(kept) == 1 and not kept[0].reason
    assert len(refused) == 1 and isinstance(refused[0], AlreadyReceivedError), refused
    with ctx.uow() as uow:
        assert uow.repo.count(m.DistributionLine, household_id=household_id) == 1
        assert uow.repo.count(m.AidRefusal, household_id=household_id) == 1  # counted in the monthly report


def test_without_the_lock_the_same_race_lists_the_household_twice_or_fails(ctx, clerks, two_rounds, monkeypatch):
    """The test above catches the race: with the locks taken out, the household is listed in both rounds
    (PostgreSQL), or the second clerk's save fails on the file's lock instead of being told why (SQLite)."""
    household_id, rounds = two_rounds
    without_locks(monkeypatch)
    after(aid, "_already", Meet(), monkeypatch)
    results = _add_both(clerks, household_id, rounds)
    assert not any(isinstance(r, AlreadyReceivedError) for r in results), results
    with ctx.uow() as uow:
        lines = uow.repo.count(m.DistributionLine, household_id=household_id)
    if ctx.db.on_server:
        assert lines == 2
    else:
        assert lines == 1 and sum(isinstance(r, Exception) for r in results) == 1


# --- the duplicate check on entry ------------------------------------------------------------------------------


def _type_both(clerks):
    return at_once(*(lambda c=c: add_person(c, PersonInput(**SALEM)) for c in clerks))


def test_two_clerks_typing_the_same_new_person_at_once_save_it_once(ctx, clerks, monkeypatch):
    frequencies(ctx)  # the registry's name counts, stored once before the clerks start
    after(persons, "_entry_candidates", Meet(), monkeypatch)
    results = _type_both(clerks)
    saved = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(saved) == 1, results
    assert len(refused) == 1 and isinstance(refused[0], LikelyDuplicateError), refused
    assert [c.person_id for c in refused[0].candidates] == [saved[0].id]
    with ctx.uow() as uow:
        assert uow.repo.count(m.Person) == 1


def test_without_the_lock_both_clerks_save_the_same_person_or_one_fails(ctx, clerks, monkeypatch):
    frequencies(ctx)
    without_locks(monkeypatch)
    after(persons, "_entry_candidates", Meet(), monkeypatch)
    results = _type_both(clerks)
    assert not any(isinstance(r, LikelyDuplicateError) for r in results), results
    with ctx.uow() as uow:
        saved = uow.repo.count(m.Person)
    assert saved == (2 if ctx.db.on_server else 1)


# --- edit forms' versions --------------------------------------------------------------------------------------


def _winner_and_loser(results):
    kept = [i for i, r in enumerate(results) if not isinstance(r, Exception)]
    lost = [i for i, r in enumerate(results) if isinstance(r, Exception)]
    assert len(kept) == 1 and len(lost) == 1, results
    return kept[0], results[lost[0]]


def test_two_clerks_editing_one_person_the_second_is_told_what_the_first_changed(ctx, clerks, monkeypatch):
    person = add_person(ctx, PersonInput(**SALEM))
    opened = get_person(clerks[0], person.id).version  # both forms open the record as it is now
    edits = [PersonInput(**{**SALEM, "phone": "733000111"}), PersonInput(**{**SALEM, "notes": "أرملة تعول أيتاماً"})]
    after(persons, "check_version", Meet(), monkeypatch)
    results = at_once(
        *(
            lambda c=c, e=e: persons.update_person(c, person.id, e, expected_version=opened)
            for c, e in zip(clerks, edits, strict=True)
        )
    )
    winner, error = _winner_and_loser(results)
    assert isinstance(error, LostUpdateError), error
    assert error.fields == (("الهاتف",) if winner == 0 else ("ملاحظات",))
    assert error.by == clerks[winner].username and error.at
    assert "سجل المستفيد" in error.message and error.fields[0] in error.message
    assert error.version == opened + 1
    now = get_person(ctx, person.id)
    assert (now.phone, now.notes) == ((edits[0].phone, "") if winner == 0 else ("777123456", edits[1].notes))
    # The clerk who was told saves again on purpose, from the version the error named: it goes ahead.
    loser = 1 - winner
    persons.update_person(clerks[loser], person.id, edits[loser], expected_version=error.version)


def test_two_clerks_editing_one_association_the_second_is_told_what_the_first_changed(ctx, clerks, monkeypatch):
    base = AssociationInput(name="جمعية الإحسان", registration_number="55/2015")
    assoc = register_association(ctx, base)
    opened = get_association(clerks[1], assoc.id).version
    edits = [
        AssociationInput(name="جمعية الإحسان", registration_number="55/2015", address="المكلا — الديس"),
        AssociationInput(name="جمعية الإحسان الخيرية", registration_number="55/2015"),
    ]
    after(associations, "check_version", Meet(), monkeypatch)
    results = at_once(
        *(
            lambda c=c, e=e: associations.update_association(c, assoc.id, e, expected_version=opened)
            for c, e in zip(clerks, edits, strict=True)
        )
    )
    winner, error = _winner_and_loser(results)
    assert isinstance(error, LostUpdateError), error
    assert error.fields == (("العنوان",) if winner == 0 else ("الاسم",))
    assert error.by == clerks[winner].username
    assert "ملف الجمعية" in error.message
    assert get_association(ctx, assoc.id).name == edits[winner].name


def test_the_command_line_passes_no_version_and_is_not_checked(ctx):
    assoc = register_association(ctx, AssociationInput(name="جمعية الإحسان", registration_number="55/2015"))
    associations.update_association(ctx, assoc.id, AssociationInput(name="جمعية البر", registration_number="55/2015"))
    again = associations.update_association(
        ctx, assoc.id, AssociationInput(name="جمعية النور", registration_number="55/2015")
    )
    assert again.name == "جمعية النور" and again.version == assoc.version + 2


def test_a_referral_moved_meanwhile_refuses_the_step_chosen_on_the_old_one(ctx, clerks):
    from aidoffice.services.referrals import advance_referral, create_referral, get_referral

    assoc = register_association(ctx, AssociationInput(name="جمعية الإحسان", registration_number="55/2015"))
    person = add_person(ctx, PersonInput(full_name="سالم عوض بامطرف"))
    referral = create_referral(ctx, person.id, assoc.id, "سلة غذائية")
    opened = get_referral(clerks[1], referral.id).version
    advance_referral(clerks[0], referral.id, "accepted", expected_version=opened)
    with pytest.raises(LostUpdateError) as told:
        advance_referral(clerks[1], referral.id, "declined", note="لا تتوفر سلال", expected_version=opened)
    assert told.value.fields == ("الحالة",) and told.value.by == "clerk1" and "الإحالة" in told.value.message
    assert get_referral(ctx, referral.id).status == "accepted"


def test_a_status_change_on_an_association_file_opened_before_an_edit_is_told(ctx, clerks):
    assoc = register_association(ctx, AssociationInput(name="جمعية الإحسان", registration_number="55/2015"))
    associations.update_association(
        clerks[0],
        assoc.id,
        AssociationInput(name="جمعية الإحسان", registration_number="55/2015", phone="777123456"),
        expected_version=assoc.version,
    )
    with pytest.raises(LostUpdateError, match="الهاتف"):
        associations.change_association_status(
            clerks[1], assoc.id, "suspended", reason="لم تسلم التقارير", expected_version=assoc.version
        )


def test_settings_forms_check_the_version_of_the_office_and_of_each_aid_window(ctx, clerks):
    from aidoffice.services.office import get_office, initialise_office, list_aid_types, set_aid_window

    shown = {t.code: t.version for t in list_aid_types(clerks[1])}
    set_aid_window(clerks[0], "food_basket", "days", "45", expected_version=shown["food_basket"])
    with pytest.raises(LostUpdateError) as told:
        set_aid_window(clerks[1], "food_basket", "month", expected_version=shown["food_basket"])
    assert "نوع المساعدة" in told.value.message and told.value.by == "clerk1"
    assert {"فترة عدم التكرار", "أيام الفترة"} <= set(told.value.fields)
    set_aid_window(clerks[1], "cash", "month", expected_version=shown["cash"])  # another type: no conflict

    office = get_office(clerks[1])
    initialise_office(clerks[0], name="مكتب أبين", expected_version=office.version)
    with pytest.raises(LostUpdateError, match="بيانات المكتب"):
        initialise_office(clerks[1], office_code="ABY-01", expected_version=office.version)


def test_two_clerks_registering_the_same_family_at_once_save_its_head_once(ctx, clerks, monkeypatch):
    from aidoffice.domain.vocab import Relation
    from aidoffice.services.persons import FamilyDuplicateError, FamilyMember, register_family

    frequencies(ctx)
    after(persons, "_entry_candidates", Meet(), monkeypatch)
    family = [FamilyMember(Relation.HEAD.value, PersonInput(**SALEM))]
    results = at_once(*(lambda c=c: register_family(c, family) for c in clerks))
    saved = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(saved) == 1 and len(refused) == 1 and isinstance(refused[0], FamilyDuplicateError), results
    assert refused[0].row == 0
    with ctx.uow() as uow:
        assert uow.repo.count(m.Person) == 1 and uow.repo.count(m.Household) == 1


def test_a_change_of_categories_alone_is_a_new_version_a_stale_form_cannot_undo(ctx):
    """Categories live in a link table: a save that changes only them must still move the version, or a form opened
    before it would save the old categories back without a word (same user, so nothing else on the row changes)."""
    person = add_person(ctx, PersonInput(**SALEM))
    opened = get_person(ctx, person.id).version
    persons.update_person(
        ctx, person.id, PersonInput(**{**SALEM, "categories": ("disability",)}), expected_version=opened
    )
    assert get_person(ctx, person.id).categories == ("disability",)
    with pytest.raises(LostUpdateError):
        persons.update_person(ctx, person.id, PersonInput(**{**SALEM, "notes": "زيارة"}), expected_version=opened)
    assert get_person(ctx, person.id).categories == ("disability",)
