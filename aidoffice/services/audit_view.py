"""The audit trail as a person reads it: Arabic names of tables and fields, the record's name, old → new values,
local times and users' full names; personal values only for a role allowed to see them."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from aidoffice.domain.access import Permission
from aidoffice.domain.display import DisplayStyle
from aidoffice.domain.vocab import (
    AidWindow,
    AssociationStatus,
    BoardRole,
    Currency,
    DistributionStatus,
    Housing,
    IncomeBand,
    LegalForm,
    LineStatus,
    ProjectStatus,
    ReferralStatus,
    Relation,
    Role,
    Sector,
    Sex,
)
from aidoffice.services.context import ServiceContext
from aidoffice.store import models as m
from aidoffice.store import tables as store_tables

ACTIONS = {
    "create": "إضافة",
    "update": "تعديل",
    "delete": "حذف",
    "login": "دخول",
    "login_failed": "دخول فاشل",
    "login_refused": "دخول مرفوض",
    "import": "استيراد",
    "export": "تصدير",
    "report": "طباعة",
    "merge": "دمج",
    "distinct": "ليسا نفس الشخص",
    "override": "إبقاء رغم الاستلام",
    "backup": "نسخة احتياطية",
    "restore": "استعادة",
    "audit_anchor": "ختم السجل",
    "admin_key": "مفتاح المديرين",
    "escrow-recovery": "استرجاع كلمة مرور",
    "sync-revoke": "إلغاء مكتب مزامنة",
    "sync-rotate": "تجديد مفاتيح المزامنة",
    "sync-escrow": "حفظ مفتاح الاسترجاع",
    "sync-refused": "حزمة مزامنة مرفوضة",
    "sync-export": "تصدير حزمة مزامنة",
    "sync-import": "استيراد حزمة مزامنة",
    "request": "طلب إلى المشرف",
    "request_approved": "موافقة على طلب",
    "request_refused": "رفض طلب",
    "request_closed": "إغلاق طلب دون تنفيذ",
}
TABLES = {
    "persons": "المستفيدون",
    "households": "الأسر",
    "household_members": "أفراد الأسر",
    "household_links": "روابط الأسر",
    "associations": "الجمعيات",
    "association_contacts": "جهات اتصال الجمعيات",
    "association_status_changes": "تغييرات حالة الجمعيات",
    "board_members": "أعضاء مجالس الإدارة",
    "field_visits": "الزيارات الميدانية",
    "compliance_records": "تقارير الجمعيات",
    "projects": "المشاريع",
    "campaigns": "الحملات",
    "distributions": "التوزيعات",
    "distribution_lines": "كشوف التوزيع",
    "aid_refusals": "استبعاد من استلم",
    "referrals": "الإحالات",
    "referral_status_changes": "متابعة الإحالات",
    "duplicate_pairs": "مراجعة التكرار",
    "person_merges": "دمج المستفيدين",
    "import_batches": "القوائم المستوردة",
    "users": "المستخدمون",
    "requests": "الطلبات",
    "office_profile": "ملف المكتب",
    "districts": "المديريات",
    "sub_districts": "العزل",
    "governorates": "المحافظات",
    "aid_types": "أنواع المساعدة",
    "fields_of_work": "مجالات العمل",
    "vulnerability_categories": "الفئات",
    "settings": "الإعدادات",
    "database": "قاعدة البيانات",
    "audit_log": "سجل التدقيق",
    "sync_peers": "مكاتب المزامنة",
    "sync_keys": "مفاتيح المزامنة",
    "sync_packages": "حزم المزامنة",
    "sheet": "كشف التوزيع",
    "monthly": "التقرير الشهري",
    "association": "ملف جمعية",
    "letter": "خطاب إحالة",
    "cards": "بطاقات المستفيدين",
    "review_queue": "مراجعة التكرار",
    "template": "نموذج قائمة",
    "manual": "يدوية",
    "daily": "يومية",
    "exit": "عند الإغلاق",
    "before-restore": "قبل الاستعادة",
}
FIELDS = {
    "full_name": "الاسم",
    "name": "الاسم",
    "title": "العنوان",
    "national_id": "رقم البطاقة",
    "phone": "الهاتف",
    "email": "البريد",
    "sex": "الجنس",
    "birth_date": "تاريخ الميلاد",
    "birth_year": "سنة الميلاد",
    "district_id": "المديرية",
    "sub_district_id": "العزلة",
    "governorate_id": "المحافظة",
    "spouse_name": "اسم الزوج/الزوجة",
    "spouse_national_id": "بطاقة الزوج/الزوجة",
    "notes": "ملاحظات",
    "note": "ملاحظة",
    "consent_sharing": "الموافقة على المشاركة",
    "consent_on": "تاريخ الموافقة",
    "merged_into_id": "دُمج في",
    "head_person_id": "رب الأسرة",
    "address": "العنوان",
    "size": "عدد الأفراد",
    "income_band": "الدخل",
    "housing": "السكن",
    "household_id": "الأسرة",
    "person_id": "المستفيد",
    "relation": "صلة القرابة",
    "association_id": "الجمعية",
    "registration_number": "رقم الإشهار",
    "proclamation_date": "تاريخ الإشهار",
    "legal_form": "الشكل القانوني",
    "licence_expiry": "انتهاء الترخيص",
    "status": "الحالة",
    "status_since": "تاريخ الحالة",
    "status_from": "الحالة السابقة",
    "status_to": "الحالة الجديدة",
    "changed_on": "تاريخ التغيير",
    "reason": "السبب",
    "role": "الدور",
    "term_start": "بداية العضوية",
    "term_end": "نهاية العضوية",
    "visit_date": "تاريخ الزيارة",
    "visitors": "الزائرون",
    "findings": "الملاحظات",
    "rating": "التقييم",
    "follow_up": "المتابعة",
    "follow_up_due": "موعد المتابعة",
    "follow_up_done": "تمت المتابعة",
    "year": "السنة",
    "admin_report": "التقرير الإداري",
    "financial_report": "التقرير المالي",
    "submitted_on": "تاريخ التسليم",
    "campaign_id": "الحملة",
    "donor": "الجهة المانحة",
    "sector": "القطاع",
    "aid_type_id": "نوع المساعدة",
    "start_date": "البداية",
    "end_date": "النهاية",
    "target_households": "الأسر المستهدفة",
    "budget": "الميزانية",
    "currency": "العملة",
    "kind": "النوع",
    "description": "الوصف",
    "project_id": "المشروع",
    "distribution_date": "تاريخ التوزيع",
    "site": "الموقع",
    "item": "الصنف",
    "quantity_per_household": "الكمية للأسرة",
    "unit": "الوحدة",
    "amount_per_household": "المبلغ للأسرة",
    "approved_by": "اعتمده",
    "approved_at": "وقت الاعتماد",
    "distribution_id": "التوزيع",
    "quantity": "الكمية",
    "amount": "المبلغ",
    "reversal_of_id": "إلغاء السطر",
    "override_reason": "سبب الإبقاء",
    "overridden_by": "أبقاه",
    "prior_count": "مرات الاستلام السابقة",
    "need": "الحاجة",
    "referred_on": "تاريخ الإحالة",
    "due_on": "موعد الرد",
    "outcome": "النتيجة",
    "closed_on": "تاريخ الإغلاق",
    "referral_id": "الإحالة",
    "username": "اسم الدخول",
    "password_hash": "كلمة المرور",
    "active": "فعال",
    "failed_logins": "محاولات دخول فاشلة",
    "locked_until": "مقفل حتى",
    "last_login_at": "آخر دخول",
    "governorate": "المحافظة",
    "office_code": "رمز المكتب",
    "country": "البلد",
    "code": "الرمز",
    "window": "فترة عدم التكرار",
    "window_days": "أيام الفترة",
    "sensitive": "حساسة",
    "file_name": "الملف",
    "rows_read": "الصفوف المقروءة",
    "imported": "المستورد",
    "rejected": "المرفوض",
    "duplicates": "المكرر",
    "score": "الدرجة",
    "decision": "القرار",
    "decided_by": "قرره",
    "decided_at": "وقت القرار",
    "survivor_id": "السجل الباقي",
    "merged_id": "السجل المدموج",
    "undone_at": "وقت التراجع",
    "undone_by": "تراجع عنه",
    "rows": "عدد الصفوف",
    "bytes": "الحجم (بايت)",
    "merged": "السجل المدموج",
    "view": "من القائمة المعروضة",
    "requested_by": "طلبه",
}
ACTORS = {
    "cli": "سطر الأوامر",
    "desktop": "البرنامج قبل الدخول",
    "system": "النظام",
    "demo": "بيانات تجريبية",
    "": "النظام",
}
# Bookkeeping a person does not read: ids, stamps, search keys, signatures.
_HIDDEN = {
    "id",
    "office_id",
    "created_at",
    "updated_at",
    "changed_by",
    "version",
    "name_norm",
    "name_parts",
    "spouse_name_norm",
    "search_rowid",
    "seal",
    "database_uuid",
    "contributions",
    "reasons",
    "field_choices",
    "survivor_before",
    "moved",
    "pair",
    "a",
    "b",
    "on",
    "sig",
    "hash",
    "key",
    "payload",
    "result",
    "seen_at",
}
_SECRET = {"password_hash"}  # changed or not, never its value
# A person's particulars: seen only by a role that may see personal data.
PERSONAL = {
    "national_id",
    "phone",
    "email",
    "birth_date",
    "birth_year",
    "spouse_name",
    "spouse_national_id",
    "notes",
    "note",
    "address",
    "income_band",
    "housing",
    "need",
    "outcome",
    "reason",
    "override_reason",
    "findings",
}
HIDDEN_VALUE = "(مخفي)"
_REFERENCES = {
    "district_id": "districts",
    "sub_district_id": "sub_districts",
    "governorate_id": "governorates",
    "merged_into_id": "persons",
    "head_person_id": "persons",
    "person_id": "persons",
    "survivor_id": "persons",
    "merged_id": "persons",
    "merged": "persons",
    "household_id": "households",
    "association_id": "associations",
    "campaign_id": "campaigns",
    "aid_type_id": "aid_types",
    "project_id": "projects",
    "distribution_id": "distributions",
    "reversal_of_id": "distribution_lines",
    "referral_id": "referrals",
}
_ENUMS = {
    "sex": Sex,
    "relation": Relation,
    "income_band": IncomeBand,
    "housing": Housing,
    "legal_form": LegalForm,
    "sector": Sector,
    "currency": Currency,
    "window": AidWindow,
}
_STATUSES = {
    "associations": AssociationStatus,
    "association_status_changes": AssociationStatus,
    "projects": ProjectStatus,
    "distributions": DistributionStatus,
    "distribution_lines": LineStatus,
    "referrals": ReferralStatus,
    "referral_status_changes": ReferralStatus,
}
# Codes of tables kept by other services, in the words of their screens.
_CODES = {
    ("requests", "kind"): {
        "keep_already_received": "إبقاء من استلم من قبل في الكشف",
        "merge": "دمج سجلين مكررين",
        "export": "تصدير قائمة",
    },
    ("requests", "status"): {
        "pending": "بانتظار المشرف",
        "approved": "وافق عليه المشرف",
        "refused": "رفضه المشرف",
        "closed": "أُغلق دون تنفيذ",
    },
}
_NAME_FIELDS = ("full_name", "name", "title", "file_name", "username")
_SHOWN_ON_CREATE = 6
_LONGEST = 60

_PLAIN = DisplayStyle()  # the default style, where no office setting is at hand


@dataclass(frozen=True)
class AuditLine:
    at: datetime  # local time
    user: str  # the user's full name
    action: str
    table: str
    record: str  # the record's name
    change: str  # «الهاتف: 777… ← 733…»


def local_time(at: datetime) -> datetime:
    """A UTC stamp (as stored, without a zone) in the computer's own time zone, without a zone."""
    return at.replace(tzinfo=UTC).astimezone().replace(tzinfo=None)


def day_in_utc(day: date) -> tuple[datetime, datetime]:
    """The local calendar day `day` as [start, end) in UTC, as the trail stores its times."""
    start = datetime.combine(day, time.min).astimezone(UTC).replace(tzinfo=None)
    end = datetime.combine(day + timedelta(days=1), time.min).astimezone(UTC).replace(tzinfo=None)
    return start, end


def actor_names(ctx: ServiceContext) -> dict[str, str]:
    """Each username with the full name people know it by (the command line and the system in Arabic)."""
    with ctx.uow() as uow:
        users = {u.username: (u.full_name or u.username) for u in uow.records.all(m.User)}
    return {**ACTORS, **users}


def table_name(entity: str) -> str:
    return TABLES.get(entity, entity)


def _field(key: str) -> str:
    return FIELDS.get(key, key)


def _references(values: dict | None) -> dict[str, set[str]]:
    wanted: dict[str, set[str]] = {}
    for key, value in (values or {}).items():
        if key in _REFERENCES and isinstance(value, str) and value:
            wanted.setdefault(_REFERENCES[key], set()).add(value)
    return wanted


def _shown(entity: str, key: str, value, names: dict, show_personal: bool, style: DisplayStyle = _PLAIN) -> str:
    if key in PERSONAL and not show_personal and value not in (None, ""):
        return HIDDEN_VALUE
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "نعم" if value else "لا"
    if key in _REFERENCES and isinstance(value, str):
        return names.get((_REFERENCES[key], value), "سجل محذوف")
    if (entity, key) in _CODES:
        return _CODES[(entity, key)].get(str(value), str(value))
    enum = _STATUSES.get(entity) if key in ("status", "status_from", "status_to") else _ENUMS.get(key)
    if key == "role":
        enum = Role if entity == "users" else BoardRole
    if enum is not None:
        with contextlib.suppress(ValueError):
            return enum(value).label
    if isinstance(value, str) and len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-":
        with contextlib.suppress(ValueError):
            if len(value) == 10:
                return style.date(date.fromisoformat(value))
            return style.datetime(local_time(datetime.fromisoformat(value).replace(tzinfo=None)))
    if isinstance(value, list | dict):
        return "…"
    text = str(value)
    return text if len(text) <= _LONGEST else text[: _LONGEST - 1] + "…"


def _change(
    entity: str, action: str, before, after, names: dict, show_personal: bool, style: DisplayStyle = _PLAIN
) -> str:
    before = before if isinstance(before, dict) else {}
    after = after if isinstance(after, dict) else {}
    parts = []
    if action == "update":
        for key in after:
            if key in _HIDDEN:
                continue
            if key in _SECRET:
                parts.append(f"{_field(key)}: تغيّرت")
                continue
            old = _shown(entity, key, before.get(key), names, show_personal, style)
            new = _shown(entity, key, after.get(key), names, show_personal, style)
            both_hidden = old == new == HIDDEN_VALUE
            parts.append(f"{_field(key)}: تغيّر" if both_hidden else f"{_field(key)}: {old} ← {new}")
        return "؛ ".join(parts)
    values = after if action != "delete" else before
    shown = 0
    for key, value in values.items():
        if key in _HIDDEN or key in _SECRET or value in (None, "", False):
            continue
        if action in ("create", "delete") and key in _NAME_FIELDS:
            continue  # already in the record's column
        parts.append(f"{_field(key)}: {_shown(entity, key, value, names, show_personal, style)}")
        shown += 1
        if shown == _SHOWN_ON_CREATE:
            parts.append("…")
            break
    return "؛ ".join(parts)


def _own_name(before, after) -> str:
    for values in (after, before):
        if isinstance(values, dict):
            for key in _NAME_FIELDS:
                if values.get(key):
                    return str(values[key])
    return ""


def readable(ctx: ServiceContext, raw: list[dict]) -> list[AuditLine]:
    """Audit rows (at, username, action, entity, entity_id, before, after) as lines a person reads, with a few
    queries for the whole page: the records' names, the names of the records their fields point to, the users."""
    show_personal = ctx.can(Permission.VIEW_SENSITIVE)
    wanted: dict[str, set[str]] = {}
    for row in raw:
        if row["entity_id"]:
            wanted.setdefault(row["entity"], set()).add(row["entity_id"])
        for values in (row["before"], row["after"]):
            for entity, ids in _references(values if isinstance(values, dict) else None).items():
                wanted.setdefault(entity, set()).update(ids)
    with ctx.uow() as uow:
        names = store_tables.record_names(uow.session, wanted)
    actors = actor_names(ctx)
    lines = []
    for row in raw:
        entity, action = row["entity"], row["action"]
        record = names.get((entity, row["entity_id"])) or _own_name(row["before"], row["after"])
        lines.append(
            AuditLine(
                at=local_time(row["at"]) if isinstance(row["at"], datetime) else row["at"],
                user=actors.get(row["username"], row["username"]),
                action=ACTIONS.get(action, action),
                table=table_name(entity),
                record=record,
                change=_change(entity, action, row["before"], row["after"], names, show_personal, ctx.style),
            )
        )
    return lines
