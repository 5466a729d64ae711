"""The audit trail seen from outside: verify its hash chain; who did what, for the viewer."""

from __future__ import annotations

from dataclasses import replace

from aidoffice.services import sync_audit, trust
from aidoffice.services.context import ServiceContext
from aidoffice.store.audit import ChainReport

_BROKEN = "سلسلة سجل التدقيق مكسورة: "
_REASONS = {
    "anchor": "قيود ختمها مدير النظام (حتى القيد رقم {at}) تغيّرت ثم أُعيد حساب بصماتها.",
    "signature": "ختم مدير النظام عند القيد رقم {at} ليس بتوقيع مفتاح المديرين.",
    "cut": "حُذفت أحدث القيود: آخر قيد يحفظه ملف المفاتيح (رقم {at}) لم يعد في السجل كما كان.",
    "key": "مفتاح مديري النظام في قاعدة البيانات غير المفتاح المثبّت في ملف المفاتيح.",
    "hq": "القيد رقم {at} لم يعد كما رآه الديوان في آخر حزمة أكّد استلامها: عُدّلت القيود حتى هناك أو حُذفت.",
    "replaced": "استُبدل مفتاح مديري النظام خارج البرنامج: {where}مفتاحٌ سابق لا يؤدي إلى المفتاح الحالي بتوقيعه ولا "
    "بإثبات استعادة بمفتاح الضمان، فلا يُوثق بأختام المفتاح الحالي. {who}",
    "guards": "حُذفت من قاعدة البيانات قواعد «الإضافة فقط» التي تمنع تعديل القيود وحذفها ({missing}): عُدّلت خارج "
    "البرنامج، وما حُذف أو عُدّل بعدها لا تمنعه قاعدة البيانات. أعد النسخة الاحتياطية السابقة أو راجع الديوان.",
}


def verify_audit(ctx: ServiceContext) -> ChainReport:
    """The whole chain walked from its first entry, then checked against the administrators' signed anchors and the
    head kept in the keyring (anyone may ask: the answer holds no personal data). Writes nothing."""
    with ctx.uow() as uow:
        report = trust.examine(ctx, uow.repo)
        if report.broken_at is None and not report.reason:
            # the head headquarters acknowledged (kept from its reply, and in the keyring): a database edit here does
            # not reach what headquarters saw
            seen = sync_audit.seen_by_hq(ctx, uow.repo)
            if seen is not None and uow.repo.audit_hash_at(seen[0]) != seen[1]:
                return replace(report, reason="hq", at=seen[0])
        return report


def _holders(who: tuple[str, ...]) -> str:
    if not who:
        return "ولا يفتح المفتاح الحالي أحد من المستخدمين."
    return f"لا يفتح المفتاح الحالي إلا: {'، '.join(who)} — فقد استبدله واحد منهم أو من يحمل مفتاح قاعدة البيانات."


def describe(report: ChainReport) -> str:
    text = _describe(report)
    if report.missing and report.reason != "guards":
        text += " " + _REASONS["guards"].format(missing="، ".join(report.missing))
    return text


def _describe(report: ChainReport) -> str:
    if report.broken_at is not None:
        return f"{_BROKEN}أول قيد لا يطابق هو رقم {report.broken_at} (عُدّل أو حُذف ما قبله)."
    if report.reason == "replaced":
        where = f"ختم القيد رقم {report.at} " if report.at else "ملف المفاتيح يثبّت "
        return _BROKEN + _REASONS["replaced"].format(where=where, who=_holders(report.who))
    if report.reason in _REASONS:
        return _BROKEN + _REASONS[report.reason].format(at=report.at, missing="، ".join(report.missing))
    if report.reason:
        return _BROKEN + "حُذفت أحدث القيود."
    anchored = [detail.get("seq") for _seq, detail, _linked in report.anchors]
    tail = f"، آخر ختم لمدير النظام عند القيد رقم {anchored[-1]}" if anchored else "، ولم يختمها مدير النظام بعد"
    return f"سلسلة سجل التدقيق سليمة: {report.entries:,} قيداً{tail}."
