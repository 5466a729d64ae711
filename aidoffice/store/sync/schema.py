"""What travels and how: the synchronised tables, natural keys, list fields and parents; SQL on either engine."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Connection, Date, DateTime, Numeric, Table

from aidoffice.store import dialect
from aidoffice.store import models as m


def _sql(conn: Connection, statement: str, params=None):
    """A statement written with SQLite's `?` placeholders, on either engine (psycopg's placeholders are `%s`)."""
    if dialect.is_postgresql(conn):  # outside quoted text ('?' is an unknown office's code)
        parts = statement.split("'")
        statement = "'".join(p.replace("?", "%s") if i % 2 == 0 else p for i, p in enumerate(parts))
    return conn.exec_driver_sql(statement) if params is None else conn.exec_driver_sql(statement, params)


CLOCK_SETTING = "sync.clock"
FRESH = "+"  # outbox field of a row bulk-inserted new: listed for export, no stamp of its own
STAMPED_SETTING = "sync.stamped"  # the last outbox row already stamped (or applied from a package)
REFERENCE = ("governorates", "districts", "sub_districts", "fields_of_work", "vulnerability_categories", "aid_types")
ASSOCIATION_FIELDS = (
    "name",
    "registration_number",
    "proclamation_date",
    "legal_form",
    "district_id",
    "address",
    "phone",
    "email",
    "licence_expiry",
    "status",
    "status_since",
    "notes",
    "fields",
    "districts",
)
# Records an office owns and sends up, parents first (foreign keys are deferred to the commit anyway).
OWNED = (
    "persons",
    "households",
    "household_members",
    "household_links",
    "board_members",
    "association_contacts",
    "association_status_changes",
    "field_visits",
    "compliance_records",
    "campaigns",
    "projects",
    "distributions",
    "distribution_lines",
    "aid_refusals",
    "referrals",
    "referral_status_changes",
)
# Foreign keys to reference rows travel as natural keys: each office created its own rows with its own ids.
REF_COLUMNS = {
    ("districts", "governorate_id"): "governorates",
    ("sub_districts", "district_id"): "districts",
    ("persons", "district_id"): "districts",
    ("households", "district_id"): "districts",
    ("households", "sub_district_id"): "sub_districts",
    ("associations", "district_id"): "districts",
    ("projects", "aid_type_id"): "aid_types",
    ("distributions", "district_id"): "districts",
    ("distributions", "aid_type_id"): "aid_types",
    ("referrals", "aid_type_id"): "aid_types",
}
# List fields kept in link tables: (link table, parent column, child column, reference kind).
LISTS = {
    ("persons", "categories"): (m.person_categories, "person_id", "category_id", "vulnerability_categories"),
    ("projects", "districts"): (m.project_districts, "project_id", "district_id", "districts"),
    ("associations", "fields"): (m.association_fields, "association_id", "field_id", "fields_of_work"),
    ("associations", "districts"): (m.association_districts, "association_id", "district_id", "districts"),
}
# The records a child row hangs from, whose owner must be the child's sender too (a member put by office A into
# B's household would otherwise stand at headquarters, and B's own member row for that person would then clash with
# it in every later package). Associations are a shared registry: visits and contacts by any office hang from them.
PARENTS = {
    "persons": {"merged_into_id": "persons"},
    "households": {"head_person_id": "persons"},
    "household_members": {"household_id": "households", "person_id": "persons"},
    "household_links": {"household_a_id": "households", "household_b_id": "households"},
    "distribution_lines": {
        "distribution_id": "distributions",
        "household_id": "households",
        "person_id": "persons",
        "reversal_of_id": "distribution_lines",
    },
    "aid_refusals": {"distribution_id": "distributions", "household_id": "households", "person_id": "persons"},
    "referrals": {"person_id": "persons"},
    "referral_status_changes": {"referral_id": "referrals"},
}
# What only the office that registered an association changes through a package: another office's change to these
# waits in headquarters' conflict queue for a person to confirm (resolve_conflict), and travels on only then.
OWNER_FIELDS = (
    "name",
    "registration_number",
    "proclamation_date",
    "legal_form",
    "status",
    "status_since",
    "licence_expiry",
)
MAX_NEW_REFERENCES = 200  # reference rows (places, aid types, categories) one package may add at headquarters
_LOCAL_COLUMNS = {"version", "search_rowid"}
_CHUNK = 500
_APPLY_CHUNK = 2000
_APPLY_BYTES = 16 << 20  # a chunk of owned records is applied once its lines pass this size, whatever their number
_FOREIGN_KEPT = 1000  # conflicts noted for a package that touches other offices' records (all of them are counted)


def table(name: str) -> Table:
    return m.Base.metadata.tables[name]


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def _typed(column, value):
    if value is None:
        return None
    convert = _converter(column)
    return convert(value) if convert else value


def _converter(column) -> Callable | None:
    if isinstance(column.type, DateTime):
        return datetime.fromisoformat
    if isinstance(column.type, Date):
        return date.fromisoformat
    if isinstance(column.type, Numeric) and column.type.asdecimal:
        return Decimal
    return None


@functools.cache
def _converters(name: str) -> dict[str, Callable | str]:
    """Per column of a table: the reference kind of a natural key (str), or the function that types a plain value
    (identity for values JSON already holds as they are stored). List fields and local columns are left out."""
    out: dict[str, Callable | str] = {}
    for column in table(name).columns:
        if (name, column.key) in LISTS:
            continue
        kind = REF_COLUMNS.get((name, column.key))
        out[column.key] = kind if kind else (_converter(column) or _same)
    return out


def _same(value):
    return value


@functools.cache
def _pointer_columns(name: str) -> tuple[tuple[str, str], ...]:
    """(column, parent table) of each foreign key of an owned table to a record (reference rows are made on demand)."""
    return tuple(
        (fk.parent.key, fk.column.table.name)
        for fk in table(name).foreign_keys
        if fk.column.table.name not in REFERENCE
    )
