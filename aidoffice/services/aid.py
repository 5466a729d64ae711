"""Projects, campaigns, distribution rounds and their append-only lines (received, not received, reversal)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from aidoffice.domain.access import Permission
from aidoffice.domain.aid_rules import AidPeriod, PriorAid, already_received
from aidoffice.domain.arabic import clean_text, parse_decimal
from aidoffice.domain.dates import parse_date
from aidoffice.domain.display import DEFAULT_STYLE, DisplayStyle
from aidoffice.domain.vocab import Currency, DistributionStatus, LineStatus, Sector
from aidoffice.errors import NotFoundError, UserError, ValidationError
from aidoffice.services.context import ServiceContext
from aidoffice.services.records import DistributionRecord, LineRecord, ProjectRecord
from aidoffice.store import models as m
from aidoffice.store.base import utcnow
from aidoffice.store.uow import UnitOfWork


class AlreadyReceivedError(UserError):
    """The household already has this aid type inside its window; a supervisor's written reason can keep the line."""

    def __init__(self, period: AidPeriod, prior: list[PriorAid], style: DisplayStyle = DEFAULT_STYLE) -> None:
        lines = "\n".join(f"• {p.describe(style)}" for p in prior[:5])
        more = f"\n… و{len(prior) - 5} غيرها" if len(prior) > 5 else ""
        received = any(p.status == "received" for p in prior)
        headline = (
            "هذه الأسرة استلمت هذا النوع من المساعدة خلال الفترة نفسها"
            if received
            else "هذه الأسرة مُدرجة في كشف آخر لهذا النوع من المساعدة خلال الفترة نفسها"
        )
        super().__init__(
            f"{headline} ({period.label}):\n{lines}{more}\nلإبقائها في الكشف يلزم سبب مكتوب من المشرف.",
            field="override_reason",
        )
        self.period = period
        self.prior = prior


@dataclass(frozen=True)
class ProjectInput:
    association_id: str
    title: str
    aid_type: str
    donor: str = ""
    sector: str = Sector.FOOD.value
    start_date: str | date | None = None
    end_date: str | date | None = None
    target_households: str | int | None = None
    budget: str | Decimal | None = None
    currency: str = Currency.YER.value
    campaign_id: str | None = None


@dataclass(frozen=True)
class DistributionInput:
    project_id: str
    distribution_date: str | date
    site: str = ""
    district: str = ""
    aid_type: str = ""  # defaults to the project's
    item: str = ""
    quantity_per_household: str | Decimal | None = None
    unit: str = ""
    amount_per_household: str | Decimal | None = None
    currency: str | None = None


def _number(value, field: str, label: str, problems: dict[str, str]) -> Decimal | None:
    try:
        number = parse_decimal(value) if not isinstance(value, (Decimal, int)) else Decimal(value)
    except ValueError:
        problems[field] = f"{label}: اكتب رقماً."
        return None
    if number is not None and number < 0:
        problems[field] = f"{label} لا يكون سالباً."
    return number


def _date(value, field: str, label: str, problems: dict[str, str]) -> date | None:
    try:
        return parse_date(value)
    except ValueError:
        problems[field] = f"{label} غير صالح: اكتبه يوم/شهر/سنة."
        return None


def _aid_type(uow: UnitOfWork, ref: str) -> m.AidType | None:
    return (
        uow.records.first(m.AidType, code=ref)
        or uow.records.get(m.AidType, ref)
        or uow.records.first(m.AidType, name=ref)
    )


def _project_record(p: m.Project) -> ProjectRecord:
    return ProjectRecord(
        p.id,
        p.association_id,
        p.title,
        p.donor,
        p.sector,
        p.aid_type.code if p.aid_type else None,
        p.start_date,
        p.end_date,
        p.target_households,
        p.budget,
        p.currency,
    )


def create_project(ctx: ServiceContext, data: ProjectInput) -> ProjectRecord:
    ctx.require(Permission.ENTER_DATA)
    problems: dict[str, str] = {}
    if not data.title.strip():
        problems["title"] = "عنوان المشروع مطلوب."
    start = _date(data.start_date, "start_date", "تاريخ البداية", problems)
    end = _date(data.end_date, "end_date", "تاريخ النهاية", problems)
    if start and end and end < start:
        problems["end_date"] = "تاريخ النهاية قبل تاريخ البداية."
    budget = _number(data.budget, "budget", "الميزانية", problems)
    target = _number(data.target_households, "target_households", "عدد الأسر المستهدفة", problems)
    if target is not None and target != target.to_integral_value():
        problems["target_households"] = "عدد الأسر المستهدفة عدد صحيح."
    try:
        currency = Currency.parse(data.currency).value
    except ValueError:
        problems["currency"] = "العملة غير معروفة (YER أو SYP أو USD)."
        currency = None
    try:
        sector = Sector.parse(data.sector).value
    except ValueError:
        problems["sector"] = "القطاع غير معروف."
        sector = None
    with ctx.uow() as uow:
        assoc = uow.records.get(m.Association, data.association_id)
        if assoc is None:
            problems["association_id"] = "الجمعية غير موجودة."
        elif assoc.status in ("suspended", "dissolved"):
            problems["association_id"] = "لا يُسجل مشروع لجمعية موقوفة أو منحلة."
        aid_type = _aid_type(uow, data.aid_type)
        if aid_type is None:
            problems["aid_type"] = "نوع المساعدة غير معروف."
        if problems:
            raise ValidationError(problems)
        project = ctx.stamp(
            m.Project(
                association_id=assoc.id,
                campaign_id=data.campaign_id,
                title=clean_text(data.title),
                donor=clean_text(data.donor),
                sector=sector,
                aid_type=aid_type,
                start_date=start,
                end_date=end,
                target_households=int(target) if target is not None else None,
                budget=budget,
                currency=currency,
            )
        )
        uow.records.add(project)
        uow.commit()
        return _project_record(project)


def create_campaign(
    ctx: ServiceContext, name: str, *, kind: str = "emergency", start_date=None, end_date=None, description: str = ""
) -> str:
    ctx.require(Permission.ENTER_DATA)
    if not name.strip():
        raise UserError("اسم الحملة مطلوب.", field="name")
    problems: dict[str, str] = {}
    start = _date(start_date, "start_date", "تاريخ البداية", problems)
    end = _date(end_date, "end_date", "تاريخ النهاية", problems)
    if problems:
        raise ValidationError(problems)
    with ctx.uow() as uow:
        campaign = ctx.stamp(
            m.Campaign(
                name=clean_text(name),
                kind=kind,
                start_date=start,
                end_date=end,
                description=clean_text(description, multiline=True),
            )
        )
        uow.records.add(campaign)
        uow.commit()
        return campaign.id


def _distribution_record(d: m.Distribution) -> DistributionRecord:
    return DistributionRecord(
        d.id,
        d.project_id,
        d.distribution_date,
        d.site,
        d.aid_type.code,
        d.item,
        d.quantity_per_household,
        d.amount_per_household,
        d.currency,
        d.status,
    )


def create_distribution(ctx: ServiceContext, data: DistributionInput) -> DistributionRecord:
    ctx.require(Permission.ENTER_DATA)
    problems: dict[str, str] = {}
    when = _date(data.distribution_date, "distribution_date", "تاريخ التوزيع", problems)
    if when is None and "distribution_date" not in problems:
        problems["distribution_date"] = "تاريخ التوزيع مطلوب."
    quantity = _number(data.quantity_per_household, "quantity_per_household", "الكمية لكل أسرة", problems)
    amount = _number(data.amount_per_household, "amount_per_household", "المبلغ لكل أسرة", problems)
    with ctx.uow() as uow:
        project = uow.records.get(m.Project, data.project_id)
        if project is None:
            raise NotFoundError("المشروع غير موجود.")
        aid_type = _aid_type(uow, data.aid_type) if data.aid_type else project.aid_type
        if aid_type is None:
            problems["aid_type"] = "نوع المساعدة غير معروف."
        district = None
        if data.district:
            district = uow.references.district(data.district)
            if district is None:
                problems["district"] = "المديرية غير موجودة."
        currency = data.currency or (project.currency if amount is not None else None)
        if problems:
            raise ValidationError(problems)
        dist = ctx.stamp(
            m.Distribution(
                project_id=project.id,
                campaign_id=project.campaign_id,
                distribution_date=when,
                site=clean_text(data.site),
                district_id=district.id if district else None,
                aid_type=aid_type,
                item=clean_text(data.item),
                quantity_per_household=quantity,
                unit=clean_text(data.unit),
                amount_per_household=amount,
                currency=currency,
                status=DistributionStatus.DRAFT.value,
            )
        )
        uow.records.add(dist)
        uow.commit()
        return _distribution_record(dist)


def approve_distribution(ctx: ServiceContext, distribution_id: str) -> DistributionRecord:
    ctx.require(Permission.APPROVE_DISTRIBUTION)
    with ctx.uow() as uow:
        dist = uow.records.get(m.Distribution, distribution_id)
        if dist is None:
            raise NotFoundError("التوزيع غير موجود.")
        if dist.status != DistributionStatus.DRAFT.value:
            raise UserError("التوزيع معتمد بالفعل.")
        dist.status = DistributionStatus.APPROVED.value
        dist.approved_by = ctx.username
        dist.approved_at = utcnow()
        dist.changed_by = ctx.username
        uow.commit()
        return _distribution_record(dist)


def _line_record(line: m.DistributionLine) -> LineRecord:
    return LineRecord(
        line.id, line.distribution_id, line.household_id, line.person_id, line.status, line.reversal_of_id, line.reason
    )


def _prior_aid(
    uow: UnitOfWork, dist: m.Distribution, household_id: str | None, person_id: str | None
) -> list[PriorAid]:
    """Listed or received aid (not reversed) of the household, the households linked to it, and their members."""
    households = {household_id} | uow.households.linked_household_ids(household_id) if household_id else set()
    persons = set(uow.households.household_member_ids(households))
    if person_id:
        persons |= {person_id, *uow.persons.merged_ids_into(person_id)}
    return [
        PriorAid(assoc_name, code, aid_name, d.distribution_date, d.item, line.status)
        for line, d, aid_name, assoc_name, code in uow.aid.aid_history(households, persons)
        if d.id != dist.id and line.status in (LineStatus.LISTED.value, LineStatus.RECEIVED.value)
    ]


def check_already_received(
    ctx: ServiceContext, distribution_id: str, *, household_id: str | None = None, person_id: str | None = None
) -> tuple[AidPeriod | None, list[PriorAid]]:
    """What the household already has of this distribution's aid type inside its window, from any association."""
    with ctx.uow() as uow:
        dist = uow.records.get(m.Distribution, distribution_id)
        if dist is None:
            raise NotFoundError("التوزيع غير موجود.")
        if person_id and not household_id:
            person = uow.records.get(m.Person, person_id)
            household_id = person.membership.household_id if person and person.membership else None
        return _already(uow, dist, household_id, person_id)


def _lock_household(uow: UnitOfWork, household_id: str | None, person_id: str | None) -> None:
    """The lock of the household whose aid is checked, and of the households linked to it (the check reads theirs
    too); a person in no household is locked on their own."""
    if household_id:
        uow.records.lock_records("household", {household_id} | uow.households.linked_household_ids(household_id))
    else:
        uow.records.lock_records("person", [person_id])


def _already(uow: UnitOfWork, dist: m.Distribution, household_id, person_id) -> tuple[AidPeriod | None, list[PriorAid]]:
    kind = dist.aid_type
    return already_received(
        _prior_aid(uow, dist, household_id, person_id),
        kind.code,
        kind.window,
        dist.distribution_date,
        kind.window_days,
    )


def add_distribution_line(
    ctx: ServiceContext,
    distribution_id: str,
    *,
    household_id: str | None = None,
    person_id: str | None = None,
    override_reason: str | None = None,
) -> LineRecord:
    """Put a household (or a person, whose household is used when there is one) on the distribution list.

    When the household already received the same aid type inside the type's window, from any association, the line
    is refused with AlreadyReceivedError, unless `override_reason` (the supervisor's written reason) is given: the
    line is then kept with the reason and the name of who overrode.
    """
    ctx.require(Permission.ENTER_DATA)
    if not household_id and not person_id:
        raise UserError("اختر أسرة أو مستفيداً.", field="household_id")
    style = ctx.style  # read now: its own unit of work, not one more inside the locked one
    with ctx.uow(write_first=True) as uow:
        dist = uow.records.get(m.Distribution, distribution_id)
        if dist is None:
            raise NotFoundError("التوزيع غير موجود.")
        if dist.status == DistributionStatus.CLOSED.value:
            raise UserError("التوزيع مغلق: لا يُضاف إليه أحد.")
        if person_id:
            person = uow.records.get(m.Person, person_id)
            if person is None:
                raise NotFoundError("المستفيد غير موجود.")
            if person.merged_into_id:
                raise UserError("هذا السجل مدموج في سجل آخر: اختر السجل الباقي.")
            if not household_id and person.membership is not None:
                household_id = person.membership.household_id
        if household_id and uow.records.get(m.Household, household_id) is None:
            raise NotFoundError("الأسرة غير موجودة.")
        # Two clerks adding one household to two rounds of the same aid type at once: the second waits here until
        # the first commits, then its check below sees the first one's line (store/locks.py).
        _lock_household(uow, household_id, person_id)
        live = [
            ln
            for ln in uow.records.all(m.DistributionLine, distribution_id=distribution_id, household_id=household_id)
            if household_id and ln.status != LineStatus.REVERSAL.value and uow.aid.reversal_of(ln.id) is None
        ]
        if live:
            raise UserError("هذه الأسرة مدرجة في كشف هذا التوزيع بالفعل.")
        reason = clean_text(override_reason, multiline=True)
        period, prior = _already(uow, dist, household_id, person_id)
        if prior and reason:
            ctx.require(Permission.OVERRIDE_ALREADY_RECEIVED)
        if prior and not reason:
            # Recorded before refusing: the monthly report counts the duplications the rule prevented.
            uow.records.add(
                ctx.stamp(
                    m.AidRefusal(
                        distribution_id=dist.id, household_id=household_id, person_id=person_id, prior_count=len(prior)
                    )
                )
            )
            uow.commit()
            raise AlreadyReceivedError(period, prior, style)
        line = ctx.stamp(
            m.DistributionLine(
                distribution_id=dist.id,
                household_id=household_id,
                person_id=person_id,
                quantity=dist.quantity_per_household,
                amount=dist.amount_per_household,
                status=LineStatus.LISTED.value,
                override_reason=reason if prior else "",
                overridden_by=ctx.username if prior else None,
            )
        )
        uow.records.add(line)
        if prior:
            uow.flush()
            uow.audit_trail.audit(
                "override",
                "distribution_lines",
                line.id,
                {"reason": reason, "prior": len(prior)},
                office_id=ctx.office_id,
            )
        uow.commit()
        return _line_record(line)


def mark_line(ctx: ServiceContext, line_id: str, *, received: bool) -> LineRecord:
    """Record from the signed sheet whether the household received; once marked it cannot be changed, only reversed."""
    ctx.require(Permission.ENTER_DATA)
    with ctx.uow() as uow:
        line = uow.records.get(m.DistributionLine, line_id)
        if line is None:
            raise NotFoundError("سطر الكشف غير موجود.")
        if line.status != LineStatus.LISTED.value:
            raise UserError("تم تسجيل الاستلام لهذا السطر من قبل: إن كان خطأً فألغِ السطر مع السبب («إلغاء سطر»).")
        if uow.aid.reversal_of(line.id) is not None:
            raise UserError("هذا السطر معكوس.")
        line.status = (LineStatus.RECEIVED if received else LineStatus.NOT_RECEIVED).value
        line.changed_by = ctx.username
        uow.commit()
        return _line_record(line)


def open_rounds(ctx: ServiceContext, *, limit: int = 200) -> list[tuple[str, str]]:
    """Rounds a person can still be listed on (draft or approved, newest first), as (id, label) for a pick list."""
    with ctx.uow() as uow:
        rounds = uow.records.all(m.Distribution, order_by=m.Distribution.distribution_date.desc(), limit=limit * 2)
        out = []
        for d in rounds:
            if d.status == DistributionStatus.CLOSED.value:
                continue
            status = DistributionStatus(d.status).label
            association = d.project.association.name if d.project and d.project.association else ""
            out.append((d.id, f"{ctx.style.date(d.distribution_date)} — {d.aid_type.name} — {association} ({status})"))
        return out[:limit]


@dataclass(frozen=True)
class MarkResult:
    """What marking several lines at once did: how many were marked, and how many were left as they were."""

    marked: int
    already_marked: int
    reversed: int

    def message(self, received: bool) -> str:
        done = "استلم" if received else "لم يستلم"
        text = f"سُجّل «{done}» لـ {self.marked} سطر."
        if self.already_marked:
            text += f" {self.already_marked} سطر مسجّل من قبل فبقي كما هو (يُصحَّح بـ«إلغاء سطر»)."
        if self.reversed:
            text += f" {self.reversed} سطر ملغى من قبل فلم يُمسّ."
        return text


def mark_lines(ctx: ServiceContext, distribution_id: str, line_ids: list[str], *, received: bool) -> MarkResult:
    """Mark many lines of one round at once, in one transaction; lines already marked or reversed are counted and
    left alone, and a line of another round refuses the whole request."""
    ctx.require(Permission.ENTER_DATA)
    if not line_ids:
        raise UserError("اختر سطراً أو أكثر من الكشف أولاً.")
    marked = already = reversed_ = 0
    with ctx.uow() as uow:
        status = (LineStatus.RECEIVED if received else LineStatus.NOT_RECEIVED).value
        for line_id in dict.fromkeys(line_ids):
            line = uow.records.get(m.DistributionLine, line_id)
            if line is None or line.distribution_id != distribution_id:
                raise NotFoundError("أحد الأسطر المختارة ليس في هذا الكشف؛ لم يُسجَّل شيء.")
            if line.status == LineStatus.REVERSAL.value or uow.aid.reversal_of(line.id) is not None:
                reversed_ += 1
            elif line.status != LineStatus.LISTED.value:
                already += 1
            else:
                line.status = status
                line.changed_by = ctx.username
                marked += 1
        uow.commit()
    return MarkResult(marked, already, reversed_)


class CardRefusedError(UserError):
    """A scanned card that does not mark a line: forged, of another office, not on this round, or marked before."""


def mark_by_card(ctx: ServiceContext, distribution_id: str, scanned: str) -> LineRecord:
    """«استلم» for the line of the person whose card was scanned (a USB scanner types the QR's text into a field).
    The card's check value must verify under this office's key; nothing is ever added to the round."""
    from aidoffice.services.reports import check_card

    ctx.require(Permission.ENTER_DATA)
    person_id = check_card(ctx, scanned)
    if person_id is None:
        raise CardRefusedError("البطاقة مرفوضة: ليست بطاقة صادرة من هذا المكتب أو أن رمزها مُعدَّل. لم يُسجَّل شيء.")
    with ctx.uow() as uow:
        person = uow.records.get(m.Person, person_id)
        if person is None:
            raise CardRefusedError("صاحب البطاقة غير موجود في السجل (ربما دُمج أو حُذف). لم يُسجَّل شيء.")
        household_id = person.membership.household_id if person.membership else None
        lines = [
            line for line in uow.aid.lines_for(distribution_id, person_id, household_id)
            if uow.aid.reversal_of(line.id) is None
        ]  # fmt: skip
        if not lines:
            raise CardRefusedError("صاحب البطاقة ليس في هذا الكشف، ولا أسرته. أضفه من «إضافة إلى الكشف» إن كان مستحقاً.")
        listed = [line for line in lines if line.status == LineStatus.LISTED.value]
        if not listed:
            raise CardRefusedError("سُجّل استلام هذه الأسرة في هذا الكشف من قبل؛ لم يُسجَّل شيء جديد.")
        line = listed[0]
        line.status = LineStatus.RECEIVED.value
        line.changed_by = ctx.username
        uow.commit()
        return _line_record(line)


def reverse_line(ctx: ServiceContext, line_id: str, *, reason: str) -> LineRecord:
    """Cancel a line by appending a reversal that points at it; the original stays as it was."""
    ctx.require(Permission.ENTER_DATA)
    if not reason or not reason.strip():
        raise UserError("سبب إلغاء السطر مطلوب.", field="reason")
    with ctx.uow() as uow:
        line = uow.records.get(m.DistributionLine, line_id)
        if line is None:
            raise NotFoundError("سطر الكشف غير موجود.")
        if line.status == LineStatus.REVERSAL.value:
            raise UserError("هذا سطر إلغاء: لا يُلغى الإلغاء نفسه.")
        if uow.aid.reversal_of(line.id) is not None:
            raise UserError("هذا السطر معكوس من قبل.")
        reversal = ctx.stamp(
            m.DistributionLine(
                distribution_id=line.distribution_id,
                household_id=line.household_id,
                person_id=line.person_id,
                quantity=line.quantity,
                amount=line.amount,
                status=LineStatus.REVERSAL.value,
                reversal_of_id=line.id,
                reason=clean_text(reason, multiline=True),
            )
        )
        uow.records.add(reversal)
        uow.commit()
        return _line_record(reversal)


@dataclass(frozen=True)
class DistributionView:
    """A distribution with the names a sheet shows at its top, and how many households are listed and received."""

    record: DistributionRecord
    association: str
    project: str
    aid_type_name: str
    district: str | None
    listed: int
    received: int
    approved_by: str | None


def get_distribution(ctx: ServiceContext, distribution_id: str) -> DistributionView:
    with ctx.uow() as uow:
        dist = uow.records.get(m.Distribution, distribution_id)
        if dist is None:
            raise NotFoundError("التوزيع غير موجود.")
        lines = uow.records.all(m.DistributionLine, distribution_id=dist.id)
        reversed_ids = {ln.reversal_of_id for ln in lines if ln.reversal_of_id}
        live = [ln for ln in lines if ln.status != LineStatus.REVERSAL.value and ln.id not in reversed_ids]
        district = uow.records.get(m.District, dist.district_id) if dist.district_id else None
        return DistributionView(
            _distribution_record(dist),
            dist.project.association.name,
            dist.project.title,
            dist.aid_type.name,
            district.name if district else None,
            len(live),
            sum(1 for ln in live if ln.status == LineStatus.RECEIVED.value),
            dist.approved_by,
        )


def get_project(ctx: ServiceContext, project_id: str) -> ProjectRecord:
    with ctx.uow() as uow:
        project = uow.records.get(m.Project, project_id)
        if project is None:
            raise NotFoundError("المشروع غير موجود.")
        return _project_record(project)
