"""The audit trail seen from outside: verify its hash chain; who did what, for the viewer."""

from __future__ import annotations

from aidoffice.services import trust
from aidoffice.services.context import ServiceContext
from aidoffice.store.audit import ChainReport

_BROKEN = "سلسلة سجل التدقيق مكسورة: "
_REASONS = {
    "anchor": "قيود ختمها مدير النظام (حتى القيد رقم {at}) تغيّرت ثم أُعيد حساب بصماتها.",
    "signature": "ختم مدير النظام عند القيد رقم {at} ليس بتوقيع مفتاح المديرين.",
    "cut": "حُذفت أحدث القيود: آخر قيد يحفظه ملف المفاتيح (رقم {at}) لم يعد في السجل كما كان.",
    "key": "مفتاح مديري النظام في قاعدة البيانات غير المفتاح المثبّت في ملف المفاتيح.",
}


def verify_audit(ctx: ServiceContext) -> ChainReport:
    """The whole chain walked from its first entry, then checked against the administrators' signed anchors and the
    head kept in the keyring (anyone may ask: the answer holds no personal data). Writes nothing."""
    with ctx.uow() as uow:
        return trust.examine(ctx, uow.repo)


def describe(report: ChainReport) -> str:
    if report.broken_at is not None:
        return f"{_BROKEN}أول قيد لا يطابق هو رقم {report.broken_at} (عُدّل أو حُذف ما قبله)."
    if report.reason in _REASONS:
        return _BROKEN + _REASONS[report.reason].format(at=report.at)
    if report.reason:
        return _BROKEN + "حُذفت أحدث القيود."
    anchored = [detail.get("seq") for _seq, detail, _linked in report.anchors]
    tail = f"، آخر ختم لمدير النظام عند القيد رقم {anchored[-1]}" if anchored else "، ولم يختمها مدير النظام بعد"
    return f"سلسلة سجل التدقيق سليمة: {report.entries:,} قيداً{tail}."
