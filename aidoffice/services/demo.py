"""A realistic demo office: associations with histories, families with clerical spelling variation, aid, referrals."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from aidoffice.domain.arabic import normalize_name, normalize_text, parse_name
from aidoffice.domain.reference import AID_TYPES
from aidoffice.errors import UserError
from aidoffice.services import demo_pools as pools
from aidoffice.services.context import ServiceContext
from aidoffice.services.office import initialise_office
from aidoffice.store import models as m
from aidoffice.store.base import new_id

Progress = Callable[[int, int], None]
CHUNK = 20_000
MAX_PERSONS = 5_000_000

_AID_SECTOR = {
    "food_basket": "food",
    "ramadan_basket": "food",
    "cash": "cash",
    "medical": "health",
    "in_kind": "livelihood",
    "shelter": "shelter",
    "winter_kit": "shelter",
    "school_kit": "education",
    "eid_clothing": "protection",
    "stipend": "cash",
}


@dataclass(frozen=True)
class DemoSummary:
    persons: int
    households: int
    associations: int
    projects: int
    distributions: int
    distribution_lines: int
    referrals: int


class _CancelledError(Exception):
    pass


def _typed_variant(rng: random.Random, parts: list[str]) -> str:
    """How a clerk might type the name: hamza, taa marbuta, alef maqsura, split compounds, بن, a dropped part."""
    parts = list(parts)
    roll = rng.random()
    if roll < 0.10 and len(parts) >= 4:
        del parts[2]  # grandfather dropped
    elif roll < 0.15 and len(parts) >= 3:
        parts.insert(1, "بن")
    text = " ".join(parts)
    if rng.random() < 0.25:
        text = text.replace("أ", "ا").replace("إ", "ا").replace("آ", "ا")
    if rng.random() < 0.15:
        text = text.replace("ة ", "ه ").removesuffix("ة") + ("ه" if text.endswith("ة") else "")
    if rng.random() < 0.15:
        text = text.replace("ى", "ي")
    if rng.random() < 0.2:
        text = text.replace("عبدالله", "عبد الله").replace("عبدالرحمن", "عبد الرحمن")
    if rng.random() < 0.05:
        text = text.replace("محمد", "مُحَمَّد")
    return text


class _Generator:
    def __init__(
        self,
        ctx: ServiceContext,
        uow,
        persons: int,
        seed: int,
        progress: Progress | None,
        should_cancel: Callable[[], bool] | None,
    ) -> None:
        self.ctx = ctx
        self.repo = uow.repo
        self.uow = uow
        self.target = persons
        self.rng = random.Random(seed)
        self.progress = progress
        self.should_cancel = should_cancel
        self.today = ctx.today()
        self.now = datetime.combine(self.today, datetime.min.time())
        self.office_id = ctx.office_id
        self.user = ctx.username
        self.districts = [(d.id, d.name) for d in self.repo.districts()]
        self.categories = self.repo.code_map(m.VulnerabilityCategory)
        self.fields = list(self.repo.code_map(m.FieldOfWork).values())
        self.aid_types = self.repo.code_map(m.AidType)
        self.households_by_district: dict[str, list[tuple[str, str, int]]] = {d: [] for d, _ in self.districts}
        self.person_ids: list[str] = []
        self.counts = dict.fromkeys(("households", "projects", "distributions", "distribution_lines", "referrals"), 0)

    # --- helpers --------------------------------------------------------------------------------------------
    def stamp(self, when: datetime | None = None) -> dict:
        when = when or self.now
        return {
            "id": new_id(self.office_id),
            "office_id": self.office_id,
            "created_at": when,
            "updated_at": when,
            "changed_by": self.user,
            "version": 1,
        }

    def past(self, days: int) -> date:
        return self.today - timedelta(days=self.rng.randint(0, days))

    def tick(self, done: int) -> None:
        if self.should_cancel and self.should_cancel():
            raise _CancelledError
        if self.progress:
            self.progress(min(done, self.target), self.target)

    def national_id(self) -> str:
        return str(self.rng.choice((1, 2, 3))) + "".join(str(self.rng.randint(0, 9)) for _ in range(10))

    def phone(self) -> str:
        return self.rng.choice(("77", "73", "71", "70")) + "".join(str(self.rng.randint(0, 9)) for _ in range(7))

    # --- associations ---------------------------------------------------------------------------------------
    def associations(self) -> list[tuple[str, str, list[str]]]:
        rng = self.rng
        n = max(12, min(150, self.target // 5000))
        # The first few are active; then one of each other status, then a realistic mix.
        fixed = ["active"] * 6 + ["dormant", "suspended", "dissolved", "dormant"]
        made: list[tuple[str, str, list[str]]] = []
        seen_names: set[str] = set()
        for i in range(n):
            form, word = rng.choice(pools.ASSOCIATION_KINDS)
            home_id, home_name = rng.choice(self.districts)
            name = f"{word} {rng.choice(pools.ASSOCIATION_THEMES)} ب{home_name}"
            if name in seen_names:
                name = f"{name} ({i + 1})"
            seen_names.add(name)
            proclaimed = self.today - timedelta(days=rng.randint(400, 9000))
            status = (
                fixed[i]
                if i < len(fixed)
                else rng.choices(("active", "dormant", "suspended", "dissolved"), weights=(14, 3, 2, 1))[0]
            )
            row = self.stamp(datetime.combine(proclaimed, datetime.min.time()))
            status_since = self.past(300) if status != "active" else proclaimed
            row.update(
                name=name,
                name_norm=normalize_text(name),
                registration_number=f"{1000 + i}/{proclaimed.year}",
                proclamation_date=proclaimed,
                legal_form=form,
                district_id=home_id,
                address=home_name,
                phone=self.phone(),
                email="",
                licence_expiry=self.today + timedelta(days=rng.randint(-200, 900)),
                status=status,
                status_since=status_since,
                notes="",
            )
            self.repo.bulk_insert(m.Association, [row])
            aid = row["id"]
            others = [d for d, _ in rng.sample(self.districts, k=min(len(self.districts), rng.randint(0, 2)))]
            area = sorted({home_id, *others})
            self.repo.bulk_insert(m.association_districts, [{"association_id": aid, "district_id": d} for d in area])
            self.repo.bulk_insert(
                m.association_fields,
                [{"association_id": aid, "field_id": f} for f in rng.sample(self.fields, k=rng.randint(1, 3))],
            )
            history = [
                dict(
                    self.stamp(),
                    association_id=aid,
                    status_from=None,
                    status_to="active",
                    changed_on=proclaimed,
                    reason="الإشهار",
                )
            ]
            if status != "active":
                history.append(
                    dict(
                        self.stamp(),
                        association_id=aid,
                        status_from="active",
                        status_to=status,
                        changed_on=status_since,
                        reason={
                            "dormant": "لا نشاط ولا تقارير منذ عام",
                            "suspended": "مخالفات مالية",
                            "dissolved": "قرار الجمعية العمومية",
                        }[status],
                    )
                )
            self.repo.bulk_insert(m.AssociationStatusChange, history)
            board = []
            for j, role in enumerate(("chair", "deputy", "secretary", "treasurer", "member")):
                given = rng.choice(pools.MALE_GIVEN if j != 4 else pools.FEMALE_GIVEN)
                board.append(
                    dict(
                        self.stamp(),
                        association_id=aid,
                        role=role,
                        phone=self.phone(),
                        national_id="",
                        term_start=proclaimed,
                        term_end=None,
                        full_name=f"{given} {rng.choice(pools.MALE_GIVEN)} {rng.choice(pools.FAMILIES)}",
                    )
                )
            self.repo.bulk_insert(m.BoardMember, board)
            visits = []
            for _ in range(rng.randint(0, 3)):
                due = self.past(200) + timedelta(days=30)
                visits.append(
                    dict(
                        self.stamp(),
                        association_id=aid,
                        visit_date=self.past(360),
                        visitors=" و".join(rng.sample(pools.VISITORS, 2)),
                        findings=rng.choice(pools.FINDINGS),
                        rating=rng.randint(1, 5),
                        follow_up="استكمال الوثائق",
                        follow_up_due=due,
                        follow_up_done=due < self.today,
                    )
                )
            self.repo.bulk_insert(m.FieldVisit, visits)
            self.repo.bulk_insert(
                m.ComplianceRecord,
                [
                    dict(
                        self.stamp(),
                        association_id=aid,
                        year=y,
                        admin_report=rng.random() < 0.8,
                        financial_report=rng.random() < 0.6,
                        submitted_on=date(y + 1, 3, rng.randint(1, 28)),
                        notes="",
                    )
                    for y in (self.today.year - 2, self.today.year - 1)
                ],
            )
            made.append((aid, status, area))
        return made

    # --- persons and households -----------------------------------------------------------------------------
    def person_row(
        self,
        parts: list[str],
        sex: str,
        age: int,
        district_id: str,
        rowid: int,
        registered: datetime,
        spouse: str = "",
        spouse_id: str = "",
    ) -> dict:
        rng = self.rng
        typed = _typed_variant(rng, parts)
        parsed = parse_name(typed)
        year = self.today.year - age
        birth_date = None
        if rng.random() < 0.5:
            birth_date = date(year, rng.randint(1, 12), rng.randint(1, 28))
            if birth_date > self.today:  # a newborn of this year
                birth_date = self.today - timedelta(days=rng.randint(0, 60))
                year = birth_date.year
        row = self.stamp(registered)
        row.update(
            full_name=typed,
            name_norm=parsed.normalized,
            name_parts=list(parsed.parts),
            national_id=self.national_id() if age >= 16 and rng.random() < 0.85 else "",
            phone=self.phone() if age >= 18 and rng.random() < 0.6 else "",
            sex=sex,
            birth_date=birth_date,
            birth_year=year,
            district_id=district_id,
            spouse_name=spouse,
            spouse_name_norm=normalize_name(spouse),
            spouse_national_id=spouse_id,
            notes="",
            merged_into_id=None,
            consent_sharing=False,
            consent_on=None,
            search_rowid=rowid,
        )
        return row

    def households(self) -> None:
        rng = self.rng
        cats = self.categories
        made = 0
        rowid = self.repo.reserve_search_rowids(self.target)  # at most `target` persons are made
        persons: list[dict] = []
        households: list[dict] = []
        members: list[dict] = []
        links: list[dict] = []
        while made < self.target:
            district_id, _ = rng.choice(self.districts)
            registered = self.now - timedelta(days=rng.randint(0, 400), minutes=rng.randint(0, 600))
            family = rng.choice(pools.FAMILIES)
            father = [rng.choice(pools.MALE_GIVEN), rng.choice(pools.MALE_GIVEN)]
            female_head = rng.random() < 0.15
            head_age = rng.randint(24, 75)
            if female_head:
                head_parts = [rng.choice(pools.FEMALE_GIVEN), *father, family]
                head_sex = "F"
            else:
                head_parts = [rng.choice(pools.MALE_GIVEN), *father, family]
                head_sex = "M"
            wife_parts = None
            if not female_head and rng.random() < 0.85:
                wife_parts = [
                    rng.choice(pools.FEMALE_GIVEN),
                    rng.choice(pools.MALE_GIVEN),
                    rng.choice(pools.MALE_GIVEN),
                    rng.choice(pools.FAMILIES),
                ]
            size = min(self.target - made, max(1, int(rng.triangular(1, 12, 5))))
            wife_nid = self.national_id() if wife_parts and rng.random() < 0.7 else ""
            head = self.person_row(
                head_parts,
                head_sex,
                head_age,
                district_id,
                rowid,
                registered,
                spouse=" ".join(wife_parts) if wife_parts else "",
                spouse_id=wife_nid,
            )
            rowid += 1
            household_id = new_id(self.office_id)
            hh_members = [(head, "head")]
            if wife_parts and size >= 2:
                wife = self.person_row(
                    wife_parts,
                    "F",
                    max(18, head_age - rng.randint(0, 10)),
                    district_id,
                    rowid,
                    registered,
                    spouse=head["full_name"],
                    spouse_id=head["national_id"],
                )
                if wife_nid:
                    wife["national_id"] = wife_nid
                rowid += 1
                hh_members.append((wife, "spouse"))
            # Children carry the father's given name, grandfather and family: brothers differ only in the first part.
            child_father = head_parts[:3] if not female_head else [rng.choice(pools.MALE_GIVEN), *father[:1]]
            while len(hh_members) < size:
                son = rng.random() < 0.5
                given = rng.choice(pools.MALE_GIVEN if son else pools.FEMALE_GIVEN)
                child = self.person_row(
                    [given, *child_father[:2], family],
                    "M" if son else "F",
                    rng.randint(0, max(0, min(30, head_age - 18))),
                    district_id,
                    rowid,
                    registered,
                )
                rowid += 1
                hh_members.append((child, "son" if son else "daughter"))
            hh = self.stamp(registered)
            hh.update(
                id=household_id,
                head_person_id=head["id"],
                district_id=district_id,
                sub_district_id=None,
                address="",
                size=len(hh_members) if rng.random() < 0.9 else len(hh_members) + rng.randint(1, 3),
                income_band=rng.choice(("none", "very_low", "very_low", "low", "medium")),
                housing=rng.choice(("owned", "rented", "rented", "hosted", "camp", "shelter")),
                notes="",
            )
            households.append(hh)
            for person, relation in hh_members:
                persons.append(person)
                self.person_ids.append(person["id"])
                members.append(
                    dict(self.stamp(registered), household_id=household_id, person_id=person["id"], relation=relation)
                )
            # Vulnerability categories: per household head, with a rare sensitive one.
            chosen = []
            if rng.random() < 0.3:
                chosen.append("poorest")
            if female_head:
                chosen.append(rng.choice(("widow", "female_head")))
            if rng.random() < 0.2:
                chosen.append("displaced")
            if rng.random() < 0.05:
                chosen.append("disability")
            if rng.random() < 0.05:
                chosen.append("chronic")
            if head_age >= 65:
                chosen.append("elderly")
            if rng.random() < 0.005:
                chosen.append("gbv")
            links.extend({"person_id": head["id"], "category_id": cats[c]} for c in chosen if c in cats)
            self.households_by_district[district_id].append((household_id, head["id"], len(hh_members)))
            made += len(hh_members)
            self.counts["households"] += 1
            # The same person listed again by another association, spelled differently (for duplicate detection).
            if rng.random() < 0.04 and made < self.target:
                again = self.person_row(
                    head_parts,
                    head_sex,
                    head_age + rng.choice((0, 0, 1, -1)),
                    district_id,
                    rowid,
                    # later than the first registration, never later than today (a stamp in the future is a
                    # clock error that headquarters rightly refuses)
                    min(registered + timedelta(days=rng.randint(1, 60)), self.now),
                )
                if rng.random() < 0.5:
                    again["national_id"] = head["national_id"] if rng.random() < 0.6 else ""
                    again["phone"] = head["phone"]
                rowid += 1
                persons.append(again)
                self.person_ids.append(again["id"])
                made += 1
            if len(persons) >= CHUNK:
                self._flush(persons, households, members, links)
                self.tick(made)
        self._flush(persons, households, members, links)
        self.tick(made)

    def _flush(self, persons, households, members, links) -> None:
        self.repo.bulk_insert_persons(persons)
        self.repo.bulk_insert(m.Household, households)
        self.repo.bulk_insert(m.HouseholdMember, members)
        self.repo.bulk_insert(m.person_categories, links)
        for rows in (persons, households, members, links):
            rows.clear()

    # --- projects, distributions, referrals -----------------------------------------------------------------
    def aid(self, associations: list[tuple[str, str, list[str]]]) -> None:
        rng = self.rng
        codes = [a.code for a in AID_TYPES]
        total_households = max(1, self.counts["households"])
        active = [a for a in associations if a[1] in ("active", "suspended")]
        plans = []
        for aid_assoc, _status, area in active:
            for _ in range(rng.randint(1, 3)):
                plans.append((aid_assoc, area, rng.choice(codes[:4] + codes)))
        rounds_total = sum(1 for _ in plans) * 4
        per_round = max(5, int(total_households * 2 / max(1, rounds_total)))
        campaigns = []
        for name, kind in (("الاستجابة الطارئة لكوفيد-19", "emergency"), ("حملة الشتاء الدافئ", "seasonal")):
            row = self.stamp()
            row.update(name=name, kind=kind, start_date=self.past(360), end_date=None, description="")
            campaigns.append(row)
        self.repo.bulk_insert(m.Campaign, campaigns)
        lines: list[dict] = []
        for aid_assoc, area, code in plans:
            start = self.today - timedelta(days=rng.randint(200, 500))
            campaign_id = campaigns[1]["id"] if code == "winter_kit" else None
            project = self.stamp(datetime.combine(start, datetime.min.time()))
            currency = "USD" if rng.random() < 0.3 else "YER"
            project.update(
                association_id=aid_assoc,
                campaign_id=campaign_id,
                title=f"مشروع {dict((a.code, a.name) for a in AID_TYPES)[code]} {start.year}",
                donor=rng.choice(pools.DONORS),
                sector=_AID_SECTOR[code],
                aid_type_id=self.aid_types[code],
                start_date=start,
                end_date=start + timedelta(days=rng.randint(300, 700)),
                target_households=per_round * 4,
                budget=Decimal(rng.randint(5, 500) * 1000),
                currency=currency,
                status="running",
            )
            self.repo.bulk_insert(m.Project, [project])
            self.counts["projects"] += 1
            for r in range(rng.randint(2, 6)):
                when = self.today - timedelta(days=rng.randint(0, 364))
                district_id = rng.choice(area)
                dist = self.stamp(datetime.combine(when, datetime.min.time()))
                cash = code in ("cash", "stipend")
                status = "draft" if (self.today - when).days < 10 and r == 0 else "approved"
                dist.update(
                    project_id=project["id"],
                    campaign_id=campaign_id,
                    distribution_date=when,
                    site=rng.choice(pools.SITES),
                    district_id=district_id,
                    aid_type_id=self.aid_types[code],
                    item=dict((a.code, a.name) for a in AID_TYPES)[code],
                    quantity_per_household=None if cash else Decimal(1),
                    unit="" if cash else "سلة",
                    amount_per_household=Decimal(rng.choice((20, 30, 50))) if cash else None,
                    currency=currency if cash else None,
                    status=status,
                    approved_by=None if status == "draft" else self.user,
                    approved_at=None,
                )
                self.repo.bulk_insert(m.Distribution, [dist])
                self.counts["distributions"] += 1
                pool = self.households_by_district[district_id]
                chosen = rng.sample(pool, k=min(len(pool), rng.randint(per_round // 2, per_round * 3 // 2 + 1)))
                for household_id, head_id, _size in chosen:
                    line = self.stamp(dist["created_at"])
                    line_status = (
                        "listed" if status == "draft" else ("received" if rng.random() < 0.92 else "not_received")
                    )
                    line.update(
                        distribution_id=dist["id"],
                        household_id=household_id,
                        person_id=head_id,
                        quantity=dist["quantity_per_household"],
                        amount=dist["amount_per_household"],
                        status=line_status,
                        reversal_of_id=None,
                        reason="",
                        override_reason="",
                        overridden_by=None,
                    )
                    lines.append(line)
                    if line_status == "received" and rng.random() < 0.005:
                        rev = dict(line, **self.stamp(line["created_at"]))
                        rev.update(status="reversal", reversal_of_id=line["id"], reason="استلام مكرر بالخطأ")
                        lines.append(rev)
                if len(lines) >= CHUNK:
                    self.counts["distribution_lines"] += len(lines)
                    self.repo.bulk_insert(m.DistributionLine, lines)
                    lines.clear()
        self.counts["distribution_lines"] += len(lines)
        self.repo.bulk_insert(m.DistributionLine, lines)

    def referrals(self, associations: list[tuple[str, str, list[str]]]) -> None:
        rng = self.rng
        active = [a[0] for a in associations if a[1] == "active"]
        n = max(10, min(5000, self.target // 200))
        rows, history = [], []
        for _ in range(n):
            referred = self.past(200)
            status = rng.choice(("sent", "sent", "accepted", "served", "served", "declined"))
            row = self.stamp(datetime.combine(referred, datetime.min.time()))
            closed = referred + timedelta(days=rng.randint(1, 20)) if status in ("served", "declined") else None
            closed = min(closed, self.today) if closed else None
            row.update(
                person_id=rng.choice(self.person_ids),
                association_id=rng.choice(active),
                aid_type_id=None,
                need=rng.choice(pools.NEEDS),
                referred_on=referred,
                due_on=referred + timedelta(days=14),
                status=status,
                outcome="تم تقديم المساعدة" if status == "served" else "",
                closed_on=closed,
            )
            rows.append(row)
            history.append(
                dict(
                    self.stamp(row["created_at"]),
                    referral_id=row["id"],
                    status_from=None,
                    status_to="sent",
                    changed_on=referred,
                    note="",
                )
            )
            previous = "sent"
            for step in {"accepted": ["accepted"], "served": ["accepted", "served"], "declined": ["declined"]}.get(
                status, []
            ):
                history.append(
                    dict(
                        self.stamp(row["created_at"]),
                        referral_id=row["id"],
                        status_from=previous,
                        status_to=step,
                        changed_on=closed or min(self.today, referred + timedelta(days=3)),
                        note="لا تتوفر موارد" if step == "declined" else "",
                    )
                )
                previous = step
        self.repo.bulk_insert(m.Referral, rows)
        self.repo.bulk_insert(m.ReferralStatusChange, history)
        self.counts["referrals"] = n


def generate_demo(
    ctx: ServiceContext,
    persons: int,
    *,
    seed: int = 1,
    progress: Progress | None = None,
    should_cancel: Callable[[], bool] | None = None,
) -> DemoSummary:
    """Fill an empty database with a demo office of about `persons` persons, in one transaction."""
    if not 1 <= persons <= MAX_PERSONS:
        raise UserError(f"عدد الأشخاص يجب أن يكون بين 1 و{MAX_PERSONS:,}.", field="persons")
    with ctx.uow() as uow:
        has_data = uow.repo.count(m.Person) or uow.repo.count(m.Association)
        office = uow.repo.office()
    if has_data:
        raise UserError("قاعدة البيانات تحتوي على بيانات: تُنشأ البيانات التجريبية في ملف جديد فقط.")
    if office is None:
        initialise_office(
            ctx,
            name="مكتب الشؤون الاجتماعية والعمل - ساحل حضرموت (تجريبي)",
            governorate="حضرموت",
            office_code="HDR-DEMO",
        )
    with ctx.uow() as uow:
        gen = _Generator(ctx, uow, persons, seed, progress, should_cancel)
        try:
            associations = gen.associations()
            gen.households()
            gen.aid(associations)
            gen.referrals(associations)
        except _CancelledError:
            raise UserError("أُلغي إنشاء البيانات التجريبية ولم يُحفظ شيء.") from None
        uow.commit()
        uow.repo.optimize()
        return DemoSummary(persons=len(gen.person_ids), associations=len(associations), **gen.counts)
