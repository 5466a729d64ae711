"""Beneficiaries and households: add and update persons, households and their members, search, aid history."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from aidoffice.domain.access import Permission
from aidoffice.domain.arabic import clean_text, normalize_digits, normalize_name, search_tokens
from aidoffice.domain.persons import PersonInput, clean_person, parse_sex
from aidoffice.domain.vocab import Housing, IncomeBand, Relation, Sex
from aidoffice.errors import LikelyDuplicateError, NotFoundError, UserError, ValidationError
from aidoffice.services.context import ServiceContext
from aidoffice.services.duplicates import (
    Candidate,
    Scorer,
    check_person,
    entry_keys,
    entry_record,
    remember_entry_decisions,
    scorer_for,
    unconfirmed_likely,
)
from aidoffice.services.records import AidHistoryItem, HouseholdRecord, PersonRecord, PersonSummary
from aidoffice.services.versions import check_version
from aidoffice.store import models as m
from aidoffice.store.base import new_id, utcnow
from aidoffice.store.repositories import ReferencesRepository
from aidoffice.store.uow import UnitOfWork

MAX_SEARCH_LIMIT = 500


def _person_record(p: m.Person, show_sensitive: bool = False) -> PersonRecord:
    """The person as screens show it; sensitive categories only for a role allowed to see them."""
    membership = p.membership
    return PersonRecord(
        id=p.id,
        full_name=p.full_name,
        name_norm=p.name_norm,
        name_parts=tuple(p.name_parts or ()),
        national_id=p.national_id,
        phone=p.phone,
        sex=p.sex,
        birth_date=p.birth_date,
        birth_year=p.birth_year,
        district=p.district.name if p.district else None,
        categories=tuple(sorted(c.code for c in p.categories if show_sensitive or not c.sensitive)),
        spouse_name=p.spouse_name,
        spouse_national_id=p.spouse_national_id,
        notes=p.notes,
        household_id=membership.household_id if membership else None,
        relation=membership.relation if membership else None,
        version=p.version,
        consent_sharing=bool(p.consent_sharing),
        consent_on=p.consent_on,
    )


def _apply(ctx: ServiceContext, references: ReferencesRepository, person: m.Person, data: PersonInput) -> None:
    problems: dict[str, str] = {}
    clean = None
    try:
        clean = clean_person(data, ctx.rules, ctx.today())
    except ValidationError as exc:
        problems.update(exc.problems)
    district = None
    if data.district:
        district = references.district(data.district)
        if district is None:
            problems["district"] = "المديرية غير موجودة في قائمة المديريات."
    categories: list[m.VulnerabilityCategory] | None = None
    if data.categories is not None:
        categories = []
        by_code = {c.code: c for c in references.all(m.VulnerabilityCategory)}
        by_name = {c.name: c for c in by_code.values()}
        for ref in data.categories:
            found = by_code.get(ref) or by_name.get(ref.strip())
            if found is None:
                problems["categories"] = "إحدى الفئات غير معروفة."
            else:
                categories.append(found)
    if problems:
        raise ValidationError(problems)
    assert clean is not None
    person.full_name = clean.full_name
    person.name_norm = clean.name_norm
    person.name_parts = list(clean.name_parts)
    person.national_id = clean.national_id
    person.phone = clean.phone
    person.sex = clean.sex
    person.birth_date = clean.birth_date
    person.birth_year = clean.birth_year
    person.district = district
    person.spouse_name = clean.spouse_name
    person.spouse_name_norm = clean.spouse_name_norm
    person.spouse_national_id = clean.spouse_national_id
    person.notes = clean.notes
    if data.consent is not None and bool(data.consent) != bool(person.consent_sharing):
        person.consent_sharing = bool(data.consent)
        person.consent_on = ctx.today()  # when it was given, or withdrawn
    if categories is not None:
        if not ctx.can(Permission.VIEW_SENSITIVE):  # what this user cannot see, this user cannot remove either
            categories += [c for c in person.categories if c.sensitive and c not in categories]
        person.categories = categories
    person.changed_by = ctx.username
    # A change of categories alone writes only the link table: touching the row makes every save a new version, so
    # a form still open on the old one cannot silently undo it.
    person.updated_at = utcnow()


def _load_person(uow: UnitOfWork, person_id: str) -> m.Person:
    person = uow.records.get(m.Person, person_id)
    if person is None:
        raise NotFoundError("المستفيد غير موجود.")
    return person


def _lock_entries(ctx: ServiceContext, uow: UnitOfWork, rows: Sequence[tuple[PersonInput, str]]) -> None:
    """Before the duplicate check of a save: the locks of the persons' blocking keys (store/locks.py), so a clerk
    typing the same person on another PC at the same moment is checked after this save and finds it."""
    keys: set[int] = set()
    for data, person_id in rows:
        try:
            keys.update(entry_keys(entry_record(ctx, data, person_id=person_id)))
        except ValidationError:
            continue  # nothing to check: the save says what is wrong
    uow.records.lock(*keys)


def _entry_candidates(ctx: ServiceContext, data: PersonInput, person_id: str, scorer: Scorer, repo) -> list[Candidate]:
    """Who this person may already be, read in the save's unit of work after _lock_entries; none while the input is
    invalid (the save then says what is wrong)."""
    try:
        return check_person(ctx, data, person_id=person_id, scorer=scorer, repo=repo)
    except ValidationError:
        return []


def _gate(candidates: list[Candidate], distinct_from: Iterable[str]) -> list[Candidate]:
    """The entry check, one rule for the screens and the command line: a likely duplicate is saved only once the
    user has said it is someone else. Returns the candidates the user said are someone else, to be remembered."""
    confirmed = set(distinct_from)
    if unconfirmed_likely(candidates, confirmed):
        raise LikelyDuplicateError(candidates)
    return [c for c in candidates if c.person_id in confirmed]


def add_person(ctx: ServiceContext, data: PersonInput, *, distinct_from: Iterable[str] = ()) -> PersonRecord:
    """Register a person. A likely duplicate of someone registered is refused (LikelyDuplicateError, with the
    candidates) unless each likely candidate's id is in `distinct_from`; that decision is remembered."""
    ctx.require(Permission.ENTER_DATA)
    person_id = new_id(ctx.office_id)
    scorer = scorer_for(ctx)  # may store what it computes: before the locks, in its own units of work
    with ctx.uow(write_first=True) as uow:
        _lock_entries(ctx, uow, [(data, person_id)])
        confirmed = _gate(_entry_candidates(ctx, data, person_id, scorer, uow.repo), distinct_from)
        person = ctx.stamp(m.Person(id=person_id))
        _apply(ctx, uow.references, person, data)
        uow.records.add(person)
        uow.flush()
        remember_entry_decisions(ctx, uow.repo, person.id, confirmed)
        uow.commit()
        return _person_record(person, ctx.can(Permission.VIEW_SENSITIVE))


def _identity(person: m.Person) -> tuple:
    """What the duplicate check reads of a person: when an edit leaves it as it was, there is nothing new to check."""
    return (
        tuple(person.name_parts or ()),
        person.national_id or "",
        person.phone or "",
        person.birth_year,
        person.sex,
        person.district.id if person.district is not None else None,
        person.spouse_name_norm or "",
        person.spouse_national_id or "",
    )


def update_person(
    ctx: ServiceContext,
    person_id: str,
    data: PersonInput,
    *,
    expected_version: int | None = None,
    distinct_from: Iterable[str] = (),
) -> PersonRecord:
    """Change a person. An edit that makes the record a likely duplicate of someone else is refused like a new
    person (LikelyDuplicateError) unless confirmed with `distinct_from`; persons already decided to be someone
    else never stop it, and an edit that leaves the identifying fields alone is not checked again."""
    ctx.require(Permission.ENTER_DATA)
    distinct_from = set(distinct_from) - {person_id}
    scorer = scorer_for(ctx)
    with ctx.uow(write_first=True) as uow:
        uow.records.lock_records("persons", [person_id])  # the version is read after a save at once
        person = _load_person(uow, person_id)
        check_version(ctx, uow.records, person, expected_version)
        _lock_entries(ctx, uow, [(data, person_id)])
        candidates = _entry_candidates(ctx, data, person_id, scorer, uow.repo)
        before = _identity(person)
        _apply(ctx, uow.references, person, data)
        changed = _identity(person) != before
        confirmed = (
            _gate(candidates, distinct_from) if changed else [c for c in candidates if c.person_id in distinct_from]
        )
        uow.flush()
        remember_entry_decisions(ctx, uow.repo, person.id, confirmed)
        uow.commit()
        return _person_record(person, ctx.can(Permission.VIEW_SENSITIVE))


def get_person(ctx: ServiceContext, person_id: str) -> PersonRecord:
    with ctx.uow() as uow:
        return _person_record(_load_person(uow, person_id), ctx.can(Permission.VIEW_SENSITIVE))


# --- households ---------------------------------------------------------------------------------------------


def _household_record(h: m.Household) -> HouseholdRecord:
    return HouseholdRecord(
        id=h.id,
        head_person_id=h.head_person_id,
        district=None,
        size=h.size,
        income_band=h.income_band,
        housing=h.housing,
        members=tuple((mem.person_id, mem.person.full_name, mem.relation) for mem in h.members),
    )


def _check_household_fields(size, income_band, housing) -> dict[str, str]:
    problems = {}
    if size is not None and not 1 <= size <= 60:
        problems["size"] = "عدد أفراد الأسرة يجب أن يكون بين 1 و60."
    if income_band:
        try:
            IncomeBand.parse(income_band)
        except ValueError:
            problems["income_band"] = "فئة الدخل غير معروفة."
    if housing:
        try:
            Housing.parse(housing)
        except ValueError:
            problems["housing"] = "نوع السكن غير معروف."
    return problems


def create_household(
    ctx: ServiceContext,
    head_person_id: str,
    *,
    size: int | None = None,
    income_band: str | None = None,
    housing: str | None = None,
    address: str = "",
) -> HouseholdRecord:
    """A household headed by an existing person who does not belong to another household yet."""
    ctx.require(Permission.ENTER_DATA)
    problems = _check_household_fields(size, income_band, housing)
    if problems:
        raise ValidationError(problems)
    with ctx.uow() as uow:
        head = _load_person(uow, head_person_id)
        if head.membership is not None:
            raise UserError("هذا الشخص عضو في أسرة أخرى: انقله منها أولاً.", field="head_person_id")
        household = ctx.stamp(
            m.Household(
                head_person_id=head.id,
                district_id=head.district_id,
                size=size,
                income_band=IncomeBand.parse(income_band).value if income_band else None,
                housing=Housing.parse(housing).value if housing else None,
                address=clean_text(address, multiline=True),
            )
        )
        household.members.append(ctx.stamp(m.HouseholdMember(person=head, relation=Relation.HEAD.value)))
        uow.records.add(household)
        uow.commit()
        return _household_record(household)


# Relations that say the sex (a son is male, a daughter female): a row that says otherwise is a slip of the clerk.
_RELATION_SEX = {
    Relation.SON.value: "M",
    Relation.FATHER.value: "M",
    Relation.BROTHER.value: "M",
    Relation.DAUGHTER.value: "F",
    Relation.MOTHER.value: "F",
    Relation.SISTER.value: "F",
}


def _typed_sex(text) -> str | None:
    try:
        sex = parse_sex(text)
    except ValueError:
        return None  # the row's own check says so
    return sex.value if sex else None


@dataclass(frozen=True)
class FamilyMember:
    """One row of the family form: a new person (`person`) or a registered one chosen with «هو نفسه» (`existing_id`),
    the relation to the head, and the registered persons the clerk said are someone else (`distinct_from`)."""

    relation: str
    person: PersonInput | None = None
    existing_id: str | None = None
    distinct_from: tuple[str, ...] = ()


class FamilyDuplicateError(LikelyDuplicateError):
    """A row of the family form is probably registered already; `row` (0-based) says which, `candidates` who."""

    def __init__(self, row: int, candidates=()) -> None:
        super().__init__(candidates)
        self.row = row
        self.message = f"الصف {row + 1}: " + self.MESSAGE
        self.args = (self.message,)


def _row_problems(row: int, problems: dict[str, str]) -> dict[str, str]:
    return {f"members.{row}.{key}": f"الصف {row + 1}: {text}" for key, text in problems.items()}


def register_family(
    ctx: ServiceContext,
    members: Sequence[FamilyMember],
    *,
    size: int | None = None,
    income_band: str | None = None,
    housing: str | None = None,
    address: str = "",
) -> HouseholdRecord:
    """A whole household from one form, all or nothing: the head (first row) and the members, each new person
    checked for duplicates on entry as `add_person` does; a registered person may join if in no household yet."""
    ctx.require(Permission.ENTER_DATA)
    rows = list(members)
    problems = _check_household_fields(size, income_band, housing)
    if not rows:
        raise ValidationError({"members": "أضف رب الأسرة في الصف الأول."})
    relations: list[str] = []
    for i, row in enumerate(rows):
        try:
            relations.append(_relation(row.relation))
        except UserError as exc:
            problems.update(_row_problems(i, {"relation": exc.message}))
            relations.append("")
        if row.person is None and not row.existing_id:
            problems.update(_row_problems(i, {"full_name": "الاسم مطلوب."}))
        elif row.person is not None:
            try:
                clean_person(row.person, ctx.rules, ctx.today())
            except ValidationError as exc:
                problems.update(_row_problems(i, exc.problems))
    for i, (row, relation) in enumerate(zip(rows, relations, strict=True)):
        sex = _typed_sex(row.person.sex) if row.person is not None else None
        expected = _RELATION_SEX.get(relation)
        if sex and expected and sex != expected:
            label = Relation(relation).label
            problems.update(_row_problems(i, {"relation": f"الصلة «{label}» والجنس «{Sex(sex).label}» لا يتفقان."}))
    heads = [i for i, r in enumerate(relations) if r == Relation.HEAD.value]
    if heads != [0]:
        problems["members"] = "الصف الأول لرب الأسرة، وللأسرة رب واحد فقط."
    seen: dict[tuple, int] = {}
    for i, row in enumerate(rows):
        key = (row.existing_id,) if row.existing_id else None
        if row.person is not None and not row.existing_id:
            name = normalize_name(clean_text(row.person.full_name))
            key = (name, str(row.person.national_id or "").strip(), str(row.person.birth_year or row.person.birth_date))
        if key is not None and key in seen:
            problems.update(_row_problems(i, {"full_name": f"يكرر الصف {seen[key] + 1}."}))
        elif key is not None:
            seen[key] = i
    if problems:
        raise ValidationError(problems)
    new_ids = [None if row.existing_id else new_id(ctx.office_id) for row in rows]
    scorer = scorer_for(ctx)
    with ctx.uow(write_first=True) as uow:
        fresh = [(row.person, person_id) for row, person_id in zip(rows, new_ids, strict=True) if person_id]
        _lock_entries(ctx, uow, fresh)
        confirmed: list[list[Candidate]] = []
        for i, (row, person_id) in enumerate(zip(rows, new_ids, strict=True)):
            if person_id is None:
                confirmed.append([])
                continue
            try:
                candidates = _entry_candidates(ctx, row.person, person_id, scorer, uow.repo)
                confirmed.append(_gate(candidates, row.distinct_from))
            except LikelyDuplicateError as exc:
                raise FamilyDuplicateError(i, exc.candidates) from None
        people: list[m.Person] = []
        for i, row in enumerate(rows):
            if row.existing_id:
                person = _load_person(uow, row.existing_id)
                if person.membership is not None:
                    raise UserError(f"الصف {i + 1}: هذا الشخص عضو في أسرة أخرى؛ انقله منها من سجله.", field="members")
            else:
                person = ctx.stamp(m.Person(id=new_ids[i]))
                try:
                    _apply(ctx, uow.references, person, row.person)
                except ValidationError as exc:
                    raise ValidationError(_row_problems(i, exc.problems)) from None
                uow.records.add(person)
            people.append(person)
        uow.flush()
        for i, decided in enumerate(confirmed):
            if decided:
                remember_entry_decisions(ctx, uow.repo, people[i].id, decided)
        head = people[0]
        household = ctx.stamp(
            m.Household(
                head_person_id=head.id,
                district_id=head.district_id,
                size=size or len(people),
                income_band=IncomeBand.parse(income_band).value if income_band else None,
                housing=Housing.parse(housing).value if housing else None,
                address=clean_text(address, multiline=True),
            )
        )
        for person, relation in zip(people, relations, strict=True):
            household.members.append(ctx.stamp(m.HouseholdMember(person=person, relation=relation)))
        uow.records.add(household)
        uow.commit()
        return _household_record(household)


def _relation(text: str) -> str:
    try:
        return Relation.parse(text).value
    except ValueError as exc:
        raise UserError("صلة القرابة برب الأسرة غير معروفة.", field="relation") from exc


def add_household_member(ctx: ServiceContext, household_id: str, person_id: str, relation: str) -> HouseholdRecord:
    ctx.require(Permission.ENTER_DATA)
    relation_value = _relation(relation)
    if relation_value == Relation.HEAD.value:
        raise UserError("للأسرة رب واحد: اختر صلة أخرى.", field="relation")
    with ctx.uow() as uow:
        household = uow.records.get(m.Household, household_id)
        if household is None:
            raise NotFoundError("الأسرة غير موجودة.")
        person = _load_person(uow, person_id)
        if person.membership is not None:
            raise UserError("هذا الشخص عضو في أسرة أخرى: استخدم النقل.", field="person_id")
        household.members.append(ctx.stamp(m.HouseholdMember(person=person, relation=relation_value)))
        if household.size is not None and household.size < len(household.members):
            household.size = len(household.members)
        household.changed_by = ctx.username
        uow.commit()
        return _household_record(household)


def move_household_member(ctx: ServiceContext, person_id: str, to_household_id: str, relation: str) -> HouseholdRecord:
    """Move a member (not a head) to another household with a new relation."""
    ctx.require(Permission.ENTER_DATA)
    relation_value = _relation(relation)
    if relation_value == Relation.HEAD.value:
        raise UserError("لا يُنقل الشخص كرب أسرة: أنشئ له أسرة جديدة.", field="relation")
    with ctx.uow() as uow:
        person = _load_person(uow, person_id)
        target = uow.records.get(m.Household, to_household_id)
        if target is None:
            raise NotFoundError("الأسرة المنقول إليها غير موجودة.")
        membership = person.membership
        if membership is not None:
            if membership.household_id == target.id:
                raise UserError("الشخص عضو في هذه الأسرة بالفعل.", field="to_household_id")
            if membership.household.head_person_id == person.id:
                raise UserError("رب الأسرة لا يُنقل: عيّن رباً آخر للأسرة أولاً.", field="person_id")
            uow.records.delete(membership)
            uow.flush()
        target.members.append(ctx.stamp(m.HouseholdMember(person=person, relation=relation_value)))
        target.changed_by = ctx.username
        uow.commit()
        return _household_record(target)


def get_household(ctx: ServiceContext, household_id: str) -> HouseholdRecord:
    with ctx.uow() as uow:
        household = uow.records.get(m.Household, household_id)
        if household is None:
            raise NotFoundError("الأسرة غير موجودة.")
        return _household_record(household)


def aid_history(ctx: ServiceContext, person_id: str) -> list[AidHistoryItem]:
    """What the person's household received, from every association, newest first."""
    with ctx.uow() as uow:
        person = _load_person(uow, person_id)
        # Records merged into this person keep their own (append-only) lines: read them through the merge.
        person_ids = [person.id, *uow.persons.merged_ids_into(person.id)]
        household_ids = [person.membership.household_id] if person.membership else []
        return [
            AidHistoryItem(dist.distribution_date, aid_name, dist.item, assoc_name, line.status)
            for line, dist, aid_name, assoc_name, _code in uow.aid.aid_history(household_ids, person_ids)
        ]


# --- search -------------------------------------------------------------------------------------------------

_NUMBER_LIKE = re.compile(r"^[+\d][\d\s\-()]*$")


def search_persons(ctx: ServiceContext, text: str, *, limit: int = 50) -> list[PersonSummary]:
    """Persons by any part of a name (normalised, prefix of each part), or by national ID or phone digits."""
    limit = max(1, min(limit, MAX_SEARCH_LIMIT))
    query = normalize_digits(text or "").strip()
    if not query:
        return []
    with ctx.uow() as uow:
        if _NUMBER_LIKE.match(query):
            digits = re.sub(r"\D", "", query)
            if len(digits) < 3:
                return []
            phone = ctx.rules.phone.normalize(query)
            rows = uow.persons.persons_by_number_prefix(digits, phone, limit)
        else:
            tokens = search_tokens(query)
            rows = uow.persons.persons_by_search_rowids(uow.persons.person_rowids_matching(tokens, limit))
        return [
            PersonSummary(p.id, p.full_name, p.national_id, p.phone, district, p.birth_year, _home_of(p))
            for p, district in rows
        ]


def _home_of(person: m.Person) -> str:
    """Where the person sits in a household, for pick lists: «رب الأسرة (٥ أفراد)», «ابن في أسرة سالم أحمد»."""
    member = person.membership
    if member is None:
        return ""
    household = member.household
    size = f" ({household.size} أفراد)" if household.size else ""
    if household.head_person_id == person.id:
        return f"رب الأسرة{size}"
    head = household.head
    head_name = " ".join(head.full_name.split()[:2]) if head is not None else "—"
    relation = next((r.label for r in Relation if r.value == member.relation), Relation.OTHER.label)
    return f"{relation} في أسرة {head_name}{size}"
