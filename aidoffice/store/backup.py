"""Copies of the database file through SQLite's online backup API, integrity checks, and putting a copy back."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from aidoffice.errors import StorageError
from aidoffice.store.engine import SQLITE_MAGIC, is_driver_error, raw_connect, raw_key, sqlcipher_driver

STEP_PAGES = 4096  # copied per step, so other connections are not held up for the whole copy


def integrity(path: Path, key: bytes | None = None) -> str:
    """'ok', or SQLite's first complaint ("not a database", a malformed page…)."""
    try:
        conn = raw_connect(path, key, read_only=True)
        try:
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
    except Exception as exc:
        if not is_driver_error(exc):
            raise
        return str(exc)
    return result


def is_plain(path: Path) -> bool:
    """The file starts as plain SQLite (an encrypted file's first bytes are random)."""
    try:
        with Path(path).open("rb") as fh:
            return fh.read(len(SQLITE_MAGIC)) == SQLITE_MAGIC
    except OSError:
        return False


def office_identity(path: Path, key: bytes | None = None) -> str | None:
    """The id of the office a database (or a backup) belongs to; None when it cannot be read."""
    try:
        conn = raw_connect(path, key, read_only=True)
        try:
            row = conn.execute("SELECT id FROM office_profile ORDER BY rowid LIMIT 1").fetchone()
        finally:
            conn.close()
    except Exception as exc:
        if not is_driver_error(exc):
            raise
        return None
    return row[0] if row else None


def _fsync(path: Path) -> None:
    with path.open("rb+") as fh:
        os.fsync(fh.fileno())


def online_copy(source: Path, target: Path, key: bytes | None = None) -> None:
    """A consistent copy of a live database, written to `target.partial`, flushed to disk, checked, renamed."""
    partial = target.with_name(target.name + ".partial")
    try:
        src = raw_connect(source, key, read_only=True)
        try:
            dst = raw_connect(partial, key)
            try:
                src.backup(dst, pages=STEP_PAGES)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            finally:
                dst.close()
        finally:
            src.close()
        _fsync(partial)
        if integrity(partial, key) != "ok":
            raise StorageError("النسخة الاحتياطية الناتجة تالفة: لم تُحفظ. تحقق من القرص وأعد المحاولة.")
        os.replace(partial, target)
    except OSError as exc:
        raise StorageError(f"تعذر كتابة النسخة الاحتياطية في {target.parent}: تحقق من المساحة والصلاحيات.") from exc
    except Exception as exc:
        if not is_driver_error(exc):
            raise
        raise StorageError(f"تعذرت قراءة قاعدة البيانات لنسخها: {exc.__class__.__name__}.") from exc
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()


def put_back(backup: Path, target: Path, key: bytes | None = None) -> None:
    """Replace the database at `target` by a copy of `backup`. No connection to `target` may be open: the old
    -wal and -shm files are removed first, so no stale journal is ever replayed onto the restored file."""
    partial = target.with_name(target.name + ".restoring")
    try:
        online_copy(backup, partial, key)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(target) + suffix).unlink()
        os.replace(partial, target)
        _fsync(target)
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()


def export_encrypted(plain: Path, target: Path, key: bytes) -> None:
    """Write an encrypted copy of a plain database (SQLCipher's sqlcipher_export), schema version included.
    The plain file must have no writer; its journal is checkpointed first so the copy holds everything."""
    conn = raw_connect(plain, None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()
    conn = sqlcipher_driver().connect(str(plain))  # SQLCipher's driver reads a plain file when given no key
    try:
        conn.execute(f'ATTACH DATABASE ? AS encrypted KEY "{raw_key(key)}"', (str(target),))
        conn.execute("SELECT sqlcipher_export('encrypted')")
        conn.execute(f"PRAGMA encrypted.user_version = {int(version)}")
        conn.execute("DETACH DATABASE encrypted")
    finally:
        conn.close()
    _fsync(target)
