"""USB sync between offices and headquarters: keys and enrolment, package export and import, acknowledgements,
the conflict queue and cross-office duplicate flags."""

from __future__ import annotations

import itertools
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aidoffice.domain.access import Permission
from aidoffice.domain.sync import (
    MAX_AHEAD_MS,
    Mode,
    PackageKind,
    hlc_ms,
    identity_name,
    next_stamp,
    package_name,
    too_far_ahead,
)
from aidoffice.domain.sync import fingerprint as fingerprint_of
from aidoffice.errors import StorageError, UserError
from aidoffice.formats import keyring
from aidoffice.formats import package as pkg
from aidoffice.formats.atomic import atomic_file, require_regular_file
from aidoffice.formats.package import Identity, KeyPair, PackageError
from aidoffice.services import sync_audit
from aidoffice.services.context import ServiceContext
from aidoffice.store import models as m
from aidoffice.store import sync as store_sync
from aidoffice.store.migrate import head_revision

log = logging.getLogger("aidoffice.sync")

MODE_SETTING = "sync.mode"
EPOCH_SETTING = "sync.epoch"  # raised when a backup is restored (services.backups)
ESCROW_SETTING = "sync.escrow_public"
HQ_TIME_SETTING = "sync.hq_time"  # at an office: the clock stamp of headquarters' newest reply, a time not this PC's
MAX_PACKAGE = 2 << 30
MAX_IDENTITY = 64 * 1024
_FLAGS_PER_RECORD = 200  # cross-office flags travel in records of this many, each well under a record's size limit


def _ms() -> int:
    return int(time.time() * 1000)


# --- mode and keys ------------------------------------------------------------------------------------------


def mode(ctx: ServiceContext) -> Mode:
    with ctx.uow() as uow:
        return Mode(uow.repo.setting(MODE_SETTING) or Mode.OFFICE.value)


def set_mode(ctx: ServiceContext, value: str) -> None:
    """Office or headquarters, chosen at set-up; not changed once packages have moved."""
    ctx.require(Permission.SETTINGS)
    try:
        chosen = Mode(value)
    except ValueError as exc:
        raise UserError("نوع التثبيت إما «مكتب» (office) أو «ديوان» (hq).", field="mode") from exc
    with ctx.uow() as uow:
        if uow.repo.count(m.SyncPackage) and uow.repo.setting(MODE_SETTING) != chosen.value:
            raise UserError("لا يُغيَّر نوع التثبيت بعد تبادل حزم المزامنة.", field="mode")
        uow.repo.set_setting(MODE_SETTING, chosen.value)
        uow.commit()


def _own_keys(repo) -> list[KeyPair]:
    rows = repo.all(m.SyncKey, order_by=m.SyncKey.created_at.desc())
    return [KeyPair(pkg.unb64(r.sign_private), pkg.unb64(r.kx_private)) for r in rows if r.status != "revoked"]


def _active_key(repo) -> KeyPair:
    row = repo.first(m.SyncKey, status="active")
    if row is None:
        keys = KeyPair.generate()
        repo.add(
            m.SyncKey(
                sign_private=pkg.b64(keys.sign_private),
                kx_private=pkg.b64(keys.kx_private),
                fingerprint=keys.fingerprint,
                status="active",
            )
        )
        return keys
    return KeyPair(pkg.unb64(row.sign_private), pkg.unb64(row.kx_private))


def _identity(repo, keys: KeyPair) -> Identity:
    office = repo.office()
    if office is None:
        raise UserError("لم يُضبط ملف المكتب بعد.")
    role = repo.setting(MODE_SETTING) or Mode.OFFICE.value
    escrow = repo.setting(ESCROW_SETTING) if role == Mode.HQ.value else None
    return Identity(
        office_id=office.id,
        office_code=office.office_code,
        name=office.name,
        role=role,
        sign_public=keys.sign_public,
        kx_public=keys.kx_public,
        escrow_public=pkg.unb64(escrow) if escrow else None,
    )


def fingerprint(ctx: ServiceContext) -> str:
    with ctx.uow() as uow:
        keys = _active_key(uow.repo)
        uow.commit()
    return keys.fingerprint


def export_identity(ctx: ServiceContext, folder: Path) -> tuple[Path, str]:
    """Write this installation's public identity (no secret in it) as `<office code>.aidid`; returns the file and
    the fingerprint to read over the phone."""
    ctx.require(Permission.SETTINGS)
    with ctx.uow() as uow:
        keys = _active_key(uow.repo)
        identity = _identity(uow.repo, keys)
        previous = uow.repo.all(m.SyncKey, order_by=m.SyncKey.created_at.desc(), status="retired", limit=1)
        prev_keys = (
            KeyPair(pkg.unb64(previous[0].sign_private), pkg.unb64(previous[0].kx_private)) if previous else None
        )
        uow.commit()
    target = Path(folder) / identity_name(identity.office_code)
    try:
        Path(folder).mkdir(parents=True, exist_ok=True)
        with atomic_file(target) as fh:
            fh.write(pkg.identity_to_bytes(identity, keys, prev_keys))
    except OSError as exc:
        raise UserError(f"تعذّرت كتابة ملف الهوية في {folder}.") from exc
    return target, identity.fingerprint


def read_identity(path: Path) -> Identity:
    path = require_regular_file(Path(path), "ملف الهوية")
    try:
        with path.open("rb") as fh:
            raw = fh.read(MAX_IDENTITY + 1)
    except OSError as exc:
        raise UserError(f"تعذّرت قراءة ملف الهوية: {path.name}") from exc
    if len(raw) > MAX_IDENTITY:
        raise UserError(f"{path.name} أكبر من أي ملف هوية: ليس ملف هوية AidOffice.", field="file")
    return pkg.identity_from_bytes(raw)


@dataclass(frozen=True)
class PeerRecord:
    id: str
    office_id: str
    office_code: str
    name: str
    role: str
    fingerprint: str
    status: str
    added_at: datetime


def _peer(row: m.SyncPeer) -> PeerRecord:
    return PeerRecord(
        row.id, row.office_id, row.office_code, row.name, row.role, row.fingerprint, row.status, row.added_at
    )


def _digits(text: str | None) -> str:
    return "".join((text or "").split())


def enrol(
    ctx: ServiceContext, path: Path, *, expected_fingerprint: str | None = None, reenrol: bool = False
) -> PeerRecord:
    """Headquarters enrols an office; an office trusts its headquarters. The fingerprint read over the phone is
    required and must match. One office code, one office: a second installation under a code already enrolled is
    refused. A new identity of a known office is taken only when its active key endorses it. A revoked office comes
    back only with `reenrol` (an administrator's explicit decision, audited), and never with a revoked key."""
    ctx.require(Permission.SETTINGS)
    identity = read_identity(path)
    typed = _digits(expected_fingerprint)
    if not typed:
        raise UserError(
            "البصمة مطلوبة لتسجيل أي جهة: اطلبها من الجهة صاحبة الملف بالهاتف واكتبها كما قُرئت (25 رقمًا). لم يُسجَّل شيء.",
            field="fingerprint",
        )
    if typed != _digits(identity.fingerprint):
        raise UserError("البصمة لا تطابق ملف الهوية: لا تسجّله، واتصل بالجهة المرسلة.", field="fingerprint")
    code = identity.office_code.strip().upper()
    me = ctx.office_id  # read before the write transaction opens (it would wait for itself)
    with ctx.uow() as uow:
        repo = uow.repo
        here = Mode(repo.setting(MODE_SETTING) or Mode.OFFICE.value)
        wanted = "office" if here is Mode.HQ else "hq"
        if identity.role != wanted:
            raise UserError(
                "الديوان يسجّل هويات المكاتب، والمكتب يثق بهوية الديوان: هذا الملف من النوع الآخر.", field="file"
            )
        office = repo.office()
        if office is not None and identity.office_id == office.id:
            raise UserError("هذا ملف هوية هذا الجهاز نفسه.", field="file")
        everyone = repo.all(m.SyncPeer)
        known = [p for p in everyone if p.office_id == identity.office_id]
        same = [p for p in known if p.sign_public == pkg.b64(identity.sign_public)]
        if same and same[0].status == "revoked":
            raise UserError("هذا المفتاح أُلغي من قبل ولا يُسجَّل ثانية: اطلب من الجهة مفتاحًا جديدًا.")
        if same:
            return _peer(same[0])
        namesakes = [p for p in everyone if p.office_code.strip().upper() == code and p.office_id != identity.office_id]
        group = known + namesakes
        revoked = [p for p in group if p.status == "revoked"]
        if any(p.status != "revoked" for p in namesakes):
            raise UserError(
                f"الرمز {identity.office_code} مسجّل لجهة أخرى (تثبيت آخر بمعرّف آخر): لا تُسجَّل جهتان برمز واحد. "
                "تحقّق بالهاتف من الجهة صاحبة الملف.",
                field="file",
            )
        if revoked and not any(p.status == "active" for p in group) and not reenrol:
            raise UserError(
                f"الجهة {identity.office_code} ملغاة: لا تعود بمفتاح جديد إلا بإعادة تسجيل صريحة يؤكدها مدير النظام "
                "(keys enrol FILE --fingerprint … --reenrol، أو «إعادة تسجيل جهة ملغاة» في صفحة المزامنة) بعد "
                "التحقق من البصمة بالهاتف.",
                field="file",
            )
        if reenrol and not revoked:
            raise UserError(
                f"الجهة {identity.office_code} ليست ملغاة: إعادة التسجيل لجهة ملغاة فقط؛ سجّلها تسجيلًا عاديًا.",
                field="file",
            )
        active = [p for p in known if p.status == "active"]
        if active:
            endorsed = identity.endorsed_by and any(pkg.b64(identity.endorsed_by) == p.sign_public for p in active)
            if not endorsed:
                raise UserError(
                    "هذه الجهة مسجّلة بمفتاح آخر، والملف الجديد غير مصدَّق بالمفتاح السابق. ألغِ المفتاح السابق "
                    "أولًا إن كان التغيير مقصودًا (بعد التحقق بالهاتف)، ثم أعد تسجيلها.",
                    field="file",
                )
            for p in active:
                p.status, p.changed_at = "retired", m.utcnow()
        if wanted == "hq":
            for p in repo.all(m.SyncPeer, role="hq", status="active"):
                if p.office_id != identity.office_id:
                    p.status, p.changed_at = "retired", m.utcnow()
        row = repo.add(
            m.SyncPeer(
                id=m.new_id(),
                office_id=identity.office_id,
                office_code=identity.office_code,
                name=identity.name,
                role=identity.role,
                sign_public=pkg.b64(identity.sign_public),
                kx_public=pkg.b64(identity.kx_public),
                escrow_public=pkg.b64(identity.escrow_public) if identity.escrow_public else None,
                fingerprint=identity.fingerprint,
                status="active",
            )
        )
        if wanted == "hq" and identity.escrow_public and ctx.db.key:
            keyring.set_escrow(ctx.db.path, ctx.db.key, identity.escrow_public)
        if wanted == "hq" and identity.escrow_public:
            from aidoffice.services import trust  # an escrow recovery's proof, signed now by the administrators' key

            if trust.held(ctx) is not None:
                trust.commit_escrow(repo, trust.held(ctx))
        repo.audit(
            "sync-reenrol" if reenrol else "sync-enrol",
            "sync_peers",
            row.id,
            {"office_code": identity.office_code, "role": identity.role, "fingerprint": identity.fingerprint},
            office_id=me,
        )
        uow.commit()
        if reenrol:
            log.warning("revoked peer re-enrolled by an administrator")
        return _peer(row)


def peers(ctx: ServiceContext) -> list[PeerRecord]:
    with ctx.uow() as uow:
        return [_peer(p) for p in uow.repo.all(m.SyncPeer, order_by=m.SyncPeer.added_at)]


def revoke(ctx: ServiceContext, office_code: str) -> int:
    """Revoke every key of an office (a stolen PC, a lost key): its packages are refused from now on."""
    ctx.require(Permission.SETTINGS)
    me = ctx.office_id
    with ctx.uow() as uow:
        rows = [p for p in uow.repo.all(m.SyncPeer, office_code=office_code.strip()) if p.status != "revoked"]
        if not rows:
            raise UserError(f"لا توجد جهة مسجّلة بالرمز {office_code}.", field="office_code")
        for p in rows:
            p.status, p.changed_at = "revoked", m.utcnow()
        uow.repo.audit("sync-revoke", "sync_peers", rows[0].office_id, {"office_code": office_code}, office_id=me)
        uow.commit()
        return len(rows)


def rotate_keys(ctx: ServiceContext) -> str:
    """A new key pair signs from now on; the old one is retired (it still opens late packages wrapped for it) and
    endorses the new identity file, so peers take it without another phone call. Returns the new fingerprint."""
    ctx.require(Permission.SETTINGS)
    me = ctx.office_id
    with ctx.uow() as uow:
        for row in uow.repo.all(m.SyncKey, status="active"):
            row.status = "retired"
        uow.flush()
        keys = _active_key(uow.repo)
        uow.repo.audit("sync-rotate", "sync_keys", "", {"fingerprint": keys.fingerprint}, office_id=me)
        uow.commit()
    return keys.fingerprint


def create_escrow(ctx: ServiceContext, target: Path, passphrase: str) -> str:
    """Headquarters: a new escrow key. Its private half goes to `target` sealed under the passphrase (keep it offline,
    in a safe); its public half travels in headquarters' identity, and offices wrap every package key for it too."""
    ctx.require(Permission.SETTINGS)
    if len(passphrase) < 12:
        raise UserError("عبارة مرور مفتاح الضمان 12 حرفًا على الأقل.", field="passphrase")
    if mode(ctx) is not Mode.HQ:
        raise UserError("مفتاح الضمان يُنشأ في الديوان فقط.")
    raw, public = pkg.new_escrow_pair()
    try:
        with atomic_file(Path(target)) as fh:
            fh.write(pkg.escrow_file(raw, passphrase))
    except OSError as exc:
        raise UserError(f"تعذّرت كتابة ملف مفتاح الضمان: {Path(target).name}") from exc
    me = ctx.office_id
    with ctx.uow() as uow:
        uow.repo.set_setting(ESCROW_SETTING, pkg.b64(public))
        uow.repo.audit("sync-escrow", "settings", "", {}, office_id=me)
        uow.commit()
    return fingerprint_of(public)


def open_with_escrow(path: Path, escrow: Path, passphrase: str, sender_public: bytes) -> pkg.Package:
    """Recovery: open a package with the escrow key (headquarters' own key lost)."""
    private = pkg.escrow_open(require_regular_file(Path(escrow), "ملف مفتاح الضمان").read_bytes()[:4096], passphrase)
    return pkg.open_package(Path(path), [sender_public], [private])


# --- export ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportResult:
    path: Path
    kind: str
    sequence: int
    records: int
    size: int
    change_from: int
    change_to: int


def _stream(repo, prefix: str, peer_id: str) -> dict:
    return dict(repo.setting(f"{prefix}.{peer_id}") or {})


def export_package(
    ctx: ServiceContext, folder: Path, *, full: bool = False, to_office: str | None = None
) -> ExportResult:
    """An office: everything changed since headquarters' last acknowledgement (a lost stick leaves no gap), or every
    record it owns with `full`. Headquarters: the reply for one office — acknowledgement, reference data and the
    associations registry changed since that office's acknowledgement, and cross-office duplicate flags."""
    ctx.require(Permission.EXPORT)
    with ctx.uow() as uow:
        repo = uow.repo
        here = Mode(repo.setting(MODE_SETTING) or Mode.OFFICE.value)
        if here is Mode.OFFICE:
            found = repo.all(m.SyncPeer, role="hq", status="active")
            if not found:
                raise UserError("لم تُسجَّل هوية الديوان بعد: استورد ملف هويته من صفحة المزامنة.")
        else:
            if not to_office:
                raise UserError("اختر المكتب الذي تُصدَّر له الحزمة.", field="office")
            found = repo.all(m.SyncPeer, office_code=to_office.strip(), status="active")
            if not found:
                raise UserError(f"المكتب {to_office} غير مسجَّل أو مفتاحه ملغى.", field="office")
        peer = found[0]
        keys = _active_key(repo)
        office = repo.office()
        epoch = int(repo.setting(EPOCH_SETTING) or 0)
        acked = _stream(repo, "sync.acked", peer.office_id)
        after = int(acked.get("change_no", 0)) if acked.get("epoch") == epoch else 0
        out = _stream(repo, "sync.out", peer.office_id)
        sequence = int(out.get("sequence", 0)) + 1
        # The sequence is taken before the file is written: a failed write leaves a gap, never two packages with one
        # number (which headquarters would rightly take for a fork).
        repo.set_setting(f"sync.out.{peer.office_id}", {"sequence": sequence, "digest": out.get("digest", "")})
        uow.commit()
    with ctx.uow() as uow:
        repo = uow.repo
        conn = uow.session.connection()
        upto = store_sync.newest_change(conn)
        if here is Mode.OFFICE:
            tables = (*store_sync.REFERENCE, "associations", *store_sync.OWNED)
            kind = PackageKind.SNAPSHOT if full or after == 0 else PackageKind.CHANGES
            if kind is PackageKind.SNAPSHOT:
                after = 0
                ids = store_sync.all_ids(conn, tables, owner=office.id)
            else:
                ids = store_sync.changed_ids(conn, after, upto, tables, local_only=True)
            records = store_sync.iter_records(conn, ids, office.id)
        else:
            tables = (*store_sync.REFERENCE, "associations")
            kind = PackageKind.REPLY
            if full or after == 0:
                after = 0
                ids = store_sync.all_ids(conn, tables, owner=None)
            else:
                ids = store_sync.changed_ids(conn, after, upto, tables, local_only=False)
            pairs = store_sync.cross_office_pairs(conn, peer.office_id)
            flags = [
                {"t": "flags", "items": pairs[i : i + _FLAGS_PER_RECORD]}
                for i in range(0, max(len(pairs), 1), _FLAGS_PER_RECORD)
            ]
            records = itertools.chain(store_sync.iter_records(conn, ids, office.id), flags)
        applied = _stream(repo, "sync.applied", peer.office_id)
        stamp = next_stamp(store_sync.clock(conn), _ms())
        manifest = {
            "package_id": str(uuid.uuid4()),
            "kind": kind.value,
            "sender": office.id,
            "sender_code": office.office_code,
            "recipient": peer.office_id,
            "epoch": epoch,
            "sequence": sequence,
            "prev_digest": out.get("digest", ""),
            "change_range": [after, upto],
            "schema": head_revision(),
            "hlc": stamp,
            "created_at": m.utcnow().isoformat(timespec="seconds"),
            "ack": {"epoch": applied.get("epoch", 0), "change_no": applied.get("change_no", 0)},
        }
        if here is Mode.OFFICE:
            manifest["audit"] = sync_audit.manifest_part(ctx, repo)
            sync_audit.note_sent(repo, manifest["audit"])
        else:
            manifest["audit_seen"] = sync_audit.seen_for(repo, peer.office_id)
        recipients = {"recipient": pkg.unb64(peer.kx_public)}
        escrow = peer.escrow_public if here is Mode.OFFICE else repo.setting(ESCROW_SETTING)
        if escrow:
            recipients["escrow"] = pkg.unb64(escrow)
        name = package_name(office.office_code, epoch, sequence, None if here is Mode.OFFICE else peer.office_code)
        if (Path(folder) / name).exists():
            raise UserError(
                f"في المجلد حزمة بالاسم {name} من قبل: لم تُكتب فوقها. انقلها أو اختر مجلدًا آخر ثم أعد التصدير."
            )
        written = pkg.write_package(Path(folder), name, manifest, records, keys, recipients)
        path, digest, count = written.path, written.digest, written.records
        repo.set_setting(f"sync.out.{peer.office_id}", {"sequence": sequence, "digest": digest})
        repo.add(
            m.SyncPackage(
                id=manifest["package_id"],
                direction="out",
                kind=kind.value,
                sender_id=office.id,
                recipient_id=peer.office_id,
                epoch=epoch,
                sequence=sequence,
                digest=digest,
                change_from=after,
                change_to=upto,
                records=count,
                applied=0,
                conflicts=0,
                status="written",
                file_name=name,
                by=ctx.username,
            )
        )
        repo.audit(
            "sync-export",
            "sync_packages",
            manifest["package_id"],
            {"kind": kind.value, "sequence": sequence, "records": count},
            office_id=office.id,
        )
        uow.commit()
    log.info("package %s written: %s, %d records", name, kind.value, count)
    return ExportResult(path, kind.value, sequence, count, path.stat().st_size, after, upto)


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


# --- a clock slip -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestampResult:
    records: int  # stamps moved back (and stamp-less rows given one)
    ahead_until: datetime  # where the slipped clock stood: the furthest stamp found (local time, as are the others)
    hq_time: datetime  # headquarters' time in its newest reply
    now: datetime  # this PC's clock


def _local(ms: int) -> datetime:
    """This PC's local time of a millisecond count (what its clock shows the administrator)."""
    return datetime.fromtimestamp(ms / 1000)


def restamp(ctx: ServiceContext, *, now_ms: int | None = None) -> RestampResult:
    """An office whose clock ran ahead: every stamp it made past the present (this PC's clock, once set right, and
    never before headquarters' time in its newest reply) takes a new stamp just after both, in the same order. An
    edit made during the slip would otherwise win every later merge, and headquarters rightly refuses it, package
    after package. Headquarters' check is not loosened: the new stamps are of the present. Audited, and the result
    tells the administrator what was found."""
    ctx.require(Permission.SETTINGS)
    now_ms = _ms() if now_ms is None else now_ms
    me = ctx.office_id
    with ctx.uow() as uow:
        repo = uow.repo
        if Mode(repo.setting(MODE_SETTING) or Mode.OFFICE.value) is not Mode.OFFICE:
            raise UserError("إعادة الختم للمكتب الذي تقدّمت ساعته؛ الديوان يرفض الحزم المتقدمة ولا يعيد ختمها.")
        hq_time = int(repo.setting(HQ_TIME_SETTING) or 0)
        if not hq_time:
            raise UserError(
                "لا يوجد رد من الديوان يُعتمد وقته: اطلبوا من الديوان حزمة رد لهذا المكتب واستوردوها هنا أولًا، ثم "
                "أعيدوا الختم."
            )
        hq_ms = hlc_ms(hq_time)
        if now_ms < hq_ms - MAX_AHEAD_MS:
            raise UserError(
                f"ساعة هذا الجهاز ({_local(now_ms):%Y-%m-%d %H:%M}) متأخرة عن وقت الديوان في آخر رد منه "
                f"({_local(hq_ms):%Y-%m-%d %H:%M}): صحّح التاريخ والوقت أولًا، ثم أعد الختم. لم يتغير شيء."
            )
        present = max(now_ms, hq_ms)
        limit = ((present + 1) << 16) - 1  # anything stamped after this millisecond was stamped in the future
        done = store_sync.restamp_ahead(uow.session.connection(), limit, max(hq_time, present << 16))
        if not done.records:
            raise UserError(
                f"لا سجلات مختومة بوقت بعد ساعة هذا الجهاز ({_local(now_ms):%Y-%m-%d %H:%M}): لا شيء يُعاد ختمه. إن "
                "رفض الديوان الحزمة لتقدّم الساعة فساعة هذا الجهاز ما زالت متقدمة: صحّحها ثم أعد الختم (آخر وقت "
                f"من الديوان: {_local(hq_ms):%Y-%m-%d %H:%M})."
            )
        result = RestampResult(done.records, _local(hlc_ms(done.furthest)), _local(hq_ms), _local(now_ms))
        repo.audit(
            "sync-restamp",
            "sync_stamps",
            "",
            {
                "records": done.records,
                "ahead_until": result.ahead_until.isoformat(timespec="seconds"),
                "hq_time": result.hq_time.isoformat(timespec="seconds"),
                "now": result.now.isoformat(timespec="seconds"),
            },
            office_id=me,
        )
        uow.commit()
    log.warning("clock slip: %d stamps re-stamped from the present", done.records)
    return result


def restamp_message(result: RestampResult) -> str:
    """What the administrator is told (the command line and the Sync page say the same)."""
    return (
        f"أُعيد ختم {result.records:,} سجلًا كانت مختومة بوقت في المستقبل (حتى {result.ahead_until:%Y-%m-%d %H:%M}) "
        f"لأن ساعة الجهاز كانت متقدمة. خُتمت بالوقت الحاضر: ساعة الجهاز الآن {result.now:%Y-%m-%d %H:%M}، وآخر وقت "
        f"من الديوان {result.hq_time:%Y-%m-%d %H:%M}. سُجّل ذلك في سجل التدقيق؛ صدّر الحزمة الآن."
    )


# --- history, conflicts, flags ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageRecord:
    id: str
    direction: str
    kind: str
    peer_code: str
    sequence: int
    records: int
    applied: int
    conflicts: int
    status: str
    at: datetime
    file_name: str


def history(ctx: ServiceContext, limit: int = 500) -> list[PackageRecord]:
    with ctx.uow() as uow:
        codes = {p.office_id: p.office_code for p in uow.repo.all(m.SyncPeer)}
        rows = uow.repo.all(m.SyncPackage, order_by=m.SyncPackage.at.desc(), limit=limit)
        return [
            PackageRecord(
                r.id,
                r.direction,
                r.kind,
                codes.get(r.recipient_id if r.direction == "out" else r.sender_id, "?"),
                r.sequence,
                r.records,
                r.applied,
                r.conflicts,
                r.status,
                r.at,
                r.file_name,
            )
            for r in rows
        ]


@dataclass(frozen=True)
class ConflictRecord:
    id: str
    entity: str
    entity_id: str
    record_name: str
    field: str
    kept_value: object
    kept_office: str
    lost_value: object
    lost_office: str
    status: str
    created_at: datetime


def conflicts(ctx: ServiceContext, *, open_only: bool = True) -> list[ConflictRecord]:
    with ctx.uow() as uow:
        repo = uow.repo
        codes = {p.office_id: p.office_code for p in repo.all(m.SyncPeer)}
        office = repo.office()
        codes[office.id] = office.office_code
        where = {"status": "open"} if open_only else {}
        out = []
        for c in repo.all(m.SyncConflict, order_by=m.SyncConflict.created_at, **where):
            name = ""
            if c.entity == "associations":
                found = repo.get(m.Association, c.entity_id)
                name = found.name if found else ""
            kept, lost = c.kept_value, c.lost_value
            if c.field in ("office_id", "deleted") or c.entity in store_sync.PARENTS:
                # another office's record, or one hanging from it: the owners by their codes
                kept, lost = codes.get(kept, kept), codes.get(lost, lost)
            out.append(
                ConflictRecord(
                    c.id,
                    c.entity,
                    c.entity_id,
                    name,
                    c.field,
                    kept,
                    codes.get(c.kept_origin, "?"),
                    lost,
                    codes.get(c.lost_origin, "?"),
                    c.status,
                    c.created_at,
                )
            )
        return out


def resolve_conflict(ctx: ServiceContext, conflict_id: str, *, take_other: bool) -> None:
    """Keep the value in place, or put the value that lost in its place (a new change, which travels on)."""
    ctx.require(Permission.DECIDE_DUPLICATES)
    with ctx.uow() as uow:
        repo = uow.repo
        c = repo.get(m.SyncConflict, conflict_id)
        if c is None or c.status != "open":
            raise UserError("هذا التعارض غير موجود أو حُسم من قبل.")
        if take_other:
            if c.entity != "associations":
                raise UserError("هذا التعارض يُحسم يدويًا في سجل الجمعية.")
            association = repo.get(m.Association, c.entity_id)
            if association is None:
                raise UserError("الجمعية غير موجودة في هذه القاعدة.")
            _set_association_field(repo, association, c.field, c.lost_value)
            association.changed_by = ctx.username
        c.status = "replaced" if take_other else "kept"
        c.decided_by, c.decided_at = ctx.username, m.utcnow()
        uow.commit()


def _set_association_field(repo, association: m.Association, fld: str, value) -> None:
    from aidoffice.domain.arabic import normalize_name

    if fld == "fields":
        association.fields = repo.by_codes(m.FieldOfWork, [k[0] for k in value or []])
    elif fld == "districts":
        association.districts = [d for d in (_district(repo, k) for k in value or []) if d is not None]
    elif fld == "district_id":
        district = _district(repo, value) if value else None
        association.district_id = district.id if district else None
    elif fld in ("proclamation_date", "licence_expiry", "status_since"):
        from datetime import date

        setattr(association, fld, date.fromisoformat(value) if value else None)
    else:
        setattr(association, fld, value)
        if fld == "name":
            association.name_norm = normalize_name(value or "")


def _district(repo, key):
    for d in repo.all(m.District, name=key[-1]):
        if d.governorate.name == key[0]:
            return d
    return None


@dataclass(frozen=True)
class FlagRecord:
    person_id: str
    full_name: str
    other_office: str
    score: float


def other_offices_of(ctx: ServiceContext, person_id: str) -> list[str]:
    """The codes of the other offices where headquarters found this person registered too (from its last reply)."""
    with ctx.uow() as uow:
        return sorted({f.other_office for f in uow.repo.all(m.SyncFlag, person_id=person_id)})


def flags(ctx: ServiceContext) -> list[FlagRecord]:
    """At an office: its persons headquarters found registered by another office too."""
    with ctx.uow() as uow:
        out = []
        for f in uow.repo.all(m.SyncFlag, order_by=m.SyncFlag.score.desc()):
            person = uow.repo.get(m.Person, f.person_id)
            out.append(FlagRecord(f.person_id, person.full_name if person else "", f.other_office, f.score))
        return out


@dataclass(frozen=True)
class CrossOfficePair:
    name_a: str
    office_a: str
    name_b: str
    office_b: str
    score: float


def cross_office_pairs(ctx: ServiceContext) -> list[CrossOfficePair]:
    """At headquarters: the open duplicate pairs between offices (after a duplicate scan of the consolidated data);
    each office receives its side as a flag in the next reply."""
    ctx.require(Permission.DECIDE_DUPLICATES)
    with ctx.uow() as uow:
        rows = store_sync.cross_office_overview(uow.session.connection())
        return [CrossOfficePair(a, oa, b, ob, float(score)) for a, oa, b, ob, score in rows]
