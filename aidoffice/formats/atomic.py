"""Files written whole or not at all: a partial file beside the target, flushed to disk, then renamed over it."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def atomic_file(target: Path, mode: str = "wb", **open_args) -> Iterator[IO]:
    """Yield a file object for `<target>.partial`; on success it is flushed, fsynced and renamed to `target` (a power
    cut leaves the old file or the new one, never half of one); on any failure the partial file is removed and the
    error goes on (the caller words it for the user)."""
    target = Path(target)
    partial = target.with_name(target.name + ".partial")
    try:
        with partial.open(mode, **open_args) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(OSError):  # the folder itself may be gone (a stick pulled out)
            partial.unlink(missing_ok=True)
        raise


def require_regular_file(path: Path, what: str) -> Path:
    """Return `path` if it names an existing regular file; else raise UserError in Arabic naming `what` (a kind of
    file, never its content). A named pipe, a device or a folder would hang or mislead a reader, so they are refused
    before anything opens them (`stat` does not block on a FIFO, `open` does)."""
    import stat

    from aidoffice.errors import UserError

    path = Path(path)
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UserError(f"{what} غير موجود: {path.name}") from None
    except OSError:
        raise UserError(f"تعذّرت قراءة {what}: {path.name}") from None
    if stat.S_ISDIR(mode):
        raise UserError(f"{path.name} مجلد وليس {what}. اختر الملف نفسه.") from None
    if not stat.S_ISREG(mode):
        raise UserError(
            f"{path.name} ليس ملفاً عادياً (أنبوب أو جهاز)، فلا يُقرأ {what} منه. انسخه إلى ملف ثم أعد المحاولة."
        )
    return path
