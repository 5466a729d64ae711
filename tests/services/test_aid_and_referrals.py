"""Projects, distributions and append-only lines; referrals and their status history."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from aidoffice.domain.persons import PersonInput
from aidoffice.errors import UserError, ValidationError
from aidoffice.services.aid import (
    DistributionInput,
    ProjectInput,
    add_distribution_line,
    approve_distribution,
    create_distribution,
    create_project,
    mark_line,
    reverse_line,
)
from aidoffice.services.associations import AssociationInput, change_association_status, register_association
from aidoffice.services.persons import add_person, aid_history, create_household
from aidoffice.services.referrals import advance_referral, create_referral, overdue_referrals


@pytest.fixture
def setup(ctx):
    assoc = register_association(ctx, AssociationInput(name="جمعية الإحسان", registration_number="55/2015"))
    head = add_person(ctx, PersonInput(full_name="سالم عوض بامطرف"))
    household = create_household(ctx, head.id)
    return ctx, assoc, head, household


def test_project_distribution_and_lines(setup):
    ctx, assoc, head, household = setup
    project = create_project(
        ctx,
        ProjectInput(
            association_id=assoc.id,
            title="سلال رمضان",
            aid_type="food_basket",
            budget="١٢٬٥٠٠٫٥",
            currency="USD",
            start_date="01/01/2026",
        ),
    )
    assert project.budget == Decimal("12500.5")
    dist = create_distribution(
        ctx,
        DistributionInput(
            project_id=project.id,
            distribution_date=date.today(),
            site="مقر الجمعية",
            item="سلة غذائية",
            quantity_per_household="1",
        ),
    )
    assert dist.aid_type == "food_basket" and dist.status == "draft"
    line = add_distribution_line(ctx, dist.id, person_id=head.id)
    assert line.household_id == household.id and line.status == "listed"
    with pytest.raises(UserError, match="مدرجة"):
        add_distribution_line(ctx, dist.id, household_id=household.id)
    approve_distribution(ctx, dist.id)
    marked = mark_line(ctx, line.id, received=True)
    assert marked.status == "received"
    with pytest.raises(UserError, match="إلغاء سطر"):
        mark_line(ctx, line.id, received=False)
    history = aid_history(ctx, head.id)
    assert [(h.aid_type, h.association, h.status) for h in history] == [("سلة غذائية", "جمعية الإحسان", "received")]
    with pytest.raises(UserError, match="مطلوب"):
        reverse_line(ctx, line.id, reason="")
    rev = reverse_line(ctx, line.id, reason="استلام مكرر")
    assert rev.reversal_of_id == line.id and rev.status == "reversal"
    assert aid_history(ctx, head.id) == []
    with pytest.raises(UserError, match="معكوس"):
        reverse_line(ctx, line.id, reason="مرة أخرى")
    # After the reversal the household can be listed again.
    assert add_distribution_line(ctx, dist.id, household_id=household.id).status == "listed"


def test_project_validation(setup):
    ctx, assoc, _, _ = setup
    with pytest.raises(ValidationError) as err:
        create_project(
            ctx,
            ProjectInput(
                association_id=assoc.id,
                title="",
                aid_type="gold",
                budget="abc",
                currency="EUR",
                start_date="01/05/2026",
                end_date="01/01/2026",
            ),
        )
    assert set(err.value.problems) >= {"title", "aid_type", "budget", "currency", "end_date"}
    change_association_status(ctx, assoc.id, "suspended", reason="مخالفات")
    with pytest.raises(ValidationError) as err:
        create_project(ctx, ProjectInput(association_id=assoc.id, title="مشروع", aid_type="cash"))
    assert "موقوفة" in err.value.problems["association_id"]


def test_referral_lifecycle(setup):
    ctx, assoc, head, _ = setup
    old = date.today() - timedelta(days=30)
    r = create_referral(ctx, head.id, assoc.id, "علاج لمريض سرطان", referred_on=old)
    assert r.status == "sent" and r.due_on == old + timedelta(days=14)
    assert [x.id for x in overdue_referrals(ctx)] == [r.id]
    r = advance_referral(ctx, r.id, "accepted", changed_on=old + timedelta(days=2))
    r = advance_referral(ctx, r.id, "served", outcome="تم صرف العلاج")
    assert [h.status_to for h in r.history] == ["sent", "accepted", "served"]
    assert r.outcome == "تم صرف العلاج"
    assert overdue_referrals(ctx) == []
    with pytest.raises(UserError, match="لا تنتقل"):
        advance_referral(ctx, r.id, "sent")
    r2 = create_referral(ctx, head.id, assoc.id, "سلة غذائية")
    with pytest.raises(UserError, match="سبب"):
        advance_referral(ctx, r2.id, "declined")
    with pytest.raises(ValidationError):
        create_referral(ctx, head.id, assoc.id, " ", referred_on="01/01/2099")


def test_already_received_from_another_association_needs_a_written_reason(setup):
    from aidoffice.services.aid import AlreadyReceivedError, check_already_received

    ctx, assoc, head, household = setup
    other = register_association(ctx, AssociationInput(name="جمعية البر", registration_number="77/2019"))

    def round_of(association, day, aid_type="food_basket"):
        project = create_project(ctx, ProjectInput(association_id=association.id, title="سلال", aid_type=aid_type))
        return create_distribution(ctx, DistributionInput(project_id=project.id, distribution_date=day, item="سلة"))

    first = round_of(assoc, date(2026, 3, 2))
    line = add_distribution_line(ctx, first.id, household_id=household.id)
    mark_line(ctx, line.id, received=True)

    same_month = round_of(other, date(2026, 3, 25))
    period, prior = check_already_received(ctx, same_month.id, person_id=head.id)
    assert period.label == "شهر 03/2026" and [p.association for p in prior] == ["جمعية الإحسان"]
    with pytest.raises(AlreadyReceivedError) as caught:
        add_distribution_line(ctx, same_month.id, person_id=head.id)
    assert "جمعية الإحسان" in caught.value.message and "02/03/2026" in caught.value.message
    with pytest.raises(AlreadyReceivedError):
        add_distribution_line(ctx, same_month.id, household_id=household.id, override_reason="   ")
    kept = add_distribution_line(ctx, same_month.id, household_id=household.id, override_reason="أسرة نازحة جديدة")
    from aidoffice.store import models as m

    with ctx.uow() as uow:
        stored = uow.repo.get(m.DistributionLine, kept.id)
        assert (stored.override_reason, stored.overridden_by) == ("أسرة نازحة جديدة", ctx.username)

    # Next month, another aid type, or after a reversal: nothing to say.
    assert check_already_received(ctx, round_of(other, date(2026, 4, 1)).id, household_id=household.id)[1] == []
    assert check_already_received(ctx, round_of(other, date(2026, 3, 9), "cash").id, household_id=household.id)[1] == []
    reverse_line(ctx, line.id, reason="خطأ في الكشف")
    reverse_line(ctx, kept.id, reason="خطأ في الكشف")
    add_distribution_line(ctx, round_of(other, date(2026, 3, 28)).id, household_id=household.id)
    # only listed (a draft round), not received: the warning says so
    with pytest.raises(AlreadyReceivedError) as caught:
        add_distribution_line(ctx, round_of(assoc, date(2026, 3, 30)).id, household_id=household.id)
    assert "استلمت" not in caught.value.message and "مُدرجة في كشف آخر" in caught.value.message


def test_already_received_looks_through_linked_households(setup):
    from aidoffice.services.aid import AlreadyReceivedError
    from aidoffice.store import models as m

    ctx, assoc, _head, household = setup
    wife = add_person(ctx, PersonInput(full_name="فاطمة علي الكثيري"))
    second = create_household(ctx, wife.id)
    a, b = sorted((household.id, second.id))
    with ctx.uow() as uow:
        uow.repo.add(ctx.stamp(m.HouseholdLink(household_a_id=a, household_b_id=b, reason="زوجان")))
        uow.commit()
    project = create_project(ctx, ProjectInput(association_id=assoc.id, title="سلال", aid_type="food_basket"))
    dist = create_distribution(ctx, DistributionInput(project_id=project.id, distribution_date=date(2026, 5, 3)))
    add_distribution_line(ctx, dist.id, household_id=household.id)
    later = create_distribution(ctx, DistributionInput(project_id=project.id, distribution_date=date(2026, 5, 20)))
    with pytest.raises(AlreadyReceivedError):
        add_distribution_line(ctx, later.id, household_id=second.id)
