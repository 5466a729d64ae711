"""Writing a package: an office's changes or snapshot, or headquarters' reply to one office."""

from __future__ import annotations

import itertools
import logging
import uuid
from dataclasses import dataclass
from pathlib import Path

from aidoffice.domain.access import Permission
from aidoffice.domain.sync import Mode, PackageKind, next_stamp, package_name
from aidoffice.errors import UserError
from aidoffice.formats import package as pkg
from aidoffice.services import sync_audit
from aidoffice.services.context import ServiceContext
from aidoffice.services.sync.common import EPOCH_SETTING, ESCROW_SETTING, MODE_SETTING, _ms
from aidoffice.services.sync.keys import _active_key
from aidoffice.store import models as m
from aidoffice.store import sync as store_sync
from aidoffice.store.migrate import head_revision

log = logging.getLogger("aidoffice.sync")

_FLAGS_PER_RECORD = 200  # cross-office flags travel in records of this many, each well under a record's size limit


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
