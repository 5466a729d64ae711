"""Alembic environment: batch mode for SQLite, the models' metadata, and the FTS tables left out of comparison."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from aidoffice.store import models  # noqa: F401 - registers every table on the metadata
from aidoffice.store.base import Base

config = context.config
target_metadata = Base.metadata

# What the ORM does not model, being one engine's own (store/search.py): SQLite's FTS5 index and its shadow tables,
# PostgreSQL's trigram index over the normalised name.
UNMODELLED_PREFIXES = ("persons_fts",)
UNMODELLED_INDEXES = {"ix_persons_name_norm_trgm"}


def include_name(name, type_, _parent_names) -> bool:
    if type_ == "index":
        return name not in UNMODELLED_INDEXES
    return not (type_ == "table" and bool(name) and name.startswith(UNMODELLED_PREFIXES))


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        include_name=include_name,
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = engine_from_config(
        config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("AidOffice migrations run online only")
run_migrations_online()
