"""Logging to a rotating file in the user's log folder. Log lines name actions and counts, never personal data."""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from aidoffice import paths

LOG_FILE_NAME = "aidoffice.log"


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
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    return Path(handler.baseFilename)
