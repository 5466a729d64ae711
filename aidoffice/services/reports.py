"""Printed reports: gather each document's data in one unit of work, then write the PDF (formats/pdf)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from aidoffice.domain.aid_rules import APPROVED_ROUND_STATUSES, is_dormant
from aidoffice.domain.arabic import normalize_digits
from aidoffice.domain.cards import card_payload, verify_card
from aidoffice.domain.vocab import AssociationStatus, BoardRole, DistributionStatus, ReferralStatus
from aidoffice.errors import NotFoundError, UserError
from aidoffice.formats.pdf import reports as pdf
from aidoffice.formats.pdf.layout import Letterhead
from aidoffice.formats.pdf.text import document_style
from aidoffice.services.associations import find_association, get_association
from aidoffice.services.context import ServiceContext
from aidoffice.services.office import get_letterhead
from aidoffice.store import models as m
from aidoffice.store import reporting
from aidoffice.store.uow import UnitOfWork

CARD_KEY_SETTING = "cards.key"
SERIAL_SETTING = "documents.serial.{year}"  # one counter a year: office code / year / serial on every document
CARD_VALID_DAYS = 365
REPORTS = {
    "monthly": "التقرير الشهري",
    "sheet": "كشف التوزيع",
    "association": "ملف جمعية",
    "letter": "خطاب إحالة",
    "cards": "بطاقات المستفيدين",
}


def letterhead(ctx: ServiceContext) -> Letterhead:
    """The office's letterhead as every document carries it (the title, number and marks are set per document)."""
    head = get_letterhead(ctx)
    return Letterhead(
        office=head.office,
        title="",
        printed_on=ctx.today(),
        state=head.state,
        ministry=head.ministry,
        department=head.department,
        emblem=Path(head.emblem) if head.emblem else None,
    )


def _numbered(ctx: ServiceContext, kind: str, subject: str, write: Callable[[Letterhead], Path]) -> Path:
    """Give the document its number (office code / year / serial, kept in the database), write it, and note in the
    audit trail who printed which one and under what number. A document that could not be written gives its number
    back, so a refusal changes nothing."""
    head = letterhead(ctx)  # a missing emblem is refused before a number is taken
    year = ctx.today().year
    key = SERIAL_SETTING.format(year=year)
    with ctx.uow() as uow:
        serial = reporting.take_serial(uow.session, key)
        code = (uow.settings.office().office_code if uow.settings.office() else "") or "OFF"
        uow.commit()
    number = f"{code}/{year}/{serial:04d}"
    try:
        with document_style(ctx.style):  # the office's digits and date order on the whole paper
            path = write(replace(head, number=number))
    except BaseException:
        with ctx.uow() as uow:
            reporting.give_back_serial(uow.session, key, serial)
            uow.commit()
        raise
    with ctx.uow() as uow:
        uow.audit_trail.audit("report", kind, str(subject)[:36], {"number": number}, office_id=ctx.office_id)
        uow.commit()
    return path


def parse_month(text: str, today: date | None = None) -> tuple[int, int]:
    """YYYY-MM (any digits, / or -) → (year, month); a clear Arabic error otherwise."""
    found = re.fullmatch(r"\s*(\d{4})\s*[-/]\s*(\d{1,2})\s*", normalize_digits(text or ""))
    if not found:
        raise UserError(f"الشهر غير صالح: «{text}». اكتبه سنة-شهر، مثل 2026-03.", field="month")
    year, month = int(found.group(1)), int(found.group(2))
    if not 1 <= month <= 12 or not 1990 <= year <= (today or date.today()).year + 1:
        raise UserError(f"الشهر غير صالح: «{text}».", field="month")
    return year, month


def last_full_month(today: date) -> str:
    """The month before today's, as YYYY-MM: the monthly report's default."""
    first = today.replace(day=1)
    before = date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)
    return f"{before.year:04d}-{before.month:02d}"


def _office_name(uow: UnitOfWork) -> str:
    office = uow.settings.office()
    return office.name if office else ""


def monthly_data(ctx: ServiceContext, month: str) -> pdf.MonthlyData:
    year, number = parse_month(month, ctx.today())
    start = date(year, number, 1)
    end = date(year + (number == 12), number % 12 + 1, 1)
    before_start, before_end = reporting.previous_month(start)
    labels = {s.value: s.label for s in ReferralStatus}
    today = ctx.today()
    with ctx.uow() as uow:
        session = uow.session
        figures = reporting.month_figures(session, start, end, today)
        previous = reporting.month_figures(session, before_start, before_end, today)
        return pdf.MonthlyData(
            office=_office_name(uow),
            year=year,
            month=number,
            printed_on=ctx.today(),
            figures=figures,
            previous=previous,
            by_aid_type=reporting.value_by_aid_type(session, start, end),
            referrals=[(labels.get(s, s), n) for s, n in reporting.referrals_by_status(session, start, end)],
            districts=reporting.by_district(session, start, end),
            associations=reporting.by_association(session, start, end),
            categories=reporting.by_category(session, start, end, include_sensitive=False),
        )


def write_monthly_report(ctx: ServiceContext, month: str, target: Path) -> Path:
    data = monthly_data(ctx, month)
    return _numbered(ctx, "monthly", month, lambda head: pdf.monthly_report(data, Path(target), head))


def sheet_data(ctx: ServiceContext, distribution_id: str) -> pdf.SheetData:
    with ctx.uow() as uow:
        dist = uow.records.get(m.Distribution, (distribution_id or "").strip())
        if dist is None:
            raise NotFoundError(f"التوزيع غير موجود: {distribution_id}")
        district = uow.records.get(m.District, dist.district_id) if dist.district_id else None
        quantity, per_household, unit = "", None, ""
        if dist.quantity_per_household:
            quantity = pdf.quantity_text(dist.quantity_per_household, dist.unit)
            per_household, unit = dist.quantity_per_household, dist.unit
        elif dist.amount_per_household:
            quantity = pdf.amount_text(dist.amount_per_household, dist.currency)
            per_household, unit = dist.amount_per_household, pdf.currency_name(dist.currency)
        approved = dist.status in APPROVED_ROUND_STATUSES
        status = DistributionStatus(dist.status).label if dist.status in set(DistributionStatus) else dist.status
        return pdf.SheetData(
            office=_office_name(uow),
            association=dist.project.association.name,
            project=dist.project.title,
            aid_type=dist.aid_type.name,
            item=dist.item,
            site=dist.site,
            district=district.name if district else "",
            distribution_date=dist.distribution_date,
            quantity=quantity,
            printed_on=ctx.today(),
            lines=reporting.sheet_lines(uow.session, dist.id),
            approved=approved,
            status=status if approved else f"{status} — غير معتمد: لا يُصرف بموجبه قبل اعتماده",
            per_household=per_household,
            per_household_unit=unit,
        )


def write_distribution_sheet(ctx: ServiceContext, distribution_id: str, target: Path) -> Path:
    data = sheet_data(ctx, distribution_id)
    return _numbered(ctx, "sheet", distribution_id, lambda head: pdf.distribution_sheet(data, Path(target), head))


def association_data(ctx: ServiceContext, ref: str) -> pdf.AssociationData:
    record = get_association(ctx, find_association(ctx, ref).id)
    statuses = {s.value: s.label for s in AssociationStatus}
    today = ctx.today()
    with ctx.uow() as uow:
        office = _office_name(uow)
        activity = reporting.association_activity(uow.session, record.id)
        last = reporting.association_last_activity(uow.session, record.id)
    yes = "سُلِّم"
    status = statuses.get(record.status, record.status)
    warnings = []
    licence = pdf.licence_state(record.licence_expiry, today)
    if licence:
        warnings.append(f"الترخيص {licence} (تاريخ الانتهاء {ctx.style.date(record.licence_expiry)}).")
    if record.status == AssociationStatus.ACTIVE and is_dormant(last, record.proclamation_date, today, record.status):
        status = f"{status} — خاملة بحكم القاعدة: بلا توزيع ولا تقرير منذ 12 شهراً"
        warnings.append("الجمعية خاملة بحكم القاعدة: لا توزيع ولا تقرير منذ 12 شهراً.")
    expiry = ctx.style.date(record.licence_expiry) or "—"
    return pdf.AssociationData(
        office=office,
        printed_on=today,
        name=record.name,
        licence_expiry=record.licence_expiry,
        warnings=tuple(warnings),
        profile=[
            ("رقم الإشهار", record.registration_number),
            ("تاريخ الإشهار", ctx.style.date(record.proclamation_date) or "—"),
            ("الشكل القانوني", record.legal_form and _legal_label(record.legal_form)),
            ("الحالة", status),
            ("مديرية المقر", record.district or "—"),
            ("مديريات العمل", "، ".join(record.districts) or "—"),
            ("مجالات العمل", "، ".join(record.fields) or "—"),
            ("الهاتف", record.phone or "—"),
            ("انتهاء الترخيص", f"{expiry} — {licence}" if licence else expiry),
        ],
        board=[(b.full_name, BoardRole(b.role).label, b.phone) for b in record.board],
        history=[
            (h.changed_on, statuses.get(h.status_from or "", "—"), statuses.get(h.status_to, h.status_to), h.reason)
            for h in sorted(record.status_history, key=lambda h: h.changed_on, reverse=True)
        ],
        visits=[
            (v.visit_date, v.visitors, v.findings, v.follow_up + (" (تمت)" if v.follow_up_done else ""))
            for v in sorted(record.visits, key=lambda v: v.visit_date, reverse=True)
        ],
        compliance=[
            (str(c.year), yes if c.admin_report else "لا", yes if c.financial_report else "لا", c.submitted_on)
            for c in sorted(record.compliance, key=lambda c: c.year, reverse=True)
        ],
        activity=activity,
    )


def _legal_label(code: str) -> str:
    from aidoffice.domain.vocab import LegalForm

    try:
        return LegalForm(code).label
    except ValueError:
        return code


def write_association_profile(ctx: ServiceContext, ref: str, target: Path) -> Path:
    data = association_data(ctx, ref)
    return _numbered(ctx, "association", ref, lambda head: pdf.association_profile(data, Path(target), head))


def write_referral_letter(ctx: ServiceContext, referral_id: str, target: Path) -> Path:
    with ctx.uow() as uow:
        referral = uow.records.get(m.Referral, (referral_id or "").strip())
        if referral is None:
            raise NotFoundError(f"الإحالة غير موجودة: {referral_id}")
        data = pdf.LetterData(
            office=_office_name(uow),
            printed_on=ctx.today(),
            # Digits and "/" only: a reference mixing letters and digits is turned around inside Arabic text.
            reference=f"{referral.referred_on:%Y}/{int(referral.id.replace('-', '')[:8], 16) % 1_000_000:06d}",
            association=referral.association.name,
            person=referral.person.full_name,
            national_id=referral.person.national_id,
            phone=referral.person.phone,
            need=referral.need,
            due_on=referral.due_on,
            sex=referral.person.sex,
        )
    return _numbered(ctx, "letter", referral_id, lambda head: pdf.referral_letter(data, Path(target), head))


def _card_key(ctx: ServiceContext) -> bytes:
    """The office's secret for card check values, made on first use and kept in the database's settings."""
    with ctx.uow() as uow:
        key = uow.settings.setting(CARD_KEY_SETTING)
        if not key:
            key = secrets.token_hex(32)
            uow.settings.set_setting(CARD_KEY_SETTING, key)
            uow.commit()
    return bytes.fromhex(key)


def write_cards(ctx: ServiceContext, person_ids: list[str], target: Path) -> Path:
    key = _card_key(ctx)
    cards = []
    with ctx.uow() as uow:
        office = _office_name(uow)
        for person_id in person_ids:
            person = uow.records.get(m.Person, person_id)
            if person is None:
                raise NotFoundError(f"المستفيد غير موجود: {person_id}")
            household = person.membership.household if person.membership else None
            cards.append(
                pdf.Card(
                    person.full_name,
                    person.national_id,
                    person.district.name if person.district else "",
                    household.size if household else None,
                    card_payload(person.id, key),
                )
            )
    today = ctx.today()
    data = pdf.CardsData(office, today, cards, valid_until=today + timedelta(days=CARD_VALID_DAYS))
    return _numbered(ctx, "cards", f"{len(cards)}", lambda head: pdf.beneficiary_cards(data, Path(target), head))


def check_card(ctx: ServiceContext, scanned: str) -> str | None:
    """The person a scanned card belongs to, if it is a genuine card of this office."""
    return verify_card(scanned, _card_key(ctx))
