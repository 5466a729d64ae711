"""Logging to a rotating file in the user's log folder. Log lines name actions and counts, never personal data, and
a traceback is written without the exception's message."""

from __future__ import annotations

import logging
import logging.handlers
import traceback
from pathlib import Path

from aidoffice import paths

LOG_FILE_NAME = "aidoffice.log"


_CAUSE = "\n\nThe above exception was the direct cause of the following exception:"
_CONTEXT = "\n\nDuring handling of the above exception, another exception occurred:"


def safe_traceback(exc: BaseException) -> str:
    """An exception as a log may hold it: the type and the stack (file, line, function, source line) of it and of
    its causes, never its message. A message can carry a value (openpyxl puts the refused text in its error, a
    database error its parameters), and personal data must not reach the log; locals are never written."""
    blocks: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    link = ""
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        frames = traceback.format_list(traceback.extract_tb(current.__traceback__))
        kind = type(current)
        name = f"{kind.__module__}.{kind.__qualname__}"
        blocks.append(f"Traceback (most recent call last):\n{''.join(frames)}{name}{link}")
        if current.__cause__ is not None:
            current, link = current.__cause__, _CAUSE
        elif current.__context__ is not None and not current.__suppress_context__:
            current, link = current.__context__, _CONTEXT
        else:
            current = None
    return "\n\n".join(reversed(blocks))


class SafeFormatter(logging.Formatter):
    """Log lines as usual, but an exception is written by `safe_traceback`, never with its message."""

    def formatException(self, ei) -> str:  # noqa: N802 - logging's name
        return safe_traceback(ei[1]) if ei and ei[1] is not None else ""

    def format(self, record: logging.LogRecord) -> str:
        cached, record.exc_text = record.exc_text, None  # another handler may have cached the full text
        try:
            return super().format(record)
        finally:
            record.exc_text = cached


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Send the `aidoffice` loggers to a rotating file; returns its path (None if the folder is not writable)."""
    root = logging.getLogger("aidoffice")
    root.setLevel(level)
    for handler in root.handlers:
        if isinstance(handler, logging.handlers.RotatingFileHandler):
            return Path(handler.baseFilename)
    try:
        folder = paths.ensure_dir(paths.logs_dir())
        handler = logging.handlers.RotatingFileHandler(
            folder / LOG_FILE_NAME, maxBytes=2_000_000, backupCount=5, encoding="utf-8"
        )
    except OSError:
        return None
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    return Path(handler.baseFilename)
