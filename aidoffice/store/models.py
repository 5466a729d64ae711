"""SQLAlchemy 2 typed models of the whole registry: office, geography, associations, persons, aid, referrals, users."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from aidoffice.store.base import Base, RecordMixin, new_id, utcnow
from aidoffice.store.dialect import BIG_INTEGER

ID = String(36)


def _fk(target: str, *, nullable: bool = True, ondelete: str | None = None, index: bool = True) -> Mapped:
    return mapped_column(ID, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index)


# --- office and settings ------------------------------------------------------------------------------------


class OfficeProfile(RecordMixin, Base):
    """The one office this database belongs to; `id` is also the office id stamped on every record."""

    __tablename__ = "office_profile"
    name: Mapped[str] = mapped_column(String(200))
    governorate: Mapped[str] = mapped_column(String(100), default="")
    office_code: Mapped[str] = mapped_column(String(20), default="")
    country: Mapped[str] = mapped_column(String(2), default="YE")
    database_uuid: Mapped[str] = mapped_column(ID, default=new_id)


class Setting(Base):
    """Key/value settings (country rules, aid windows, thresholds) as JSON."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    value: Mapped[dict | list | str | int | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


# --- geography ----------------------------------------------------------------------------------------------


class Governorate(RecordMixin, Base):
    __tablename__ = "governorates"
    name: Mapped[str] = mapped_column(String(100), unique=True)
    code: Mapped[str] = mapped_column(String(20), default="")
    districts: Mapped[list[District]] = relationship(back_populates="governorate", order_by="District.name")


class District(RecordMixin, Base):
    __tablename__ = "districts"
    __table_args__ = (UniqueConstraint("governorate_id", "name"),)
    governorate_id: Mapped[str] = _fk("governorates.id", nullable=False)
    name: Mapped[str] = mapped_column(String(100))
    code: Mapped[str] = mapped_column(String(20), default="")
    governorate: Mapped[Governorate] = relationship(back_populates="districts")
    sub_districts: Mapped[list[SubDistrict]] = relationship(back_populates="district", order_by="SubDistrict.name")


class SubDistrict(RecordMixin, Base):
    __tablename__ = "sub_districts"
    __table_args__ = (UniqueConstraint("district_id", "name"),)
    district_id: Mapped[str] = _fk("districts.id", nullable=False)
    name: Mapped[str] = mapped_column(String(100))
    district: Mapped[District] = relationship(back_populates="sub_districts")


# --- reference lists ----------------------------------------------------------------------------------------


class FieldOfWork(RecordMixin, Base):
    __tablename__ = "fields_of_work"
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))


class VulnerabilityCategory(RecordMixin, Base):
    __tablename__ = "vulnerability_categories"
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    sensitive: Mapped[bool] = mapped_column(Boolean, default=False)


class AidType(RecordMixin, Base):
    """A kind of aid and the window inside which a second one to the same household is a duplication."""

    __tablename__ = "aid_types"
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    window: Mapped[str] = mapped_column(String(20), default="month")
    window_days: Mapped[int | None] = mapped_column(Integer)


# --- associations -------------------------------------------------------------------------------------------

association_fields = Table(
    "association_fields",
    Base.metadata,
    Column("association_id", ID, ForeignKey("associations.id", ondelete="CASCADE"), primary_key=True),
    Column("field_id", ID, ForeignKey("fields_of_work.id", ondelete="CASCADE"), primary_key=True, index=True),
)

association_districts = Table(
    "association_districts",
    Base.metadata,
    Column("association_id", ID, ForeignKey("associations.id", ondelete="CASCADE"), primary_key=True),
    Column("district_id", ID, ForeignKey("districts.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Association(RecordMixin, Base):
    __tablename__ = "associations"
    __table_args__ = (CheckConstraint("status IN ('active','dormant','suspended','dissolved')", name="status"),)
    name: Mapped[str] = mapped_column(String(200))
    name_norm: Mapped[str] = mapped_column(String(200), index=True)
    registration_number: Mapped[str] = mapped_column(String(40), unique=True)
    proclamation_date: Mapped[date | None] = mapped_column(Date)
    legal_form: Mapped[str] = mapped_column(String(20), default="association")
    district_id: Mapped[str | None] = _fk("districts.id")
    address: Mapped[str] = mapped_column(String(300), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(120), default="")
    licence_expiry: Mapped[date | None] = mapped_column(Date, index=True)
    status: Mapped[str] = mapped_column(String(20), default="active", index=True)
    status_since: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")

    fields: Mapped[list[FieldOfWork]] = relationship(secondary=association_fields, order_by="FieldOfWork.name")
    districts: Mapped[list[District]] = relationship(secondary=association_districts, order_by="District.name")
    board: Mapped[list[BoardMember]] = relationship(back_populates="association", cascade="all, delete-orphan")
    contacts: Mapped[list[AssociationContact]] = relationship(cascade="all, delete-orphan")
    status_history: Mapped[list[AssociationStatusChange]] = relationship(
        order_by="AssociationStatusChange.changed_on", cascade="all, delete-orphan"
    )
    visits: Mapped[list[FieldVisit]] = relationship(order_by="FieldVisit.visit_date", cascade="all, delete-orphan")
    compliance: Mapped[list[ComplianceRecord]] = relationship(
        order_by="ComplianceRecord.year", cascade="all, delete-orphan"
    )


class BoardMember(RecordMixin, Base):
    __tablename__ = "board_members"
    association_id: Mapped[str] = _fk("associations.id", nullable=False, ondelete="CASCADE")
    full_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20), default="member")
    phone: Mapped[str] = mapped_column(String(30), default="")
    national_id: Mapped[str] = mapped_column(String(30), default="")
    term_start: Mapped[date | None] = mapped_column(Date)
    term_end: Mapped[date | None] = mapped_column(Date)
    association: Mapped[Association] = relationship(back_populates="board")


class AssociationContact(RecordMixin, Base):
    __tablename__ = "association_contacts"
    association_id: Mapped[str] = _fk("associations.id", nullable=False, ondelete="CASCADE")
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    email: Mapped[str] = mapped_column(String(120), default="")


class AssociationStatusChange(RecordMixin, Base):
    __tablename__ = "association_status_changes"
    association_id: Mapped[str] = _fk("associations.id", nullable=False, ondelete="CASCADE")
    status_from: Mapped[str | None] = mapped_column(String(20))
    status_to: Mapped[str] = mapped_column(String(20))
    changed_on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text, default="")


class FieldVisit(RecordMixin, Base):
    __tablename__ = "field_visits"
    __table_args__ = (CheckConstraint("rating IS NULL OR rating BETWEEN 1 AND 5", name="rating"),)
    association_id: Mapped[str] = _fk("associations.id", nullable=False, ondelete="CASCADE")
    visit_date: Mapped[date] = mapped_column(Date, index=True)
    visitors: Mapped[str] = mapped_column(String(300), default="")
    findings: Mapped[str] = mapped_column(Text, default="")
    rating: Mapped[int | None] = mapped_column(Integer)
    follow_up: Mapped[str] = mapped_column(Text, default="")
    follow_up_due: Mapped[date | None] = mapped_column(Date)
    follow_up_done: Mapped[bool] = mapped_column(Boolean, default=False)


class ComplianceRecord(RecordMixin, Base):
    __tablename__ = "compliance_records"
    __table_args__ = (UniqueConstraint("association_id", "year"),)
    association_id: Mapped[str] = _fk("associations.id", nullable=False, ondelete="CASCADE")
    year: Mapped[int] = mapped_column(Integer)
    admin_report: Mapped[bool] = mapped_column(Boolean, default=False)
    financial_report: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, default="")


# --- persons and households ---------------------------------------------------------------------------------

person_categories = Table(
    "person_categories",
    Base.metadata,
    Column("person_id", ID, ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True),
    Column(
        "category_id", ID, ForeignKey("vulnerability_categories.id", ondelete="CASCADE"), primary_key=True, index=True
    ),
)


class Person(RecordMixin, Base):
    """A beneficiary. `full_name` is as typed; `name_norm` and `name_parts` are derived by domain.arabic."""

    __tablename__ = "persons"
    __table_args__ = (
        CheckConstraint("sex IS NULL OR sex IN ('M','F')", name="sex"),
        Index("ix_persons_district_birth_year", "district_id", "birth_year"),
        # Partial: almost every row is NULL, and a full index tempts the planner into scanning it for IS NULL.
        Index(
            "ix_persons_merged_into_id",
            "merged_into_id",
            sqlite_where=text("merged_into_id IS NOT NULL"),
            postgresql_where=text("merged_into_id IS NOT NULL"),
        ),
        # The live registry in registration order: the desktop's table counts and pages through it index-only
        # (a jump to row 900,000 of a million steps through this small index, not through the table).
        Index(
            "ix_persons_live",
            "search_rowid",
            sqlite_where=text("merged_into_id IS NULL"),
            postgresql_where=text("merged_into_id IS NULL"),
        ),
        # ID and phone lookups by prefix; with merged_into_id beside them, the table sorted by either column pages
        # through the index alone (live persons only) instead of reading every row it skips.
        Index("ix_persons_national_id", "national_id", "merged_into_id"),
        Index("ix_persons_phone", "phone", "merged_into_id"),
        # A district's persons in registration order: the table filtered by district pages without sorting.
        Index("ix_persons_district_id", "district_id", "search_rowid"),
    )
    full_name: Mapped[str] = mapped_column(String(300))
    name_norm: Mapped[str] = mapped_column(String(300))
    name_parts: Mapped[list[str]] = mapped_column(JSON, default=list)
    national_id: Mapped[str] = mapped_column(String(30), default="")
    phone: Mapped[str] = mapped_column(String(30), default="")
    sex: Mapped[str | None] = mapped_column(String(1))
    birth_date: Mapped[date | None] = mapped_column(Date)
    birth_year: Mapped[int | None] = mapped_column(Integer)
    district_id: Mapped[str | None] = _fk("districts.id", index=False)  # ix_persons_district_id below
    spouse_name: Mapped[str] = mapped_column(String(300), default="")
    spouse_name_norm: Mapped[str] = mapped_column(String(300), default="")
    spouse_national_id: Mapped[str] = mapped_column(String(30), default="", index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    # The person's consent to their data being shared beyond the office (with headquarters, other agencies).
    consent_sharing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    consent_on: Mapped[date | None] = mapped_column(Date)
    # Set when a reviewer merges this record into another; lines and links keep pointing here (append-only aid).
    merged_into_id: Mapped[str | None] = _fk("persons.id", index=False)
    # Local key of the full-text index row (SQLite FTS5, see store/search.py); assigned by the store.
    search_rowid: Mapped[int] = mapped_column(Integer, unique=True)

    categories: Mapped[list[VulnerabilityCategory]] = relationship(secondary=person_categories)
    district: Mapped[District | None] = relationship()
    membership: Mapped[HouseholdMember | None] = relationship(back_populates="person", uselist=False)


class Household(RecordMixin, Base):
    __tablename__ = "households"
    __table_args__ = (CheckConstraint("size IS NULL OR size BETWEEN 1 AND 60", name="size"),)
    head_person_id: Mapped[str | None] = _fk("persons.id")
    district_id: Mapped[str | None] = _fk("districts.id")
    sub_district_id: Mapped[str | None] = _fk("sub_districts.id")
    address: Mapped[str] = mapped_column(String(300), default="")
    size: Mapped[int | None] = mapped_column(Integer)
    income_band: Mapped[str | None] = mapped_column(String(20))
    housing: Mapped[str | None] = mapped_column(String(20))
    notes: Mapped[str] = mapped_column(Text, default="")

    members: Mapped[list[HouseholdMember]] = relationship(back_populates="household", cascade="all, delete-orphan")
    head: Mapped[Person | None] = relationship(foreign_keys=[head_person_id])


class HouseholdMember(RecordMixin, Base):
    __tablename__ = "household_members"
    household_id: Mapped[str] = _fk("households.id", nullable=False, ondelete="CASCADE")
    person_id: Mapped[str] = mapped_column(ID, ForeignKey("persons.id", ondelete="CASCADE"), unique=True)
    relation: Mapped[str] = mapped_column(String(20), default="other")
    household: Mapped[Household] = relationship(back_populates="members")
    person: Mapped[Person] = relationship(back_populates="membership")


# --- projects, campaigns, distributions ---------------------------------------------------------------------

project_districts = Table(
    "project_districts",
    Base.metadata,
    Column("project_id", ID, ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("district_id", ID, ForeignKey("districts.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Campaign(RecordMixin, Base):
    __tablename__ = "campaigns"
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="emergency")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    description: Mapped[str] = mapped_column(Text, default="")


class Project(RecordMixin, Base):
    __tablename__ = "projects"
    __table_args__ = (
        CheckConstraint("end_date IS NULL OR start_date IS NULL OR end_date >= start_date", name="period"),
    )
    association_id: Mapped[str] = _fk("associations.id", nullable=False)
    campaign_id: Mapped[str | None] = _fk("campaigns.id")
    title: Mapped[str] = mapped_column(String(300))
    donor: Mapped[str] = mapped_column(String(200), default="")
    sector: Mapped[str] = mapped_column(String(20), default="food")
    aid_type_id: Mapped[str | None] = _fk("aid_types.id")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    target_households: Mapped[int | None] = mapped_column(Integer)
    budget: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str] = mapped_column(String(3), default="YER")
    status: Mapped[str] = mapped_column(String(20), default="running")

    association: Mapped[Association] = relationship()
    aid_type: Mapped[AidType | None] = relationship()
    districts: Mapped[list[District]] = relationship(secondary=project_districts)


class Distribution(RecordMixin, Base):
    """A distribution round. Never deleted (a trigger refuses it); corrections are reversal lines."""

    __tablename__ = "distributions"
    project_id: Mapped[str] = _fk("projects.id", nullable=False)
    campaign_id: Mapped[str | None] = _fk("campaigns.id")
    distribution_date: Mapped[date] = mapped_column(Date, index=True)
    site: Mapped[str] = mapped_column(String(200), default="")
    district_id: Mapped[str | None] = _fk("districts.id")
    aid_type_id: Mapped[str] = _fk("aid_types.id", nullable=False)
    item: Mapped[str] = mapped_column(String(200), default="")
    quantity_per_household: Mapped[Decimal | None] = mapped_column(Numeric(18, 3))
    unit: Mapped[str] = mapped_column(String(40), default="")
    amount_per_household: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    currency: Mapped[str | None] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    approved_by: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)

    project: Mapped[Project] = relationship()
    aid_type: Mapped[AidType] = relationship()


class DistributionLine(RecordMixin, Base):
    """One household (or person) on a distribution list. Append-only: triggers refuse deletes and any change
    except the single move of `status` from 'listed' to 'received' or 'not_received'. A correction is a new
    line with status 'reversal' pointing at the line it cancels."""

    __tablename__ = "distribution_lines"
    __table_args__ = (
        CheckConstraint("status IN ('listed','received','not_received','reversal')", name="status"),
        Index("ix_distribution_lines_household_status", "household_id", "status"),
    )
    distribution_id: Mapped[str] = _fk("distributions.id", nullable=False)
    household_id: Mapped[str | None] = _fk("households.id", index=False)
    person_id: Mapped[str | None] = _fk("persons.id")
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(18, 3))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(18, 2))
    status: Mapped[str] = mapped_column(String(20), default="listed")
    reversal_of_id: Mapped[str | None] = _fk("distribution_lines.id")
    reason: Mapped[str] = mapped_column(Text, default="")
    override_reason: Mapped[str] = mapped_column(Text, default="")
    overridden_by: Mapped[str | None] = mapped_column(String(80))


# --- referrals ----------------------------------------------------------------------------------------------


class AidRefusal(RecordMixin, Base):
    """A line refused because the household already had the same aid in the window: the duplication prevented.
    If a supervisor then keeps the line with a reason, the override is on the line itself."""

    __tablename__ = "aid_refusals"
    distribution_id: Mapped[str] = _fk("distributions.id", nullable=False)
    household_id: Mapped[str | None] = _fk("households.id", index=False)
    person_id: Mapped[str | None] = _fk("persons.id", index=False)
    prior_count: Mapped[int] = mapped_column(Integer, default=1)


class Referral(RecordMixin, Base):
    __tablename__ = "referrals"
    person_id: Mapped[str] = _fk("persons.id", nullable=False)
    association_id: Mapped[str] = _fk("associations.id", nullable=False)
    aid_type_id: Mapped[str | None] = _fk("aid_types.id")
    need: Mapped[str] = mapped_column(Text)
    referred_on: Mapped[date] = mapped_column(Date, index=True)
    due_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20), default="sent", index=True)
    outcome: Mapped[str] = mapped_column(Text, default="")
    closed_on: Mapped[date | None] = mapped_column(Date)

    person: Mapped[Person] = relationship()
    association: Mapped[Association] = relationship()
    history: Mapped[list[ReferralStatusChange]] = relationship(
        order_by="ReferralStatusChange.changed_on", cascade="all, delete-orphan"
    )


class ReferralStatusChange(RecordMixin, Base):
    __tablename__ = "referral_status_changes"
    referral_id: Mapped[str] = _fk("referrals.id", nullable=False, ondelete="CASCADE")
    status_from: Mapped[str | None] = mapped_column(String(20))
    status_to: Mapped[str] = mapped_column(String(20))
    changed_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(Text, default="")


# --- users and audit (filled by the security work) ----------------------------------------------------------


class User(RecordMixin, Base):
    __tablename__ = "users"
    username: Mapped[str] = mapped_column(String(80), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(20), default="clerk")
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The administrators' signature over (id, username, role, active, password_hash): services/trust.py
    seal: Mapped[str | None] = mapped_column(String(200))


class AuditEntry(Base):
    """One audited action; `hash` chains over `prev_hash` so an edited or deleted row is detected."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    id: Mapped[str] = mapped_column(ID, unique=True, default=new_id)
    office_id: Mapped[str] = mapped_column(ID)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(80), default="")
    action: Mapped[str] = mapped_column(String(30))
    entity: Mapped[str] = mapped_column(String(50), default="")
    entity_id: Mapped[str] = mapped_column(String(36), default="")
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")


class Request(RecordMixin, Base):
    """What a clerk may not do alone, asked of a supervisor: the exact parameters, the clerk's reason, the decision
    and what came of it (services/requests.py). Local to this office: never sent in a sync package."""

    __tablename__ = "requests"
    __table_args__ = (
        CheckConstraint("kind IN ('keep_already_received','merge','export')", name="kind"),
        CheckConstraint("status IN ('pending','approved','refused','closed')", name="status"),
        Index("ix_requests_status_kind", "status", "kind"),
    )
    kind: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(80), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    note: Mapped[str] = mapped_column(Text, default="")
    outcome: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[dict | None] = mapped_column(JSON)
    seen_at: Mapped[datetime | None] = mapped_column(DateTime)


# --- duplicate detection ----------------------------------------------------------------------------------


class MatchKey(Base):
    """A blocking key of a person, stored as a 64-bit hash against the person's local row key (compact at 1M+)."""

    __tablename__ = "match_keys"
    __table_args__ = {"sqlite_with_rowid": False}
    key_hash: Mapped[int] = mapped_column(BIG_INTEGER, primary_key=True)
    person_rowid: Mapped[int] = mapped_column(Integer, primary_key=True, index=True)


class DuplicatePair(RecordMixin, Base):
    """A candidate pair found by the engine, with its score and reasons, until a reviewer decides it."""

    __tablename__ = "duplicate_pairs"
    __table_args__ = (
        UniqueConstraint("person_a_id", "person_b_id"),
        CheckConstraint("person_a_id < person_b_id", name="ordered"),
        CheckConstraint("status IN ('open','merged','distinct','stale')", name="status"),
        Index("ix_duplicate_pairs_queue", "status", "decision", "score"),
    )
    person_a_id: Mapped[str] = _fk("persons.id", nullable=False, ondelete="CASCADE", index=False)
    person_b_id: Mapped[str] = _fk("persons.id", nullable=False, ondelete="CASCADE")
    score: Mapped[float] = mapped_column(Numeric(8, 3, asdecimal=False))
    decision: Mapped[str] = mapped_column(String(10))
    reasons: Mapped[list] = mapped_column(JSON, default=list)
    contributions: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(10), default="open")
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)


class PersonMerge(RecordMixin, Base):
    """A merge of one person into another: what changed, so that it can be undone exactly."""

    __tablename__ = "person_merges"
    survivor_id: Mapped[str] = _fk("persons.id", nullable=False)
    merged_id: Mapped[str] = _fk("persons.id", nullable=False)
    pair_id: Mapped[str | None] = _fk("duplicate_pairs.id")
    field_choices: Mapped[dict] = mapped_column(JSON, default=dict)
    survivor_before: Mapped[dict] = mapped_column(JSON, default=dict)
    moved: Mapped[dict] = mapped_column(JSON, default=dict)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime)
    undone_by: Mapped[str | None] = mapped_column(String(80))


class HouseholdLink(RecordMixin, Base):
    """Two household records that are one family (e.g. registered under the husband and under the wife)."""

    __tablename__ = "household_links"
    __table_args__ = (
        UniqueConstraint("household_a_id", "household_b_id"),
        CheckConstraint("household_a_id < household_b_id", name="ordered"),
    )
    household_a_id: Mapped[str] = _fk("households.id", nullable=False, ondelete="CASCADE", index=False)
    household_b_id: Mapped[str] = _fk("households.id", nullable=False, ondelete="CASCADE")
    reason: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="open")


# --- imports ----------------------------------------------------------------------------------------------


class ImportBatch(RecordMixin, Base):
    """One imported list: from which association, how many rows, and what became of them."""

    __tablename__ = "import_batches"
    association_id: Mapped[str] = _fk("associations.id", nullable=False)
    project_id: Mapped[str | None] = _fk("projects.id")
    file_name: Mapped[str] = mapped_column(String(260), default="")
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    imported: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)


batch_persons = Table(
    "import_batch_persons",
    Base.metadata,
    Column("batch_id", ID, ForeignKey("import_batches.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", ID, ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("existing", Boolean, nullable=False, default=False),
)


# --- office ↔ headquarters sync -----------------------------------------------------------------------------

# Every insert, update and delete of a synchronised table leaves a row here (SQLite triggers, migration 0008), so
# bulk inserts and any program writing the file are caught too. Rows past the `sync.stamped` setting are the open
# transaction's, stamped when the unit of work commits (rows are never deleted, so change numbers never repeat);
# `local` is 0 for rows written while applying another installation's package.
sync_outbox = Table(
    "sync_outbox",
    Base.metadata,
    Column("change_no", Integer, primary_key=True, autoincrement=True),
    Column("entity", String(40), nullable=False),
    Column("entity_id", ID, nullable=False),
    Column("field", String(40), nullable=False, server_default=""),
    Column("deleted", Integer, nullable=False, server_default="0"),
    Column("local", Integer, nullable=False, server_default="1"),
)

# The current stamp of each synchronised record ('' field) or association field: the clock value, the office that
# wrote it and the stamp it replaced where it was written (tells a sequential edit from a concurrent one).
sync_stamps = Table(
    "sync_stamps",
    Base.metadata,
    Column("entity", String(40), primary_key=True),
    Column("entity_id", ID, primary_key=True),
    Column("field", String(40), primary_key=True),
    Column("hlc", BIG_INTEGER, nullable=False),
    Column("origin", ID, nullable=False),
    Column("base", BIG_INTEGER, nullable=False, server_default="0"),
    Column("deleted", Integer, nullable=False, server_default="0"),
    sqlite_with_rowid=False,
)


class SyncKey(Base):
    """This installation's own key pairs; the newest active one signs, retired ones still open late packages."""

    __tablename__ = "sync_keys"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="active")
    sign_private: Mapped[str] = mapped_column(String(100))
    kx_private: Mapped[str] = mapped_column(String(100))
    fingerprint: Mapped[str] = mapped_column(String(40))


class SyncPeer(Base):
    """Another installation's public keys: an office enrolled at headquarters, or the trusted headquarters."""

    __tablename__ = "sync_peers"
    __table_args__ = (
        UniqueConstraint("sign_public"),
        CheckConstraint("status IN ('active','retired','revoked')", name="status"),
    )
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    office_id: Mapped[str] = mapped_column(ID, index=True)
    office_code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(10))
    sign_public: Mapped[str] = mapped_column(String(60))
    kx_public: Mapped[str] = mapped_column(String(60))
    escrow_public: Mapped[str | None] = mapped_column(String(60))
    fingerprint: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10), default="active")
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    changed_at: Mapped[datetime | None] = mapped_column(DateTime)


class SyncPackage(Base):
    """Every package written or read: the history on the Sync page, replay and fork detection."""

    __tablename__ = "sync_packages"
    __table_args__ = (Index("ix_sync_packages_stream", "sender_id", "epoch", "sequence"),)
    id: Mapped[str] = mapped_column(ID, primary_key=True)  # the package id from the manifest
    direction: Mapped[str] = mapped_column(String(3))  # "out" or "in"
    kind: Mapped[str] = mapped_column(String(10))
    sender_id: Mapped[str] = mapped_column(ID)
    recipient_id: Mapped[str] = mapped_column(ID)
    epoch: Mapped[int] = mapped_column(Integer)
    sequence: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    change_from: Mapped[int] = mapped_column(Integer, default=0)
    change_to: Mapped[int] = mapped_column(Integer, default=0)
    records: Mapped[int] = mapped_column(Integer, default=0)
    applied: Mapped[int] = mapped_column(Integer, default=0)
    conflicts: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12))  # written, applied, acknowledged
    file_name: Mapped[str] = mapped_column(String(120), default="")
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    by: Mapped[str] = mapped_column(String(80), default="")


class SyncConflict(Base):
    """A value that lost a merge to a concurrent one, kept for a person to decide."""

    __tablename__ = "sync_conflicts"
    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(ID, index=True)
    field: Mapped[str] = mapped_column(String(40))
    kept_value: Mapped[dict | list | str | int | None] = mapped_column(JSON)
    kept_origin: Mapped[str] = mapped_column(ID)
    kept_hlc: Mapped[int] = mapped_column(BIG_INTEGER)
    lost_value: Mapped[dict | list | str | int | None] = mapped_column(JSON)
    lost_origin: Mapped[str] = mapped_column(ID)
    lost_hlc: Mapped[int] = mapped_column(BIG_INTEGER)
    package_id: Mapped[str] = mapped_column(ID)
    status: Mapped[str] = mapped_column(String(10), default="open", index=True)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SyncFlag(Base):
    """At an office: headquarters found this person also registered by another office (never who, beyond the
    office's code)."""

    __tablename__ = "sync_flags"
    id: Mapped[str] = mapped_column(ID, primary_key=True)  # headquarters' pair id
    person_id: Mapped[str] = mapped_column(ID, index=True)
    other_office: Mapped[str] = mapped_column(String(20))
    score: Mapped[float] = mapped_column(Numeric(8, 3, asdecimal=False))
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
