"""Setting up an office: its profile, reference lists and the geography of its governorate."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from aidoffice.domain import reference
from aidoffice.domain.access import Permission
from aidoffice.domain.arabic import COUNTRIES, parse_int
from aidoffice.domain.vocab import AidWindow
from aidoffice.errors import NotFoundError, UserError
from aidoffice.services.context import RULES_SETTING, ServiceContext
from aidoffice.services.records import AidTypeRecord, OfficeRecord
from aidoffice.services.versions import check_version
from aidoffice.store import models as m
from aidoffice.store.repositories import ReferencesRepository


def _record(office: m.OfficeProfile) -> OfficeRecord:
    return OfficeRecord(
        office.id, office.name, office.governorate, office.office_code, office.country, version=office.version
    )


def get_office(ctx: ServiceContext) -> OfficeRecord | None:
    with ctx.uow() as uow:
        office = uow.settings.office()
        return _record(office) if office else None


def initialise_office(
    ctx: ServiceContext,
    *,
    name: str | None = None,
    governorate: str | None = None,
    office_code: str | None = None,
    country: str | None = None,
    expected_version: int | None = None,
) -> OfficeRecord:
    """Create the office profile (or update the given fields) and make sure the reference lists exist.
    `expected_version`: the version the settings form opened; a change saved meanwhile refuses this one."""
    if name is not None and not name.strip():
        raise UserError("اسم المكتب مطلوب.", field="name")
    if country is not None and country not in COUNTRIES:
        raise UserError(f"رمز البلد غير معروف: {country}. المتاح: {'، '.join(COUNTRIES)}.", field="country")
    with ctx.uow() as uow:
        office = uow.settings.office()
        if office is not None:
            ctx.require(Permission.SETTINGS)
            check_version(ctx, uow.records, office, expected_version)
        if office is None:
            office = m.OfficeProfile(
                name=(name or "مكتب وزارة الشؤون الاجتماعية والعمل").strip(),
                governorate=(governorate or "حضرموت").strip(),
                office_code=(office_code or "OFF-01").strip(),
                country=country or "YE",
                changed_by=ctx.username,
            )
            office.office_id = office.id = m.new_id()
            uow.records.add(office)
            uow.settings.set_setting(RULES_SETTING, COUNTRIES[office.country].to_dict())
        else:
            for attr, value in (("name", name), ("governorate", governorate), ("office_code", office_code)):
                if value is not None:
                    setattr(office, attr, value.strip())
            if country is not None and country != office.country:
                office.country = country
                uow.settings.set_setting(RULES_SETTING, COUNTRIES[country].to_dict())
            office.changed_by = ctx.username
        _seed_reference(uow.references, office.id, ctx.username)
        _seed_geography(uow.references, office.id, ctx.username, office.governorate)
        uow.commit()
        ctx.forget_cached()
        return _record(office)


def _seed_reference(references: ReferencesRepository, office_id: str, user: str) -> None:
    stamp = {"office_id": office_id, "changed_by": user}
    existing = references.code_map(m.VulnerabilityCategory)
    for c in reference.CATEGORIES:
        if c.code not in existing:
            references.add(m.VulnerabilityCategory(code=c.code, name=c.name, sensitive=c.sensitive, **stamp))
    existing = references.code_map(m.FieldOfWork)
    for code, name in reference.FIELDS_OF_WORK:
        if code not in existing:
            references.add(m.FieldOfWork(code=code, name=name, **stamp))
    existing = references.code_map(m.AidType)
    for a in reference.AID_TYPES:
        if a.code not in existing:
            references.add(
                m.AidType(code=a.code, name=a.name, window=a.window.value, window_days=a.window_days, **stamp)
            )


def _seed_geography(references: ReferencesRepository, office_id: str, user: str, governorate: str) -> None:
    """Add the demo districts of the office's governorate (and Abyan's for the demo) when none exist yet."""
    if references.count(m.District):
        return
    stamp = {"office_id": office_id, "changed_by": user}
    wanted = [governorate] if governorate in reference.GEOGRAPHY else []
    for extra in reference.GEOGRAPHY:
        if extra not in wanted:
            wanted.append(extra)
    for gov_name in wanted:
        gov = references.first(m.Governorate, name=gov_name) or references.add(m.Governorate(name=gov_name, **stamp))
        for district_name, subs in reference.GEOGRAPHY[gov_name].items():
            district = m.District(name=district_name, governorate=gov, **stamp)
            references.add(district)
            for sub in subs:
                references.add(m.SubDistrict(name=sub, district=district, **stamp))


def set_country_rules(ctx: ServiceContext, rules: dict) -> None:
    """Replace the office's phone and national-ID rules (validated before they are stored)."""
    ctx.require(Permission.SETTINGS)
    from aidoffice.domain.arabic import CountryRules

    try:
        parsed = CountryRules.from_dict(rules)
        for pattern in (*parsed.phone.patterns, parsed.national_id.pattern or ""):
            re.compile(pattern)
    except (KeyError, TypeError, ValueError, re.error) as exc:
        raise UserError("قواعد الهاتف والبطاقة غير صالحة: راجع الأطوال والأنماط.", field="rules") from exc
    with ctx.uow() as uow:
        uow.settings.set_setting(RULES_SETTING, parsed.to_dict())
        uow.commit()
    ctx.forget_cached()


# --- editable geography ----------------------------------------------------------------------------------


def list_geography(ctx: ServiceContext) -> dict[str, dict[str, list[str]]]:
    """governorate → district → sub-districts, as stored."""
    with ctx.uow() as uow:
        out: dict[str, dict[str, list[str]]] = {}
        for gov in uow.records.all(m.Governorate, order_by=m.Governorate.name):
            out[gov.name] = {d.name: [s.name for s in d.sub_districts] for d in gov.districts}
        return out


def _clean_place(name: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise UserError("الاسم مطلوب.", field="name")
    return cleaned


def add_district(ctx: ServiceContext, governorate: str, name: str) -> str:
    ctx.require(Permission.SETTINGS)
    name = _clean_place(name)
    with ctx.uow() as uow:
        gov = uow.records.first(m.Governorate, name=governorate.strip())
        if gov is None:
            gov = ctx.stamp(m.Governorate(name=_clean_place(governorate)))
            uow.records.add(gov)
        elif uow.records.first(m.District, governorate_id=gov.id, name=name):
            raise UserError("المديرية موجودة بالفعل في هذه المحافظة.", field="name")
        district = ctx.stamp(m.District(name=name, governorate=gov))
        uow.records.add(district)
        uow.commit()
        return district.id


def add_sub_district(ctx: ServiceContext, district: str, name: str) -> str:
    ctx.require(Permission.SETTINGS)
    name = _clean_place(name)
    with ctx.uow() as uow:
        parent = uow.references.district(district)
        if parent is None:
            raise UserError("المديرية غير موجودة.", field="district")
        if uow.records.first(m.SubDistrict, district_id=parent.id, name=name):
            raise UserError("العزلة أو الحي موجود بالفعل.", field="name")
        sub = ctx.stamp(m.SubDistrict(name=name, district=parent))
        uow.records.add(sub)
        uow.commit()
        return sub.id


def rename_district(ctx: ServiceContext, district: str, new_name: str) -> None:
    """Rename keeps the id, so every person, household and association stays linked."""
    ctx.require(Permission.SETTINGS)
    new_name = _clean_place(new_name)
    with ctx.uow() as uow:
        found = uow.references.district(district)
        if found is None:
            raise UserError("المديرية غير موجودة.", field="district")
        if uow.records.first(m.District, governorate_id=found.governorate_id, name=new_name):
            raise UserError("توجد مديرية بهذا الاسم في المحافظة.", field="name")
        found.name = new_name
        found.changed_by = ctx.username
        uow.commit()


def list_aid_types(ctx: ServiceContext) -> list[AidTypeRecord]:
    """Aid types with their "already received" window, in name order."""
    with ctx.uow() as uow:
        return [
            AidTypeRecord(t.code, t.name, t.window, t.window_days, version=t.version)
            for t in uow.records.all(m.AidType, order_by=m.AidType.name)
        ]


def set_aid_window(
    ctx: ServiceContext, code: str, window: str, days: int | str | None = None, *, expected_version: int | None = None
) -> AidTypeRecord:
    """Change the period inside which the same aid type counts once per household (`expected_version`: the version
    the settings form opened; a change saved meanwhile refuses this one)."""
    ctx.require(Permission.SETTINGS)
    try:
        kind = AidWindow(window)
    except ValueError:
        raise UserError(f"نافذة غير معروفة: {window}.", field="window") from None
    span = None
    if kind is AidWindow.DAYS:
        try:
            span = parse_int(str(days)) if days not in (None, "") else None
        except ValueError:
            span = None
        if span is None or not 1 <= span <= 3660:
            raise UserError("عدد الأيام بين ١ و٣٦٦٠.", field="window_days")
    with ctx.uow() as uow:
        aid_type = uow.records.first(m.AidType, code=code)
        if aid_type is None:
            raise NotFoundError("نوع المساعدة غير موجود.")
        check_version(ctx, uow.records, aid_type, expected_version)
        aid_type.window, aid_type.window_days = kind.value, span
        aid_type.changed_by = ctx.username
        uow.commit()
        return AidTypeRecord(
            aid_type.code, aid_type.name, aid_type.window, aid_type.window_days, version=aid_type.version
        )


# --- the letterhead of printed documents -----------------------------------------------------------------

LETTERHEAD_SETTING = "office.letterhead"
STATE_LINES = {"YE": "الجمهورية اليمنية", "SY": "الجمهورية العربية السورية"}
DEFAULT_MINISTRY = "وزارة الشؤون الاجتماعية والعمل"
EMBLEM_TYPES = (".png", ".jpg", ".jpeg")
EMBLEM_MAX_BYTES = 2_000_000


@dataclass(frozen=True)
class LetterheadRecord:
    """The top of every document: state, ministry, office, department, in that order; an optional emblem image."""

    state: str
    ministry: str
    office: str
    department: str
    emblem: str  # a file path, or ""
    office_code: str
    country: str


def get_letterhead(ctx: ServiceContext) -> LetterheadRecord:
    """The office's letterhead; a state line the office left empty follows its country."""
    with ctx.uow() as uow:
        office = uow.settings.office()
        stored = uow.settings.setting(LETTERHEAD_SETTING) or {}
    country = office.country if office else "YE"
    stored = stored if isinstance(stored, dict) else {}
    return LetterheadRecord(
        state=str(stored.get("state") or STATE_LINES.get(country, "")),
        ministry=str(stored.get("ministry") or DEFAULT_MINISTRY),
        office=office.name if office else "",
        department=str(stored.get("department") or ""),
        emblem=str(stored.get("emblem") or ""),
        office_code=office.office_code if office else "",
        country=country,
    )


def set_letterhead(
    ctx: ServiceContext,
    *,
    state: str | None = None,
    ministry: str | None = None,
    department: str | None = None,
    emblem: str | Path | None = None,
) -> LetterheadRecord:
    """Change the given lines (an empty state or ministry goes back to the country's own); an emblem must be a
    PNG or JPEG image that opens, an empty one removes it."""
    ctx.require(Permission.SETTINGS)
    with ctx.uow() as uow:
        stored = dict(uow.settings.setting(LETTERHEAD_SETTING) or {})
    for key, value in (("state", state), ("ministry", ministry), ("department", department)):
        if value is not None:
            text = " ".join(str(value).split())
            if len(text) > 120:
                raise UserError("سطر الترويسة أطول من ١٢٠ حرفاً.", field=key)
            # A default typed back (the form shows it) is not kept: the state line follows the country.
            defaults = {"state": set(STATE_LINES.values()), "ministry": {DEFAULT_MINISTRY}}.get(key, set())
            stored[key] = "" if text in defaults else text
    if emblem is not None:
        stored["emblem"] = _checked_emblem(emblem)
    with ctx.uow() as uow:
        uow.settings.set_setting(LETTERHEAD_SETTING, stored)
        uow.commit()
    return get_letterhead(ctx)


def _checked_emblem(emblem: str | Path) -> str:
    if not str(emblem).strip():
        return ""
    from aidoffice.formats.atomic import require_regular_file
    from aidoffice.formats.pdf.layout import load_emblem

    path = Path(str(emblem).strip()).expanduser()
    if path.suffix.lower() not in EMBLEM_TYPES:
        raise UserError("الشعار صورة PNG أو JPEG.", field="emblem")
    try:
        require_regular_file(path, "صورة الشعار")
        if path.stat().st_size > EMBLEM_MAX_BYTES:
            raise UserError("صورة الشعار أكبر من ٢ ميغابايت: صغّرها ثم اخترها.")
        load_emblem(path)
    except UserError as exc:
        raise UserError(exc.message, field="emblem") from None
    return str(path.resolve())
