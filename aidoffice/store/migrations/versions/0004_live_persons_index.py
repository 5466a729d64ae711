"""Indexes for the desktop's paged persons table: the live registry in registration order (partial), and the ID
and phone indexes widened with merged_into_id so a sorted table pages through them alone, the district index with
search_rowid so a table filtered by district needs no sort.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24 23:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_persons_live",
        "persons",
        ["search_rowid"],
        sqlite_where=sa.text("merged_into_id IS NULL"),
        postgresql_where=sa.text("merged_into_id IS NULL"),
    )
    for column, second in (("national_id", "merged_into_id"), ("phone", "merged_into_id"), ("district_id", "search_rowid")):
        op.drop_index(f"ix_persons_{column}", table_name="persons")
        op.create_index(f"ix_persons_{column}", "persons", [column, second])


def downgrade() -> None:
    for column in ("national_id", "phone", "district_id"):
        op.drop_index(f"ix_persons_{column}", table_name="persons")
        op.create_index(f"ix_persons_{column}", "persons", [column])
    op.drop_index("ix_persons_live", table_name="persons")
