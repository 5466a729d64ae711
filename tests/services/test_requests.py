"""Requests to a supervisor through the services: a clerk asks with a reason, a supervisor approves (the action is done
as the supervisor) or refuses with a note; a clerk cannot decide; the second decision is told; stale requests close."""

from __future__ import annotations

from dataclasses import replace

import pytest
from openpyxl import load_workbook

from aidoffice.domain.persons import PersonInput
from aidoffice.errors import LostUpdateError, PermissionDeniedError, UserError
from aidoffice.services import requests
from aidoffice.services.aid import (
    AlreadyReceivedError,
    add_distribution_line,
)
from aidoffice.services.persons import add_person, get_person, update_person
from aidoffice.services.review import decide_distinct, get_review_pair
from aidoffice.store import models as m
from tests.helpers.databases import address
from tests.helpers.requests import household_that_received, open_pair


def as_role(ctx, username, role):
    return replace(ctx, username=username, role=role)


@pytest.fixture
def people(ctx):
    return (
        as_role(ctx, "clerk1", "clerk"),
        as_role(ctx, "super1", "supervisor"),
        as_role(ctx, "super2", "supervisor"),
    )


@pytest.fixture
def received(ctx):
    return household_that_received(ctx)


def _lines(ctx, distribution_id):
    with ctx.uow() as uow:
        return [
            (ln.override_reason, ln.overridden_by)
            for ln in uow.repo.all(m.DistributionLine, distribution_id=distribution_id)
        ]


def _audit_actions(ctx, request_id):
    with ctx.uow() as uow:
        return [e.action for e in uow.repo.all(m.AuditEntry, entity_id=request_id, order_by=m.AuditEntry.seq)]


def test_a_clerk_asks_and_the_supervisor_approves_the_line_is_kept_with_the_reason(ctx, people, received):
    clerk, supervisor, _ = people
    head, later = received
    with pytest.raises(AlreadyReceivedError):
        add_distribution_line(clerk, later, person_id=head.id)
    with pytest.raises(PermissionDeniedError):
        add_distribution_line(clerk, later, person_id=head.id, override_reason="أسرة نازحة")

    asked = requests.request_keep_already_received(clerk, later, person_id=head.id, reason="  أسرة نازحة فقدت مسكنها ")
    assert (asked.status, asked.reason, asked.requested_by) == ("pending", "أسرة نازحة فقدت مسكنها", "clerk1")
    assert "سالم عوض بامطرف" in asked.summary and "20/03/2026" in asked.summary
    with pytest.raises(UserError, match="طلب مماثل"):  # pressing twice sends one request
        requests.request_keep_already_received(clerk, later, person_id=head.id, reason="مرة أخرى")
    assert [r.id for r in requests.list_requests(supervisor, "queue")] == [asked.id]
    assert requests.list_requests(clerk, "queue") == []  # a clerk has no queue
    work = requests.requests_work(supervisor)
    assert work.count == 1 and "clerk1" in work.lines[0]

    done = requests.approve_request(supervisor, asked.id, "موافق")
    assert (done.status, done.decided_by, done.note) == ("approved", "super1", "موافق")
    assert "أُبقي في الكشف" in done.outcome
    assert _lines(ctx, later) == [("أسرة نازحة فقدت مسكنها", "super1")]
    assert requests.list_requests(supervisor, "queue") == []

    mine = requests.list_requests(clerk, "mine")
    assert [(r.id, r.status, r.seen) for r in mine] == [(asked.id, "approved", False)]
    news = requests.requests_work(clerk)
    assert news.count == 1 and news.lines[0].startswith("✔ وافق عليه المشرف")
    assert requests.mark_seen(clerk) == 1
    assert requests.requests_work(clerk) is None
    assert _audit_actions(ctx, asked.id)[:3] == ["create", "request", "request_approved"]


def test_a_clerk_cannot_decide_nor_decide_their_own(ctx, people, received, tmp_path):
    clerk, supervisor, _ = people
    head, later = received
    asked = requests.request_keep_already_received(clerk, later, person_id=head.id, reason="أسرة نازحة")
    for decide in (
        lambda: requests.approve_request(clerk, asked.id),
        lambda: requests.refuse_request(clerk, asked.id, "لا"),
    ):
        with pytest.raises(PermissionDeniedError, match="إبقاء من استلم"):
            decide()
    assert requests.get_request(supervisor, asked.id).status == "pending" and _lines(ctx, later) == []
    # a supervisor's own request (as they may have sent one while a clerk) waits for another supervisor
    own = requests.request_export(supervisor, "persons", tmp_path / "own.xlsx", reason="تقرير")
    with pytest.raises(UserError, match="بنفسه"):
        requests.approve_request(supervisor, own.id)
    with pytest.raises(UserError, match="سبب"):
        requests.request_merge(clerk, "x", reason="   ")


def test_a_refusal_carries_the_note_and_changes_nothing(ctx, people, received):
    clerk, supervisor, _ = people
    head, later = received
    asked = requests.request_keep_already_received(clerk, later, person_id=head.id, reason="أسرة نازحة")
    with pytest.raises(UserError, match="سبب الرفض"):
        requests.refuse_request(supervisor, asked.id, "  ")
    assert requests.get_request(clerk, asked.id).status == "pending"
    refused = requests.refuse_request(supervisor, asked.id, "استلمت الأسرة سلتها هذا الشهر من جمعية أخرى")
    assert (refused.status, refused.decided_by) == ("refused", "super1") and _lines(ctx, later) == []
    news = requests.requests_work(clerk)
    assert news.lines[0].startswith("✘ رفضه المشرف") and "من جمعية أخرى" in news.lines[0]


def test_the_second_decision_is_told_it_was_already_decided(ctx, people, received, tmp_path):
    clerk, first, second = people
    head, later = received
    asked = requests.request_keep_already_received(clerk, later, person_id=head.id, reason="أسرة نازحة")
    # the second supervisor on another connection to the same file (another PC on a shared folder, another window)
    from aidoffice.services.context import open_context

    other = open_context(address(ctx), username="super2")
    other.role = "supervisor"
    try:
        requests.approve_request(first, asked.id)
        for decide in (
            lambda: requests.approve_request(other, asked.id),
            lambda: requests.refuse_request(other, asked.id, "لا"),
        ):
            with pytest.raises(UserError, match=r"تم البت في هذا الطلب من قبل: وافق عليه المشرف ونُفّذ \(super1"):
                decide()
        # both read it pending at once: the compare-and-set lets one through and tells the other
        late = requests.request_keep_already_received(clerk, later, household_id=None, person_id=head.id, reason="ثانٍ")
        requests._claim(first, late.id, requests.RequestStatus.REFUSED, "لا")
        with pytest.raises(UserError, match=r"رفضه المشرف \(super1"):
            requests._claim(second, late.id, requests.RequestStatus.APPROVED, "")
    finally:
        other.close()
    assert _lines(ctx, later) == [("أسرة نازحة", "super1")]  # one line, never two


def test_a_merge_request_is_merged_by_the_supervisor(ctx, people):
    clerk, supervisor, _ = people
    pair = open_pair(ctx)
    asked = requests.request_merge(clerk, pair.id, survivor="b", take_from_other=("full_name",), reason="نفس البطاقة")
    a_name, b_name = pair.a.values["full_name"], pair.b.values["full_name"]
    assert asked.summary.endswith(f"يبقى سجل «{b_name}»")
    done = requests.approve_request(supervisor, asked.id)
    assert done.status == "approved" and "دُمج السجلان" in done.outcome
    with ctx.uow() as uow:
        merged = uow.repo.get(m.Person, pair.a.id)
        kept = uow.repo.get(m.Person, pair.b.id)
        assert merged.merged_into_id == kept.id and kept.full_name == a_name
        assert uow.repo.first(m.PersonMerge, pair_id=pair.id).changed_by == "super1"


def test_a_merge_request_of_a_record_changed_since_it_was_shown_is_not_sent(ctx, people):
    """The approval merges at the versions the request carries: they are those the clerk saw side by side, not
    those read when the request is sent (a correction in between would be merged away unseen)."""
    clerk, supervisor, _ = people
    pair = open_pair(ctx)
    shown = (pair.a.version, pair.b.version)
    person = get_person(ctx, pair.b.id)
    changed = PersonInput(full_name=person.full_name, national_id="02020012345", sex="أنثى", notes="أرملة، تعول ٤")
    update_person(ctx, pair.b.id, changed, expected_version=shown[1])  # another clerk adds a note meanwhile
    with pytest.raises(LostUpdateError) as told:
        requests.request_merge(clerk, pair.id, reason="نفس البطاقة", expected_versions=shown)
    assert told.value.fields and requests.list_requests(clerk, "mine") == []
    # shown again, the clerk asks on purpose: sent, at the versions now shown
    again = get_review_pair(ctx, pair.id)
    asked = requests.request_merge(
        clerk, pair.id, reason="نفس البطاقة", expected_versions=(again.a.version, again.b.version)
    )
    assert requests.approve_request(supervisor, asked.id).status == "approved"


def test_requests_for_records_deleted_or_changed_meanwhile_close_with_a_reason(ctx, people, received):
    clerk, supervisor, _ = people
    head, later = received
    pair = open_pair(ctx)
    merge = requests.request_merge(clerk, pair.id, reason="نفس البطاقة")
    keep = requests.request_keep_already_received(clerk, later, person_id=head.id, reason="أسرة نازحة")
    with ctx.uow() as uow:  # a new scan no longer finds the pair: it leaves the queue
        uow.repo.drop_open_pairs([pair.id])
        uow.commit()
    update_person(ctx, head.id, PersonInput(full_name="سالم عوض سالم بامطرف", national_id="01010012345"))

    closed = requests.approve_request(supervisor, merge.id)
    assert closed.status == "closed" and closed.outcome.startswith("لم يعد الزوج في قائمة المراجعة")
    assert "دمج زوج لم يعد" in closed.summary
    changed = requests.approve_request(supervisor, keep.id)
    assert changed.status == "closed" and changed.outcome.startswith("تغيّر سجل المستفيد بعد الطلب")
    assert _lines(ctx, later) == []
    assert _audit_actions(ctx, keep.id)[-1] == "request_closed"
    # the clerk reads why
    assert all(r.status == "closed" for r in requests.list_requests(clerk, "mine"))
    assert requests.requests_work(clerk).count == 2


def test_a_pair_decided_meanwhile_and_a_line_added_meanwhile_close_the_request(ctx, people, received):
    clerk, supervisor, _ = people
    head, later = received
    pair = open_pair(ctx)
    merge = requests.request_merge(clerk, pair.id, reason="نفس البطاقة")
    decide_distinct(supervisor, pair.id)
    assert requests.approve_request(supervisor, merge.id).outcome == "تم البت في هذا الزوج بعد الطلب."
    keep = requests.request_keep_already_received(clerk, later, person_id=head.id, reason="أسرة نازحة")
    add_distribution_line(supervisor, later, person_id=head.id, override_reason="قرار مباشر")
    closed = requests.approve_request(supervisor, keep.id)
    assert closed.status == "closed" and "مدرجة في كشف هذا التوزيع بالفعل" in closed.outcome
    assert len(_lines(ctx, later)) == 1


def test_an_export_request_writes_the_file_when_approved(ctx, people, received, tmp_path):
    clerk, supervisor, _ = people
    target = tmp_path / "out" / "persons.xlsx"
    with pytest.raises(UserError, match="المجلد غير موجود"):
        requests.request_export(clerk, "persons", target, reason="قائمة للجمعية")
    target.parent.mkdir()
    with pytest.raises(UserError, match="xlsx"):
        requests.request_export(clerk, "persons", target.with_suffix(".csv"), reason="قائمة للجمعية")
    asked = requests.request_export(clerk, "persons", target, reason="قائمة للجمعية")
    assert not target.exists()
    done = requests.approve_request(supervisor, asked.id)
    assert done.status == "approved" and "persons.xlsx" in done.outcome
    sheet = load_workbook(target).active
    assert sheet.max_row == 2 and sheet.cell(2, 1).value == "سالم عوض بامطرف"
    with ctx.uow() as uow:
        assert uow.repo.first(m.AuditEntry, action="export").username == "super1"
    # a folder removed before the decision: closed, said, nothing written
    gone = tmp_path / "gone"
    gone.mkdir()
    again = requests.request_export(clerk, "households", gone / "households.xlsx", reason="ثانية")
    gone.rmdir()
    closed = requests.approve_request(supervisor, again.id)
    assert closed.status == "closed" and "المجلد غير موجود" in closed.outcome


def test_the_view_on_screen_is_exported_as_the_clerk_saw_it_when_approved(ctx, people, received, tmp_path):
    """A clerk's filtered, sorted list (search, a header filter, the order) goes to the supervisor as a request;
    approved, the file holds exactly that view."""
    from datetime import date

    from aidoffice.services.tables import ColumnFilter, TableQuery, page_rows

    clerk, supervisor, _ = people
    for name, year in (("مبارك سعيد عمر بامطرف", 1990), ("صالح سعيد عمر بامطرف", 1970)):
        add_person(supervisor, PersonInput(full_name=name, birth_year=year))
    query = TableQuery(text="بامطرف", sort="full_name", descending=True,
                       columns={"full_name": ColumnFilter("contains", "سعيد", "سعيد")})  # fmt: skip
    seen = [r.values[0] for r in page_rows(clerk, "persons", query, 0, 50)]
    assert len(seen) == 2
    target = tmp_path / "view.xlsx"
    asked = requests.request_export_view(clerk, "persons", query, target, reason="كشف للجمعية")
    assert "كما عُرضت" in asked.summary and not target.exists()
    done = requests.approve_request(supervisor, asked.id)
    assert done.status == "approved"
    rows = [r[0] for r in load_workbook(target).active.iter_rows(min_row=2, values_only=True)]
    assert rows == seen
    with_date = TableQuery(columns={"d": ColumnFilter("is", date(2026, 1, 2))})
    assert requests.query_from_dict(requests.query_to_dict(with_date)).columns["d"].value == date(2026, 1, 2)


def test_a_record_changed_between_the_approvals_check_and_the_merge_is_not_merged(ctx, people, monkeypatch):
    """The approval reads the request's saved versions in one transaction and merges in the next: a record saved
    in between must refuse the merge (it was merged over, keeping values nobody looked at)."""
    clerk, supervisor, _ = people
    pair = open_pair(ctx)
    merge = requests.request_merge(clerk, pair.id, reason="نفس البطاقة")
    real = requests._gone_or_changed

    def checked_then_changed(uow, kind, payload):
        stale = real(uow, kind, payload)
        with ctx.uow() as other:  # another clerk's save lands right after the check
            person = other.records.get(m.Person, pair.b.id)
            person.phone = "777000111"
            other.commit()
        return stale

    monkeypatch.setattr(requests, "_gone_or_changed", checked_then_changed)
    closed = requests.approve_request(supervisor, merge.id)
    assert closed.status == "closed" and "لم يُنفَّذ" in closed.outcome, closed.outcome
    with ctx.uow() as uow:
        assert uow.records.first(m.PersonMerge, pair_id=pair.id) is None
