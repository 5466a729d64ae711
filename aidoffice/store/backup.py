"""Copies of the database file through SQLite's online backup API, integrity checks, and putting a copy back."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from aidoffice.errors import StorageError

STEP_PAGES = 4096  # copied per step, so other connections are not held up for the whole copy


def integrity(path: Path) -> str:
    """'ok', or SQLite's first complaint ("not a database", a malformed page…)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            result = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return result


def _fsync(path: Path) -> None:
    with path.open("rb+") as fh:
        os.fsync(fh.fileno())


def online_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live database, written to `target.partial`, flushed to disk, checked, renamed."""
    partial = target.with_name(target.name + ".partial")
    try:
        src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        try:
            dst = sqlite3.connect(partial)
            try:
                src.backup(dst, pages=STEP_PAGES)
                dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            finally:
                dst.close()
        finally:
            src.close()
        _fsync(partial)
        if integrity(partial) != "ok":
            raise StorageError("النسخة الاحتياطية الناتجة تالفة: لم تُحفظ. تحقق من القرص وأعد المحاولة.")
        os.replace(partial, target)
    except OSError as exc:
        raise StorageError(f"تعذر كتابة النسخة الاحتياطية في {target.parent}: تحقق من المساحة والصلاحيات.") from exc
    except sqlite3.Error as exc:
        raise StorageError(f"تعذرت قراءة قاعدة البيانات لنسخها: {exc.__class__.__name__}.") from exc
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()


def put_back(backup: Path, target: Path) -> None:
    """Replace the database at `target` by a copy of `backup`. No connection to `target` may be open: the old
    -wal and -shm files are removed first, so no stale journal is ever replayed onto the restored file."""
    partial = target.with_name(target.name + ".restoring")
    try:
        online_copy(backup, partial)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                Path(str(target) + suffix).unlink()
        os.replace(partial, target)
        _fsync(target)
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
