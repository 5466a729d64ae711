"""Office ↔ headquarters sync: the change outbox filled by triggers, record and field stamps, keys, peers, packages,
conflicts and cross-office duplicate flags.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-25 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# Frozen here (a migration must not follow later model changes): the tables synchronised record by record …
ROW_TABLES = (
    "governorates", "districts", "sub_districts", "fields_of_work", "vulnerability_categories", "aid_types",
    "persons", "households", "household_members", "household_links",
    "board_members", "association_contacts", "association_status_changes", "field_visits", "compliance_records",
    "campaigns", "projects", "distributions", "distribution_lines", "aid_refusals",
    "referrals", "referral_status_changes",
)
# … the associations field by field (name_norm follows name) …
ASSOCIATION_FIELDS = (
    "name", "registration_number", "proclamation_date", "legal_form", "district_id", "address", "phone", "email",
    "licence_expiry", "status", "status_since", "notes",
)
# … and link tables, whose rows change their parent record (or the association's list field).
LINKS = (
    ("person_categories", "person_id", "persons", ""),
    ("project_districts", "project_id", "projects", ""),
    ("association_fields", "association_id", "associations", "fields"),
    ("association_districts", "association_id", "associations", "districts"),
)


def _out(entity: str, ident: str, field: str, deleted: int = 0) -> str:
    return (
        "INSERT INTO sync_outbox (entity, entity_id, field, deleted) "
        f"VALUES ('{entity}', {ident}, '{field}', {deleted});"
    )


def _triggers() -> list[tuple[str, str]]:
    made = []
    for table in ROW_TABLES:
        made.append((f"sync_{table}_ai", f"AFTER INSERT ON {table} BEGIN {_out(table, 'NEW.id', '')} END"))
        made.append((f"sync_{table}_au", f"AFTER UPDATE ON {table} BEGIN {_out(table, 'NEW.id', '')} END"))
        made.append((f"sync_{table}_ad", f"AFTER DELETE ON {table} BEGIN {_out(table, 'OLD.id', '', 1)} END"))
    every = ASSOCIATION_FIELDS + ("fields", "districts")
    inserted = " ".join(_out("associations", "NEW.id", f) for f in every)
    made.append(("sync_associations_ai", f"AFTER INSERT ON associations BEGIN {inserted} END"))
    changed = " ".join(
        "INSERT INTO sync_outbox (entity, entity_id, field) "
        f"SELECT 'associations', NEW.id, '{f}' WHERE OLD.{f} IS NOT NEW.{f};"
        for f in ASSOCIATION_FIELDS
    )
    made.append(("sync_associations_au", f"AFTER UPDATE ON associations BEGIN {changed} END"))
    made.append(("sync_associations_ad", f"AFTER DELETE ON associations BEGIN {_out('associations', 'OLD.id', '', 1)} END"))
    for link, parent_col, parent, field in LINKS:
        for verb, row in (("INSERT", "NEW"), ("DELETE", "OLD")):
            made.append(
                (f"sync_{link}_{verb[0].lower()}", f"AFTER {verb} ON {link} BEGIN {_out(parent, f'{row}.{parent_col}', field)} END")
            )
    return made


# PostgreSQL: three PL/pgSQL functions do what the SQLite triggers above spell out table by table; each trigger keeps
# the SQLite trigger's name (store/sync/stamps.py finds them by name).
POSTGRESQL_FUNCTIONS = (
    # A synchronised record inserted, updated or deleted: its table and id.
    "CREATE FUNCTION sync_row_changed() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP = 'DELETE' THEN "
    "INSERT INTO sync_outbox (entity, entity_id, field, deleted) VALUES (TG_TABLE_NAME, OLD.id, '', 1); "
    "ELSE INSERT INTO sync_outbox (entity, entity_id, field, deleted) VALUES (TG_TABLE_NAME, NEW.id, '', 0); "
    "END IF; RETURN NULL; END $$",
    # An association inserted (every field named in the arguments) or updated (the named fields that changed).
    "CREATE FUNCTION sync_association_changed() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "DECLARE f text; BEGIN FOREACH f IN ARRAY TG_ARGV LOOP "
    "IF TG_OP = 'INSERT' OR (to_jsonb(OLD) -> f) IS DISTINCT FROM (to_jsonb(NEW) -> f) THEN "
    "INSERT INTO sync_outbox (entity, entity_id, field, deleted) VALUES ('associations', NEW.id, f, 0); "
    "END IF; END LOOP; RETURN NULL; END $$",
    # A link row added or removed changes its parent: arguments (parent table, parent column, list field).
    "CREATE FUNCTION sync_link_changed() RETURNS trigger LANGUAGE plpgsql AS $$ DECLARE r jsonb; BEGIN "
    "IF TG_OP = 'DELETE' THEN r := to_jsonb(OLD); ELSE r := to_jsonb(NEW); END IF; "
    "INSERT INTO sync_outbox (entity, entity_id, field, deleted) VALUES (TG_ARGV[0], r ->> TG_ARGV[1], TG_ARGV[2], 0); "
    "RETURN NULL; END $$",
)


def _postgresql_triggers() -> list[tuple[str, str, str]]:
    """(name, table, the rest of CREATE TRIGGER) on PostgreSQL, for the same changes as _triggers()."""
    made = []
    for table in ROW_TABLES:
        for verb in ("INSERT", "UPDATE", "DELETE"):
            made.append((f"sync_{table}_a{verb[0].lower()}", table, f"AFTER {verb} ON {table} FOR EACH ROW "
                         "EXECUTE FUNCTION sync_row_changed()"))
    every = ", ".join(f"'{f}'" for f in ASSOCIATION_FIELDS + ("fields", "districts"))
    fields = ", ".join(f"'{f}'" for f in ASSOCIATION_FIELDS)
    made.append(("sync_associations_ai", "associations", "AFTER INSERT ON associations FOR EACH ROW "
                 f"EXECUTE FUNCTION sync_association_changed({every})"))
    made.append(("sync_associations_au", "associations", "AFTER UPDATE ON associations FOR EACH ROW "
                 f"EXECUTE FUNCTION sync_association_changed({fields})"))
    made.append(("sync_associations_ad", "associations", "AFTER DELETE ON associations FOR EACH ROW "
                 "EXECUTE FUNCTION sync_row_changed()"))
    for link, parent_col, parent, field in LINKS:
        for verb in ("INSERT", "DELETE"):
            made.append((f"sync_{link}_{verb[0].lower()}", link, f"AFTER {verb} ON {link} FOR EACH ROW "
                         f"EXECUTE FUNCTION sync_link_changed('{parent}', '{parent_col}', '{field}')"))
    return made


def _big():
    """A 64-bit clock stamp: BIGINT on PostgreSQL, INTEGER (already 64-bit) on SQLite as before."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sync_outbox",
        sa.Column("change_no", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(36), nullable=False),
        sa.Column("field", sa.String(40), nullable=False, server_default=""),
        sa.Column("deleted", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("local", sa.Integer(), nullable=False, server_default="1"),
        sa.PrimaryKeyConstraint("change_no", name=op.f("pk_sync_outbox")),
    )
    op.create_table(
        "sync_stamps",
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(36), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("hlc", _big(), nullable=False),
        sa.Column("origin", sa.String(36), nullable=False),
        sa.Column("base", _big(), nullable=False, server_default="0"),
        sa.Column("deleted", sa.Integer(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("entity", "entity_id", "field", name=op.f("pk_sync_stamps")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "sync_keys",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("sign_private", sa.String(100), nullable=False),
        sa.Column("kx_private", sa.String(100), nullable=False),
        sa.Column("fingerprint", sa.String(40), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_keys")),
    )
    op.create_table(
        "sync_peers",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("office_id", sa.String(36), nullable=False),
        sa.Column("office_code", sa.String(20), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("sign_public", sa.String(60), nullable=False),
        sa.Column("kx_public", sa.String(60), nullable=False),
        sa.Column("escrow_public", sa.String(60), nullable=True),
        sa.Column("fingerprint", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("added_at", sa.DateTime(), nullable=False),
        sa.Column("changed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('active','retired','revoked')", name=op.f("ck_sync_peers_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_peers")),
        sa.UniqueConstraint("sign_public", name=op.f("uq_sync_peers_sign_public")),
    )
    op.create_index("ix_sync_peers_office_id", "sync_peers", ["office_id"])
    op.create_table(
        "sync_packages",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("sender_id", sa.String(36), nullable=False),
        sa.Column("recipient_id", sa.String(36), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("change_from", sa.Integer(), nullable=False),
        sa.Column("change_to", sa.Integer(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("applied", sa.Integer(), nullable=False),
        sa.Column("conflicts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("file_name", sa.String(120), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.String(80), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_packages")),
    )
    op.create_index("ix_sync_packages_stream", "sync_packages", ["sender_id", "epoch", "sequence"])
    op.create_table(
        "sync_conflicts",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("entity", sa.String(40), nullable=False),
        sa.Column("entity_id", sa.String(36), nullable=False),
        sa.Column("field", sa.String(40), nullable=False),
        sa.Column("kept_value", sa.JSON(), nullable=True),
        sa.Column("kept_origin", sa.String(36), nullable=False),
        sa.Column("kept_hlc", _big(), nullable=False),
        sa.Column("lost_value", sa.JSON(), nullable=True),
        sa.Column("lost_origin", sa.String(36), nullable=False),
        sa.Column("lost_hlc", _big(), nullable=False),
        sa.Column("package_id", sa.String(36), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("decided_by", sa.String(80), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_conflicts")),
    )
    op.create_index("ix_sync_conflicts_entity_id", "sync_conflicts", ["entity_id"])
    op.create_index("ix_sync_conflicts_status", "sync_conflicts", ["status"])
    op.create_table(
        "sync_flags",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("person_id", sa.String(36), nullable=False),
        sa.Column("other_office", sa.String(20), nullable=False),
        sa.Column("score", sa.Numeric(8, 3, asdecimal=False), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_flags")),
    )
    op.create_index("ix_sync_flags_person_id", "sync_flags", ["person_id"])
    if op.get_bind().dialect.name == "postgresql":
        for statement in POSTGRESQL_FUNCTIONS:
            op.execute(statement)
        for name, _table, body in _postgresql_triggers():
            op.execute(f"CREATE TRIGGER {name} {body}")
        return
    for name, body in _triggers():
        op.execute(f"CREATE TRIGGER {name} {body}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, table, _body in _postgresql_triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
        for function in ("sync_row_changed", "sync_association_changed", "sync_link_changed"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    else:
        for name, _body in _triggers():
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
    for table in ("sync_flags", "sync_conflicts", "sync_packages", "sync_peers", "sync_keys", "sync_stamps",
                  "sync_outbox"):
        op.drop_table(table)
