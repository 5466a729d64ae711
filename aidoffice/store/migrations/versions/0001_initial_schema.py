"""Initial schema: every table of the registry, the persons full-text index and the append-only triggers.

Revision ID: 0001
Revises: 
Create Date: 2026-11-24 20:32:51.102877
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


# SQLite-only objects the ORM does not model (alembic check ignores persons_fts*, see env.py).
SQLITE_OBJECTS = (
    # Full-text index over the stored normalised name (ARABIC.md: FTS5 over a normalised column).
    "CREATE VIRTUAL TABLE persons_fts USING fts5(name_norm, content='persons', content_rowid='search_rowid', "
    "prefix='2 3', tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER persons_fts_ai AFTER INSERT ON persons BEGIN "
    "INSERT INTO persons_fts(rowid, name_norm) VALUES (new.search_rowid, new.name_norm); END",
    "CREATE TRIGGER persons_fts_ad AFTER DELETE ON persons BEGIN "
    "INSERT INTO persons_fts(persons_fts, rowid, name_norm) VALUES ('delete', old.search_rowid, old.name_norm); END",
    "CREATE TRIGGER persons_fts_au AFTER UPDATE OF name_norm, search_rowid ON persons BEGIN "
    "INSERT INTO persons_fts(persons_fts, rowid, name_norm) VALUES ('delete', old.search_rowid, old.name_norm); "
    "INSERT INTO persons_fts(rowid, name_norm) VALUES (new.search_rowid, new.name_norm); END",
    # Distributions and their lines are append-only: a correction is a reversal line.
    "CREATE TRIGGER distributions_no_delete BEFORE DELETE ON distributions BEGIN "
    "SELECT RAISE(ABORT, 'distributions are append-only'); END",
    "CREATE TRIGGER distribution_lines_no_delete BEFORE DELETE ON distribution_lines BEGIN "
    "SELECT RAISE(ABORT, 'distribution lines are append-only'); END",
    "CREATE TRIGGER distribution_lines_append_only BEFORE UPDATE ON distribution_lines "
    "WHEN OLD.status <> 'listed' OR NEW.status NOT IN ('received','not_received') "
    "OR NEW.distribution_id IS NOT OLD.distribution_id OR NEW.household_id IS NOT OLD.household_id "
    "OR NEW.person_id IS NOT OLD.person_id OR NEW.quantity IS NOT OLD.quantity OR NEW.amount IS NOT OLD.amount "
    "OR NEW.reversal_of_id IS NOT OLD.reversal_of_id OR NEW.office_id IS NOT OLD.office_id "
    "OR NEW.created_at IS NOT OLD.created_at "
    "BEGIN SELECT RAISE(ABORT, 'distribution lines are append-only'); END",
)
SQLITE_DROPS = (
    "DROP TRIGGER IF EXISTS distribution_lines_append_only",
    "DROP TRIGGER IF EXISTS distribution_lines_no_delete",
    "DROP TRIGGER IF EXISTS distributions_no_delete",
    "DROP TRIGGER IF EXISTS persons_fts_au",
    "DROP TRIGGER IF EXISTS persons_fts_ad",
    "DROP TRIGGER IF EXISTS persons_fts_ai",
    "DROP TABLE IF EXISTS persons_fts",
)

# The same rules on PostgreSQL: name search through a trigram index over the stored normalised name (store/search.py),
# and the append-only rules as PL/pgSQL triggers (TRUNCATE too, which skips row triggers).
POSTGRESQL_OBJECTS = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_persons_name_norm_trgm ON persons USING gin (name_norm gin_trgm_ops)",
    "CREATE FUNCTION aidoffice_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation'; END $$",
    *(
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} FOR EACH {each} "
        f"EXECUTE FUNCTION aidoffice_refuse_change('{what} append-only')"
        for table, what in (("distributions", "distributions are"), ("distribution_lines", "distribution lines are"))
        for verb, each in (("DELETE", "ROW"), ("TRUNCATE", "STATEMENT"))
    ),
    "CREATE TRIGGER distribution_lines_append_only BEFORE UPDATE ON distribution_lines FOR EACH ROW "
    "WHEN (OLD.status <> 'listed' OR NEW.status NOT IN ('received','not_received') "
    "OR NEW.distribution_id IS DISTINCT FROM OLD.distribution_id OR NEW.household_id IS DISTINCT FROM OLD.household_id "
    "OR NEW.person_id IS DISTINCT FROM OLD.person_id OR NEW.quantity IS DISTINCT FROM OLD.quantity "
    "OR NEW.amount IS DISTINCT FROM OLD.amount OR NEW.reversal_of_id IS DISTINCT FROM OLD.reversal_of_id "
    "OR NEW.office_id IS DISTINCT FROM OLD.office_id OR NEW.created_at IS DISTINCT FROM OLD.created_at) "
    "EXECUTE FUNCTION aidoffice_refuse_change('distribution lines are append-only')",
)
POSTGRESQL_DROPS = (
    "DROP TRIGGER IF EXISTS distribution_lines_append_only ON distribution_lines",
    *(
        f"DROP TRIGGER IF EXISTS {table}_no_{verb} ON {table}"
        for table in ("distribution_lines", "distributions")
        for verb in ("truncate", "delete")
    ),
    "DROP FUNCTION IF EXISTS aidoffice_refuse_change()",
    "DROP INDEX IF EXISTS ix_persons_name_norm_trgm",
)


def _dialect_objects(sqlite_statements, postgresql_statements):
    return postgresql_statements if op.get_bind().dialect.name == "postgresql" else sqlite_statements


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # ### commands auto generated by Alembic - please adjust! ###
    op.create_table('aid_types',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('window', sa.String(length=20), nullable=False),
    sa.Column('window_days', sa.Integer(), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_aid_types')),
    sa.UniqueConstraint('code', name=op.f('uq_aid_types_code'))
    )
    op.create_table('audit_log',
    sa.Column('seq', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('at', sa.DateTime(), nullable=False),
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('action', sa.String(length=30), nullable=False),
    sa.Column('entity', sa.String(length=50), nullable=False),
    sa.Column('entity_id', sa.String(length=36), nullable=False),
    sa.Column('before', sa.JSON(), nullable=True),
    sa.Column('after', sa.JSON(), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_log')),
    sa.UniqueConstraint('id', name=op.f('uq_audit_log_id'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_log_at'), ['at'], unique=False)

    op.create_table('campaigns',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    op.create_table('fields_of_work',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fields_of_work')),
    sa.UniqueConstraint('code', name=op.f('uq_fields_of_work_code'))
    )
    op.create_table('governorates',
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_governorates')),
    sa.UniqueConstraint('name', name=op.f('uq_governorates_name'))
    )
    op.create_table('office_profile',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('governorate', sa.String(length=100), nullable=False),
    sa.Column('office_code', sa.String(length=20), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('database_uuid', sa.String(length=36), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_office_profile'))
    )
    op.create_table('settings',
    sa.Column('key', sa.String(length=100), nullable=False),
    sa.Column('value', sa.JSON(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('users',
    sa.Column('username', sa.String(length=80), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('failed_logins', sa.Integer(), nullable=False),
    sa.Column('locked_until', sa.DateTime(), nullable=True),
    sa.Column('last_login_at', sa.DateTime(), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_users')),
    sa.UniqueConstraint('username', name=op.f('uq_users_username'))
    )
    op.create_table('vulnerability_categories',
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('sensitive', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vulnerability_categories')),
    sa.UniqueConstraint('code', name=op.f('uq_vulnerability_categories_code'))
    )
    op.create_table('districts',
    sa.Column('governorate_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('code', sa.String(length=20), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['governorate_id'], ['governorates.id'], name=op.f('fk_districts_governorate_id_governorates')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_districts')),
    sa.UniqueConstraint('governorate_id', 'name', name=op.f('uq_districts_governorate_id'))
    )
    with op.batch_alter_table('districts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_districts_governorate_id'), ['governorate_id'], unique=False)

    op.create_table('associations',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_norm', sa.String(length=200), nullable=False),
    sa.Column('registration_number', sa.String(length=40), nullable=False),
    sa.Column('proclamation_date', sa.Date(), nullable=True),
    sa.Column('legal_form', sa.String(length=20), nullable=False),
    sa.Column('district_id', sa.String(length=36), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('email', sa.String(length=120), nullable=False),
    sa.Column('licence_expiry', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('status_since', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("status IN ('active','dormant','suspended','dissolved')", name=op.f('ck_associations_status')),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_associations_district_id_districts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_associations')),
    sa.UniqueConstraint('registration_number', name=op.f('uq_associations_registration_number'))
    )
    with op.batch_alter_table('associations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_associations_district_id'), ['district_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_associations_licence_expiry'), ['licence_expiry'], unique=False)
        batch_op.create_index(batch_op.f('ix_associations_name_norm'), ['name_norm'], unique=False)
        batch_op.create_index(batch_op.f('ix_associations_status'), ['status'], unique=False)

    op.create_table('persons',
    sa.Column('full_name', sa.String(length=300), nullable=False),
    sa.Column('name_norm', sa.String(length=300), nullable=False),
    sa.Column('name_parts', sa.JSON(), nullable=False),
    sa.Column('national_id', sa.String(length=30), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('birth_date', sa.Date(), nullable=True),
    sa.Column('birth_year', sa.Integer(), nullable=True),
    sa.Column('district_id', sa.String(length=36), nullable=True),
    sa.Column('spouse_name', sa.String(length=300), nullable=False),
    sa.Column('spouse_name_norm', sa.String(length=300), nullable=False),
    sa.Column('spouse_national_id', sa.String(length=30), nullable=False),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('merged_into_id', sa.String(length=36), nullable=True),
    sa.Column('search_rowid', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("sex IS NULL OR sex IN ('M','F')", name=op.f('ck_persons_sex')),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_persons_district_id_districts')),
    sa.ForeignKeyConstraint(['merged_into_id'], ['persons.id'], name=op.f('fk_persons_merged_into_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons')),
    sa.UniqueConstraint('search_rowid', name=op.f('uq_persons_search_rowid'))
    )
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.create_index('ix_persons_district_birth_year', ['district_id', 'birth_year'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_district_id'), ['district_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_merged_into_id'), ['merged_into_id'], unique=False,
                              sqlite_where=sa.text('merged_into_id IS NOT NULL'),
                              postgresql_where=sa.text('merged_into_id IS NOT NULL'))
        batch_op.create_index(batch_op.f('ix_persons_national_id'), ['national_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_phone'), ['phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_persons_spouse_national_id'), ['spouse_national_id'], unique=False)

    op.create_table('sub_districts',
    sa.Column('district_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_sub_districts_district_id_districts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sub_districts')),
    sa.UniqueConstraint('district_id', 'name', name=op.f('uq_sub_districts_district_id'))
    )
    with op.batch_alter_table('sub_districts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sub_districts_district_id'), ['district_id'], unique=False)

    op.create_table('association_contacts',
    sa.Column('association_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('email', sa.String(length=120), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_association_contacts_association_id_associations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_association_contacts'))
    )
    with op.batch_alter_table('association_contacts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_association_contacts_association_id'), ['association_id'], unique=False)

    op.create_table('association_districts',
    sa.Column('association_id', sa.String(length=36), nullable=False),
    sa.Column('district_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_association_districts_association_id_associations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_association_districts_district_id_districts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('association_id', 'district_id', name=op.f('pk_association_districts'))
    )
    with op.batch_alter_table('association_districts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_association_districts_district_id'), ['district_id'], unique=False)

    op.create_table('association_fields',
    sa.Column('association_id', sa.String(length=36), nullable=False),
    sa.Column('field_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_association_fields_association_id_associations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['field_id'], ['fields_of_work.id'], name=op.f('fk_association_fields_field_id_fields_of_work'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('association_id', 'field_id', name=op.f('pk_association_fields'))
    )
    with op.batch_alter_table('association_fields', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_association_fields_field_id'), ['field_id'], unique=False)

    op.create_table('association_status_changes',
    sa.Column('association_id', sa.String(length=36), nullable=False),
    sa.Column('status_from', sa.String(length=20), nullable=True),
    sa.Column('status_to', sa.String(length=20), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_association_status_changes_association_id_associations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_association_status_changes'))
    )
    with op.batch_alter_table('association_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_association_status_changes_association_id'), ['association_id'], unique=False)

    op.create_table('board_members',
    sa.Column('association_id', sa.String(length=36), nullable=False),
    sa.Column('full_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('phone', sa.String(length=30), nullable=False),
    sa.Column('national_id', sa.String(length=30), nullable=False),
    sa.Column('term_start', sa.Date(), nullable=True),
    sa.Column('term_end', sa.Date(), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_board_members_association_id_associations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_board_members'))
    )
    with op.batch_alter_table('board_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_board_members_association_id'), ['association_id'], unique=False)

    op.create_table('compliance_records',
    sa.Column('association_id', sa.String(length=36), nullable=False),
    sa.Column('year', sa.Integer(), nullable=False),
    sa.Column('admin_report', sa.Boolean(), nullable=False),
    sa.Column('financial_report', sa.Boolean(), nullable=False),
    sa.Column('submitted_on', sa.Date(), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_compliance_records_association_id_associations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compliance_records')),
    sa.UniqueConstraint('association_id', 'year', name=op.f('uq_compliance_records_association_id'))
    )
    with op.batch_alter_table('compliance_records', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compliance_records_association_id'), ['association_id'], unique=False)

    op.create_table('field_visits',
    sa.Column('association_id', sa.String(length=36), nullable=False),
    sa.Column('visit_date', sa.Date(), nullable=False),
    sa.Column('visitors', sa.String(length=300), nullable=False),
    sa.Column('findings', sa.Text(), nullable=False),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('follow_up', sa.Text(), nullable=False),
    sa.Column('follow_up_due', sa.Date(), nullable=True),
    sa.Column('follow_up_done', sa.Boolean(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint('rating IS NULL OR rating BETWEEN 1 AND 5', name=op.f('ck_field_visits_rating')),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_field_visits_association_id_associations'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_field_visits'))
    )
    with op.batch_alter_table('field_visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_visits_association_id'), ['association_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_field_visits_visit_date'), ['visit_date'], unique=False)

    op.create_table('households',
    sa.Column('head_person_id', sa.String(length=36), nullable=True),
    sa.Column('district_id', sa.String(length=36), nullable=True),
    sa.Column('sub_district_id', sa.String(length=36), nullable=True),
    sa.Column('address', sa.String(length=300), nullable=False),
    sa.Column('size', sa.Integer(), nullable=True),
    sa.Column('income_band', sa.String(length=20), nullable=True),
    sa.Column('housing', sa.String(length=20), nullable=True),
    sa.Column('notes', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint('size IS NULL OR size BETWEEN 1 AND 60', name=op.f('ck_households_size')),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_households_district_id_districts')),
    sa.ForeignKeyConstraint(['head_person_id'], ['persons.id'], name=op.f('fk_households_head_person_id_persons')),
    sa.ForeignKeyConstraint(['sub_district_id'], ['sub_districts.id'], name=op.f('fk_households_sub_district_id_sub_districts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_households'))
    )
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_households_district_id'), ['district_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_households_head_person_id'), ['head_person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_households_sub_district_id'), ['sub_district_id'], unique=False)

    op.create_table('person_categories',
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('category_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['vulnerability_categories.id'], name=op.f('fk_person_categories_category_id_vulnerability_categories'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_person_categories_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('person_id', 'category_id', name=op.f('pk_person_categories'))
    )
    with op.batch_alter_table('person_categories', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_person_categories_category_id'), ['category_id'], unique=False)

    op.create_table('projects',
    sa.Column('association_id', sa.String(length=36), nullable=False),
    sa.Column('campaign_id', sa.String(length=36), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('donor', sa.String(length=200), nullable=False),
    sa.Column('sector', sa.String(length=20), nullable=False),
    sa.Column('aid_type_id', sa.String(length=36), nullable=True),
    sa.Column('start_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.Column('target_households', sa.Integer(), nullable=True),
    sa.Column('budget', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint('end_date IS NULL OR start_date IS NULL OR end_date >= start_date', name=op.f('ck_projects_period')),
    sa.ForeignKeyConstraint(['aid_type_id'], ['aid_types.id'], name=op.f('fk_projects_aid_type_id_aid_types')),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_projects_association_id_associations')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_projects_campaign_id_campaigns')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_projects'))
    )
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_projects_aid_type_id'), ['aid_type_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_projects_association_id'), ['association_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_projects_campaign_id'), ['campaign_id'], unique=False)

    op.create_table('referrals',
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('association_id', sa.String(length=36), nullable=False),
    sa.Column('aid_type_id', sa.String(length=36), nullable=True),
    sa.Column('need', sa.Text(), nullable=False),
    sa.Column('referred_on', sa.Date(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.Text(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['aid_type_id'], ['aid_types.id'], name=op.f('fk_referrals_aid_type_id_aid_types')),
    sa.ForeignKeyConstraint(['association_id'], ['associations.id'], name=op.f('fk_referrals_association_id_associations')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_referrals_person_id_persons')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referrals'))
    )
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referrals_aid_type_id'), ['aid_type_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_association_id'), ['association_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_referred_on'), ['referred_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_referrals_status'), ['status'], unique=False)

    op.create_table('distributions',
    sa.Column('project_id', sa.String(length=36), nullable=False),
    sa.Column('campaign_id', sa.String(length=36), nullable=True),
    sa.Column('distribution_date', sa.Date(), nullable=False),
    sa.Column('site', sa.String(length=200), nullable=False),
    sa.Column('district_id', sa.String(length=36), nullable=True),
    sa.Column('aid_type_id', sa.String(length=36), nullable=False),
    sa.Column('item', sa.String(length=200), nullable=False),
    sa.Column('quantity_per_household', sa.Numeric(precision=18, scale=3), nullable=True),
    sa.Column('unit', sa.String(length=40), nullable=False),
    sa.Column('amount_per_household', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('currency', sa.String(length=3), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('approved_by', sa.String(length=80), nullable=True),
    sa.Column('approved_at', sa.DateTime(), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['aid_type_id'], ['aid_types.id'], name=op.f('fk_distributions_aid_type_id_aid_types')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_distributions_campaign_id_campaigns')),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_distributions_district_id_districts')),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_distributions_project_id_projects')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distributions'))
    )
    with op.batch_alter_table('distributions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distributions_aid_type_id'), ['aid_type_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_distributions_campaign_id'), ['campaign_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_distributions_distribution_date'), ['distribution_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_distributions_district_id'), ['district_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_distributions_project_id'), ['project_id'], unique=False)

    op.create_table('household_members',
    sa.Column('household_id', sa.String(length=36), nullable=False),
    sa.Column('person_id', sa.String(length=36), nullable=False),
    sa.Column('relation', sa.String(length=20), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_household_members_household_id_households'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_household_members_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_household_members')),
    sa.UniqueConstraint('person_id', name=op.f('uq_household_members_person_id'))
    )
    with op.batch_alter_table('household_members', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_household_members_household_id'), ['household_id'], unique=False)

    op.create_table('project_districts',
    sa.Column('project_id', sa.String(length=36), nullable=False),
    sa.Column('district_id', sa.String(length=36), nullable=False),
    sa.ForeignKeyConstraint(['district_id'], ['districts.id'], name=op.f('fk_project_districts_district_id_districts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['project_id'], ['projects.id'], name=op.f('fk_project_districts_project_id_projects'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('project_id', 'district_id', name=op.f('pk_project_districts'))
    )
    with op.batch_alter_table('project_districts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_project_districts_district_id'), ['district_id'], unique=False)

    op.create_table('referral_status_changes',
    sa.Column('referral_id', sa.String(length=36), nullable=False),
    sa.Column('status_from', sa.String(length=20), nullable=True),
    sa.Column('status_to', sa.String(length=20), nullable=False),
    sa.Column('changed_on', sa.Date(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.ForeignKeyConstraint(['referral_id'], ['referrals.id'], name=op.f('fk_referral_status_changes_referral_id_referrals'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_referral_status_changes'))
    )
    with op.batch_alter_table('referral_status_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_referral_status_changes_referral_id'), ['referral_id'], unique=False)

    op.create_table('distribution_lines',
    sa.Column('distribution_id', sa.String(length=36), nullable=False),
    sa.Column('household_id', sa.String(length=36), nullable=True),
    sa.Column('person_id', sa.String(length=36), nullable=True),
    sa.Column('quantity', sa.Numeric(precision=18, scale=3), nullable=True),
    sa.Column('amount', sa.Numeric(precision=18, scale=2), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('reversal_of_id', sa.String(length=36), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('override_reason', sa.Text(), nullable=False),
    sa.Column('overridden_by', sa.String(length=80), nullable=True),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('office_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('changed_by', sa.String(length=80), nullable=True),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("status IN ('listed','received','not_received','reversal')", name=op.f('ck_distribution_lines_status')),
    sa.ForeignKeyConstraint(['distribution_id'], ['distributions.id'], name=op.f('fk_distribution_lines_distribution_id_distributions')),
    sa.ForeignKeyConstraint(['household_id'], ['households.id'], name=op.f('fk_distribution_lines_household_id_households')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_distribution_lines_person_id_persons')),
    sa.ForeignKeyConstraint(['reversal_of_id'], ['distribution_lines.id'], name=op.f('fk_distribution_lines_reversal_of_id_distribution_lines')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_distribution_lines'))
    )
    with op.batch_alter_table('distribution_lines', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_distribution_lines_distribution_id'), ['distribution_id'], unique=False)
        batch_op.create_index('ix_distribution_lines_household_status', ['household_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_distribution_lines_person_id'), ['person_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_distribution_lines_reversal_of_id'), ['reversal_of_id'], unique=False)

    # ### end Alembic commands ###
    for statement in _dialect_objects(SQLITE_OBJECTS, POSTGRESQL_OBJECTS):
        op.execute(statement)


def downgrade() -> None:
    for statement in _dialect_objects(SQLITE_DROPS, POSTGRESQL_DROPS):
        op.execute(statement)
    # ### commands auto generated by Alembic - please adjust! ###
    with op.batch_alter_table('distribution_lines', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distribution_lines_reversal_of_id'))
        batch_op.drop_index(batch_op.f('ix_distribution_lines_person_id'))
        batch_op.drop_index('ix_distribution_lines_household_status')
        batch_op.drop_index(batch_op.f('ix_distribution_lines_distribution_id'))

    op.drop_table('distribution_lines')
    with op.batch_alter_table('referral_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referral_status_changes_referral_id'))

    op.drop_table('referral_status_changes')
    with op.batch_alter_table('project_districts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_project_districts_district_id'))

    op.drop_table('project_districts')
    with op.batch_alter_table('household_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_household_members_household_id'))

    op.drop_table('household_members')
    with op.batch_alter_table('distributions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_distributions_project_id'))
        batch_op.drop_index(batch_op.f('ix_distributions_district_id'))
        batch_op.drop_index(batch_op.f('ix_distributions_distribution_date'))
        batch_op.drop_index(batch_op.f('ix_distributions_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_distributions_aid_type_id'))

    op.drop_table('distributions')
    with op.batch_alter_table('referrals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_referrals_status'))
        batch_op.drop_index(batch_op.f('ix_referrals_referred_on'))
        batch_op.drop_index(batch_op.f('ix_referrals_person_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_association_id'))
        batch_op.drop_index(batch_op.f('ix_referrals_aid_type_id'))

    op.drop_table('referrals')
    with op.batch_alter_table('projects', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_projects_campaign_id'))
        batch_op.drop_index(batch_op.f('ix_projects_association_id'))
        batch_op.drop_index(batch_op.f('ix_projects_aid_type_id'))

    op.drop_table('projects')
    with op.batch_alter_table('person_categories', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_person_categories_category_id'))

    op.drop_table('person_categories')
    with op.batch_alter_table('households', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_households_sub_district_id'))
        batch_op.drop_index(batch_op.f('ix_households_head_person_id'))
        batch_op.drop_index(batch_op.f('ix_households_district_id'))

    op.drop_table('households')
    with op.batch_alter_table('field_visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_visits_visit_date'))
        batch_op.drop_index(batch_op.f('ix_field_visits_association_id'))

    op.drop_table('field_visits')
    with op.batch_alter_table('compliance_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compliance_records_association_id'))

    op.drop_table('compliance_records')
    with op.batch_alter_table('board_members', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_board_members_association_id'))

    op.drop_table('board_members')
    with op.batch_alter_table('association_status_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_association_status_changes_association_id'))

    op.drop_table('association_status_changes')
    with op.batch_alter_table('association_fields', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_association_fields_field_id'))

    op.drop_table('association_fields')
    with op.batch_alter_table('association_districts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_association_districts_district_id'))

    op.drop_table('association_districts')
    with op.batch_alter_table('association_contacts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_association_contacts_association_id'))

    op.drop_table('association_contacts')
    with op.batch_alter_table('sub_districts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sub_districts_district_id'))

    op.drop_table('sub_districts')
    with op.batch_alter_table('persons', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_persons_spouse_national_id'))
        batch_op.drop_index(batch_op.f('ix_persons_phone'))
        batch_op.drop_index(batch_op.f('ix_persons_national_id'))
        batch_op.drop_index(batch_op.f('ix_persons_merged_into_id'))
        batch_op.drop_index(batch_op.f('ix_persons_district_id'))
        batch_op.drop_index('ix_persons_district_birth_year')

    op.drop_table('persons')
    with op.batch_alter_table('associations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_associations_status'))
        batch_op.drop_index(batch_op.f('ix_associations_name_norm'))
        batch_op.drop_index(batch_op.f('ix_associations_licence_expiry'))
        batch_op.drop_index(batch_op.f('ix_associations_district_id'))

    op.drop_table('associations')
    with op.batch_alter_table('districts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_districts_governorate_id'))

    op.drop_table('districts')
    op.drop_table('vulnerability_categories')
    op.drop_table('users')
    op.drop_table('settings')
    op.drop_table('office_profile')
    op.drop_table('governorates')
    op.drop_table('fields_of_work')
    op.drop_table('campaigns')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_at'))

    op.drop_table('audit_log')
    op.drop_table('aid_types')
    # ### end Alembic commands ###
