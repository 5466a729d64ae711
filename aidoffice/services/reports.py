"""Printed reports: gather each document's data in one unit of work, then write the PDF (formats/pdf)."""

from __future__ import annotations

import re
import secrets
from datetime import date, timedelta
from pathlib import Path

from aidoffice.domain.aid_rules import DORMANT_AFTER_DAYS
from aidoffice.domain.arabic import normalize_digits
from aidoffice.domain.cards import card_payload, verify_card
from aidoffice.domain.vocab import AssociationStatus, BoardRole, ReferralStatus
from aidoffice.errors import NotFoundError, UserError
from aidoffice.formats.pdf import reports as pdf
from aidoffice.services.associations import find_association, get_association
from aidoffice.services.context import ServiceContext
from aidoffice.store import models as m
from aidoffice.store import reporting

CARD_KEY_SETTING = "cards.key"
REPORTS = {
    "monthly": "التقرير الشهري",
    "sheet": "كشف التوزيع",
    "association": "ملف جمعية",
    "letter": "خطاب إحالة",
    "cards": "بطاقات المستفيدين",
}


def _audited(ctx: ServiceContext, kind: str, subject: str, path: Path) -> Path:
    """A printed document holds personal data: who printed which one goes into the audit trail."""
    with ctx.uow() as uow:
        uow.repo.audit("report", kind, str(subject)[:36], office_id=ctx.office_id)
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


def _office_name(repo) -> str:
    office = repo.office()
    return office.name if office else ""


def monthly_data(ctx: ServiceContext, month: str) -> pdf.MonthlyData:
    year, number = parse_month(month, ctx.today())
    start = date(year, number, 1)
    end = date(year + (number == 12), number % 12 + 1, 1)
    before_start, before_end = reporting.previous_month(start)
    labels = {s.value: s.label for s in ReferralStatus}
    with ctx.uow() as uow:
        session = uow.session
        figures = reporting.month_figures(session, start, end, end - timedelta(days=DORMANT_AFTER_DAYS))
        previous = reporting.month_figures(
            session, before_start, before_end, before_end - timedelta(days=DORMANT_AFTER_DAYS)
        )
        return pdf.MonthlyData(
            office=_office_name(uow.repo),
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
    return _audited(ctx, "monthly", month, pdf.monthly_report(monthly_data(ctx, month), Path(target)))


def sheet_data(ctx: ServiceContext, distribution_id: str) -> pdf.SheetData:
    with ctx.uow() as uow:
        dist = uow.repo.get(m.Distribution, (distribution_id or "").strip())
        if dist is None:
            raise NotFoundError(f"التوزيع غير موجود: {distribution_id}")
        district = uow.repo.get(m.District, dist.district_id) if dist.district_id else None
        quantity = ""
        if dist.quantity_per_household:
            quantity = f"{dist.quantity_per_household.normalize():f} {dist.unit}".strip()
        elif dist.amount_per_household:
            quantity = f"{dist.amount_per_household:,} {dist.currency or ''}".strip()
        return pdf.SheetData(
            office=_office_name(uow.repo),
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
        )


def write_distribution_sheet(ctx: ServiceContext, distribution_id: str, target: Path) -> Path:
    return _audited(
        ctx, "sheet", distribution_id, pdf.distribution_sheet(sheet_data(ctx, distribution_id), Path(target))
    )


def association_data(ctx: ServiceContext, ref: str) -> pdf.AssociationData:
    record = get_association(ctx, find_association(ctx, ref).id)
    statuses = {s.value: s.label for s in AssociationStatus}
    with ctx.uow() as uow:
        office = _office_name(uow.repo)
        activity = reporting.association_activity(uow.session, record.id)
    yes = "سُلِّم"
    return pdf.AssociationData(
        office=office,
        printed_on=ctx.today(),
        name=record.name,
        profile=[
            ("رقم الإشهار", record.registration_number),
            ("تاريخ الإشهار", record.proclamation_date.strftime("%Y/%m/%d") if record.proclamation_date else "—"),
            ("الشكل القانوني", record.legal_form and _legal_label(record.legal_form)),
            ("الحالة", statuses.get(record.status, record.status)),
            ("مديرية المقر", record.district or "—"),
            ("مديريات العمل", "، ".join(record.districts) or "—"),
            ("مجالات العمل", "، ".join(record.fields) or "—"),
            ("الهاتف", record.phone or "—"),
            ("انتهاء الترخيص", record.licence_expiry.strftime("%Y/%m/%d") if record.licence_expiry else "—"),
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
    return _audited(ctx, "association", ref, pdf.association_profile(association_data(ctx, ref), Path(target)))


def write_referral_letter(ctx: ServiceContext, referral_id: str, target: Path) -> Path:
    with ctx.uow() as uow:
        referral = uow.repo.get(m.Referral, (referral_id or "").strip())
        if referral is None:
            raise NotFoundError(f"الإحالة غير موجودة: {referral_id}")
        data = pdf.LetterData(
            office=_office_name(uow.repo),
            printed_on=ctx.today(),
            # Digits and "/" only: a reference mixing letters and digits is turned around inside Arabic text.
            reference=f"{referral.referred_on:%Y}/{int(referral.id.replace('-', '')[:8], 16) % 1_000_000:06d}",
            association=referral.association.name,
            person=referral.person.full_name,
            national_id=referral.person.national_id,
            phone=referral.person.phone,
            need=referral.need,
            due_on=referral.due_on,
        )
    return _audited(ctx, "letter", referral_id, pdf.referral_letter(data, Path(target)))


def _card_key(ctx: ServiceContext) -> bytes:
    """The office's secret for card check values, made on first use and kept in the database's settings."""
    with ctx.uow() as uow:
        key = uow.repo.setting(CARD_KEY_SETTING)
        if not key:
            key = secrets.token_hex(32)
            uow.repo.set_setting(CARD_KEY_SETTING, key)
            uow.commit()
    return bytes.fromhex(key)


def write_cards(ctx: ServiceContext, person_ids: list[str], target: Path) -> Path:
    key = _card_key(ctx)
    cards = []
    with ctx.uow() as uow:
        office = _office_name(uow.repo)
        for person_id in person_ids:
            person = uow.repo.get(m.Person, person_id)
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
    return _audited(
        ctx, "cards", f"{len(cards)}", pdf.beneficiary_cards(pdf.CardsData(office, ctx.today(), cards), Path(target))
    )


def check_card(ctx: ServiceContext, scanned: str) -> str | None:
    """The person a scanned card belongs to, if it is a genuine card of this office."""
    return verify_card(scanned, _card_key(ctx))
