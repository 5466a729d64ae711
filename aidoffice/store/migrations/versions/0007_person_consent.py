"""Consent to data sharing, recorded per person with its date.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-25 00:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # sa.false(): DEFAULT 0 on SQLite (as before), DEFAULT false on PostgreSQL, whose booleans refuse 0.
    # Plain ALTER TABLE ADD COLUMN: no table rebuild, so the full-text triggers on persons stay as they are.
    op.add_column("persons", sa.Column("consent_sharing", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("persons", sa.Column("consent_on", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("persons") as batch:
        batch.drop_column("consent_on")
        batch.drop_column("consent_sharing")
