"""The distribution round as a working sheet: many lines marked at once, and a scanned beneficiary card."""

from __future__ import annotations

from datetime import date

import pytest

from aidoffice.domain.cards import card_payload
from aidoffice.domain.persons import PersonInput
from aidoffice.errors import UserError
from aidoffice.services.aid import (
    CardRefusedError,
    DistributionInput,
    ProjectInput,
    add_distribution_line,
    create_distribution,
    create_project,
    mark_by_card,
    mark_lines,
    reverse_line,
)
from aidoffice.services.associations import AssociationInput, register_association
from aidoffice.services.persons import add_household_member, add_person, create_household, get_person
from aidoffice.services.reports import _card_key
from aidoffice.services.tables import TableQuery, page_rows


def _round(ctx, title="كسوة الشتاء"):
    assoc = register_association(ctx, AssociationInput(name="جمعية النور", registration_number="77/2019"))
    project = create_project(
        ctx, ProjectInput(association_id=assoc.id, title=title, aid_type="winter_kit", start_date="01/01/2026")
    )
    return create_distribution(
        ctx, DistributionInput(project_id=project.id, distribution_date=date(2026, 11, 20), quantity_per_household="1")
    )


GIVEN = ("سالم", "عوض", "فرج", "مبارك", "سعيد", "صالح")
FAMILIES = ("باوزير", "العمودي", "بن بريك", "الكثيري", "باعباد", "الحامد")


def _households(ctx, n):
    """n heads of household, each of another family (two brothers of one family would be asked about on entry)."""
    heads = []
    for i in range(n):
        name = f"{GIVEN[i]} أحمد علي {FAMILIES[i]}"
        head = add_person(ctx, PersonInput(full_name=name, birth_year=str(1960 + 7 * i)))
        create_household(ctx, head.id)
        heads.append(head)
    return heads


def _statuses(ctx, distribution_id):
    rows = page_rows(ctx, "lines", TableQuery(filters={"distribution": distribution_id}), 0, 50)
    return sorted((r.id, tuple(r.values)) for r in rows)


def test_many_lines_marked_at_once_and_the_marked_ones_left_alone(ctx):
    dist = _round(ctx)
    heads = _households(ctx, 5)
    lines = [add_distribution_line(ctx, dist.id, person_id=h.id) for h in heads]
    first = mark_lines(ctx, dist.id, [lines[0].id], received=False)
    assert (first.marked, first.already_marked) == (1, 0)
    reverse_line(ctx, lines[1].id, reason="أُدرج خطأً")
    result = mark_lines(ctx, dist.id, [line.id for line in lines], received=True)
    assert (result.marked, result.already_marked, result.reversed) == (3, 1, 1)
    assert "3" in result.message(True) and "إلغاء سطر" in result.message(True)
    again = mark_lines(ctx, dist.id, [line.id for line in lines[2:]], received=True)
    assert (again.marked, again.already_marked) == (0, 3)


def test_a_line_of_another_round_refuses_the_whole_request(ctx):
    dist = _round(ctx)
    other = _round_other(ctx)
    heads = _households(ctx, 2)
    mine = add_distribution_line(ctx, dist.id, person_id=heads[0].id)
    theirs = add_distribution_line(ctx, other.id, person_id=heads[1].id)
    with pytest.raises(UserError, match="ليس في هذا الكشف"):
        mark_lines(ctx, dist.id, [mine.id, theirs.id], received=True)
    assert mark_lines(ctx, dist.id, [mine.id], received=True).marked == 1  # the refused request changed nothing
    with pytest.raises(UserError, match="اختر"):
        mark_lines(ctx, dist.id, [], received=True)


def _round_other(ctx):
    from aidoffice.services.associations import find_association

    assoc = find_association(ctx, "77/2019")
    project = create_project(
        ctx, ProjectInput(association_id=assoc.id, title="حقيبة مدرسية", aid_type="school_kit", start_date="01/01/2026")
    )
    return create_distribution(
        ctx, DistributionInput(project_id=project.id, distribution_date=date(2026, 11, 21), quantity_per_household="1")
    )


def test_a_scanned_card_marks_its_line_and_a_member_card_marks_the_household(ctx):
    dist = _round(ctx)
    heads = _households(ctx, 2)
    wife = add_person(ctx, PersonInput(full_name="مريم سالم عمر باحميد", sex="F"))
    add_household_member(ctx, get_person(ctx, heads[0].id).household_id, wife.id, "spouse")
    line = add_distribution_line(ctx, dist.id, person_id=heads[0].id)
    add_distribution_line(ctx, dist.id, person_id=heads[1].id)
    key = _card_key(ctx)
    marked = mark_by_card(ctx, dist.id, card_payload(wife.id, key) + "\n")
    assert marked.id == line.id and marked.status == "received"
    before = _statuses(ctx, dist.id)
    with pytest.raises(CardRefusedError, match="من قبل"):
        mark_by_card(ctx, dist.id, card_payload(heads[0].id, key))
    assert _statuses(ctx, dist.id) == before  # never a second line


@pytest.mark.parametrize(
    "scanned",
    [
        "garbage typed by a scanner ١٢٣",
        "",
        "AIDOFFICE-CARD:1:00000000-0000-0000-0000-000000000000:000000000000",
    ],
)
def test_garbage_or_a_forged_card_is_refused_and_adds_nothing(ctx, scanned):
    dist = _round(ctx)
    heads = _households(ctx, 1)
    add_distribution_line(ctx, dist.id, person_id=heads[0].id)
    before = _statuses(ctx, dist.id)
    with pytest.raises(CardRefusedError, match="مرفوضة"):
        mark_by_card(ctx, dist.id, scanned)
    assert _statuses(ctx, dist.id) == before


def test_a_card_of_another_office_or_of_someone_not_listed_is_refused(ctx):
    dist = _round(ctx)
    heads = _households(ctx, 2)
    add_distribution_line(ctx, dist.id, person_id=heads[0].id)
    other_office_key = b"\x01" * 32
    with pytest.raises(CardRefusedError, match="مرفوضة"):
        mark_by_card(ctx, dist.id, card_payload(heads[0].id, other_office_key))
    with pytest.raises(CardRefusedError, match="ليس في هذا الكشف"):
        mark_by_card(ctx, dist.id, card_payload(heads[1].id, _card_key(ctx)))


def test_indicators_count_approved_rounds_only_as_the_monthly_report_does(ctx):
    from aidoffice.services.aid import approve_distribution
    from aidoffice.services.indicators import IndicatorFilter, indicators

    dist = _round(ctx)
    heads = _households(ctx, 2)
    lines = [add_distribution_line(ctx, dist.id, person_id=h.id) for h in heads]
    mark_lines(ctx, dist.id, [line.id for line in lines], received=True)
    month = IndicatorFilter("2026-11", "2026-11")
    assert indicators(ctx, month).households_reached == 0  # a draft is a plan: counted nowhere
    approve_distribution(ctx, dist.id)
    figures = indicators(ctx, month)
    assert (figures.households_reached, figures.lines_received, figures.distributions) == (2, 2, 1)
