"""Referrals of citizens to associations: create, advance through their statuses with dates, list overdue ones."""

from __future__ import annotations

from datetime import date, timedelta

from aidoffice.domain.access import Permission
from aidoffice.domain.arabic import clean_text
from aidoffice.domain.dates import parse_date
from aidoffice.domain.vocab import REFERRAL_TRANSITIONS, ReferralStatus
from aidoffice.errors import NotFoundError, UserError, ValidationError
from aidoffice.services.context import ServiceContext
from aidoffice.services.records import ReferralRecord, StatusChangeRecord
from aidoffice.services.versions import check_version
from aidoffice.store import models as m

DEFAULT_DUE_DAYS = 14


def _record(r: m.Referral) -> ReferralRecord:
    return ReferralRecord(
        r.id,
        r.person_id,
        r.association_id,
        r.need,
        r.referred_on,
        r.due_on,
        r.status,
        r.outcome,
        tuple(StatusChangeRecord(h.status_from, h.status_to, h.changed_on, h.note) for h in r.history),
        version=r.version,
    )


def create_referral(
    ctx: ServiceContext,
    person_id: str,
    association_id: str,
    need: str,
    *,
    referred_on: str | date | None = None,
    due_in_days: int = DEFAULT_DUE_DAYS,
    aid_type: str | None = None,
) -> ReferralRecord:
    ctx.require(Permission.ENTER_DATA)
    problems: dict[str, str] = {}
    if not need or not need.strip():
        problems["need"] = "الاحتياج مطلوب."
    try:
        when = parse_date(referred_on) or ctx.today()
    except ValueError:
        problems["referred_on"] = "تاريخ الإحالة غير صالح."
        when = ctx.today()
    if when > ctx.today():
        problems["referred_on"] = "تاريخ الإحالة في المستقبل."
    with ctx.uow() as uow:
        person = uow.records.get(m.Person, person_id)
        if person is None:
            problems["person_id"] = "المستفيد غير موجود."
        assoc = uow.records.get(m.Association, association_id)
        if assoc is None:
            problems["association_id"] = "الجمعية غير موجودة."
        elif assoc.status != "active":
            problems["association_id"] = "لا تُحال الحالات إلا إلى جمعية نشطة."
        aid = None
        if aid_type:
            aid = uow.records.first(m.AidType, code=aid_type)
            if aid is None:
                problems["aid_type"] = "نوع المساعدة غير معروف."
        if problems:
            raise ValidationError(problems)
        referral = ctx.stamp(
            m.Referral(
                person_id=person.id,
                association_id=assoc.id,
                aid_type_id=aid.id if aid else None,
                need=clean_text(need, multiline=True),
                referred_on=when,
                due_on=when + timedelta(days=due_in_days),
                status=ReferralStatus.SENT.value,
            )
        )
        referral.history.append(
            ctx.stamp(
                m.ReferralStatusChange(status_from=None, status_to=ReferralStatus.SENT.value, changed_on=when, note="")
            )
        )
        uow.records.add(referral)
        uow.commit()
        return _record(referral)


def advance_referral(
    ctx: ServiceContext,
    referral_id: str,
    status: str,
    *,
    note: str = "",
    changed_on: str | date | None = None,
    outcome: str = "",
    expected_version: int | None = None,
) -> ReferralRecord:
    """Move a referral forward (sent → accepted → served, or declined / cancelled), with its date.
    `expected_version`: the version the form opened; a change saved meanwhile refuses this one (LostUpdateError)."""
    ctx.require(Permission.ENTER_DATA)
    try:
        new_status = ReferralStatus.parse(status)
    except ValueError as exc:
        raise UserError("حالة الإحالة غير معروفة.", field="status") from exc
    try:
        when = parse_date(changed_on) or ctx.today()
    except ValueError as exc:
        raise UserError("تاريخ تغيير الحالة غير صالح.", field="changed_on") from exc
    with ctx.uow(write_first=True) as uow:
        uow.records.lock_records("referrals", [referral_id])  # the version is read after a save at once
        referral = uow.records.get(m.Referral, referral_id)
        if referral is None:
            raise NotFoundError("الإحالة غير موجودة.")
        check_version(ctx, uow.records, referral, expected_version)
        current = ReferralStatus(referral.status)
        if new_status not in REFERRAL_TRANSITIONS[current]:
            raise UserError(f"لا تنتقل الإحالة من «{current.label}» إلى «{new_status.label}».", field="status")
        if when < referral.referred_on or when > ctx.today():
            raise UserError("تاريخ تغيير الحالة قبل تاريخ الإحالة أو في المستقبل.", field="changed_on")
        if new_status in (ReferralStatus.DECLINED, ReferralStatus.CANCELLED) and not note.strip():
            raise UserError("سبب الرفض أو الإلغاء مطلوب.", field="note")
        referral.history.append(
            ctx.stamp(
                m.ReferralStatusChange(
                    status_from=current.value,
                    status_to=new_status.value,
                    changed_on=when,
                    note=clean_text(note, multiline=True),
                )
            )
        )
        referral.status = new_status.value
        if not REFERRAL_TRANSITIONS[new_status]:
            referral.closed_on = when
        if outcome.strip():
            referral.outcome = clean_text(outcome, multiline=True)
        referral.changed_by = ctx.username
        uow.commit()
        return _record(referral)


def overdue_referrals(ctx: ServiceContext) -> list[ReferralRecord]:
    with ctx.uow() as uow:
        return [_record(r) for r in uow.referrals.overdue_referrals(ctx.today())]


def get_referral(ctx: ServiceContext, referral_id: str) -> ReferralRecord:
    with ctx.uow() as uow:
        referral = uow.records.get(m.Referral, referral_id)
        if referral is None:
            raise NotFoundError("الإحالة غير موجودة.")
        return _record(referral)
