"""A sequence for the persons' search keys on PostgreSQL (they were max + 1); nothing on SQLite.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 00:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# store/search.py draws the keys from it (SEARCH_ROWID_SEQUENCE); an integer, as the column is. OWNED BY the
# column: pg_dump writes it with the table and its current value, and a restore or a dropped table takes it along.
# The PCs' role gets USAGE, SELECT on it through the default privileges (store/server.py); nextval needs no more.
# The column keeps no default: every writer gives the key itself, and the ORM's metadata (and so alembic check)
# stays the same on both engines.
SEQUENCE = "persons_search_rowid_seq"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: max + 1 under the file's one writer; the FTS5 index wants an unbroken run after a bulk insert
    op.execute(f"CREATE SEQUENCE {SEQUENCE} AS integer START WITH 1 MINVALUE 1 OWNED BY persons.search_rowid")
    # the next key past every one in use (1 for an empty registry)
    op.execute(f"SELECT setval('{SEQUENCE}', coalesce(max(search_rowid), 0) + 1, false) FROM persons")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"DROP SEQUENCE IF EXISTS {SEQUENCE}")
