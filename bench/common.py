"""What every benchmark prints first: the machine it ran on."""

from __future__ import annotations

import contextlib
import os
import platform
import resource
import sqlite3
import sys
import uuid
from collections.abc import Iterator


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


def children_peak_rss_mb() -> float:
    """The largest peak resident memory of this process's ended children (forked scoring workers): their pages
    shared with the parent count in both."""
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


@contextlib.contextmanager
def server_database(server: str) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server `server` (a URL whose account may create databases), dropped
    afterwards: its SQLAlchemy URL."""
    import psycopg
    from sqlalchemy import make_url

    base = make_url(server).set(drivername="postgresql+psycopg")
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"aidoffice_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE \"{name}\" ENCODING 'UTF8' TEMPLATE template0")
    try:
        yield base.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
