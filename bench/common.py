"""What every benchmark prints first: the machine it ran on."""

from __future__ import annotations

import os
import platform
import resource
import sqlite3
import sys


def machine() -> str:
    mem = ""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            mem = f", {int(fh.readline().split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return (
        f"{platform.platform()}, {os.cpu_count()} cores{mem}, Python {sys.version.split()[0]}, "
        f"SQLite {sqlite3.sqlite_version}"
    )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
