"""Setting up an office: its profile, reference lists and the geography of its governorate."""

from __future__ import annotations

from aidoffice.domain import reference
from aidoffice.domain.arabic import COUNTRIES
from aidoffice.errors import UserError
from aidoffice.services.context import RULES_SETTING, ServiceContext
from aidoffice.services.records import OfficeRecord
from aidoffice.store import models as m


def _record(office: m.OfficeProfile) -> OfficeRecord:
    return OfficeRecord(office.id, office.name, office.governorate, office.office_code, office.country)


def get_office(ctx: ServiceContext) -> OfficeRecord | None:
    with ctx.uow() as uow:
        office = uow.repo.office()
        return _record(office) if office else None


def initialise_office(
    ctx: ServiceContext,
    *,
    name: str | None = None,
    governorate: str | None = None,
    office_code: str | None = None,
    country: str | None = None,
) -> OfficeRecord:
    """Create the office profile (or update the given fields) and make sure the reference lists exist."""
    if name is not None and not name.strip():
        raise UserError("اسم المكتب مطلوب.", field="name")
    if country is not None and country not in COUNTRIES:
        raise UserError(f"رمز البلد غير معروف: {country}. المتاح: {'، '.join(COUNTRIES)}.", field="country")
    with ctx.uow() as uow:
        repo = uow.repo
        office = repo.office()
        if office is None:
            office = m.OfficeProfile(
                name=(name or "مكتب وزارة الشؤون الاجتماعية والعمل").strip(),
                governorate=(governorate or "حضرموت").strip(),
                office_code=(office_code or "OFF-01").strip(),
                country=country or "YE",
                changed_by=ctx.username,
            )
            office.office_id = office.id = m.new_id()
            repo.add(office)
            repo.set_setting(RULES_SETTING, COUNTRIES[office.country].to_dict())
        else:
            for attr, value in (("name", name), ("governorate", governorate), ("office_code", office_code)):
                if value is not None:
                    setattr(office, attr, value.strip())
            if country is not None and country != office.country:
                office.country = country
                repo.set_setting(RULES_SETTING, COUNTRIES[country].to_dict())
            office.changed_by = ctx.username
        _seed_reference(repo, office.id, ctx.username)
        _seed_geography(repo, office.id, ctx.username, office.governorate)
        uow.commit()
        ctx.forget_cached()
        return _record(office)


def _seed_reference(repo, office_id: str, user: str) -> None:
    stamp = {"office_id": office_id, "changed_by": user}
    existing = repo.code_map(m.VulnerabilityCategory)
    for c in reference.CATEGORIES:
        if c.code not in existing:
            repo.add(m.VulnerabilityCategory(code=c.code, name=c.name, sensitive=c.sensitive, **stamp))
    existing = repo.code_map(m.FieldOfWork)
    for code, name in reference.FIELDS_OF_WORK:
        if code not in existing:
            repo.add(m.FieldOfWork(code=code, name=name, **stamp))
    existing = repo.code_map(m.AidType)
    for a in reference.AID_TYPES:
        if a.code not in existing:
            repo.add(m.AidType(code=a.code, name=a.name, window=a.window.value, window_days=a.window_days, **stamp))


def _seed_geography(repo, office_id: str, user: str, governorate: str) -> None:
    """Add the demo districts of the office's governorate (and Abyan's for the demo) when none exist yet."""
    if repo.count(m.District):
        return
    stamp = {"office_id": office_id, "changed_by": user}
    wanted = [governorate] if governorate in reference.GEOGRAPHY else []
    for extra in reference.GEOGRAPHY:
        if extra not in wanted:
            wanted.append(extra)
    for gov_name in wanted:
        gov = repo.first(m.Governorate, name=gov_name) or repo.add(m.Governorate(name=gov_name, **stamp))
        for district_name, subs in reference.GEOGRAPHY[gov_name].items():
            district = m.District(name=district_name, governorate=gov, **stamp)
            repo.add(district)
            for sub in subs:
                repo.add(m.SubDistrict(name=sub, district=district, **stamp))
