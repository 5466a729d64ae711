"""The registry of associations: register, update, change status with a dated reason, board, visits, compliance."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from aidoffice.domain.access import Permission
from aidoffice.domain.arabic import clean_text, normalize_digits, normalize_text
from aidoffice.domain.dates import parse_date
from aidoffice.domain.vocab import AssociationStatus, BoardRole, LegalForm
from aidoffice.errors import NotFoundError, UserError, ValidationError
from aidoffice.services.context import ServiceContext
from aidoffice.services.records import (
    AssociationRecord,
    BoardMemberRecord,
    ComplianceRecordView,
    FieldVisitRecord,
    StatusChangeRecord,
)
from aidoffice.services.versions import check_version
from aidoffice.store import models as m
from aidoffice.store.base import utcnow
from aidoffice.store.uow import UnitOfWork


@dataclass(frozen=True)
class AssociationInput:
    name: str
    registration_number: str
    proclamation_date: str | date | None = None
    legal_form: str = LegalForm.ASSOCIATION.value
    district: str = ""
    districts: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()
    address: str = ""
    phone: str = ""
    email: str = ""
    licence_expiry: str | date | None = None
    notes: str = ""


def to_record(a: m.Association, district_names: dict[str, str] | None = None) -> AssociationRecord:
    names = district_names or {}
    return AssociationRecord(
        id=a.id,
        name=a.name,
        registration_number=a.registration_number,
        proclamation_date=a.proclamation_date,
        legal_form=a.legal_form,
        status=a.status,
        status_since=a.status_since,
        licence_expiry=a.licence_expiry,
        district=names.get(a.district_id or ""),
        phone=a.phone,
        fields=tuple(sorted(f.name for f in a.fields)),
        districts=tuple(sorted(d.name for d in a.districts)),
        board=tuple(BoardMemberRecord(b.id, b.full_name, b.role, b.phone) for b in a.board),
        status_history=tuple(
            StatusChangeRecord(s.status_from, s.status_to, s.changed_on, s.reason) for s in a.status_history
        ),
        visits=tuple(
            FieldVisitRecord(
                v.id,
                v.visit_date,
                v.visitors,
                v.findings,
                v.rating,
                v.follow_up,
                v.follow_up_due,
                v.follow_up_done,
                version=v.version,
            )
            for v in a.visits
        ),
        compliance=tuple(
            ComplianceRecordView(c.year, c.admin_report, c.financial_report, c.submitted_on, version=c.version)
            for c in a.compliance
        ),
        version=a.version,
        address=a.address,
        email=a.email,
        notes=a.notes,
        field_codes=tuple(sorted(f.code for f in a.fields)),
        district_ids=tuple(sorted(d.id for d in a.districts)),
        district_id=a.district_id,
    )


def _date_field(value, field: str, label: str, problems: dict[str, str]) -> date | None:
    try:
        return parse_date(value)
    except ValueError:
        problems[field] = f"{label} غير صالح: اكتبه يوم/شهر/سنة."
        return None


def _apply(ctx: ServiceContext, uow: UnitOfWork, assoc: m.Association, data: AssociationInput) -> None:
    problems: dict[str, str] = {}
    name = clean_text(data.name)
    if not name:
        problems["name"] = "اسم الجمعية مطلوب."
    reg = "".join(normalize_digits(clean_text(data.registration_number)).split())
    if not reg:
        problems["registration_number"] = "رقم الإشهار مطلوب."
    proclaimed = _date_field(data.proclamation_date, "proclamation_date", "تاريخ الإشهار", problems)
    if proclaimed and proclaimed > ctx.today():
        problems["proclamation_date"] = "تاريخ الإشهار في المستقبل."
    licence = _date_field(data.licence_expiry, "licence_expiry", "تاريخ انتهاء الترخيص", problems)
    try:
        legal_form = LegalForm.parse(data.legal_form)
    except ValueError:
        problems["legal_form"] = "الشكل القانوني غير معروف."
        legal_form = LegalForm.ASSOCIATION
    district = None
    if data.district:
        district = uow.references.district(data.district)
        if district is None:
            problems["district"] = "المديرية غير موجودة في قائمة المديريات."
    districts = []
    for ref in data.districts:
        found = uow.references.district(ref)
        if found is None:
            problems["districts"] = "إحدى مديريات العمل غير موجودة في قائمة المديريات."
        else:
            districts.append(found)
    fields = uow.references.by_codes(m.FieldOfWork, data.fields)
    if len(fields) != len(set(data.fields)):
        problems["fields"] = "أحد مجالات العمل غير معروف."
    if reg:
        clash = uow.records.first(m.Association, registration_number=reg)
        if clash is not None and clash.id != assoc.id:
            problems["registration_number"] = "رقم الإشهار مسجل لجمعية أخرى."
    if problems:
        raise ValidationError(problems)
    assoc.name = name
    assoc.name_norm = normalize_text(name)
    assoc.registration_number = reg
    assoc.proclamation_date = proclaimed
    assoc.legal_form = legal_form.value
    assoc.district_id = district.id if district else None
    assoc.districts = districts
    assoc.fields = fields
    assoc.address = clean_text(data.address, multiline=True)
    assoc.phone = ctx.rules.phone.normalize(clean_text(data.phone))
    assoc.email = clean_text(data.email)
    assoc.licence_expiry = licence
    assoc.notes = clean_text(data.notes, multiline=True)
    assoc.changed_by = ctx.username
    assoc.updated_at = utcnow()  # fields of work or districts alone change only link tables: still a new version


def _load(uow: UnitOfWork, association_id: str) -> m.Association:
    assoc = uow.associations.association_full(association_id)
    if assoc is None:
        raise NotFoundError("الجمعية غير موجودة.")
    return assoc


def _district_names(uow: UnitOfWork) -> dict[str, str]:
    return {d.id: d.name for d in uow.references.districts()}


def register_association(ctx: ServiceContext, data: AssociationInput) -> AssociationRecord:
    ctx.require(Permission.ENTER_DATA)
    with ctx.uow() as uow:
        assoc = ctx.stamp(m.Association(status=AssociationStatus.ACTIVE.value))
        _apply(ctx, uow, assoc, data)
        assoc.status_since = assoc.proclamation_date or ctx.today()
        assoc.status_history = [
            ctx.stamp(
                m.AssociationStatusChange(
                    status_from=None, status_to=assoc.status, changed_on=assoc.status_since, reason="الإشهار"
                )
            )
        ]
        uow.records.add(assoc)
        uow.commit()
        return to_record(assoc, _district_names(uow))


def update_association(
    ctx: ServiceContext, association_id: str, data: AssociationInput, *, expected_version: int | None = None
) -> AssociationRecord:
    """Change an association's profile; `expected_version` (the version the form opened) refuses to overwrite a
    change saved meanwhile by someone else (LostUpdateError); None, as the command line passes, checks nothing."""
    ctx.require(Permission.ENTER_DATA)
    with ctx.uow(write_first=True) as uow:
        uow.records.lock_records("associations", [association_id])  # the version is read after a save at once
        assoc = _load(uow, association_id)
        check_version(ctx, uow.records, assoc, expected_version)
        _apply(ctx, uow, assoc, data)
        uow.commit()
        return to_record(assoc, _district_names(uow))


def get_association(ctx: ServiceContext, association_id: str) -> AssociationRecord:
    with ctx.uow() as uow:
        return to_record(_load(uow, association_id), _district_names(uow))


def find_association(ctx: ServiceContext, ref: str) -> AssociationRecord:
    """By id, registration number or name (exact, then normalised); refuses an ambiguous name."""
    with ctx.uow() as uow:
        found = uow.associations.association_by_reference(
            "".join(normalize_digits(ref).split())
        ) or uow.associations.association_by_reference(ref.strip())
        if found is None:
            matches = uow.associations.associations_by_name_norm(normalize_text(ref))
            if len(matches) > 1:
                raise UserError("أكثر من جمعية بهذا الاسم: استخدم رقم الإشهار.")
            found = matches[0] if matches else None
        if found is None:
            raise NotFoundError("لا توجد جمعية بهذا الرقم أو الاسم.")
        return to_record(_load(uow, found.id), _district_names(uow))


def change_association_status(
    ctx: ServiceContext,
    association_id: str,
    status: str,
    *,
    reason: str,
    changed_on: str | date | None = None,
    expected_version: int | None = None,
) -> AssociationRecord:
    """Move an association to a new status, recording the date and the reason (both required); `expected_version`
    as update_association's."""
    ctx.require(Permission.ENTER_DATA)
    problems: dict[str, str] = {}
    try:
        new_status = AssociationStatus.parse(status)
    except ValueError:
        problems["status"] = "الحالة غير معروفة."
        new_status = None
    if not reason or not reason.strip():
        problems["reason"] = "سبب تغيير الحالة مطلوب."
    when = _date_field(changed_on, "changed_on", "تاريخ التغيير", problems) or ctx.today()
    if when > ctx.today():
        problems["changed_on"] = "تاريخ تغيير الحالة في المستقبل."
    if problems:
        raise ValidationError(problems)
    with ctx.uow(write_first=True) as uow:
        uow.records.lock_records("associations", [association_id])  # the version is read after a save at once
        assoc = _load(uow, association_id)
        check_version(ctx, uow.records, assoc, expected_version)
        if assoc.status == new_status.value:
            raise UserError(f"الجمعية بالفعل في حالة «{new_status.label}».", field="status")
        if assoc.status == AssociationStatus.DISSOLVED.value:
            raise UserError("الجمعية منحلة: لا تتغير حالتها إلا بإشهار جديد.", field="status")
        assoc.status_history.append(
            ctx.stamp(
                m.AssociationStatusChange(
                    status_from=assoc.status, status_to=new_status.value, changed_on=when, reason=reason.strip()
                )
            )
        )
        assoc.status = new_status.value
        assoc.status_since = when
        assoc.changed_by = ctx.username
        uow.commit()
        return to_record(assoc, _district_names(uow))


def add_board_member(ctx: ServiceContext, association_id: str, full_name: str, role: str, phone: str = "") -> str:
    ctx.require(Permission.ENTER_DATA)
    if not clean_text(full_name):
        raise UserError("اسم عضو مجلس الإدارة مطلوب.", field="full_name")
    try:
        role_value = BoardRole.parse(role).value
    except ValueError as exc:
        raise UserError("صفة العضو غير معروفة.", field="role") from exc
    with ctx.uow() as uow:
        assoc = _load(uow, association_id)
        if role_value == BoardRole.CHAIR.value and any(b.role == role_value for b in assoc.board):
            raise UserError("للجمعية رئيس مجلس إدارة مسجل: عدّل صفته أولاً.", field="role")
        member = ctx.stamp(
            m.BoardMember(
                full_name=clean_text(full_name), role=role_value, phone=ctx.rules.phone.normalize(clean_text(phone))
            )
        )
        assoc.board.append(member)
        uow.commit()
        return member.id


def add_contact(
    ctx: ServiceContext, association_id: str, name: str, *, role: str = "", phone: str = "", email: str = ""
) -> str:
    ctx.require(Permission.ENTER_DATA)
    problems: dict[str, str] = {}
    if not clean_text(name):
        problems["name"] = "اسم جهة الاتصال مطلوب."
    nsn = ctx.rules.phone.normalize(phone)
    if phone.strip() and not ctx.rules.phone.is_valid(nsn):
        problems["phone"] = "رقم الهاتف غير صالح لهذا البلد."
    if email.strip() and "@" not in email:
        problems["email"] = "البريد الإلكتروني غير صالح."
    if problems:
        raise ValidationError(problems)
    with ctx.uow() as uow:
        assoc = _load(uow, association_id)
        contact = ctx.stamp(
            m.AssociationContact(name=clean_text(name), role=clean_text(role), phone=nsn, email=clean_text(email))
        )
        assoc.contacts.append(contact)
        uow.commit()
        return contact.id


def add_field_visit(
    ctx: ServiceContext,
    association_id: str,
    *,
    visit_date: str | date,
    visitors: str,
    findings: str = "",
    rating: int | None = None,
    follow_up: str = "",
    follow_up_due: str | date | None = None,
) -> str:
    ctx.require(Permission.ENTER_DATA)
    problems: dict[str, str] = {}
    when = _date_field(visit_date, "visit_date", "تاريخ الزيارة", problems)
    if when is None and "visit_date" not in problems:
        problems["visit_date"] = "تاريخ الزيارة مطلوب."
    if when and when > ctx.today():
        problems["visit_date"] = "تاريخ الزيارة في المستقبل."
    due = _date_field(follow_up_due, "follow_up_due", "موعد المتابعة", problems)
    if rating is not None and not 1 <= rating <= 5:
        problems["rating"] = "التقييم من 1 إلى 5."
    if not clean_text(visitors):
        problems["visitors"] = "أسماء الزائرين مطلوبة."
    if problems:
        raise ValidationError(problems)
    with ctx.uow() as uow:
        assoc = _load(uow, association_id)
        visit = ctx.stamp(
            m.FieldVisit(
                visit_date=when,
                visitors=clean_text(visitors, multiline=True),
                findings=clean_text(findings, multiline=True),
                rating=rating,
                follow_up=clean_text(follow_up, multiline=True),
                follow_up_due=due,
            )
        )
        assoc.visits.append(visit)
        uow.commit()
        return visit.id


def update_field_visit(
    ctx: ServiceContext,
    visit_id: str,
    *,
    findings: str | None = None,
    rating: int | None = None,
    follow_up: str | None = None,
    follow_up_due: str | date | None = None,
    follow_up_done: bool | None = None,
    expected_version: int | None = None,
) -> None:
    """Correct a visit's findings and follow-up, or mark the follow-up done (date and visitors stay as recorded).
    `expected_version`: the version of the visit the file showed; a change saved meanwhile (its follow-up changed,
    or already marked done) refuses this one (LostUpdateError); None, as the command line passes, checks nothing."""
    ctx.require(Permission.ENTER_DATA)
    problems: dict[str, str] = {}
    due = _date_field(follow_up_due, "follow_up_due", "موعد المتابعة", problems)
    if rating is not None and not 1 <= rating <= 5:
        problems["rating"] = "التقييم من 1 إلى 5."
    if problems:
        raise ValidationError(problems)
    with ctx.uow(write_first=True) as uow:
        uow.records.lock_records("field_visits", [visit_id])  # the version is read after a save at once
        visit = uow.records.get(m.FieldVisit, visit_id)
        if visit is None:
            raise NotFoundError("الزيارة غير موجودة.")
        check_version(ctx, uow.records, visit, expected_version)
        if findings is not None:
            visit.findings = clean_text(findings, multiline=True)
        if rating is not None:
            visit.rating = rating
        if follow_up is not None:
            visit.follow_up = clean_text(follow_up, multiline=True)
        if follow_up_due is not None:
            visit.follow_up_due = due
        if follow_up_done is not None:
            visit.follow_up_done = follow_up_done
        visit.changed_by = ctx.username
        uow.commit()


def record_compliance(
    ctx: ServiceContext,
    association_id: str,
    year: int,
    *,
    admin_report: bool,
    financial_report: bool,
    submitted_on: str | date | None = None,
    expected_version: int | None = None,
) -> None:
    """Record (or correct) which yearly reports an association submitted. `expected_version`: the version of this
    year's record the file showed, 0 when it showed none; a record saved meanwhile for that year refuses this one
    (LostUpdateError) rather than overwrite it; None, as the command line passes, checks nothing."""
    ctx.require(Permission.ENTER_DATA)
    if not 1990 <= year <= ctx.today().year:
        raise UserError("سنة التقرير غير صالحة.", field="year")
    problems: dict[str, str] = {}
    submitted = _date_field(submitted_on, "submitted_on", "تاريخ التسليم", problems)
    if problems:
        raise ValidationError(problems)
    with ctx.uow(write_first=True) as uow:
        # one year of one association at a time: the version (or the absence) is read after a save at once
        uow.records.lock_records("compliance_records", [f"{association_id}:{year}"])
        assoc = _load(uow, association_id)
        row = next((c for c in assoc.compliance if c.year == year), None)
        if row is not None:
            check_version(ctx, uow.records, row, expected_version)
        if row is None:
            row = ctx.stamp(m.ComplianceRecord(year=year))
            assoc.compliance.append(row)
        row.admin_report = admin_report
        row.financial_report = financial_report
        row.submitted_on = submitted
        row.changed_by = ctx.username
        uow.commit()
