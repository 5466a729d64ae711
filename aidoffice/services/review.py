"""The review queue: pairs side by side, "different people" remembered, merges with chosen fields, and undo."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from aidoffice.domain.access import Permission
from aidoffice.domain.arabic import normalize_name
from aidoffice.domain.matching import MatchModel, id_level
from aidoffice.errors import NotFoundError, UserError
from aidoffice.services.context import ServiceContext
from aidoffice.services.duplicates import MODEL_SETTING
from aidoffice.services.versions import check_version
from aidoffice.store import models as m
from aidoffice.store.base import utcnow
from aidoffice.store.uow import UnitOfWork

# Fields a reviewer chooses between when merging, in the order the screen shows them, with their Arabic labels.
MERGE_FIELDS: dict[str, str] = {
    "full_name": "الاسم",
    "national_id": "رقم البطاقة",
    "phone": "الهاتف",
    "sex": "الجنس",
    "birth_date": "تاريخ الميلاد",
    "birth_year": "سنة الميلاد",
    "district_id": "المديرية",
    "spouse_name": "اسم الزوج/الزوجة",
    "spouse_national_id": "رقم بطاقة الزوج/الزوجة",
}


@dataclass(frozen=True)
class PersonSide:
    id: str
    values: dict[str, str]  # field → text as the reviewer sees it
    household_id: str | None
    version: int = 1  # what the merge passes back in expected_versions


@dataclass(frozen=True)
class ReviewPair:
    id: str
    a: PersonSide
    b: PersonSide
    score: float
    decision: str
    reasons: tuple[str, ...]
    differing: tuple[str, ...]
    status: str
    probability: float = 0.0  # under the weights the last scan learned


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def _side(uow: UnitOfWork, person: m.Person) -> PersonSide:
    values = {f: _text(getattr(person, f)) for f in MERGE_FIELDS}
    if person.district_id:
        district = uow.records.get(m.District, person.district_id)
        values["district_id"] = district.name if district else ""
    values["sex"] = {"M": "ذكر", "F": "أنثى"}.get(person.sex or "", "")
    membership = person.membership
    return PersonSide(person.id, values, membership.household_id if membership else None, version=person.version)


def _review_pair(uow: UnitOfWork, pair: m.DuplicatePair, prior_log2: float) -> ReviewPair:
    a = _side(uow, uow.records.get(m.Person, pair.person_a_id))
    b = _side(uow, uow.records.get(m.Person, pair.person_b_id))
    differing = tuple(f for f in MERGE_FIELDS if a.values[f] and b.values[f] and a.values[f] != b.values[f])
    x = float(pair.score) + prior_log2
    return ReviewPair(
        pair.id,
        a,
        b,
        float(pair.score),
        pair.decision,
        tuple(pair.reasons or ()),
        differing,
        pair.status,
        1.0 / (1.0 + 2.0 ** (-x)) if x > -60 else 0.0,
    )


def _prior(uow: UnitOfWork) -> float:
    stored = uow.settings.setting(MODEL_SETTING)
    return (MatchModel.from_dict(stored) if stored else MatchModel()).prior_log2


def review_queue(
    ctx: ServiceContext, *, limit: int = 50, offset: int = 0, decision: str | None = None
) -> list[ReviewPair]:
    """Open pairs, likely duplicates first, strongest first."""
    with ctx.uow() as uow:
        prior = _prior(uow)
        return [_review_pair(uow, p, prior) for p in uow.duplicates.review_queue(limit, offset, decision)]


def get_review_pair(ctx: ServiceContext, pair_id: str) -> ReviewPair:
    """One pair as the queue shows it, whatever its status (the page shows it again after a refusal)."""
    with ctx.uow() as uow:
        pair = uow.records.get(m.DuplicatePair, pair_id)
        if pair is None:
            raise NotFoundError("الزوج غير موجود في قائمة المراجعة.")
        return _review_pair(uow, pair, _prior(uow))


def queue_size(ctx: ServiceContext) -> dict[str, int]:
    with ctx.uow() as uow:
        return {"likely": 0, "review": 0, **uow.duplicates.queue_counts()}


def _open_pair(uow: UnitOfWork, pair_id: str) -> m.DuplicatePair:
    pair = uow.records.get(m.DuplicatePair, pair_id)
    if pair is None:
        raise NotFoundError("الزوج غير موجود في قائمة المراجعة.")
    if pair.status != "open":
        raise UserError("تم البت في هذا الزوج من قبل.")
    return pair


def decide_distinct(ctx: ServiceContext, pair_id: str) -> None:
    """'Different people': remembered, so the pair is never raised again."""
    ctx.require(Permission.DECIDE_DUPLICATES)
    with ctx.uow() as uow:
        pair = _open_pair(uow, pair_id)
        pair.status = "distinct"
        pair.decided_by = ctx.username
        pair.decided_at = utcnow()
        pair.changed_by = ctx.username
        uow.audit_trail.audit(
            "distinct",
            "duplicate_pairs",
            pair.id,
            {"a": pair.person_a_id, "b": pair.person_b_id},
            office_id=ctx.office_id,
        )
        uow.commit()


def merge_pair(
    ctx: ServiceContext,
    pair_id: str,
    *,
    survivor: str = "a",
    take_from_other: tuple[str, ...] = (),
    expected_versions: tuple[int | None, int | None] | None = None,
) -> str:
    """'Same person': the other record is merged into the survivor, which takes the chosen fields from it.

    Household membership and referrals move to the survivor; distribution lines stay where they were written
    (append-only) and are read through the merge. Returns the merge id, for undo. `expected_versions`: the versions
    of records a and b the reviewer saw side by side; either one changed since refuses the merge (LostUpdateError)
    rather than keep or drop values the reviewer never saw; None, as the command line passes, checks nothing.
    """
    ctx.require(Permission.DECIDE_DUPLICATES)
    unknown = set(take_from_other) - set(MERGE_FIELDS)
    if unknown:
        raise UserError("حقل غير معروف في اختيار الدمج.")
    if survivor not in ("a", "b"):
        raise UserError("اختر السجل الباقي.")
    with ctx.uow(write_first=True) as uow:
        uow.records.lock_records("duplicate_pairs", [pair_id])  # two reviewers of one pair: one after the other
        pair = _open_pair(uow, pair_id)
        # as an edit of either person takes it: the versions are read after a save at once
        uow.records.lock_records("persons", [pair.person_a_id, pair.person_b_id])
        # Read again after the wait: another merge of one of the two may have committed meanwhile and closed this
        # pair (on a server the pair was read before that wait; "already decided" is the true answer then).
        uow.records.refresh(pair)
        _open_pair(uow, pair_id)
        seen = expected_versions or (None, None)
        for person_id, expected in zip((pair.person_a_id, pair.person_b_id), seen, strict=True):
            check_version(ctx, uow.records, uow.records.get(m.Person, person_id), expected)
        keep_id, drop_id = (
            (pair.person_a_id, pair.person_b_id) if survivor == "a" else (pair.person_b_id, pair.person_a_id)
        )
        keep, drop = uow.records.get(m.Person, keep_id), uow.records.get(m.Person, drop_id)
        if keep.office_id != ctx.office_id or drop.office_id != ctx.office_id:
            # Headquarters holds the offices' records; each office decides about its own (a flag goes back to it).
            raise UserError(
                "لا يُدمج هنا سجل يملكه مكتب آخر: يصل المكتبَ المالك تنبيه بالتكرار ويبت فيه هو. "
                "يمكن هنا وسم الزوج «شخصان مختلفان»."
            )
        if keep.merged_into_id or drop.merged_into_id:
            raise UserError("أحد السجلين مدموج من قبل.")
        final_id = drop.national_id if "national_id" in take_from_other else keep.national_id
        other_id = keep.national_id if "national_id" in take_from_other else drop.national_id
        if (
            final_id
            and other_id
            and id_level(final_id, other_id) == "id_different"
            and (ctx.rules.national_id.is_valid(final_id) and ctx.rules.national_id.is_valid(other_id))
        ):
            raise UserError("لا يُدمج شخصان لكل منهما رقم بطاقة صالح مختلف: تحقق من البطاقتين أولاً.")
        before = {f: _json(getattr(keep, f)) for f in (*MERGE_FIELDS, "name_norm", "name_parts", "spouse_name_norm")}
        for field in take_from_other:
            setattr(keep, field, getattr(drop, field))
            if field == "full_name":
                keep.name_norm, keep.name_parts = drop.name_norm, list(drop.name_parts or [])
            if field == "spouse_name":
                keep.spouse_name_norm = normalize_name(drop.spouse_name)
        moved: dict = {
            "categories": [],
            "referrals": [],
            "membership": None,
            "head_of": None,
            "link": None,
            "stale_pairs": [],
        }
        for category in drop.categories:
            if category not in keep.categories:
                keep.categories.append(category)
                moved["categories"].append(category.id)
        for referral in uow.referrals.referrals_of(drop.id):
            referral.person_id = keep.id
            moved["referrals"].append(referral.id)
        membership = drop.membership
        if membership is not None:
            moved["membership"] = {
                "id": membership.id,
                "household_id": membership.household_id,
                "relation": membership.relation,
            }
            household = membership.household
            if keep.membership is None:
                membership.person = keep
            else:
                if household.head_person_id == drop.id:
                    household.head_person_id = keep.id
                    moved["head_of"] = household.id
                    a, b = sorted((household.id, keep.membership.household_id))
                    if a != b and uow.records.first(m.HouseholdLink, household_a_id=a, household_b_id=b) is None:
                        link = ctx.stamp(
                            m.HouseholdLink(household_a_id=a, household_b_id=b, reason="دمج شخص مسجل في أسرتين")
                        )
                        uow.records.add(link)
                        moved["link"] = link.id
                uow.records.delete(membership)
        drop.merged_into_id = keep.id
        drop.changed_by = keep.changed_by = ctx.username
        pair.status = "merged"
        pair.decided_by, pair.decided_at = ctx.username, utcnow()
        for other in uow.duplicates.open_pairs_of(drop.id):
            if other.id != pair.id:
                other.status = "stale"
                moved["stale_pairs"].append(other.id)
        merge = ctx.stamp(
            m.PersonMerge(
                survivor_id=keep.id,
                merged_id=drop.id,
                pair_id=pair.id,
                field_choices={f: "other" for f in take_from_other},
                survivor_before=before,
                moved=moved,
            )
        )
        # the survivor's values the merge left: an undo leaves alone a field whose value changed after it
        moved["survivor_after"] = {f: _json(getattr(keep, f)) for f in before}
        uow.records.add(merge)
        uow.flush()
        uow.audit_trail.audit(
            "merge", "persons", keep.id, {"merged": drop.id, "pair": pair.id}, office_id=ctx.office_id
        )
        uow.commit()
        return merge.id


# Columns the merge sets together with a field of MERGE_FIELDS (an edit of the field changes them too).
_FOLLOWS = {"name_norm": "full_name", "name_parts": "full_name", "spouse_name_norm": "spouse_name"}


def undo_merge(ctx: ServiceContext, merge_id: str) -> tuple[str, ...]:
    """Put both records back as they were before the merge: the record merged away comes back, the survivor's fields
    the merge changed get their values back — except those saved by someone after the merge (a phone corrected
    since), which keep that later value. Returns the Arabic labels of the fields so kept."""
    from aidoffice.services.audit_view import FIELDS

    ctx.require(Permission.DECIDE_DUPLICATES)
    from aidoffice.domain.dates import parse_date

    with ctx.uow() as uow:
        merge = uow.records.get(m.PersonMerge, merge_id)
        if merge is None:
            raise NotFoundError("عملية الدمج غير موجودة.")
        if merge.undone_at is not None:
            raise UserError("تم التراجع عن هذا الدمج من قبل.")
        if uow.records.first(m.PersonMerge, survivor_id=merge.merged_id, undone_at=None):
            raise UserError("دُمج في هذا السجل سجل آخر بعد ذلك: تراجع عن ذلك الدمج أولاً.")
        keep, drop = uow.records.get(m.Person, merge.survivor_id), uow.records.get(m.Person, merge.merged_id)
        moved = merge.moved or {}
        after = moved.get("survivor_after")  # None: a merge recorded before this was kept
        since = {f for f, v in (after or {}).items() if _json(getattr(keep, f)) != v}
        kept = []
        for field, value in merge.survivor_before.items():
            if _FOLLOWS.get(field, field) in since:
                if field not in _FOLLOWS and _json(getattr(keep, field)) != value:
                    kept.append(FIELDS.get(field, field))
                continue
            if field == "birth_date":
                value = parse_date(value) if value else None
            setattr(keep, field, value)
        keep.categories = [c for c in keep.categories if c.id not in set(moved.get("categories", []))]
        for referral_id in moved.get("referrals", []):
            uow.records.get(m.Referral, referral_id).person_id = drop.id
        membership = moved.get("membership")
        if membership:
            current = uow.records.get(m.HouseholdMember, membership["id"])
            if current is not None:
                current.person_id = drop.id
            else:
                uow.records.add(
                    ctx.stamp(
                        m.HouseholdMember(
                            household_id=membership["household_id"], person_id=drop.id, relation=membership["relation"]
                        )
                    )
                )
        if moved.get("head_of"):
            uow.records.get(m.Household, moved["head_of"]).head_person_id = drop.id
        if moved.get("link"):
            link = uow.records.get(m.HouseholdLink, moved["link"])
            if link is not None:
                uow.records.delete(link)
        for pair_id in moved.get("stale_pairs", []):
            other = uow.records.get(m.DuplicatePair, pair_id)
            if other is not None and other.status == "stale":
                other.status = "open"
        if merge.pair_id:
            pair = uow.records.get(m.DuplicatePair, merge.pair_id)
            pair.status, pair.decided_by, pair.decided_at = "open", None, None
        drop.merged_into_id = None
        drop.changed_by = keep.changed_by = ctx.username
        merge.undone_at, merge.undone_by = utcnow(), ctx.username
        uow.commit()
        return tuple(kept)


def _json(value):
    if isinstance(value, date):
        return value.isoformat()
    return value
