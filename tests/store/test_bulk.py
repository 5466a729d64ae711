"""Bulk writes on both engines: upsert_rows keeps the last row of one key and replaces stored ones, as the same
INSERT … ON CONFLICT DO UPDATE run a row at a time would (the sync stamps of a package go through it)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from aidoffice.store import bulk
from aidoffice.store.sync.schema import table

COLUMNS = ("entity", "entity_id", "field", "hlc", "origin", "base", "deleted")


@pytest.mark.parametrize("count", [3, 400])  # a few rows as statements, many through a temporary table
def test_upsert_rows_keeps_the_last_row_of_a_key_and_replaces_stored_ones(ctx, count):
    stamps = table("sync_stamps")
    with ctx.db.engine.begin() as conn:
        bulk.upsert_rows(conn, stamps, COLUMNS, COLUMNS[:3], [("persons", "p0", "", 1, "A", 0, 0)])
    rows = [("persons", f"p{i}", "", 10 + i, "B", 0, 0) for i in range(count)]
    rows.append(("persons", "p1", "", 999, "C", 5, 1))  # the same key again, later: it wins
    with ctx.db.engine.begin() as conn:
        bulk.upsert_rows(conn, stamps, COLUMNS, COLUMNS[:3], rows)
    with ctx.db.engine.connect() as conn:
        got = {
            r[0]: tuple(r[1:])
            for r in conn.execute(
                text("SELECT entity_id, hlc, origin, base, deleted FROM sync_stamps WHERE entity = 'persons'")
            )
        }
    assert len(got) == count
    assert got["p0"] == (10, "B", 0, 0)  # the stored row replaced
    assert got["p1"] == (999, "C", 5, 1)
    assert got[f"p{count - 1}"] == (10 + count - 1, "B", 0, 0)
