"""Every edit form's save checks the version the form opened: a change saved meanwhile by another clerk is not
silently undone, it is refused with who changed what and when (LostUpdateError)."""

from __future__ import annotations

from aidoffice.errors import LostUpdateError
from aidoffice.services.audit_view import ACTORS, FIELDS, TABLES, local_time
from aidoffice.services.context import ServiceContext
from aidoffice.store import models as m
from aidoffice.store.repositories import Records

# What the message calls each record edited by a form («عدّل أحمد سجل المستفيد بعد أن فتحتَه»).
RECORDS = {
    "persons": "سجل المستفيد",
    "associations": "ملف الجمعية",
    "households": "بيانات الأسرة",
    "referrals": "الإحالة",
    "projects": "المشروع",
    "distributions": "التوزيع",
    "aid_types": "نوع المساعدة",
    "office_profile": "بيانات المكتب",
    "users": "حساب المستخدم",
    "field_visits": "الزيارة الميدانية المحددة",
    "compliance_records": "تقارير الجمعية لسنة {year}",
}
_LOOK_BACK = 20  # audit entries read at most: the fields of the last changes are what the clerk needs


def check_version(ctx: ServiceContext, records: Records, record, expected: int | None) -> None:
    """Refuse the save when `record` is no longer at `expected`, the version the form opened (None: no check,
    as the command line's edits)."""
    if expected is None or record.version == expected:
        return
    raise lost_update(ctx, records, record, expected)


def lost_update(ctx: ServiceContext, records: Records, record, expected: int) -> LostUpdateError:
    """The error naming the fields changed since `expected` (from the audit trail: one update entry a version),
    and the last one who saved it and when (the record's own stamps)."""
    table = record.__tablename__
    changes = max(1, min(int(record.version) - int(expected), _LOOK_BACK))
    entries = records.all(
        m.AuditEntry,
        entity=table,
        entity_id=record.id,
        action="update",
        order_by=m.AuditEntry.seq.desc(),
        limit=changes,
    )
    labels: list[str] = []
    for entry in entries:
        for key in entry.after or {}:
            label = FIELDS.get(key)
            if label and label not in labels:
                labels.append(label)
    by = record.changed_by or (entries[0].username if entries else "")
    if by:
        user = records.first(m.User, username=by)
        by = (user.full_name if user is not None and user.full_name else None) or ACTORS.get(by, by)
    at = ctx.style.datetime(local_time(record.updated_at)) if record.updated_at else ""
    what = RECORDS.get(table) or TABLES.get(table, "هذا السجل")
    if "{year}" in what:  # a year's reports: which year, as the clerk may have several open
        what = what.format(year=ctx.style.year(record.year))
    return LostUpdateError(what, fields=labels, by=by, at=at, version=record.version)
