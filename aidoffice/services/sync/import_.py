"""Reading a package: every check before the database is touched, then one transaction; refusals audited."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from aidoffice.domain.access import Permission
from aidoffice.domain.sync import Mode, too_far_ahead
from aidoffice.errors import StorageError, UserError
from aidoffice.formats import package as pkg
from aidoffice.formats.atomic import require_regular_file
from aidoffice.formats.package import PackageError
from aidoffice.services import sync_audit
from aidoffice.services.context import ServiceContext
from aidoffice.services.sync.common import EPOCH_SETTING, HQ_TIME_SETTING, MAX_PACKAGE, MODE_SETTING, _ms
from aidoffice.services.sync.keys import _own_keys
from aidoffice.store import models as m
from aidoffice.store import sync as store_sync
from aidoffice.store.migrate import head_revision

log = logging.getLogger("aidoffice.sync")


# --- import ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportResult:
    status: str  # "applied" or "already" (a replay: nothing done)
    kind: str
    sender_code: str
    sequence: int
    records: int
    applied: int
    skipped: int
    conflicts: int


def _refuse(ctx: ServiceContext, reason: str, detail: dict) -> None:
    """Refused packages are named in the audit trail (in their own transaction), then refused."""
    me = ctx.office_id
    with ctx.uow() as uow:
        uow.repo.audit("sync-refused", "sync_packages", str(detail.get("package_id", ""))[:36], detail, office_id=me)
        uow.commit()
    raise PackageError(reason)


class _ClockAheadError(Exception):
    def __init__(self, stamp: int) -> None:
        super().__init__("clock")
        self.stamp = stamp


class _ForeignRecordsError(Exception):
    """The package changes or removes records another office owns: refused whole, after the transaction."""

    def __init__(self, applied: store_sync.Applied) -> None:
        super().__init__("foreign")
        self.applied = applied


def _clock_refusal(stamp: int, now_ms: int) -> str:
    days = ((stamp >> 16) - now_ms) / 86_400_000
    gap = "أكثر من سنة" if days > 366 else f"الفارق بالأيام: {days:.0f}"  # a forged stamp may be 10^30
    return (
        f"ساعة الجهاز المرسل متقدمة عن ساعة هذا الجهاز ({gap}): لم يُطبَّق "
        "شيء. إن كانت ساعة المكتب هي المخطئة فلا يكفي تصحيحها، لأن ما عُدّل أثناء الخطأ يحمل ذلك الوقت: صحّحوا "
        "التاريخ والوقت في المكتب، واستوردوا فيه ردًّا حديثًا من الديوان، ثم صدّروا الحزمة مع إعادة الختم "
        "(export-package --restamp، أو «إعادة الختم» في صفحة المزامنة)."
    )


def _refuse_foreign(ctx: ServiceContext, package_id: str, applied: store_sync.Applied) -> None:
    """A package that changes or removes another office's records: nothing of it is applied; what it tried is put
    in the conflict queue (once per package) for a person to see, and the refusal is audited."""
    with ctx.uow() as uow:
        conn = uow.session.connection()
        if not uow.repo.all(m.SyncConflict, package_id=package_id, limit=1):
            store_sync.save_conflicts(conn, applied.foreign_conflicts)
        uow.commit()
    log.warning("package refused: %d records of another office", applied.foreign)
    _refuse(
        ctx,
        f"الحزمة تغيّر أو تحذف {applied.foreign:,} سجلًا يملكه مكتب آخر (أو تنسبه إلى غير مرسلها): رُفضت كلها ولم "
        "يُطبَّق منها شيء. كل مكتب يغيّر سجلاته وحده؛ السجلات المعنية في قائمة التعارضات، فراجعوا المكتب المرسل.",
        {"package_id": package_id, "reason": "ownership", "records": applied.foreign},
    )


def _refuse_records(ctx: ServiceContext, package_id: str, bad: store_sync.RecordError) -> None:
    """Records this database cannot take (a hostile or broken package): refused whole, audited, said in Arabic."""
    if bad.reason == "references":
        message = (
            f"الحزمة تضيف {bad.count:,} صنفًا مرجعيًا جديدًا (محافظات ومديريات وأنواع مساعدة وفئات) وأكثر ما تضيفه "
            f"حزمة واحدة {store_sync.MAX_NEW_REFERENCES:,}: رُفضت كلها ولم يُطبَّق منها شيء. تُضاف القوائم المرجعية "
            "في الديوان، ثم تصل إلى المكاتب مع الرد."
        )
    else:
        where = f" (سجلات {bad.table})" if bad.table else ""
        message = (
            f"في الحزمة سجلات تالفة أو بصيغة لا تقرؤها هذه النسخة{where}: رُفضت كلها ولم يُطبَّق منها شيء، وسُجّل "
            "ذلك في سجل التدقيق. راجعوا المكتب المرسل، وحدّثوا البرنامج لدى الطرفين."
        )
    _refuse(ctx, message, {"package_id": package_id, "reason": bad.reason, "table": bad.table[:40]})


def import_package(ctx: ServiceContext, path: Path, *, now_ms: int | None = None) -> ImportResult:
    """Check everything (signature, sender, recipient, length, hash, key, schema, clock) before the database is
    touched, then apply in one transaction, decrypting as it goes: a chunk that fails its authentication, or a record
    stamped too far ahead, rolls the whole package back. A package already applied is a no-op; a second package
    with the same sequence and other content (a fork) is refused."""
    ctx.require(Permission.EXPORT)
    now_ms = _ms() if now_ms is None else now_ms
    path = require_regular_file(Path(path), "ملف الحزمة")  # a named pipe would hang the reading for good
    try:
        if path.stat().st_size > MAX_PACKAGE:
            raise PackageError("الملف أكبر من أي حزمة معقولة: ليس حزمة AidOffice.")
        manifest = pkg.read_manifest(path)
    except OSError as exc:
        raise UserError(f"تعذّرت قراءة الحزمة: {path.name}") from exc
    sender = str(manifest.get("sender", ""))
    with ctx.uow() as uow:
        repo = uow.repo
        here = Mode(repo.setting(MODE_SETTING) or Mode.OFFICE.value)
        me = repo.office().id
        known = repo.all(m.SyncPeer, office_id=sender)
        usable = [pkg.unb64(p.sign_public) for p in known if p.status in ("active", "retired")]
        revoked = [p for p in known if p.status == "revoked"]
        privates = [k.kx_private for k in _own_keys(repo)]
        expected_role = "office" if here is Mode.HQ else "hq"
        role_ok = all(p.role == expected_role for p in known)
    if not usable:
        if revoked:
            raise PackageError("مفتاح الجهة المرسلة ملغى: لا تُقبل حزمها.")
        raise PackageError("الحزمة من جهة غير مسجّلة لدى هذا الجهاز: سجّل هويتها أولًا من صفحة المزامنة.")
    if not role_ok:
        raise PackageError("هذه الحزمة من جهة لا تُستقبل منها حزم في هذا النوع من التثبيت.")
    try:
        package = pkg.open_package(path, usable, privates)
    except OSError as exc:
        raise UserError(f"تعذّرت قراءة الحزمة: {path.name}") from exc
    manifest = package.manifest
    try:
        epoch, sequence = int(manifest["epoch"]), int(manifest["sequence"])
        change_from, change_to = (int(n) for n in manifest["change_range"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PackageError("رأس الحزمة ناقص أو تالف.") from exc
    records_count = int(manifest.get("records", 0))
    code = str(manifest.get("sender_code", ""))
    with ctx.uow() as uow:
        repo = uow.repo
        seen = repo.get(m.SyncPackage, package.package_id)
        same_slot = repo.all(m.SyncPackage, sender_id=sender, epoch=epoch, sequence=sequence, direction="in")
        before = repo.all(m.SyncPackage, sender_id=sender, epoch=epoch, sequence=sequence - 1, direction="in")
    if seen is not None and seen.digest == package.digest:
        return ImportResult("already", seen.kind, code, sequence, seen.records, 0, 0, 0)
    if manifest.get("recipient") != me:
        raise PackageError("هذه الحزمة ليست موجّهة إلى هذه الجهة.")
    if str(manifest.get("schema", "")) > head_revision():
        raise PackageError("الحزمة من نسخة أحدث من البرنامج: حدّث AidOffice على هذا الجهاز ثم أعد الاستيراد.")
    if too_far_ahead(int(manifest.get("hlc", 0)), now_ms):
        _refuse(
            ctx, _clock_refusal(int(manifest["hlc"]), now_ms), {"package_id": package.package_id, "reason": "clock"}
        )
    fork = (
        seen is not None
        or (same_slot and same_slot[0].digest != package.digest)
        or (before and manifest.get("prev_digest") and before[0].digest != manifest["prev_digest"])
    )
    if fork:
        _refuse(
            ctx,
            "تفرّع في حزم هذه الجهة: حزمتان مختلفتان بالرقم التسلسلي نفسه (نسخة من قاعدة بيانات "
            "مستعادة أو منسوخة؟). لم يُطبَّق شيء؛ راجع الجهة المرسلة.",
            {"package_id": package.package_id, "reason": "fork", "sequence": sequence},
        )

    trail = None
    if here is Mode.HQ:
        with ctx.uow() as uow:
            trail, refusal = sync_audit.check(uow.repo, sender, epoch, sequence, manifest.get("audit"))
        if refusal is not None:
            log.warning("package refused: the office's audit chain or administrators' key (%s)", refusal.reason)
            _refuse(ctx, refusal.message, {"package_id": package.package_id, "reason": refusal.reason})

    def check(record: dict) -> None:
        stamp = _newest(record)
        if too_far_ahead(stamp, now_ms):
            raise _ClockAheadError(stamp)

    try:
        with ctx.uow() as uow:
            repo = uow.repo
            applier = store_sync.Applier(uow.session, sender=sender, at_hq=here is Mode.HQ)
            result = applier.apply(package.iter_sized(), package.package_id, check)
            if result.foreign:
                raise _ForeignRecordsError(result)  # leaving the block rolls everything back
            conn = uow.session.connection()
            store_sync.save_conflicts(conn, result.conflicts)
            flags = [extra for extra in result.extras if extra.get("t") == "flags"]
            if flags and here is Mode.OFFICE:
                store_sync.replace_flags(conn, [item for extra in flags for item in extra.get("items", [])])
            if here is Mode.OFFICE:
                _note_hq_time(repo, int(manifest.get("hlc", 0)))
            _note_ack(repo, sender, manifest.get("ack") or {})
            _note_applied(repo, sender, epoch, change_to)
            if trail is not None:
                sync_audit.remember(repo, sender, trail)
            elif here is Mode.OFFICE:
                sync_audit.note_seen(ctx, repo, manifest.get("audit_seen"))
            repo.add(
                m.SyncPackage(
                    id=package.package_id,
                    direction="in",
                    kind=str(manifest.get("kind", "")),
                    sender_id=sender,
                    recipient_id=me,
                    epoch=epoch,
                    sequence=sequence,
                    digest=package.digest,
                    change_from=change_from,
                    change_to=change_to,
                    records=records_count,
                    applied=result.applied,
                    conflicts=len(result.conflicts),
                    status="applied",
                    file_name=path.name[:120],
                    by=ctx.username,
                )
            )
            repo.audit(
                "sync-import",
                "sync_packages",
                package.package_id,
                {"sequence": sequence, "applied": result.applied, "conflicts": len(result.conflicts)},
                office_id=me,
            )
            try:
                uow.commit()
            except StorageError:
                raise
            except PackageError:
                raise
            except UserError as exc:
                # a constraint only the commit checks (a record pointing at one that is nowhere): refused whole
                raise store_sync.RecordError("content") from exc
    except _ClockAheadError as ahead:
        _refuse(ctx, _clock_refusal(ahead.stamp, now_ms), {"package_id": package.package_id, "reason": "clock"})
    except _ForeignRecordsError as foreign:
        _refuse_foreign(ctx, package.package_id, foreign.applied)
    except PackageError as exc:
        # a chunk that fails its check, a record or a payload past its limit: refused whole, and named in the audit
        _refuse(ctx, exc.message, {"package_id": package.package_id, "reason": "content"})
    except store_sync.RecordError as bad:
        _refuse_records(ctx, package.package_id, bad)
    except (KeyError, TypeError, ValueError):
        # Signed by an enrolled sender but not in the shape this version reads: refused whole, never half applied.
        _refuse_records(ctx, package.package_id, store_sync.RecordError("content"))
    log.info(
        "package applied: %d records, %d applied, %d conflicts", records_count, result.applied, len(result.conflicts)
    )
    return ImportResult(
        "applied",
        str(manifest.get("kind", "")),
        code,
        sequence,
        records_count,
        result.applied,
        result.skipped,
        len(result.conflicts),
    )


def _newest(record: dict) -> int:
    if "s" in record:
        return int(record["s"][0])
    return max((int(s[0]) for s in record.get("fs", {}).values()), default=0)


def _note_ack(repo, sender: str, ack: dict) -> None:
    """The peer says which of our change numbers it holds: the next package starts after them."""
    epoch = int(repo.setting(EPOCH_SETTING) or 0)
    if int(ack.get("epoch", -1)) != epoch:
        return  # an acknowledgement of a stream this database no longer continues (restored from a backup)
    current = dict(repo.setting(f"sync.acked.{sender}") or {})
    if current.get("epoch") != epoch or int(ack.get("change_no", 0)) > int(current.get("change_no", 0)):
        repo.set_setting(f"sync.acked.{sender}", {"epoch": epoch, "change_no": int(ack.get("change_no", 0))})
    for row in repo.all(m.SyncPackage, direction="out", recipient_id=sender, status="written"):
        if row.epoch == epoch and row.change_to <= int(ack.get("change_no", 0)):
            row.status = "acknowledged"


def _note_hq_time(repo, stamp: int) -> None:
    """Headquarters' clock in its newest reply: the trusted time an office re-stamps from after a clock slip."""
    if stamp > int(repo.setting(HQ_TIME_SETTING) or 0):
        repo.set_setting(HQ_TIME_SETTING, stamp)


def _note_applied(repo, sender: str, epoch: int, change_to: int) -> None:
    current = dict(repo.setting(f"sync.applied.{sender}") or {})
    stored_epoch = int(current.get("epoch", -1))
    if epoch > stored_epoch or (epoch == stored_epoch and change_to > int(current.get("change_no", 0))):
        repo.set_setting(f"sync.applied.{sender}", {"epoch": epoch, "change_no": change_to})
