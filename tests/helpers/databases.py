"""Builders of real SQLite databases for tests: an initialised office, and a small demo office."""

from __future__ import annotations

import shutil
from pathlib import Path

from aidoffice.services.context import ServiceContext, open_context
from aidoffice.services.demo import generate_demo
from aidoffice.services.office import initialise_office


def new_office(path: Path, *, username: str = "tester", country: str = "YE") -> ServiceContext:
    ctx = open_context(path, username=username)
    initialise_office(ctx, name="مكتب الاختبار", governorate="حضرموت", office_code="TST-01", country=country)
    return ctx


def demo_copy(template: Path, target: Path, *, username: str = "tester") -> ServiceContext:
    """A private copy of a prepared demo database (fast: generated once per test session)."""
    shutil.copyfile(template, target)
    return open_context(target, username=username)


def build_demo(path: Path, persons: int = 2500, seed: int = 7) -> Path:
    ctx = open_context(path, username="demo")
    try:
        generate_demo(ctx, persons, seed=seed)
    finally:
        ctx.close()
    return path


def count_persons(ctx: ServiceContext) -> int:
    """Persons in the file, read with a connection of its own (what was really written, merged records included)."""
    import sqlite3

    conn = sqlite3.connect(ctx.db.path)
    try:
        return conn.execute("SELECT count(*) FROM persons").fetchone()[0]
    finally:
        conn.close()
