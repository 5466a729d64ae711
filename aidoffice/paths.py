"""Where things live: bundled resources (checkout or PyInstaller bundle) and the user's data, backup and log folders."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from platformdirs import PlatformDirs

from aidoffice import APP_NAME

DB_FILE_NAME = "aidoffice.sqlite3"


def _dirs() -> PlatformDirs:
    return PlatformDirs(APP_NAME, appauthor=False, roaming=False)


def user_home() -> Path:
    """The folder holding all user data; AIDOFFICE_HOME relocates it (portable installs, tests)."""
    override = os.environ.get("AIDOFFICE_HOME")
    if override:
        return Path(override)
    return Path(_dirs().user_data_dir)


def data_dir() -> Path:
    return user_home() / "data" if os.environ.get("AIDOFFICE_HOME") else user_home()


def default_db_path() -> Path:
    return data_dir() / DB_FILE_NAME


def connection_file() -> Path:
    """The database this user's desktop opens at start (a file, or the office's server without its password)."""
    return user_home() / "connection.json"


def backups_dir() -> Path:
    return user_home() / "backups"


def logs_dir() -> Path:
    override = os.environ.get("AIDOFFICE_HOME")
    if override:
        return Path(override) / "logs"
    return Path(_dirs().user_log_dir)


def resources_dir() -> Path:
    """`resources/` beside the package in a checkout, or inside the bundle when frozen."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
