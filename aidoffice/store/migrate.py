"""Alembic, driven from code: current and head revisions, refusal of unknown (newer) files, and the upgrade."""

from __future__ import annotations

import logging
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from aidoffice.errors import StorageError
from aidoffice.store.dialect import is_server_url
from aidoffice.store.engine import busy_timeout_ms, make_engine, raw_connect

log = logging.getLogger("aidoffice.store")

SCRIPT_LOCATION = str(Path(__file__).resolve().parent / "migrations")


def alembic_config(path: Path | str | None = None) -> Config:
    """Alembic's configuration for a database file, or for a server's URL."""
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    if path is not None:
        url = str(path) if is_server_url(path) else f"sqlite:///{path}"
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # configparser's interpolation
    return cfg


@cache
def _script() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def head_revision() -> str:
    head = _script().get_current_head()
    assert head is not None, "the package ships at least one migration"
    return head


def current_revision(path: Path | str, key: bytes | None = None, *, engine: Engine | None = None) -> str | None:
    """The file's Alembic revision; None for an empty SQLite file. Refuses an SQLite file that is not ours. For a
    server's URL: the database's revision, None when it has no table yet; one with tables of its own is refused."""
    if is_server_url(path):
        return _server_revision(engine or make_engine(path))
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


def _server_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        if not tables:
            return None
        if "alembic_version" not in tables:
            raise StorageError(
                "قاعدة البيانات على الخادم فيها جداول ليست من AidOffice (قاعدة برنامج آخر): لم يُغيَّر فيها شيء. "
                "اطلب من مسؤول الخادم قاعدة بيانات فارغة خاصة بالبرنامج."
            )
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


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


# Two programs upgrading one server database at once wait for each other (the second then finds it at head).
_UPGRADE_LOCK = 0x41_69_64_4F_66_66  # "AidOff"


def upgrade(
    path: Path | str, revision: str = "head", *, key: bytes | None = None, engine: Engine | None = None
) -> None:
    """Upgrade in one transaction with foreign keys off (batch rebuilds would otherwise cascade-delete children),
    then refuse to commit if any foreign key is left dangling. On a server: in one transaction too (PostgreSQL's DDL
    is transactional, so a failure leaves no half-made schema), under an advisory lock."""
    if is_server_url(path):
        _upgrade_server(engine or make_engine(path), revision, own=engine is None)
        return
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


def _upgrade_server(engine: Engine, revision: str, *, own: bool) -> None:
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _UPGRADE_LOCK})
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, revision)
        log.info("server database upgraded to %s", revision)
    finally:
        if own:
            engine.dispose()
