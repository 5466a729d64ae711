"""Who may do what: the permissions of each role, checked by the services (hidden buttons are only a courtesy)."""

from __future__ import annotations

from enum import StrEnum

from aidoffice.domain.vocab import Role


class Permission(StrEnum):
    ENTER_DATA = "enter_data"  # persons, households, associations, projects, rounds, lines, referrals, imports
    APPROVE_DISTRIBUTION = "approve_distribution"
    OVERRIDE_ALREADY_RECEIVED = "override_already_received"
    DECIDE_DUPLICATES = "decide_duplicates"  # merge, mark distinct, undo a merge, the engine's thresholds
    EXPORT = "export"  # lists to Excel, indicators to Excel
    VIEW_SENSITIVE = "view_sensitive"  # survivor of gender-based violence, disability details
    MANAGE_USERS = "manage_users"
    SETTINGS = "settings"  # office profile, country rules, geography, aid windows


LABELS = {
    Permission.ENTER_DATA: "إدخال البيانات",
    Permission.APPROVE_DISTRIBUTION: "اعتماد التوزيعات",
    Permission.OVERRIDE_ALREADY_RECEIVED: "إبقاء من استلم من قبل بسبب مكتوب",
    Permission.DECIDE_DUPLICATES: "البت في التكرار والدمج",
    Permission.EXPORT: "التصدير",
    Permission.VIEW_SENSITIVE: "الاطلاع على الفئات الحساسة",
    Permission.MANAGE_USERS: "إدارة المستخدمين",
    Permission.SETTINGS: "الإعدادات",
}

_SUPERVISOR = {
    Permission.ENTER_DATA,
    Permission.APPROVE_DISTRIBUTION,
    Permission.OVERRIDE_ALREADY_RECEIVED,
    Permission.DECIDE_DUPLICATES,
    Permission.EXPORT,
    Permission.VIEW_SENSITIVE,
}
ROLE_PERMISSIONS: dict[str, frozenset[Permission]] = {
    Role.CLERK.value: frozenset({Permission.ENTER_DATA}),
    Role.SUPERVISOR.value: frozenset(_SUPERVISOR),
    Role.ADMIN.value: frozenset(Permission),
}
# The database's own processes (set-up before any user exists, tests, maintenance) act as "system".
SYSTEM = "system"


def allowed(role: str, permission: Permission) -> bool:
    if role == SYSTEM:
        return True
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


def refusal(permission: Permission) -> str:
    """Who to ask: a supervisor only for what a supervisor may do (users and settings are the administrator's)."""
    who = "المشرف أو مدير النظام" if permission in _SUPERVISOR else "مدير النظام"
    return f"ليست لديك صلاحية «{LABELS[permission]}»: اطلب ذلك من {who}."
