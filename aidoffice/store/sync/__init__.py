"""Sync in the store: stamping each transaction's changes with the hybrid logical clock, reading changed records as
plain data (reference rows by natural key), and applying another installation's records in the caller's transaction.

Triggers (migration 0008) put every insert, update and delete of a synchronised table in `sync_outbox`; at commit
`stamp_pending` gives the rows past the stamped mark one clock stamp and records it per record (per field for
associations) in `sync_stamps`, with the stamp it replaced. Applying a package writes the sender's stamps instead,
and marks the outbox rows its writes caused as not local, so they travel on (headquarters → other offices) but never
back.
"""

from __future__ import annotations

from aidoffice.store.sync.apply import Applied, Applier, RecordError
from aidoffice.store.sync.conflicts import cross_office_overview, cross_office_pairs, replace_flags, save_conflicts
from aidoffice.store.sync.records import References, all_ids, changed_ids, iter_records
from aidoffice.store.sync.schema import (
    ASSOCIATION_FIELDS,
    CLOCK_SETTING,
    FRESH,
    LISTS,
    MAX_NEW_REFERENCES,
    OWNED,
    OWNER_FIELDS,
    PARENTS,
    REF_COLUMNS,
    REFERENCE,
    STAMPED_SETTING,
    table,
)
from aidoffice.store.sync.stamps import (
    BULK_MIN_ROWS,
    Restamped,
    _number,
    clock,
    field_stamp,
    newest_change,
    observe,
    office_id,
    outbox_after_bulk_insert,
    restamp_ahead,
    stamp_pending,
)

__all__ = [
    "ASSOCIATION_FIELDS",
    "BULK_MIN_ROWS",
    "CLOCK_SETTING",
    "FRESH",
    "LISTS",
    "MAX_NEW_REFERENCES",
    "OWNED",
    "OWNER_FIELDS",
    "PARENTS",
    "REFERENCE",
    "REF_COLUMNS",
    "STAMPED_SETTING",
    "Applied",
    "Applier",
    "RecordError",
    "References",
    "Restamped",
    "_number",
    "all_ids",
    "changed_ids",
    "clock",
    "cross_office_overview",
    "cross_office_pairs",
    "field_stamp",
    "iter_records",
    "newest_change",
    "observe",
    "office_id",
    "outbox_after_bulk_insert",
    "replace_flags",
    "restamp_ahead",
    "save_conflicts",
    "stamp_pending",
    "table",
]
