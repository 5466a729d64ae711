"""Builders for sync tests: a headquarters and offices that know each other's identities, and packages forged the
way a hostile office would (its real key, whatever records it likes)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path

from aidoffice.formats import package as pkg
from aidoffice.services import sync
from aidoffice.services.context import ServiceContext, open_context
from aidoffice.services.office import initialise_office
from aidoffice.store import models
from aidoffice.store.migrate import head_revision


def installation(path: Path, code: str, *, hq: bool = False, governorate: str = "حضرموت") -> ServiceContext:
    ctx = open_context(path, username="admin")
    initialise_office(ctx, name=f"جهة {code}", governorate=governorate, office_code=code)
    if hq:
        sync.set_mode(ctx, "hq")
    return ctx


def introduce(hq: ServiceContext, office: ServiceContext, folder: Path) -> None:
    """Exchange identity files both ways, checking the fingerprints as a person would over the phone."""
    office_file, office_fp = sync.export_identity(office, folder / "ids")
    hq_file, hq_fp = sync.export_identity(hq, folder / "ids")
    sync.enrol(hq, office_file, expected_fingerprint=office_fp)
    sync.enrol(office, hq_file, expected_fingerprint=hq_fp)


def keys_of(ctx: ServiceContext) -> pkg.KeyPair:
    """The installation's active key pair, as read from its own database."""
    with ctx.uow() as uow:
        row = uow.repo.first(models.SyncKey, status="active")
        return pkg.KeyPair(pkg.unb64(row.sign_private), pkg.unb64(row.kx_private))


def office_id_of(ctx: ServiceContext) -> str:
    with ctx.uow() as uow:
        return uow.repo.office().id


def now_stamp() -> int:
    return int(time.time() * 1000) << 16


def forge_package(
    sender: ServiceContext,
    recipient: ServiceContext,
    folder: Path,
    records: Iterable[dict],
    *,
    sequence: int,
    extra: dict | None = None,
) -> Path:
    """A package signed with the sender's real key and sealed for the recipient, carrying whatever records the
    sender chose to put in it (what a hostile enrolled office can do with its own installation); `extra`: more of
    the manifest, as the sender likes it."""
    with sender.uow() as uow:
        office = uow.repo.office()
        code, sender_id = office.office_code, office.id
    manifest = {
        "kind": "changes",
        "sender": sender_id,
        "sender_code": code,
        "recipient": office_id_of(recipient),
        "epoch": 0,
        "sequence": sequence,
        "prev_digest": "",
        "change_range": [0, 1],
        "schema": head_revision(),
        "hlc": now_stamp(),
        "ack": {},
        **(extra or {}),
    }
    name = f"{code}-e0-{sequence:06d}.aidpkg"
    recipients = {"recipient": keys_of(recipient).kx_public}
    return pkg.write_package(folder, name, manifest, records, keys_of(sender), recipients).path
