"""Alembic, driven from code: current and head revisions, refusal of unknown (newer) files, and the upgrade."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from aidoffice.errors import StorageError
from aidoffice.store.engine import busy_timeout_ms, make_engine, raw_connect

log = logging.getLogger("aidoffice.store")

SCRIPT_LOCATION = str(Path(__file__).resolve().parent / "migrations")


def alembic_config(path: Path | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    if path is not None:
        cfg.set_main_option("sqlalchemy.url", f"sqlite:///{path}")
    return cfg


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = _script().get_current_head()
    assert head is not None, "the package ships at least one migration"
    return head


def current_revision(path: Path, key: bytes | None = None) -> str | None:
    """The file's Alembic revision; None for an empty SQLite file. Refuses an SQLite file that is not ours."""
    conn = raw_connect(path, key, read_only=True, timeout=busy_timeout_ms() / 1000)
    try:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables:
            return None
        if "alembic_version" not in tables:
            raise StorageError(f"الملف {path.name} قاعدة بيانات SQLite لكنها ليست من قواعد AidOffice. لم يُغيَّر شيء.")
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        return row[0] if row else None
    finally:
        conn.close()


def check_known(revision: str | None) -> None:
    if revision is None:
        return
    try:
        known = _script().get_revision(revision)
    except Exception:  # alembic raises several kinds for an unknown id
        known = None
    if known is None:
        raise StorageError(
            "قاعدة البيانات أنشأها إصدار أحدث من AidOffice. ثبّت الإصدار الأحدث من البرنامج لفتحها؛ "
            "لم يُغيَّر شيء في الملف."
        )


def upgrade(path: Path, revision: str = "head", *, key: bytes | None = None) -> None:
    """Upgrade in one transaction with foreign keys off (batch rebuilds would otherwise cascade-delete children),
    then refuse to commit if any foreign key is left dangling."""
    engine = make_engine(path, foreign_keys=False, key=key)
    try:
        with engine.begin() as conn:
            cfg = alembic_config(path)
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            if broken:
                raise StorageError("فشل ترقية قاعدة البيانات: توجد روابط غير صالحة بين الجداول. لم يُغيَّر شيء.")
        log.info("database upgraded to %s", revision)
    finally:
        engine.dispose()
