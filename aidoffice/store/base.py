"""Declarative base with a naming convention, and the columns every synchronised record carries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import DateTime, Integer, MetaData, String
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

from aidoffice.domain.sync import record_id

# Named constraints let Alembic batch mode rebuild SQLite tables (DESIGN.md, Mealie).
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_id(office: str | None = None) -> str:
    """A record id: bound to its office when the office is known (see domain.sync.record_id), else a UUIDv4."""
    return record_id(office) if office else str(uuid.uuid4())


def _record_id(context) -> str:
    """Column default of a synchronised record's id: bound to the office the row is inserted for."""
    office = context.get_current_parameters().get("office_id") if context is not None else None
    return new_id(office if isinstance(office, str) else None)


def utcnow() -> datetime:
    """UTC wall time without tzinfo: SQLite stores no zone, so every stamp is UTC by convention."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RecordMixin:
    """UUID key, creating office, created/updated stamps, who changed it and an optimistic version number."""

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=_record_id)
    office_id: Mapped[str] = mapped_column(String(36), nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    changed_by: Mapped[str | None] = mapped_column(String(80))
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:  # noqa: N805 - SQLAlchemy passes the class
        return {"version_id_col": cls.version}
