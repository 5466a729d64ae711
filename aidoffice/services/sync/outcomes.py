"""What packages leave behind: their history, the conflict queue and cross-office duplicate flags."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from aidoffice.domain.access import Permission
from aidoffice.errors import UserError
from aidoffice.services.context import ServiceContext
from aidoffice.store import models as m
from aidoffice.store import sync as store_sync

# --- history, conflicts, flags ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageRecord:
    id: str
    direction: str
    kind: str
    peer_code: str
    sequence: int
    records: int
    applied: int
    conflicts: int
    status: str
    at: datetime
    file_name: str


def history(ctx: ServiceContext, limit: int = 500) -> list[PackageRecord]:
    with ctx.uow() as uow:
        codes = {p.office_id: p.office_code for p in uow.repo.all(m.SyncPeer)}
        rows = uow.repo.all(m.SyncPackage, order_by=m.SyncPackage.at.desc(), limit=limit)
        return [
            PackageRecord(
                r.id,
                r.direction,
                r.kind,
                codes.get(r.recipient_id if r.direction == "out" else r.sender_id, "?"),
                r.sequence,
                r.records,
                r.applied,
                r.conflicts,
                r.status,
                r.at,
                r.file_name,
            )
            for r in rows
        ]


@dataclass(frozen=True)
class ConflictRecord:
    id: str
    entity: str
    entity_id: str
    record_name: str
    field: str
    kept_value: object
    kept_office: str
    lost_value: object
    lost_office: str
    status: str
    created_at: datetime


def conflicts(ctx: ServiceContext, *, open_only: bool = True) -> list[ConflictRecord]:
    with ctx.uow() as uow:
        repo = uow.repo
        codes = {p.office_id: p.office_code for p in repo.all(m.SyncPeer)}
        office = repo.office()
        codes[office.id] = office.office_code
        where = {"status": "open"} if open_only else {}
        out = []
        for c in repo.all(m.SyncConflict, order_by=m.SyncConflict.created_at, **where):
            name = ""
            if c.entity == "associations":
                found = repo.get(m.Association, c.entity_id)
                name = found.name if found else ""
            kept, lost = c.kept_value, c.lost_value
            if c.field in ("office_id", "deleted") or c.entity in store_sync.PARENTS:
                # another office's record, or one hanging from it: the owners by their codes
                kept, lost = codes.get(kept, kept), codes.get(lost, lost)
            out.append(
                ConflictRecord(
                    c.id,
                    c.entity,
                    c.entity_id,
                    name,
                    c.field,
                    kept,
                    codes.get(c.kept_origin, "?"),
                    lost,
                    codes.get(c.lost_origin, "?"),
                    c.status,
                    c.created_at,
                )
            )
        return out


def resolve_conflict(ctx: ServiceContext, conflict_id: str, *, take_other: bool) -> None:
    """Keep the value in place, or put the value that lost in its place (a new change, which travels on)."""
    ctx.require(Permission.DECIDE_DUPLICATES)
    with ctx.uow() as uow:
        repo = uow.repo
        c = repo.get(m.SyncConflict, conflict_id)
        if c is None or c.status != "open":
            raise UserError("هذا التعارض غير موجود أو حُسم من قبل.")
        if take_other:
            if c.entity != "associations":
                raise UserError("هذا التعارض يُحسم يدويًا في سجل الجمعية.")
            association = repo.get(m.Association, c.entity_id)
            if association is None:
                raise UserError("الجمعية غير موجودة في هذه القاعدة.")
            stamp = store_sync.field_stamp(uow.session.connection(), c.entity, c.entity_id, c.field)
            if stamp is not None and c.kept_hlc and stamp != c.kept_hlc:
                # A newer value came in (a later package, an edit of the file) after the two compared here: putting
                # the old one that lost in its place would undo it unseen. (No stamp of the field: it was never
                # written since sync began, the kept value was dated by the record; none recorded: not known.)
                raise UserError(
                    "تغيّرت قيمة هذا الحقل بعد التعارض (وصلت قيمة أحدث أو عُدّل في ملف الجمعية): لم يُغيَّر شيء. "
                    "راجع ملف الجمعية، ثم اختر «إبقاء» لإغلاق التعارض."
                )
            _set_association_field(repo, association, c.field, c.lost_value)
            association.changed_by = ctx.username
        c.status = "replaced" if take_other else "kept"
        c.decided_by, c.decided_at = ctx.username, m.utcnow()
        uow.commit()


def _set_association_field(repo, association: m.Association, fld: str, value) -> None:
    from aidoffice.domain.arabic import normalize_name

    if fld == "fields":
        association.fields = repo.by_codes(m.FieldOfWork, [k[0] for k in value or []])
    elif fld == "districts":
        association.districts = [d for d in (_district(repo, k) for k in value or []) if d is not None]
    elif fld == "district_id":
        district = _district(repo, value) if value else None
        association.district_id = district.id if district else None
    elif fld in ("proclamation_date", "licence_expiry", "status_since"):
        from datetime import date

        setattr(association, fld, date.fromisoformat(value) if value else None)
    else:
        setattr(association, fld, value)
        if fld == "name":
            association.name_norm = normalize_name(value or "")


def _district(repo, key):
    for d in repo.all(m.District, name=key[-1]):
        if d.governorate.name == key[0]:
            return d
    return None


@dataclass(frozen=True)
class FlagRecord:
    person_id: str
    full_name: str
    other_office: str
    score: float


def other_offices_of(ctx: ServiceContext, person_id: str) -> list[str]:
    """The codes of the other offices where headquarters found this person registered too (from its last reply)."""
    with ctx.uow() as uow:
        return sorted({f.other_office for f in uow.repo.all(m.SyncFlag, person_id=person_id)})


def flags(ctx: ServiceContext) -> list[FlagRecord]:
    """At an office: its persons headquarters found registered by another office too."""
    with ctx.uow() as uow:
        out = []
        for f in uow.repo.all(m.SyncFlag, order_by=m.SyncFlag.score.desc()):
            person = uow.repo.get(m.Person, f.person_id)
            out.append(FlagRecord(f.person_id, person.full_name if person else "", f.other_office, f.score))
        return out


@dataclass(frozen=True)
class CrossOfficePair:
    name_a: str
    office_a: str
    name_b: str
    office_b: str
    score: float


def cross_office_pairs(ctx: ServiceContext) -> list[CrossOfficePair]:
    """At headquarters: the open duplicate pairs between offices (after a duplicate scan of the consolidated data);
    each office receives its side as a flag in the next reply."""
    ctx.require(Permission.DECIDE_DUPLICATES)
    with ctx.uow() as uow:
        rows = store_sync.cross_office_overview(uow.session.connection())
        return [CrossOfficePair(a, oa, b, ob, float(score)) for a, oa, b, ob, score in rows]
