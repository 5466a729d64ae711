"""Builders for sync tests: a headquarters and offices that know each other's identities."""

from __future__ import annotations

from pathlib import Path

from aidoffice.services import sync
from aidoffice.services.context import ServiceContext, open_context
from aidoffice.services.office import initialise_office


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
