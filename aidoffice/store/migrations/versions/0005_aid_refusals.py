"""Aid refusals: lines the "already received" rule stopped, counted in the monthly report as duplications prevented.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 23:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "aid_refusals",
        sa.Column("distribution_id", sa.String(length=36), nullable=False),
        sa.Column("household_id", sa.String(length=36), nullable=True),
        sa.Column("person_id", sa.String(length=36), nullable=True),
        sa.Column("prior_count", sa.Integer(), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("office_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("changed_by", sa.String(length=80), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.ForeignKeyConstraint(
            ["distribution_id"], ["distributions.id"], name=op.f("fk_aid_refusals_distribution_id_distributions")
        ),
        sa.ForeignKeyConstraint(
            ["household_id"], ["households.id"], name=op.f("fk_aid_refusals_household_id_households")
        ),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_aid_refusals_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_aid_refusals")),
    )
    with op.batch_alter_table("aid_refusals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_aid_refusals_distribution_id"), ["distribution_id"], unique=False)


def downgrade() -> None:
    op.drop_table("aid_refusals")
