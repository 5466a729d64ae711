"""The demo office is realistic and complete; counts and listings read it back."""

from __future__ import annotations

from collections import Counter

import pytest

from aidoffice.errors import UserError
from aidoffice.services.demo import generate_demo
from aidoffice.services.overview import LIST_KINDS, list_records, stats
from tests.helpers.databases import new_office, raw_connect


def test_demo_counts_match_the_request(demo_ctx):
    s = stats(demo_ctx)
    assert s["persons"] == 2500
    assert s["households"] > 300 and s["distribution_lines"] > s["households"]
    assert s["associations"] >= 12 and sum(s["associations_by_status"].values()) == s["associations"]
    assert all(s["associations_by_status"][k] > 0 for k in ("active", "dormant", "suspended", "dissolved"))
    assert s["projects"] > 0 and s["distributions"] > 0 and s["referrals"] > 0


def test_demo_names_are_realistic(demo_ctx):
    conn = raw_connect(demo_ctx)
    try:
        rows = conn.execute("SELECT full_name, name_norm, national_id FROM persons").fetchall()
        parts = Counter(len(norm.split()) for _, norm, _ in rows)
        assert set(parts) <= {2, 3, 4, 5, 6} and parts[4] > len(rows) / 2
        typed_variants = sum(1 for full, norm, _ in rows if full != norm)
        assert typed_variants > len(rows) / 3  # hamza, taa marbuta, بن, split compounds
        ids = [nid for _, _, nid in rows if nid]
        assert all(len(nid) == 11 and nid.isdigit() for nid in ids)
        # Brothers: same father, grandfather and family, different given names.
        brothers = conn.execute(
            "SELECT COUNT(*) FROM household_members a JOIN household_members b ON a.household_id=b.household_id "
            "AND a.person_id < b.person_id AND a.relation='son' AND b.relation='son'"
        ).fetchone()[0]
        assert brothers > 50
        dates = conn.execute("SELECT MIN(distribution_date), MAX(distribution_date) FROM distributions").fetchone()
        assert dates[0] < dates[1]
        assert conn.execute("SELECT COUNT(*) FROM distribution_lines WHERE status='reversal'").fetchone()[0] >= 0
        if not conn.on_server:  # the server checks foreign keys on every write, and has no PRAGMA
            assert conn.execute("PRAGMA foreign_key_check").fetchall() == []
        assert conn.execute("SELECT count(*) FROM persons WHERE birth_date > CURRENT_DATE").fetchone()[0] == 0
    finally:
        conn.close()


def test_demo_refuses_a_database_with_data(demo_ctx):
    with pytest.raises(UserError, match="ملف جديد"):
        generate_demo(demo_ctx, 10)


def test_demo_cancel_leaves_nothing(tmp_path):
    ctx = new_office(tmp_path / "c.sqlite3")
    try:
        with pytest.raises(UserError, match="أُلغي"):
            generate_demo(ctx, 50_000, should_cancel=lambda: True)
        assert stats(ctx)["persons"] == 0 and stats(ctx)["associations"] == 0
    finally:
        ctx.close()


@pytest.mark.parametrize("kind", LIST_KINDS)
def test_list_records_have_id_and_readable_name(demo_ctx, kind):
    rows = list_records(demo_ctx, kind, limit=7)
    assert 0 < len(rows) <= 7
    for row in rows:
        assert row["id"]
        assert (row.get("name") or row.get("title") or "").strip()
