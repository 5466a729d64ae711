"""The audit trail is append-only: the database refuses to update or delete its rows (the hash chain catches the rest).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 00:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    if _postgresql():
        # aidoffice_refuse_change() is migration 0001's; TRUNCATE skips row triggers, so it is refused on its own.
        for verb, each in (("UPDATE", "ROW"), ("DELETE", "ROW"), ("TRUNCATE", "STATEMENT")):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log FOR EACH {each} "
                "EXECUTE FUNCTION aidoffice_refuse_change('audit log is append-only')"
            )
        return
    for verb in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END"
        )


def downgrade() -> None:
    if _postgresql():
        for verb in ("update", "delete", "truncate"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{verb} ON audit_log")
        return
    for verb in ("update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{verb}")
