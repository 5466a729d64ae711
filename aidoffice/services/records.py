"""Frozen dataclasses the services return: what screens, reports and the command line read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class OfficeRecord:
    id: str
    name: str
    governorate: str
    office_code: str
    country: str
    version: int = 1


@dataclass(frozen=True)
class AidTypeRecord:
    code: str
    name: str
    window: str
    window_days: int | None
    version: int = 1


@dataclass(frozen=True)
class StatusChangeRecord:
    status_from: str | None
    status_to: str
    changed_on: date
    reason: str


@dataclass(frozen=True)
class BoardMemberRecord:
    id: str
    full_name: str
    role: str
    phone: str


@dataclass(frozen=True)
class FieldVisitRecord:
    id: str
    visit_date: date
    visitors: str
    findings: str
    rating: int | None
    follow_up: str
    follow_up_due: date | None
    follow_up_done: bool
    version: int = 1  # what marking its follow-up done passes back as expected_version


@dataclass(frozen=True)
class ComplianceRecordView:
    year: int
    admin_report: bool
    financial_report: bool
    submitted_on: date | None
    version: int = 1  # what the compliance form passes back as expected_version for this year


@dataclass(frozen=True)
class AssociationRecord:
    id: str
    name: str
    registration_number: str
    proclamation_date: date | None
    legal_form: str
    status: str
    status_since: date | None
    licence_expiry: date | None
    district: str | None
    phone: str
    fields: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    board: tuple[BoardMemberRecord, ...] = ()
    status_history: tuple[StatusChangeRecord, ...] = ()
    visits: tuple[FieldVisitRecord, ...] = ()
    compliance: tuple[ComplianceRecordView, ...] = ()
    version: int = 1
    address: str = ""
    email: str = ""
    notes: str = ""
    field_codes: tuple[str, ...] = ()
    district_ids: tuple[str, ...] = ()
    district_id: str | None = None


@dataclass(frozen=True)
class PersonSummary:
    id: str
    full_name: str
    national_id: str
    phone: str
    district: str | None
    birth_year: int | None = None  # with the ID and district, tells two namesakes apart in a pick list
    household: str = ""  # «رب الأسرة» or «زوج/زوجة في أسرة <head>»: who the person is at home


@dataclass(frozen=True)
class PersonRecord:
    id: str
    full_name: str
    name_norm: str
    name_parts: tuple[str, ...]
    national_id: str
    phone: str
    sex: str | None
    birth_date: date | None
    birth_year: int | None
    district: str | None
    categories: tuple[str, ...]
    spouse_name: str
    spouse_national_id: str
    notes: str
    household_id: str | None
    relation: str | None
    version: int
    consent_sharing: bool = False
    consent_on: date | None = None


@dataclass(frozen=True)
class HouseholdRecord:
    id: str
    head_person_id: str | None
    district: str | None
    size: int | None
    income_band: str | None
    housing: str | None
    members: tuple[tuple[str, str, str], ...] = ()  # (person id, full name, relation)


@dataclass(frozen=True)
class ProjectRecord:
    id: str
    association_id: str
    title: str
    donor: str
    sector: str
    aid_type: str | None
    start_date: date | None
    end_date: date | None
    target_households: int | None
    budget: Decimal | None
    currency: str


@dataclass(frozen=True)
class DistributionRecord:
    id: str
    project_id: str
    distribution_date: date
    site: str
    aid_type: str
    item: str
    quantity_per_household: Decimal | None
    amount_per_household: Decimal | None
    currency: str | None
    status: str


@dataclass(frozen=True)
class LineRecord:
    id: str
    distribution_id: str
    household_id: str | None
    person_id: str | None
    status: str
    reversal_of_id: str | None
    reason: str


@dataclass(frozen=True)
class AidHistoryItem:
    distribution_date: date
    aid_type: str
    item: str
    association: str
    status: str


@dataclass(frozen=True)
class ReferralRecord:
    id: str
    person_id: str
    association_id: str
    need: str
    referred_on: date
    due_on: date | None
    status: str
    outcome: str
    history: tuple[StatusChangeRecord, ...] = field(default=())
    version: int = 1  # what an edit form passes back as expected_version
