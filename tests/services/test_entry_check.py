"""The check on entry: a likely duplicate is refused until confirmed «شخص آخر», the decision is remembered, and the
command line follows the same rule."""

from __future__ import annotations

import json
import logging
from datetime import date

import pytest

from aidoffice.cli import main
from aidoffice.domain.persons import PersonInput
from aidoffice.errors import LikelyDuplicateError, UserError
from aidoffice.logs import setup_logging
from aidoffice.services.aid import (
    DistributionInput,
    ProjectInput,
    add_distribution_line,
    create_distribution,
    create_project,
    mark_line,
)
from aidoffice.services.associations import AssociationInput, register_association
from aidoffice.services.duplicates import check_person, scan_registry
from aidoffice.services.persons import add_person, create_household, get_person, search_persons, update_person
from aidoffice.services.review import queue_size, review_queue
from tests.helpers.databases import address, count_persons, raw_connect

AMNA = dict(full_name="آمنة أحمد حسين الجابري", sex="أنثى", birth_year="1960", district="المكلا", phone="777123456")
AMNA_AGAIN = dict(AMNA, full_name="امنه احمد حسين الجابري")  # as another clerk typed her, without hamza or ta marbuta
SALEM = dict(full_name="سالم عوض سعيد بامطرف", national_id="01010012345", sex="ذكر", birth_year="1980")


def _pairs(ctx) -> list[tuple]:
    conn = raw_connect(ctx)
    try:
        return conn.execute("SELECT person_a_id, person_b_id, status, decided_by FROM duplicate_pairs").fetchall()
    finally:
        conn.close()


def test_the_same_woman_typed_again_is_refused_until_confirmed_someone_else(ctx):
    amna = add_person(ctx, PersonInput(**AMNA))
    with pytest.raises(LikelyDuplicateError) as refused:
        add_person(ctx, PersonInput(**AMNA_AGAIN))
    error = refused.value
    assert isinstance(error, UserError)
    assert [c.person_id for c in error.candidates if c.decision == "likely"] == [amna.id]
    candidate = error.candidates[0]
    assert (candidate.full_name, candidate.birth_year, candidate.sex, candidate.district) == (
        "آمنة أحمد حسين الجابري",
        1960,
        "F",
        "المكلا",
    )
    assert candidate.reasons  # why she is likely the same: shown to the clerk
    # The message is what logs and crash reports may carry: it names no one; the candidates ride on the attribute.
    assert "«هو نفسه»" in str(error) and "«شخص آخر»" in str(error)
    assert "آمنة" not in str(error) and "الجابري" not in str(error) and amna.id not in str(error)
    assert count_persons(ctx) == 1

    other = add_person(ctx, PersonInput(**AMNA_AGAIN), distinct_from=[amna.id])
    assert count_persons(ctx) == 2
    a, b = sorted((amna.id, other.id))
    assert _pairs(ctx) == [(a, b, "distinct", "tester")]
    # Remembered: neither the scan nor the queue brings the pair back, and an edit of either is not stopped by it.
    scan_registry(ctx)
    assert review_queue(ctx) == [] and queue_size(ctx) == {"likely": 0, "review": 0}
    assert check_person(ctx, PersonInput(**AMNA_AGAIN), person_id=other.id) == []
    update_person(ctx, other.id, PersonInput(**{**AMNA_AGAIN, "phone": "733000111"}))
    assert get_person(ctx, other.id).phone == "733000111"


def test_same_id_and_name_is_likely_and_a_brother_is_not_blocked(ctx):
    salem = add_person(ctx, PersonInput(**SALEM))
    with pytest.raises(LikelyDuplicateError) as refused:
        add_person(ctx, PersonInput(**{**SALEM, "full_name": "سالم بن عوض سعيد با مطرف", "national_id": "٠١٠١٠٠١٢٣٤٥"}))
    assert [c.person_id for c in refused.value.candidates] == [salem.id]
    assert refused.value.candidates[0].decision == "likely"
    # His brother: same father, grandfather and family, another given name, another ID. Saved without a question.
    brother = add_person(
        ctx, PersonInput(full_name="أحمد عوض سعيد بامطرف", national_id="01010067890", sex="ذكر", birth_year="1983")
    )
    assert get_person(ctx, brother.id).full_name == "أحمد عوض سعيد بامطرف"
    assert _pairs(ctx) == []  # nothing was decided, so nothing is remembered


def test_a_review_level_candidate_is_shown_but_does_not_block(ctx):
    add_person(ctx, PersonInput(**{**AMNA, "district": "", "phone": ""}))
    typed = PersonInput(**{**AMNA_AGAIN, "district": "", "phone": ""})
    found = check_person(ctx, typed)
    if any(c.decision == "likely" for c in found):  # the engine may be tuned stricter: then this case is no longer
        pytest.skip("the engine calls this case likely; covered by the refusal test")  # a review-level example
    assert found and all(c.decision == "review" for c in found)
    add_person(ctx, typed)
    assert count_persons(ctx) == 2


def test_candidates_carry_the_latest_aid_newest_first(ctx):
    amna = add_person(ctx, PersonInput(**AMNA))
    household = create_household(ctx, amna.id, size=4)
    assoc = register_association(ctx, AssociationInput(name="جمعية الإحسان", registration_number="55/2015"))
    project = create_project(ctx, ProjectInput(association_id=assoc.id, title="سلال", aid_type="food_basket"))
    for day in (date(2026, 1, 10), date(2026, 3, 5), date(2026, 5, 30), date(2026, 2, 1)):
        dist = create_distribution(ctx, DistributionInput(project_id=project.id, distribution_date=day))
        line = add_distribution_line(ctx, dist.id, household_id=household.id, override_reason="اختبار")
        if day.month == 5:
            mark_line(ctx, line.id, received=True)
    candidate = check_person(ctx, PersonInput(**AMNA_AGAIN))[0]
    assert len(candidate.aid) == 3
    assert candidate.aid[0] == "سلة غذائية — جمعية الإحسان — 30/05/2026 — استلم"
    assert [line.split(" — ")[2] for line in candidate.aid] == ["30/05/2026", "05/03/2026", "01/02/2026"]


def test_an_edit_that_makes_a_likely_duplicate_is_refused_until_confirmed(ctx):
    salem = add_person(ctx, PersonInput(**SALEM))
    other = add_person(ctx, PersonInput(full_name="خالد محمد علي العمودي", sex="ذكر", birth_year="1975"))
    # An edit that leaves the identifying fields alone is not checked again.
    update_person(
        ctx, other.id, PersonInput(full_name="خالد محمد علي العمودي", sex="ذكر", birth_year="1975", notes="x")
    )
    # Typing Salem's ID and name over this record would make a second Salem: refused, nothing changed.
    with pytest.raises(LikelyDuplicateError) as refused:
        update_person(ctx, other.id, PersonInput(**SALEM))
    assert [c.person_id for c in refused.value.candidates] == [salem.id]
    assert get_person(ctx, other.id).full_name == "خالد محمد علي العمودي"
    # The record itself is never its own candidate.
    assert salem.id not in [c.person_id for c in check_person(ctx, PersonInput(**SALEM), person_id=salem.id)]
    # Confirmed someone else: saved, and remembered, so a later edit of either is not stopped by the other.
    update_person(ctx, other.id, PersonInput(**{**SALEM, "birth_year": "1981"}), distinct_from=[salem.id])
    assert get_person(ctx, other.id).birth_year == 1981
    update_person(ctx, other.id, PersonInput(**SALEM))
    update_person(ctx, salem.id, PersonInput(**{**SALEM, "phone": "777123456"}))
    a, b = sorted((salem.id, other.id))
    assert _pairs(ctx) == [(a, b, "distinct", "tester")]


def test_pick_lists_tell_namesakes_apart(ctx):
    add_person(ctx, PersonInput(**AMNA))
    add_person(ctx, PersonInput(**{**AMNA, "birth_year": "1994", "district": "الشحر"}))
    found = search_persons(ctx, "آمنة الجابري")
    assert sorted(p.birth_year for p in found) == [1960, 1994]


def test_command_line_refuses_with_exit_2_then_saves_when_confirmed(ctx, capsys):
    db = address(ctx)
    log_file = setup_logging(logging.DEBUG)
    amna = add_person(ctx, PersonInput(**AMNA))
    args = ["person", "add", "--db", db, "--name", AMNA_AGAIN["full_name"], "--sex", "أنثى"]
    args += ["--birth-year", "1960", "--district", "المكلا", "--phone", "777123456"]
    assert main(args) == 2
    out, err = capsys.readouterr()
    assert "مسجّل من قبل" in err and "الجابري" not in err
    assert amna.id in out and "آمنة أحمد حسين الجابري" in out and "تكرار مرجح" in out
    assert main([*args, "--json"]) == 2
    listed = json.loads(capsys.readouterr().out)
    assert listed["saved"] is False and listed["candidates"][0]["id"] == amna.id
    assert listed["candidates"][0]["reasons"]
    assert count_persons(ctx) == 1

    assert main([*args, "--distinct-from", amna.id, "--json"]) == 0
    saved = json.loads(capsys.readouterr().out)
    assert saved["saved"] is True and get_person(ctx, saved["id"]).full_name == AMNA_AGAIN["full_name"]
    assert count_persons(ctx) == 2
    scan_registry(ctx)
    assert review_queue(ctx) == []
    for handler in logging.getLogger("aidoffice").handlers:
        handler.flush()
    if log_file is not None and log_file.exists():
        logged = log_file.read_text(encoding="utf-8")
        assert "الجابري" not in logged and "الجابرى" not in logged
