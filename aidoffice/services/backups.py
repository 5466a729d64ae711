"""Backups: on demand, daily and on exit, kept 7 daily, 4 weekly and 12 monthly; checked before and after; restore."""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

from aidoffice import paths
from aidoffice.domain.access import SYSTEM, Permission
from aidoffice.errors import PermissionDeniedError, StorageError, UserError
from aidoffice.formats import keyring
from aidoffice.formats.atomic import atomic_file, require_regular_file
from aidoffice.services import users
from aidoffice.services.context import ServiceContext, open_context, refuse_missing_keyring
from aidoffice.store import backup as store_backup
from aidoffice.store import server_backup
from aidoffice.store.dialect import is_server_url
from aidoffice.store.uow import UnitOfWork

log = logging.getLogger("aidoffice.backup")

FOLDER_SETTING = "backup.folder"
USED_SETTING = "backup.folders_used"  # every folder a copy was written to with `backup --to`: `encrypt` looks there too
IDENTITY_SETTING = "sync.identity"
EPOCH_SETTING = "sync.epoch"
TOOLS_SETTING = "backup.pg_tools"  # the folder of pg_dump and pg_restore, when they are not found by themselves
KEEP_DAILY, KEEP_WEEKLY, KEEP_MONTHLY = 7, 4, 12
FILE_SUFFIX, SERVER_SUFFIX = ".sqlite3", server_backup.SUFFIX  # a file's copies; a server database's pg_dump archives
BEFORE_RESTORE = "before-restore"  # a server's data dumped before a restore: kept until removed by hand
_NAME = re.compile(r"^aidoffice-(\d{8}-\d{6})-(manual|daily|exit|before-restore)(\.sqlite3|\.pgdump)$")


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
        chosen = uow.settings.setting(FOLDER_SETTING)
    return Path(chosen) if chosen else paths.backups_dir()


def set_backup_folder(ctx: ServiceContext, folder: Path) -> None:
    ctx.require(Permission.SETTINGS)
    folder = Path(folder)
    if not folder.is_dir():
        raise UserError(f"المجلد غير موجود: {folder}", field="folder")
    with ctx.uow() as uow:
        uow.settings.set_setting(FOLDER_SETTING, str(folder))
        uow.commit()


def set_tools_folder(ctx: ServiceContext, folder: Path | None) -> None:
    """The folder of pg_dump and pg_restore (a server database's backups), when they are not found by themselves;
    None forgets it."""
    ctx.require(Permission.SETTINGS)
    if folder is not None and not Path(folder).is_dir():
        raise UserError(f"المجلد غير موجود: {folder}", field="folder")
    with ctx.uow() as uow:
        uow.settings.set_setting(TOOLS_SETTING, str(Path(folder)) if folder is not None else None)
        uow.commit()


def _suffix(ctx: ServiceContext) -> str:
    return SERVER_SUFFIX if ctx.db.on_server else FILE_SUFFIX


def own_backups(ctx: ServiceContext) -> list[BackupRecord]:
    """The backup folder's copies of this kind of database (a file's, or a server's archives), newest first."""
    return list_backups(backup_folder(ctx), _suffix(ctx))


def list_backups(folder: Path, suffix: str | None = None) -> list[BackupRecord]:
    """Our backups in the folder, newest first (other files are left alone); only a file's copies (".sqlite3") or a
    server's archives (".pgdump") when `suffix` says which."""
    if not folder.is_dir():
        return []
    found = [r for r in (_record(p) for p in folder.iterdir() if p.is_file()) if r is not None]
    if suffix is not None:
        found = [r for r in found if r.path.suffix == suffix]
    return sorted(found, key=lambda r: r.taken_at, reverse=True)


def make_backup(ctx: ServiceContext, folder: Path | None = None, *, kind: str = "manual") -> BackupRecord:
    """Check the database, copy it through the online backup API, check the copy, then thin out old copies.

    A copy to a folder of one's choosing (not the office's backup folder) is the whole registry leaving to wherever
    the user likes: it needs the right to export, as a list does. The folder is remembered, so that encrypting the
    database later finds the plain copies left there.

    A database on a server is written by pg_dump in its custom format (a `.pgdump` archive), checked by pg_restore
    (its table of contents, and the office it holds is this one)."""
    chosen = backup_folder(ctx)
    if folder and Path(folder).resolve() != chosen.resolve():
        ctx.require(Permission.EXPORT)
    folder = Path(folder) if folder else chosen
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"تعذر إنشاء مجلد النسخ الاحتياطية: {folder}") from exc
    suffix = _suffix(ctx)
    for stale in folder.glob(f"aidoffice-*{suffix}.partial"):  # left by a copy cut short (power cut, killed)
        stale.unlink(missing_ok=True)
    now = datetime.now()
    target = folder / f"aidoffice-{now:%Y%m%d-%H%M%S}-{kind}{suffix}"
    started = time.perf_counter()
    if ctx.db.on_server:
        with ctx.uow() as uow:
            office = uow.settings.office()
        server_backup.dump(ctx.db, target, _server_tools(ctx), office.id if office else None)
    else:
        _copy_file(ctx, target)
    log.info("backup written (%s) in %.1f s", kind, time.perf_counter() - started)
    with ctx.uow() as uow:
        uow.audit_trail.audit(
            "backup", kind, target.name[:36], {"bytes": target.stat().st_size}, office_id=ctx.office_id
        )
        if folder != chosen:
            used = _folders_used(uow)
            if str(folder.resolve()) not in used:
                uow.settings.set_setting(USED_SETTING, [*used, str(folder.resolve())])
        uow.commit()
    rotate(folder, now, suffix)
    return _record(target)


def _copy_file(ctx: ServiceContext, target: Path) -> None:
    """A database file's copy through SQLite's online backup API, the file checked first; its keyring beside it."""
    key = ctx.db.key
    state = store_backup.integrity(ctx.db.path, key)
    if state != "ok":
        raise StorageError("قاعدة البيانات تالفة: لم تؤخذ نسخة منها. استعد آخر نسخة سليمة.")
    store_backup.online_copy(ctx.db.path, target, key)
    if key:  # an encrypted copy is useless without the wraps of its key
        keyring.write(target, keyring.read(ctx.db.path))


def _server_tools(ctx: ServiceContext) -> server_backup.Tools:
    """pg_dump and pg_restore for the server ctx is connected to (a folder named in the settings first)."""
    with ctx.uow() as uow:
        folder = uow.settings.setting(TOOLS_SETTING)
    return server_backup.find_tools(server_backup.server_major(ctx.db), Path(folder) if folder else None)


def _folders_used(uow: UnitOfWork) -> list[str]:
    value = uow.settings.setting(USED_SETTING)
    return [str(v) for v in value if isinstance(v, str)] if isinstance(value, list) else []


def backup_if_due(ctx: ServiceContext, hours: float = 24) -> BackupRecord | None:
    """The daily backup, if the newest copy (of this kind of database, a restore's safety copy aside) is older than a
    day."""
    found = [r for r in list_backups(backup_folder(ctx), _suffix(ctx)) if r.kind != BEFORE_RESTORE]
    newest = next(iter(found), None)
    if newest is not None and datetime.now() - newest.taken_at < timedelta(hours=hours):
        return None
    return make_backup(ctx, kind="daily")


def rotate(folder: Path, now: datetime | None = None, suffix: str | None = None) -> list[Path]:
    """Keep the newest copy of each of the last 7 days, 4 weeks and 12 months; remove the rest. Returns removed.
    With `suffix`, only copies of that kind (a file's, a server's) are counted and removed; a server's data dumped
    before a restore is never removed here."""
    now = now or datetime.now()
    keep: set[Path] = set()
    seen_days, seen_weeks, seen_months = set(), set(), set()
    records = [
        r for r in list_backups(folder, suffix) if not (r.kind == BEFORE_RESTORE and r.path.suffix == SERVER_SUFFIX)
    ]
    for record in records:  # newest first: the first of each period is the one kept
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
    for record in records:
        if record.path not in keep:
            record.path.unlink()
            keyring.path_for(record.path).unlink(missing_ok=True)
            removed.append(record.path)
    return removed


@dataclass(frozen=True)
class Restored:
    """The restored database, opened (its own users must log in), and where the file it replaced was kept."""

    ctx: ServiceContext
    kept: Path | None
    warning: str = ""  # what the administrator must still do (said after the restore, which stands)


def restore_backup(
    ctx: ServiceContext, backup: Path, *, password: str | None = None, allow_unencrypted: bool = False
) -> Restored:
    """Put a backup of THIS office in place of the database `ctx` has open, for an administrator logged in to it.

    Refused, with nothing changed: another office's database (a clerk's own file where they are the administrator),
    a damaged copy, and a plain copy over an encrypted database unless `allow_unencrypted` (the encryption would
    silently go). The current file is always kept beside it (`<name>-before-restore-<time>`, its keyring too).
    `ctx` is closed; the restored database takes a new sync identity, so change numbers it hands out can never be
    mistaken for those of the database it replaces. `password` (the acting user's) opens an encrypted backup whose
    key is not the current one, through the keyring that travels with it.

    On a server the backup is a pg_dump archive of this office; the current data are dumped into the backup folder
    first (`aidoffice-<time>-before-restore.pgdump`), then the archive is put back in one transaction (a failure
    leaves the database as it was)."""
    if users.has_users(ctx) and ctx.role == SYSTEM:
        raise PermissionDeniedError("الاستعادة لمدير النظام بعد تسجيل دخوله إلى قاعدة البيانات الحالية.")
    ctx.require(Permission.SETTINGS)
    backup = require_regular_file(Path(backup), "ملف النسخة الاحتياطية")
    if ctx.db.on_server:
        return _restore_on_server(ctx, backup)
    key = _backup_key(backup, ctx.db.key, ctx.username, password)
    _check_backup(backup, key)
    with ctx.uow() as uow:
        office = uow.settings.office()
    if office is not None and store_backup.office_identity(backup, key) != office.id:  # None: a file never set up
        raise UserError(
            "النسخة ليست من قاعدة بيانات هذا المكتب (هويتها مختلفة): لا تُستعاد فوقها. لم يتغير شيء.", field="backup"
        )
    _refuse_lowering(ctx.db.key, key, allow_unencrypted)
    db_path, username = ctx.db.path, ctx.username
    ctx.close()
    kept = _keep_aside(db_path, "before-restore", lambda target: store_backup.online_copy(db_path, target, ctx.db.key))
    return _put_in_place(db_path, backup, key, kept, username)


def _restore_on_server(ctx: ServiceContext, backup: Path) -> Restored:
    """restore_backup for a database on a server: a pg_dump archive of this office and of this schema revision."""
    from aidoffice.store import migrate

    if not server_backup.is_dump(backup):
        raise UserError(
            "الملف المختار ليس نسخة احتياطية لقاعدة بيانات على الخادم (ملف pg_dump بامتداد .pgdump): لم يُستعد شيء.",
            field="backup",
        )
    tools = _server_tools(ctx)
    identity = server_backup.office_identity(backup, tools) if server_backup.readable(backup, tools) else None
    if identity is None:  # no table of contents, or no office in it: cut short, damaged, or not ours
        raise StorageError("ملف النسخة تالف أو ليس نسخة AidOffice من pg_dump: لم يُستعد شيء.")
    with ctx.uow() as uow:
        office = uow.settings.office()
    if office is not None and identity != office.id:
        raise UserError(
            "النسخة ليست من قاعدة بيانات هذا المكتب (هويتها مختلفة): لا تُستعاد فوقها. لم يتغير شيء.", field="backup"
        )
    archive_revision = server_backup.revision(backup, tools)
    older = archive_revision != migrate.head_revision()
    if older:
        try:
            migrate.check_known(archive_revision)
        except StorageError:
            raise UserError(
                "النسخة من إصدار أحدث من هذا البرنامج (أو بنيتها غير معروفة له): لا تُستعاد به. حدّث البرنامج ثم أعد "
                "الاستعادة. لم يتغير شيء.",
                field="backup",
            ) from None
    if not server_backup.owns_schema(ctx.db):
        raise PermissionDeniedError(
            "الاستعادة على الخادم تعيد إنشاء جداول قاعدة البيانات، فتحتاج الاتصال بحساب مالكها على الخادم (الذي أنشأها "
            "بالأمر init)، لا بحساب أجهزة المكتب. اتصل بحساب المالك ثم أعد الاستعادة. لم يتغير شيء."
        )
    folder = backup_folder(ctx)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"تعذر إنشاء مجلد النسخ الاحتياطية: {folder}") from exc
    kept = folder / f"aidoffice-{datetime.now():%Y%m%d-%H%M%S}-{BEFORE_RESTORE}{SERVER_SUFFIX}"
    url, username = ctx.db.engine.url, ctx.username
    with tempfile.TemporaryDirectory(prefix="aidoffice-restore-") as scratch:
        archive = backup
        if older:  # brought up to this program's schema in a scratch database first, then dumped again
            archive = Path(scratch) / f"upgraded{SERVER_SUFFIX}"
            _upgrade_archive(ctx, backup, archive, tools, office.id if office else None)
        # Other PCs' saves wait from here to the end of the restore: one made after the dump aside would be lost.
        with server_backup.writers_kept_out(ctx.db):
            server_backup.dump(ctx.db, kept, tools, office.id if office else None)
            log.info("current database kept aside before restoring (%s)", BEFORE_RESTORE)
            ctx.close()  # this program's own connections are not in the restore's way
            without_rights = server_backup.restore(url, archive, tools)
    restored = open_context(url.render_as_string(hide_password=False), username=username, create=False)
    done = _new_identity(restored, backup, kept)
    if without_rights:
        names = "، ".join(without_rights)
        done = replace(
            done,
            warning=f"استُعيدت البيانات، لكن تعذّر إرجاع صلاحيات حساب أجهزة المكتب ({names}) على الجداول المستعادة، فلن "
            "تعمل الأجهزة الأخرى حتى يُشغَّل بحساب المالك: aidoffice-cli server roles --role "
            f"{without_rights[0]} --db <عنوان القاعدة>",
        )
    return done


def _upgrade_archive(ctx: ServiceContext, backup: Path, target: Path, tools, office_id: str | None) -> None:
    """An archive of an older schema: restored into a scratch database on the same server, migrated there as any
    database is when opened, dumped to `target`; the scratch database removed. The current one is not touched."""
    scratch = server_backup.scratch_database(ctx.db)
    try:
        server_backup.restore(scratch, backup, tools, clean=False)
        upgraded = open_context(scratch, create=False)
        try:
            server_backup.dump(upgraded.db, target, tools, office_id)
        finally:
            upgraded.close()
    finally:
        server_backup.drop_database(ctx.db, scratch)
    log.info("an archive of schema revision older than head brought up to date before restoring")


def lowers_encryption(ctx: ServiceContext, backup: Path) -> bool:
    """Restoring this backup would leave an encrypted database plain (the desktop asks first)."""
    return bool(ctx.db.key) and Path(backup).is_file() and store_backup.is_plain(Path(backup))


def recover_damaged(
    db_path: Path,
    backup: Path,
    *,
    key: bytes | None = None,
    current_key: bytes | None = None,
    username: str = "system",
    allow_unencrypted: bool = False,
) -> Restored:
    """The database failed its integrity check (or is gone): put back a backup, the damaged file kept beside it as
    it was. Refused over a database that is sound (that is `restore_backup`, for its administrator), over another
    office's file when its identity can still be read, and from a plain copy over an encrypted file unless allowed.
    `key` opens the backup, `current_key` the damaged file."""
    db_path, backup = Path(db_path), require_regular_file(Path(backup), "ملف النسخة الاحتياطية")
    if current_key is None:
        refuse_missing_keyring(db_path)  # not damaged: encrypted, its keyring lost
    if db_path.exists() and store_backup.integrity(db_path, current_key) == "ok":
        raise UserError("قاعدة البيانات الحالية سليمة: يستعيد نسخة فوقها مدير النظام بعد تسجيل دخوله إليها.")
    _check_backup(backup, key)
    office = store_backup.office_identity(db_path, current_key) if db_path.exists() else None
    if office is not None and store_backup.office_identity(backup, key) != office:
        raise UserError("النسخة ليست من قاعدة بيانات هذا المكتب (هويتها مختلفة): لم يتغير شيء.", field="backup")
    _refuse_lowering(current_key, key, allow_unencrypted)
    kept = _keep_aside(db_path, "damaged", _copy_as_is(db_path)) if db_path.exists() else None
    return _put_in_place(db_path, backup, key, kept, username)


def restore_as(
    db_path: Path,
    backup: Path,
    username: str,
    ask_password: Callable[[], str],
    *,
    allow_unencrypted: bool = False,
) -> Restored:
    """The command line's restore: the user logs in to the CURRENT database (an encrypted one unlocked with their
    password, counted like any login) and must be its administrator. Only when that file is damaged or gone does
    the user prove instead to be an administrator of the backup (nothing of the current office can be read).
    A database on a server: its administrator logs in to it, then restore_backup."""
    from aidoffice.services import encryption

    if is_server_url(db_path):
        ctx = open_context(db_path, username=username, create=False)
        try:
            if users.has_users(ctx):
                users.login(ctx, username, ask_password())
            return restore_backup(ctx, backup, allow_unencrypted=allow_unencrypted)
        except BaseException:
            ctx.close()
            raise
    db_path, backup = Path(db_path), require_regular_file(Path(backup), "ملف النسخة الاحتياطية")
    password: str | None = None
    current_key = None
    if encryption.is_encrypted(db_path):
        if not keyring.has_user(db_path, username):  # the keyring names its users in the clear: no secret told
            raise UserError(
                f"لا مفتاح لاسم الدخول هذا في ملف مفاتيح قاعدة البيانات الحالية ({keyring.path_for(db_path).name}): "
                "لا تُفتح باسمه، فلا يُعرف أسليمة هي أم تالفة، ولم يُستعد شيء. يستعيد النسخة مدير نظام له مفتاح في هذا "
                "الملف؛ وإن ضاعت كلمات مرورهم كلها فبمفتاح الضمان من الديوان (الأمر recover).",
                field="username",
            )
        password = ask_password()
        unlocked = encryption.unlock(db_path, username, password)
        current_key = unlocked[0]
    if db_path.exists() and store_backup.integrity(db_path, current_key) == "ok":
        if current_key is not None:
            ctx = encryption.open_encrypted(db_path, username, password, unlocked=unlocked)
        else:
            ctx = open_context(db_path, username=username, create=False)
            try:
                if users.has_users(ctx):
                    password = ask_password()
                    users.login(ctx, username, password)
            except UserError:
                ctx.close()
                raise
        try:
            return restore_backup(ctx, backup, password=password, allow_unencrypted=allow_unencrypted)
        except BaseException:
            ctx.close()
            raise
    if password is None and not store_backup.is_plain(backup):
        password = ask_password()
    key = _backup_key(backup, current_key, username, password)
    _check_backup(backup, key)
    _require_admin_of(backup, key, username, ask_password)
    return recover_damaged(
        db_path, backup, key=key, current_key=current_key, username=username, allow_unencrypted=allow_unencrypted
    )


def _backup_key(backup: Path, current_key: bytes | None, username: str, password: str | None) -> bytes | None:
    """None for a plain backup; the current key when it opens the backup; else the key its own keyring gives the
    acting user's password."""
    if store_backup.is_plain(backup):
        return None
    if current_key and store_backup.integrity(backup, current_key) == "ok":
        return current_key
    if password is not None and keyring.exists(backup):
        try:
            return keyring.unlock(backup, username, password)
        except UserError:
            pass
    raise UserError(
        "النسخة مشفرة بمفتاح غير مفتاح قاعدة البيانات الحالية ولا تفتحها كلمة مرورك (أو ملف مفاتيحها "
        f"{keyring.path_for(backup).name} غير موجود بجانبها): لم يُستعد شيء.",
        field="backup",
    )


def _check_backup(backup: Path, key: bytes | None) -> None:
    if store_backup.integrity(backup, key) != "ok":
        raise StorageError("ملف النسخة تالف أو ليس قاعدة بيانات AidOffice (أو مشفر بمفتاح آخر): لم يُستعد شيء.")


def _refuse_lowering(current_key: bytes | None, backup_key: bytes | None, allowed: bool) -> None:
    if current_key and not backup_key and not allowed:
        raise UserError(
            "قاعدة البيانات الحالية مشفرة والنسخة غير مشفرة: استعادتها تترك بيانات المكتب دون تشفير. اختر نسخة "
            "مشفرة، أو أكّد الاستعادة صراحةً (في سطر الأوامر: --allow-unencrypted) ثم شفّر القاعدة من جديد. "
            "لم يتغير شيء.",
            field="backup",
        )


def _require_admin_of(backup: Path, key: bytes | None, username: str, ask_password: Callable[[], str]) -> None:
    """An administrator of the backup's own data (when the current file cannot say who its administrators are)."""
    with tempfile.TemporaryDirectory(prefix="aidoffice-restore-") as folder:
        probe_path = Path(folder) / "probe.sqlite3"
        shutil.copyfile(backup, probe_path)  # the backup itself stays untouched (no migration on it)
        probe = open_context(probe_path, username=username, create=False, key=key)
        try:
            if users.has_users(probe):
                users.login(probe, username, ask_password())
            probe.require(Permission.SETTINGS)
        finally:
            probe.close()


def _keep_aside(db_path: Path, why: str, copy: Callable[[Path], None]) -> Path:
    """A copy of the current file beside it, named by time only (never by office or person), with its keyring."""
    stamp = f"{datetime.now():%Y%m%d-%H%M%S}"
    suffix = db_path.suffix or ".sqlite3"
    kept = db_path.with_name(f"{db_path.stem}-{why}-{stamp}{suffix}")
    n = 1
    while kept.exists() or keyring.exists(kept):
        n += 1
        kept = db_path.with_name(f"{db_path.stem}-{why}-{stamp}-{n}{suffix}")
    copy(kept)
    if keyring.exists(db_path):
        keyring.write(kept, keyring.read(db_path))
    log.info("current database kept aside before restoring (%s)", why)
    return kept


def _copy_as_is(db_path: Path) -> Callable[[Path], None]:
    """A damaged file cannot go through SQLite's backup API: its bytes, and its journal, copied as they are."""

    def copy(target: Path) -> None:
        try:
            with atomic_file(target) as out, db_path.open("rb") as src:
                shutil.copyfileobj(src, out)
            wal = Path(str(db_path) + "-wal")
            if wal.is_file():
                shutil.copyfile(wal, Path(str(target) + "-wal"))
        except OSError as exc:
            raise StorageError(f"تعذر حفظ نسخة من الملف الحالي بجانبه ({target.name}): لم يُستعد شيء.") from exc

    return copy


def _put_in_place(db_path: Path, backup: Path, key: bytes | None, kept: Path | None, username: str) -> Restored:
    current_ring = keyring.read(db_path) if keyring.exists(db_path) else None
    store_backup.put_back(backup, db_path, key)
    if key is None:
        keyring.path_for(db_path).unlink(missing_ok=True)  # kept beside the old file; the new one is plain
    else:
        ring = keyring.read(backup) if keyring.exists(backup) else dict(current_ring or {})
        if current_ring and current_ring.get("logins"):  # a restore does not lift a lock nor forget failures
            ring["logins"] = current_ring["logins"]
        keyring.write(db_path, ring)
    return _new_identity(open_context(db_path, username=username, create=False, key=key), backup, kept)


def _new_identity(ctx: ServiceContext, backup: Path, kept: Path | None) -> Restored:
    """The restored database takes a new sync identity and epoch (its change numbers are never mistaken for those of
    the database it replaced), the restore is audited, and its own users log in again."""
    with ctx.uow() as uow:
        epoch = int(uow.settings.setting(EPOCH_SETTING) or 0) + 1
        uow.settings.set_setting(IDENTITY_SETTING, str(uuid.uuid4()))
        uow.settings.set_setting(EPOCH_SETTING, epoch)
        detail = {"epoch": epoch, "kept": kept.name if kept else None}
        uow.audit_trail.audit("restore", "database", backup.name[:36], detail, office_id=ctx.office_id)
        uow.commit()
    ctx.role = "nobody" if users.has_users(ctx) else SYSTEM  # the restored file's own users log in again
    log.info("database restored from a backup; sync epoch %d", epoch)
    return Restored(ctx, kept)


# --- copies taken before the database was encrypted ----------------------------------------------------------


def plain_backups(ctx: ServiceContext) -> list[Path]:
    """Copies of this database that are still plain SQLite (taken before encryption), readable without any password:
    the backup folders' copies (the one in the settings, the default one, and every folder used with `backup --to`),
    the copies taken before a migration, and those kept beside the file by a restore."""
    db_path = ctx.db.path
    with ctx.uow() as uow:
        used = {Path(p) for p in _folders_used(uow)}
    folders = {backup_folder(ctx), paths.backups_dir(), *used}
    found: set[Path] = {r.path for folder in folders for r in list_backups(folder)}
    if paths.backups_dir().is_dir():
        found |= set(paths.backups_dir().glob("pre-migration-*.sqlite3"))
    for why in ("before-restore", "damaged"):
        found |= set(db_path.parent.glob(f"{db_path.stem}-{why}-*"))
    return sorted(p for p in found if p.is_file() and not p.name.endswith(keyring.SUFFIX) and store_backup.is_plain(p))


def encrypt_backups(ctx: ServiceContext, backups: list[Path]) -> int:
    """Rewrite each plain copy encrypted under the database's key (its keyring beside it), checked before it
    replaces the plain one. Returns how many."""
    ctx.require(Permission.SETTINGS)
    if not ctx.db.key:
        raise UserError("قاعدة البيانات غير مشفرة: شفّرها أولاً ثم شفّر نسخها.")
    done = 0
    for path in backups:
        if not store_backup.is_plain(path):
            continue
        partial = path.with_name(path.name + ".encrypting")
        partial.unlink(missing_ok=True)
        try:
            store_backup.export_encrypted(path, partial, ctx.db.key)
            if store_backup.integrity(partial, ctx.db.key) != "ok":
                raise StorageError(f"فشل التحقق من النسخة المشفرة من {path.name}: بقيت كما كانت.")
            keyring.write(path, keyring.read(ctx.db.path))
            for journal in ("-wal", "-shm"):
                Path(str(path) + journal).unlink(missing_ok=True)
            os.replace(partial, path)
        finally:
            partial.unlink(missing_ok=True)
        done += 1
    log.info("%d plain backups encrypted", done)
    return done


def delete_backups(ctx: ServiceContext, backups: list[Path]) -> int:
    """Remove plain copies (the administrator chose to); encrypted ones are never touched here."""
    ctx.require(Permission.SETTINGS)
    done = 0
    for path in backups:
        if path.is_file() and store_backup.is_plain(path):
            path.unlink()
            for journal in ("-wal", "-shm"):
                Path(str(path) + journal).unlink(missing_ok=True)
            keyring.path_for(path).unlink(missing_ok=True)
            done += 1
    log.info("%d plain backups deleted", done)
    return done


def check_database(db_path: Path, key: bytes | None = None) -> str:
    """'ok' or what is wrong; the desktop and the command line ask before opening. An encrypted file whose keyring
    is missing is refused as such (it is not damaged, and no backup must be put in its place)."""
    if key is None:
        refuse_missing_keyring(Path(db_path))
    return store_backup.integrity(Path(db_path), key) if Path(db_path).exists() else "ok"
