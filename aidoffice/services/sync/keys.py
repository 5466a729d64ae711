"""Installation mode, key pairs, identity files, enrolment of peers, revocation, rotation and the escrow key."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from aidoffice.domain.access import Permission
from aidoffice.domain.sync import Mode, identity_name
from aidoffice.domain.sync import fingerprint as fingerprint_of
from aidoffice.errors import UserError
from aidoffice.formats import keyring
from aidoffice.formats import package as pkg
from aidoffice.formats.atomic import atomic_file, require_regular_file
from aidoffice.formats.package import Identity, KeyPair
from aidoffice.services.context import ServiceContext
from aidoffice.services.sync.common import ESCROW_SETTING, MAX_IDENTITY, MODE_SETTING
from aidoffice.store import models as m

log = logging.getLogger("aidoffice.sync")


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
