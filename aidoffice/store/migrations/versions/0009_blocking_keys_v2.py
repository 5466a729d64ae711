"""Blocking keys of the learned-weights engine: keys that leave out the given name, and the family name typed first
read past a leading «بن»; every person's keys are computed again.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 18:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    from aidoffice.store.matching_keys import backfill

    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM match_keys"))
    backfill(conn)
    # Weights learned by the earlier engine do not fit these keys; thresholds were log2 scores, now probabilities.
    conn.execute(sa.text("DELETE FROM settings WHERE key IN ('dedup_model', 'dedup_thresholds')"))


def downgrade() -> None:
    from aidoffice.store.matching_keys import backfill

    conn = op.get_bind()
    conn.execute(sa.text("DELETE FROM match_keys"))
    backfill(conn)
