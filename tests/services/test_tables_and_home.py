"""Paged tables (filter, sort and page in SQL), the home page's work lists, and the aid-type windows."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from aidoffice.domain.aid_rules import is_dormant
from aidoffice.errors import UserError
from aidoffice.services.associations import AssociationInput, record_compliance, register_association
from aidoffice.services.home import todays_work
from aidoffice.services.office import list_aid_types, set_aid_window
from aidoffice.services.tables import TABLES, TableQuery, count_rows, filter_choices, page_rows
from aidoffice.store import models as m


def test_every_table_pages_through_all_its_rows_without_repeats(demo_ctx):
    for kind in TABLES:
        if kind == "lines":
            continue
        total = count_rows(demo_ctx, kind, TableQuery())
        assert total > 0, kind
        seen = []
        for offset in range(0, total, 97):
            seen.extend(r.id for r in page_rows(demo_ctx, kind, TableQuery(), offset, 97))
        assert len(seen) == total == len(set(seen)), kind
        assert all(len(r.values) == len(TABLES[kind].columns) for r in page_rows(demo_ctx, kind, TableQuery(), 0, 5))


def test_sorting_is_done_by_the_database_in_both_directions(demo_ctx):
    up = page_rows(demo_ctx, "persons", TableQuery(sort="birth_year"), 0, 100_000)
    years = [r.values[4] for r in up if r.values[4] is not None]
    assert years == sorted(years)
    down = page_rows(demo_ctx, "persons", TableQuery(sort="birth_year", descending=True), 0, 50)
    assert down[0].values[4] == max(years)
    names = [r.values[0] for r in page_rows(demo_ctx, "associations", TableQuery(sort="name"), 0, 500)]
    assert names == sorted(names)


def test_search_text_and_filters(demo_ctx):
    first = page_rows(demo_ctx, "persons", TableQuery(), 0, 1)[0]
    family = first.values[0].split()[-1]
    found = page_rows(demo_ctx, "persons", TableQuery(text=family), 0, 5000)
    assert found and all(family.replace("ة", "ه") in r.values[0].replace("ة", "ه") for r in found)
    assert count_rows(demo_ctx, "persons", TableQuery(text=family)) == len(found)
    with_id = next(r for r in page_rows(demo_ctx, "persons", TableQuery(), 0, 500) if r.values[1])
    arabic_digits = with_id.values[1][:6].translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert with_id.id in {r.id for r in page_rows(demo_ctx, "persons", TableQuery(text=arabic_digits), 0, 500)}
    women = page_rows(demo_ctx, "persons", TableQuery(filters={"sex": "F"}), 0, 300)
    assert women and {r.values[3] for r in women} == {"أنثى"}
    district, name = filter_choices(demo_ctx, "persons")["district"][0]
    in_district = page_rows(demo_ctx, "persons", TableQuery(filters={"district": district}), 0, 300)
    assert {r.values[5] for r in in_district} <= {name}
    assert count_rows(demo_ctx, "persons", TableQuery(text="محمد"), cap=10) == 11  # "more than 10"
    assert count_rows(demo_ctx, "persons", TableQuery(), cap=10) == count_rows(demo_ctx, "persons", TableQuery())


def test_dormant_flag_and_filter_follow_the_domain_rule(ctx):
    today = ctx.today()
    old = register_association(
        ctx, AssociationInput(name="جمعية قديمة", registration_number="1/2001", proclamation_date="2001-01-01")
    )
    young = register_association(
        ctx, AssociationInput(name="جمعية حديثة", registration_number="2/2026", proclamation_date=today)
    )
    reported = register_association(
        ctx, AssociationInput(name="جمعية مواظبة", registration_number="3/2002", proclamation_date="2002-01-01")
    )
    record_compliance(ctx, reported.id, year=today.year, admin_report=True, financial_report=True, submitted_on=today)
    rows = {r.values[0]: r for r in page_rows(ctx, "associations", TableQuery(), 0, 10)}
    assert "dormant" in rows["جمعية قديمة"].flags
    assert not rows["جمعية حديثة"].flags and not rows["جمعية مواظبة"].flags
    assert is_dormant(None, date(2001, 1, 1), today) and not is_dormant(today, date(2002, 1, 1), today)
    dormant = page_rows(ctx, "associations", TableQuery(filters={"activity": "dormant"}), 0, 10)
    assert [r.id for r in dormant] == [old.id]
    assert young.id not in {r.id for r in dormant}


def test_home_lists_todays_work(demo_ctx):
    work = {w.key: w for w in todays_work(demo_ctx)}
    assert set(work) == {"overdue_referrals", "pending_referrals", "dormant", "licences", "approvals"}
    with demo_ctx.uow() as uow:
        drafts = uow.repo.count(m.Distribution, status="draft")
        overdue = len(uow.repo.overdue_referrals(demo_ctx.today()))
    assert work["approvals"].count == drafts and work["overdue_referrals"].count == overdue
    assert all(len(w.rows) == min(w.count, 8) for w in work.values())
    soon = demo_ctx.today() + timedelta(days=60)
    assert all(r.values[5] is not None and r.values[5] <= soon for r in work["licences"].rows)


def test_aid_windows_are_configurable(ctx):
    kinds = {t.code: t for t in list_aid_types(ctx)}
    assert kinds["food_basket"].window == "month" and kinds["ramadan_basket"].window == "ramadan"
    changed = set_aid_window(ctx, "food_basket", "days", "٤٥")
    assert (changed.window, changed.window_days) == ("days", 45)
    for window, days in (("days", "0"), ("days", "عشرة"), ("weekly", None)):
        with pytest.raises(UserError):
            set_aid_window(ctx, "food_basket", window, days)
    assert set_aid_window(ctx, "food_basket", "month").window_days is None
