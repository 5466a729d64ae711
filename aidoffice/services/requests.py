"""Requests to a supervisor: what a clerk may not do alone, asked with a reason, approved (and then done, as the
approver, through the usual service) or refused with a note; the clerk sees the outcome."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from aidoffice.domain.access import Permission, refusal
from aidoffice.domain.arabic import clean_text
from aidoffice.domain.display import DisplayStyle
from aidoffice.domain.vocab import DistributionStatus
from aidoffice.errors import NotFoundError, PermissionDeniedError, UserError
from aidoffice.services.context import STYLE_SETTING, ServiceContext
from aidoffice.services.home import SHOWN, WorkItem
from aidoffice.services.tables import TABLES, TableQuery, query_from_dict, query_to_dict
from aidoffice.store import models as m
from aidoffice.store.base import utcnow
from aidoffice.store.uow import UnitOfWork

log = logging.getLogger("aidoffice.requests")


class RequestKind(StrEnum):
    KEEP_ALREADY_RECEIVED = "keep_already_received"
    MERGE = "merge"
    EXPORT = "export"


class RequestStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"
    CLOSED = "closed"  # approved, but the record was deleted or changed meanwhile (or the action failed): not done


# Who may decide a request is whoever may do the thing asked.
PERMISSION = {
    RequestKind.KEEP_ALREADY_RECEIVED: Permission.OVERRIDE_ALREADY_RECEIVED,
    RequestKind.MERGE: Permission.DECIDE_DUPLICATES,
    RequestKind.EXPORT: Permission.EXPORT,
}
KIND_LABELS = {
    RequestKind.KEEP_ALREADY_RECEIVED: "إبقاء من استلم من قبل في الكشف",
    RequestKind.MERGE: "دمج سجلين مكررين",
    RequestKind.EXPORT: "تصدير قائمة",
}
STATUS_LABELS = {
    RequestStatus.PENDING: "بانتظار المشرف",
    RequestStatus.APPROVED: "وافق عليه المشرف ونُفّذ",
    RequestStatus.REFUSED: "رفضه المشرف",
    RequestStatus.CLOSED: "أُغلق دون تنفيذ",
}
SCOPES = ("queue", "mine", "all")


@dataclass(frozen=True)
class RequestRecord:
    id: str
    kind: str
    summary: str  # what is asked, in words (names the person or the list: shown only on screen)
    reason: str
    requested_by: str
    requested_at: datetime
    status: str
    decided_by: str | None
    decided_at: datetime | None
    note: str
    outcome: str
    seen: bool

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[RequestKind(self.kind)]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[RequestStatus(self.status)]


# --- describing ---------------------------------------------------------------------------------------------------


def _name(uow: UnitOfWork, person_id: str | None) -> str:
    person = uow.records.get(m.Person, person_id) if person_id else None
    return person.full_name if person is not None else "(سجل محذوف)"


def _style(uow: UnitOfWork) -> DisplayStyle:
    return DisplayStyle.from_dict(uow.settings.setting(STYLE_SETTING))


def _summary(uow: UnitOfWork, request: m.Request) -> str:
    p = request.payload or {}
    if request.kind == RequestKind.KEEP_ALREADY_RECEIVED:
        dist = uow.records.get(m.Distribution, p.get("distribution_id", ""))
        where = (
            f"كشف {_style(uow).date(dist.distribution_date)} — {dist.aid_type.name} — {dist.project.association.name}"
            if dist is not None
            else "كشف محذوف"
        )
        who = _name(uow, p.get("person_id")) if p.get("person_id") else "الأسرة"
        return f"إبقاء {who} في {where}"
    if request.kind == RequestKind.MERGE:
        pair = uow.records.get(m.DuplicatePair, p.get("pair_id", ""))
        if pair is None:
            return "دمج زوج لم يعد في قائمة المراجعة"
        a, b = _name(uow, pair.person_a_id), _name(uow, pair.person_b_id)
        keep = a if p.get("survivor") == "a" else b
        return f"دمج «{a}» و«{b}» — يبقى سجل «{keep}»"
    from aidoffice.services.exports import EXPORTS

    title = EXPORTS.get(p.get("kind", ""), (TABLES[p["kind"]].title if p.get("kind") in TABLES else "قائمة",))[0]
    view = " (القائمة كما عُرضت: بحثها وتصفيتها وترتيبها)" if "view" in p else ""
    return f"تصدير {title}{view} إلى الملف {Path(p.get('target', '')).name}"


def _record(uow: UnitOfWork, request: m.Request) -> RequestRecord:
    return RequestRecord(
        request.id,
        request.kind,
        _summary(uow, request),
        request.reason,
        request.requested_by,
        request.created_at,
        request.status,
        request.decided_by,
        request.decided_at,
        request.note,
        request.outcome,
        request.seen_at is not None,
    )


# --- asking -------------------------------------------------------------------------------------------------------


def _versions(uow: UnitOfWork, refs: dict[str, tuple[type, str | None]]) -> dict[str, int]:
    """The version of each record the request depends on: a record changed before the decision closes it."""
    out = {}
    for key, (model, ident) in refs.items():
        if ident:
            record = uow.records.get(model, ident)
            if record is not None:
                out[key] = record.version
    return out


def _create(ctx: ServiceContext, kind: RequestKind, payload: dict, reason: str, check: Callable) -> RequestRecord:
    ctx.require(Permission.ENTER_DATA)
    reason = clean_text(reason, multiline=True)
    if not reason:
        raise UserError("اكتب سبب الطلب: يقرؤه المشرف قبل أن يقرر.", field="reason")
    with ctx.uow() as uow:
        payload = {**payload, "versions": check(uow)}
        for pending in uow.requests.requests(status=RequestStatus.PENDING.value, kinds=[kind.value]):
            same = {k: v for k, v in (pending.payload or {}).items() if k != "versions"}
            if same == {k: v for k, v in payload.items() if k != "versions"}:
                raise UserError("يوجد طلب مماثل بانتظار المشرف: لم يُرسل طلب ثانٍ.")
        request = ctx.stamp(
            m.Request(
                kind=kind.value,
                payload=payload,
                reason=reason,
                requested_by=ctx.username,
                status=RequestStatus.PENDING.value,
                note="",
                outcome="",
            )
        )
        uow.records.add(request)
        uow.flush()
        uow.audit_trail.audit("request", "requests", request.id, {"kind": kind.value}, office_id=ctx.office_id)
        uow.commit()
        log.info("request of kind %s sent", kind.value)
        return _record(uow, request)


def request_keep_already_received(
    ctx: ServiceContext,
    distribution_id: str,
    *,
    reason: str,
    person_id: str | None = None,
    household_id: str | None = None,
) -> RequestRecord:
    """Ask to keep on the round a household that already received this aid in the window, for `reason`."""
    if not person_id and not household_id:
        raise UserError("اختر أسرة أو مستفيداً.", field="household_id")

    def check(uow: UnitOfWork) -> dict[str, int]:
        dist = uow.records.get(m.Distribution, distribution_id)
        if dist is None:
            raise NotFoundError("التوزيع غير موجود.")
        if dist.status == DistributionStatus.CLOSED.value:
            raise UserError("التوزيع مغلق: لا يُضاف إليه أحد.")
        if person_id and uow.records.get(m.Person, person_id) is None:
            raise NotFoundError("المستفيد غير موجود.")
        if household_id and uow.records.get(m.Household, household_id) is None:
            raise NotFoundError("الأسرة غير موجودة.")
        return _versions(uow, {"person": (m.Person, person_id), "household": (m.Household, household_id)})

    payload = {"distribution_id": distribution_id, "person_id": person_id, "household_id": household_id}
    return _create(ctx, RequestKind.KEEP_ALREADY_RECEIVED, payload, reason, check)


def request_merge(
    ctx: ServiceContext,
    pair_id: str,
    *,
    reason: str,
    survivor: str = "a",
    take_from_other: tuple[str, ...] = (),
    expected_versions: tuple[int | None, int | None] | None = None,
) -> RequestRecord:
    """Ask to merge a pair of the review queue, with the record that stays and the fields taken from the other.
    `expected_versions`: the versions of records a and b the clerk saw side by side; either one changed since
    refuses the request (LostUpdateError), as merge_pair refuses the merge: the supervisor's approval merges the
    records at the versions the request carries, so they must be those the clerk chose from."""
    from aidoffice.services.review import MERGE_FIELDS
    from aidoffice.services.versions import check_version

    if survivor not in ("a", "b"):
        raise UserError("اختر السجل الباقي.")
    if set(take_from_other) - set(MERGE_FIELDS):
        raise UserError("حقل غير معروف في اختيار الدمج.")

    def check(uow: UnitOfWork) -> dict[str, int]:
        pair = uow.records.get(m.DuplicatePair, pair_id)
        if pair is None:
            raise NotFoundError("الزوج غير موجود في قائمة المراجعة.")
        if pair.status != "open":
            raise UserError("تم البت في هذا الزوج من قبل.")
        for person_id, expected in zip(
            (pair.person_a_id, pair.person_b_id), expected_versions or (None, None), strict=True
        ):
            check_version(ctx, uow.records, uow.records.get(m.Person, person_id), expected)
        return _versions(
            uow,
            {"pair": (m.DuplicatePair, pair.id), "a": (m.Person, pair.person_a_id), "b": (m.Person, pair.person_b_id)},
        )

    payload = {"pair_id": pair_id, "survivor": survivor, "take_from_other": sorted(take_from_other)}
    return _create(ctx, RequestKind.MERGE, payload, reason, check)


def request_export(ctx: ServiceContext, kind: str, target: Path, *, reason: str) -> RequestRecord:
    """Ask for a list to be exported to `target` (an .xlsx in an existing folder), written when it is approved."""
    from aidoffice.services.exports import EXPORTS

    if kind not in EXPORTS:
        raise UserError("قائمة غير معروفة للتصدير.")
    target = Path(target)
    _check_target(target)
    payload = {"kind": kind, "target": str(target)}
    return _create(ctx, RequestKind.EXPORT, payload, reason, lambda _repo: {})


def request_export_view(
    ctx: ServiceContext, kind: str, query: TableQuery, target: Path, *, reason: str
) -> RequestRecord:
    """Ask for the list as it is on screen (its search, filters, header filters and order) to be exported to
    `target`; written, as seen by the clerk, when approved."""
    if kind not in TABLES:
        raise UserError("قائمة غير معروفة للتصدير.")
    _check_target(target, (".xlsx", ".pdf"))  # a table to work on, or the list printed
    payload = {"kind": kind, "target": str(Path(target)), "view": query_to_dict(query)}
    return _create(ctx, RequestKind.EXPORT, payload, reason, lambda _repo: {})


def _check_target(target: Path, suffixes: tuple[str, ...] = (".xlsx",)) -> None:
    target = Path(target)
    if not target.is_absolute() or target.suffix.lower() not in suffixes:
        kinds = " أو ".join(s.lstrip(".") for s in suffixes)
        raise UserError(f"اختر ملفاً ({kinds}) بمساره الكامل.", field="target")
    if not target.parent.is_dir():
        raise UserError(f"تعذر حفظ الملف {target.name}: المجلد غير موجود.", field="target")


# --- deciding -----------------------------------------------------------------------------------------------------


def _decidable(ctx: ServiceContext) -> list[str]:
    return [kind.value for kind, permission in PERMISSION.items() if ctx.can(permission)]


def _load_pending(ctx: ServiceContext, request_id: str) -> RequestRecord:
    """The request, refused unless the acting user may decide it and it is still pending."""
    with ctx.uow() as uow:
        request = uow.records.get(m.Request, request_id)
        if request is None:
            raise NotFoundError("الطلب غير موجود.")
        permission = PERMISSION[RequestKind(request.kind)]
        if not ctx.can(permission):
            raise PermissionDeniedError(refusal(permission))
        record = _record(uow, request)
    if record.status != RequestStatus.PENDING:
        raise _already_decided(record, ctx.style)
    if record.requested_by == ctx.username:
        raise UserError("لا يقرر أحد في طلبه بنفسه: يقرر فيه مشرف آخر.")
    return record


def _already_decided(record: RequestRecord, style: DisplayStyle) -> UserError:
    """Who decided first, and when in the office's own time (the stamp is UTC)."""
    from aidoffice.services.audit_view import local_time

    when = f" في {style.datetime(local_time(record.decided_at))}" if record.decided_at else ""
    return UserError(f"تم البت في هذا الطلب من قبل: {record.status_label} ({record.decided_by or '—'}{when}).")


def _claim(ctx: ServiceContext, request_id: str, status: RequestStatus, note: str) -> None:
    """Pending → `status`, or the second of two deciders is told who came first."""
    style = ctx.style  # read before the write transaction opens
    with ctx.uow() as uow:
        if not uow.requests.decide_request(request_id, status.value, ctx.username, utcnow(), note):
            uow.session.rollback()
            request = uow.records.get(m.Request, request_id)
            raise _already_decided(_record(uow, request), style)
        uow.audit_trail.audit(
            f"request_{status.value}", "requests", request_id, {"note": note}, office_id=ctx.office_id
        )
        uow.commit()


def refuse_request(ctx: ServiceContext, request_id: str, note: str) -> RequestRecord:
    """The supervisor says no, with a note the clerk reads."""
    note = clean_text(note, multiline=True)
    record = _load_pending(ctx, request_id)
    if not note:
        raise UserError("اكتب سبب الرفض في الملاحظة: يقرؤه الموظف صاحب الطلب.", field="note")
    _claim(ctx, record.id, RequestStatus.REFUSED, note)
    log.info("request of kind %s refused", record.kind)
    return get_request(ctx, record.id)


def approve_request(ctx: ServiceContext, request_id: str, note: str = "") -> RequestRecord:
    """The supervisor says yes: the request is claimed, then the action is done as the supervisor through the
    service that does it anyway (its own checks and audit), and the outcome is kept. A record deleted or changed
    since the request, or an action the service refuses, closes the request with the reason instead."""
    note = clean_text(note, multiline=True)
    record = _load_pending(ctx, request_id)
    _claim(ctx, record.id, RequestStatus.APPROVED, note)
    with ctx.uow() as uow:
        payload = dict(uow.records.get(m.Request, record.id).payload or {})
        stale = _gone_or_changed(uow, RequestKind(record.kind), payload)
    status, outcome, result = RequestStatus.APPROVED, "", None
    if stale:
        status, outcome = RequestStatus.CLOSED, stale
    else:
        try:
            outcome, result = _ACTIONS[RequestKind(record.kind)](ctx, payload, record)
        except UserError as exc:
            status, outcome = RequestStatus.CLOSED, f"لم يُنفَّذ: {exc.message}"
    with ctx.uow() as uow:
        request = uow.records.get(m.Request, record.id)
        request.status, request.outcome, request.result = status.value, outcome, result
        request.changed_by = ctx.username
        if status == RequestStatus.CLOSED:
            uow.audit_trail.audit(
                "request_closed", "requests", record.id, {"kind": record.kind}, office_id=ctx.office_id
            )
        uow.commit()
    log.info("request of kind %s %s", record.kind, status.value)
    return get_request(ctx, record.id)


def _gone_or_changed(uow: UnitOfWork, kind: RequestKind, payload: dict) -> str | None:
    """Why the request can no longer be done as asked, or None."""
    versions = payload.get("versions") or {}

    def changed(key: str, model: type, ident: str | None, gone: str, moved: str) -> str | None:
        if not ident:
            return None
        record = uow.records.get(model, ident)
        if record is None:
            return gone
        if key in versions and record.version != versions[key]:
            return moved
        if isinstance(record, m.Person) and record.merged_into_id:
            return "دُمج سجل المستفيد في سجل آخر بعد الطلب: اطلب من جديد على السجل الباقي."
        return None

    if kind == RequestKind.KEEP_ALREADY_RECEIVED:
        if uow.records.get(m.Distribution, payload.get("distribution_id", "")) is None:
            return "حُذف التوزيع بعد الطلب."
        return changed(
            "person",
            m.Person,
            payload.get("person_id"),
            "حُذف سجل المستفيد بعد الطلب.",
            "تغيّر سجل المستفيد بعد الطلب: راجعه ثم اطلب من جديد إن لزم.",
        ) or changed(
            "household",
            m.Household,
            payload.get("household_id"),
            "حُذفت الأسرة بعد الطلب.",
            "تغيّرت بيانات الأسرة بعد الطلب: راجعها ثم اطلب من جديد إن لزم.",
        )
    if kind == RequestKind.MERGE:
        pair = uow.records.get(m.DuplicatePair, payload.get("pair_id", ""))
        if pair is None:
            return "لم يعد الزوج في قائمة المراجعة (حُذف أحد السجلين أو أُعيد الفحص)."
        if pair.status != "open":
            return "تم البت في هذا الزوج بعد الطلب."
        for key, ident in (("a", pair.person_a_id), ("b", pair.person_b_id)):
            problem = changed(
                key,
                m.Person,
                ident,
                "حُذف أحد السجلين بعد الطلب.",
                "تغيّر أحد السجلين بعد الطلب: قارنهما من جديد في صفحة مراجعة التكرار.",
            )
            if problem:
                return problem
    return None


def _keep(ctx: ServiceContext, payload: dict, record: RequestRecord) -> tuple[str, dict]:
    from aidoffice.services.aid import add_distribution_line

    line = add_distribution_line(
        ctx,
        payload["distribution_id"],
        person_id=payload.get("person_id"),
        household_id=payload.get("household_id"),
        override_reason=record.reason,
    )
    return f"أُبقي في الكشف بالسبب المكتوب، بموافقة {ctx.username}.", {"line_id": line.id}


def _merge(ctx: ServiceContext, payload: dict, _record: RequestRecord) -> tuple[str, dict]:
    from aidoffice.services.review import merge_pair

    versions = payload.get("versions") or {}
    merge_id = merge_pair(
        ctx,
        payload["pair_id"],
        survivor=payload.get("survivor", "a"),
        take_from_other=tuple(payload.get("take_from_other") or ()),
        # the records as they were when the request was made: one changed between the approval's check and the
        # merge is refused, not merged
        expected_versions=(versions.get("a"), versions.get("b")),
    )
    return f"دُمج السجلان بموافقة {ctx.username}.", {"merge_id": merge_id}


def _export(ctx: ServiceContext, payload: dict, _record: RequestRecord) -> tuple[str, dict]:
    from aidoffice.services.exports import export_list, export_view, print_view

    target = Path(payload["target"])
    if not target.parent.is_dir():
        raise UserError(f"تعذر حفظ الملف {target.name}: المجلد غير موجود.")
    if "view" in payload:  # the list as the clerk saw it, to a table or printed
        write = print_view if target.suffix.lower() == ".pdf" else export_view
        count = write(ctx, payload["kind"], query_from_dict(payload["view"]), target)
    else:
        count = export_list(ctx, payload["kind"], target)
    return f"كُتب الملف {target.name} ({count:,} صفاً) بموافقة {ctx.username}.", {"rows": count}


_ACTIONS = {
    RequestKind.KEEP_ALREADY_RECEIVED: _keep,
    RequestKind.MERGE: _merge,
    RequestKind.EXPORT: _export,
}


# --- reading ------------------------------------------------------------------------------------------------------


def get_request(ctx: ServiceContext, request_id: str) -> RequestRecord:
    with ctx.uow() as uow:
        request = uow.records.get(m.Request, request_id)
        if request is None:
            raise NotFoundError("الطلب غير موجود.")
        if request.requested_by != ctx.username and not ctx.can(PERMISSION[RequestKind(request.kind)]):
            raise NotFoundError("الطلب غير موجود.")
        return _record(uow, request)


def can_decide(ctx: ServiceContext) -> bool:
    """Whether the acting user decides any kind of request (the queue is theirs)."""
    return bool(_decidable(ctx))


def list_requests(ctx: ServiceContext, scope: str = "queue", *, limit: int = 200) -> list[RequestRecord]:
    """`queue`: pending requests the user may decide; `mine`: the user's own; `all`: every request of the kinds the
    user may decide, newest first."""
    if scope not in SCOPES:
        raise ValueError(scope)
    with ctx.uow() as uow:
        if scope == "mine":
            rows = uow.requests.requests(requested_by=ctx.username, limit=limit)
        else:
            kinds = _decidable(ctx)
            if not kinds:
                return []
            status = RequestStatus.PENDING.value if scope == "queue" else None
            rows = uow.requests.requests(status=status, kinds=kinds, limit=limit)
        return [_record(uow, r) for r in rows]


def mark_seen(ctx: ServiceContext) -> int:
    """The clerk has read the decisions on their requests: the home page stops announcing them."""
    with ctx.uow() as uow:
        now, seen = utcnow(), 0
        for request in uow.requests.requests(requested_by=ctx.username):
            if request.status != RequestStatus.PENDING.value and request.seen_at is None:
                request.seen_at = now
                seen += 1
        if seen:
            uow.commit()
        return seen


def requests_work(ctx: ServiceContext) -> WorkItem | None:
    """The home page's box: a supervisor's queue, or a clerk's requests with the decisions not yet read."""
    if can_decide(ctx):
        queue = list_requests(ctx, "queue")
        lines = tuple(f"{r.summary} — طلب {r.requested_by}" for r in queue[:SHOWN])
        return WorkItem("requests", "طلبات بانتظار موافقتك", len(queue), (), "requests", {"scope": "queue"}, lines)
    mine = list_requests(ctx, "mine")
    news = [r for r in mine if r.status == RequestStatus.PENDING or not r.seen]
    if not news:
        return None
    marks = {RequestStatus.PENDING: "⌛", RequestStatus.APPROVED: "✔", RequestStatus.REFUSED: "✘"}
    lines = tuple(
        f"{marks.get(RequestStatus(r.status), '•')} {r.status_label}: {r.summary}"
        + (f" — {r.note}" if r.note else "")
        for r in news[:SHOWN]
    )  # fmt: skip
    return WorkItem("requests", "طلباتي إلى المشرف", len(news), (), "requests", {"scope": "mine"}, lines)
