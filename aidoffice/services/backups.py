"""Backups: on demand, daily and on exit, kept 7 daily, 4 weekly and 12 monthly; checked before and after; restore."""

from __future__ import annotations

import logging
import re
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from aidoffice import paths
from aidoffice.domain.access import Permission
from aidoffice.errors import StorageError, UserError
from aidoffice.formats import keyring
from aidoffice.services.context import ServiceContext, open_context
from aidoffice.store import backup as store_backup

log = logging.getLogger("aidoffice.backup")

FOLDER_SETTING = "backup.folder"
IDENTITY_SETTING = "sync.identity"
EPOCH_SETTING = "sync.epoch"
KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY = 7, 4, 12
_NAME = re.compile(r"^aidoffice-(\d{8}-\d{6})-(manual|daily|exit|before-restore)\.sqlite3$")


@dataclass(frozen=True)
class BackupRecord:
    path: Path
    taken_at: datetime
    kind: str
    size: int


def _record(path: Path) -> BackupRecord | None:
    found = _NAME.match(path.name)
    if not found:
        return None
    return BackupRecord(path, datetime.strptime(found.group(1), "%Y%m%d-%H%M%S"), found.group(2), path.stat().st_size)


def backup_folder(ctx: ServiceContext) -> Path:
    with ctx.uow() as uow:
        chosen = uow.repo.setting(FOLDER_SETTING)
    return Path(chosen) if chosen else paths.backups_dir()


def set_backup_folder(ctx: ServiceContext, folder: Path) -> None:
    ctx.require(Permission.SETTINGS)
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"المجلد غير موجود: {folder}", field="folder")
    with ctx.uow() as uow:
        uow.repo.set_setting(FOLDER_SETTING, str(folder))
        uow.commit()


def list_backups(folder: Path) -> list[BackupRecord]:
    """Our backups in the folder, newest first (other files are left alone)."""
    if not folder.is_dir():
        return []
    found = [r for r in (_record(p) for p in folder.iterdir() if p.is_file()) if r is not None]
    return sorted(found, key=lambda r: r.taken_at, reverse=True)


def make_backup(ctx: ServiceContext, folder: Path | None = None, *, kind: str = "manual") -> BackupRecord:
    """Check the database, copy it through the online backup API, check the copy, then thin out old copies."""
    folder = Path(folder) if folder else backup_folder(ctx)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"تعذر إنشاء مجلد النسخ الاحتياطية: {folder}") from exc
    for stale in folder.glob("aidoffice-*.sqlite3.partial"):  # left by a copy cut short (power cut, killed)
        stale.unlink(missing_ok=True)
    key = ctx.db.key
    state = store_backup.integrity(ctx.db.path, key)
    if state != "ok":
        raise StorageError("قاعدة البيانات تالفة: لم تؤخذ نسخة منها. استعد آخر نسخة سليمة.")
    now = datetime.now()
    target = folder / f"aidoffice-{now:%Y%m%d-%H%M%S}-{kind}.sqlite3"
    started = time.perf_counter()
    store_backup.online_copy(ctx.db.path, target, key)
    if key:  # an encrypted copy is useless without the wraps of its key
        keyring.write(target, keyring.read(ctx.db.path))
    log.info("backup written (%s) in %.1f s", kind, time.perf_counter() - started)
    with ctx.uow() as uow:
        uow.repo.audit("backup", kind, target.name[:36], {"bytes": target.stat().st_size}, office_id=ctx.office_id)
        uow.commit()
    rotate(folder, now)
    return _record(target)


def backup_if_due(ctx: ServiceContext, hours: float = 24) -> BackupRecord | None:
    """The daily backup, if the newest copy is older than a day."""
    newest = next(iter(list_backups(backup_folder(ctx))), None)
    if newest is not None and datetime.now() - newest.taken_at < timedelta(hours=hours):
        return None
    return make_backup(ctx, kind="daily")


def rotate(folder: Path, now: datetime | None = None) -> list[Path]:
    """Keep the newest copy of each of the last 7 days, 4 weeks and 12 months; remove the rest. Returns removed."""
    now = now or datetime.now()
    keep: set[Path] = set()
    seen_days, seen_weeks, seen_months = set(), set(), set()
    for record in list_backups(folder):  # newest first: the first of each period is the one kept
        day = record.taken_at.date()
        week = day.isocalendar()[:2]
        month = (day.year, day.month)
        age = (now.date() - day).days
        if age < KEEP_DAILY and day not in seen_days:
            seen_days.add(day)
            keep.add(record.path)
        if age < KEEP_WEEKLY * 7 and week not in seen_weeks:
            seen_weeks.add(week)
            keep.add(record.path)
        if age < KEEP_MONTHLY * 31 and month not in seen_months:
            seen_months.add(month)
            keep.add(record.path)
    removed = []
    for record in list_backups(folder):
        if record.path not in keep:
            record.path.unlink()
            keyring.path_for(record.path).unlink(missing_ok=True)
            removed.append(record.path)
    return removed


def restore_backup(
    db_path: Path, backup: Path, *, username: str = "system", key: bytes | None = None
) -> ServiceContext:
    """Put a backup in place of the database at `db_path` (no connection may be open on it), after checking the
    backup and keeping a copy of the current file. The restored database takes a new sync identity, so change
    numbers it hands out can never be mistaken for those of the database it replaces. Returns it opened.
    An encrypted backup needs its key (the office's key, from the keyring at login)."""
    backup, db_path = Path(backup), Path(db_path)
    if not backup.is_file():
        raise UserError(f"ملف النسخة غير موجود: {backup}")
    if store_backup.integrity(backup, key) != "ok":
        raise StorageError("ملف النسخة تالف أو ليس قاعدة بيانات AidOffice (أو مشفر بمفتاح آخر): لم يُستعد شيء.")
    if db_path.exists() and store_backup.integrity(db_path, key) == "ok":
        keep = backup.parent if backup.parent != db_path.parent else paths.backups_dir()
        keep.mkdir(parents=True, exist_ok=True)
        kept = keep / f"aidoffice-{datetime.now():%Y%m%d-%H%M%S}-before-restore.sqlite3"
        store_backup.online_copy(db_path, kept, key)
        if key and keyring.exists(db_path):
            keyring.write(kept, keyring.read(db_path))
    store_backup.put_back(backup, db_path, key)
    if key and keyring.exists(backup):
        keyring.write(db_path, keyring.read(backup))
    ctx = open_context(db_path, username=username, create=False, key=key)
    with ctx.uow() as uow:
        epoch = int(uow.repo.setting(EPOCH_SETTING) or 0) + 1
        uow.repo.set_setting(IDENTITY_SETTING, str(uuid.uuid4()))
        uow.repo.set_setting(EPOCH_SETTING, epoch)
        uow.repo.audit("restore", "database", backup.name[:36], {"epoch": epoch}, office_id=ctx.office_id)
        uow.commit()
    log.info("database restored from a backup; sync epoch %d", epoch)
    return ctx


def check_database(db_path: Path, key: bytes | None = None) -> str:
    """'ok' or what is wrong; the desktop and the command line ask before opening."""
    return store_backup.integrity(Path(db_path), key) if Path(db_path).exists() else "ok"
