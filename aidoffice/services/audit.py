"""The audit trail seen from outside: verify its hash chain; who did what, for the viewer."""

from __future__ import annotations

from aidoffice.services.context import ServiceContext
from aidoffice.store.audit import ChainReport


def verify_audit(ctx: ServiceContext) -> ChainReport:
    """The whole chain walked from its first entry (anyone may ask: the answer holds no personal data)."""
    with ctx.uow() as uow:
        return uow.repo.verify_audit()


def describe(report: ChainReport) -> str:
    if report.broken_at is not None:
        return f"سلسلة سجل التدقيق مكسورة: أول قيد لا يطابق هو رقم {report.broken_at} (عُدّل أو حُذف ما قبله)."
    if report.reason:
        return "سلسلة سجل التدقيق مكسورة: حُذفت أحدث القيود."
    return f"سلسلة سجل التدقيق سليمة: {report.entries:,} قيداً."
