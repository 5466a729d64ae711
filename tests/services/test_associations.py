"""Registering associations, changing their status with a dated reason, board, visits and compliance."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from aidoffice.errors import NotFoundError, UserError, ValidationError
from aidoffice.services.associations import (
    AssociationInput,
    add_board_member,
    add_field_visit,
    change_association_status,
    find_association,
    get_association,
    record_compliance,
    register_association,
    update_association,
)


def _register(ctx, **changes):
    data = {
        "name": "جمعية الخير الخيرية بالمكلا",
        "registration_number": "١٢٣/٢٠١٠",
        "proclamation_date": "01/03/2010",
        "district": "المكلا",
        "districts": ("المكلا", "الشحر"),
        "fields": ("relief", "orphans"),
        "licence_expiry": "31/12/2027",
        "phone": "05 123456",
        **changes,
    }
    return register_association(ctx, AssociationInput(**data))


def test_register_association_keeps_everything(ctx):
    a = _register(ctx)
    assert a.registration_number == "123/2010"
    assert a.status == "active" and a.status_since == date(2010, 3, 1)
    assert a.district == "المكلا"
    assert set(a.districts) == {"المكلا", "الشحر"}
    assert set(a.fields) == {"الإغاثة", "رعاية الأيتام"}
    assert [(h.status_from, h.status_to, h.reason) for h in a.status_history] == [(None, "active", "الإشهار")]
    again = get_association(ctx, a.id)
    assert again == a


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": " "}, "name"),
        ({"registration_number": ""}, "registration_number"),
        ({"proclamation_date": "30/02/2010"}, "proclamation_date"),
        ({"district": "صنعاء"}, "district"),
        ({"fields": ("astrology",)}, "fields"),
        ({"legal_form": "شركة"}, "legal_form"),
        ({"proclamation_date": "01/01/2099"}, "proclamation_date"),
    ],
)
def test_register_refuses_bad_input_naming_the_field(ctx, changes, field):
    with pytest.raises(ValidationError) as err:
        _register(ctx, **changes)
    assert field in err.value.problems


def test_registration_number_is_unique(ctx):
    _register(ctx)
    with pytest.raises(ValidationError) as err:
        _register(ctx, name="جمعية أخرى")
    assert "مسجل لجمعية أخرى" in err.value.problems["registration_number"]


def test_status_change_keeps_dated_history(ctx):
    a = _register(ctx)
    when = date.today() - timedelta(days=3)
    changed = change_association_status(ctx, a.id, "dormant", reason="لا نشاط منذ عام", changed_on=when)
    assert changed.status == "dormant" and changed.status_since == when
    assert changed.status_history[-1].status_from == "active"
    assert changed.status_history[-1].reason == "لا نشاط منذ عام"
    changed = change_association_status(ctx, a.id, "نشطة", reason="تجديد مجلس الإدارة")
    assert [h.status_to for h in changed.status_history] == ["active", "dormant", "active"]


def test_status_change_needs_reason_and_valid_target(ctx):
    a = _register(ctx)
    with pytest.raises(ValidationError) as err:
        change_association_status(ctx, a.id, "dormant", reason=" ")
    assert "reason" in err.value.problems
    with pytest.raises(UserError, match="بالفعل"):
        change_association_status(ctx, a.id, "active", reason="x")
    change_association_status(ctx, a.id, "dissolved", reason="قرار الجمعية العمومية")
    with pytest.raises(UserError, match="منحلة"):
        change_association_status(ctx, a.id, "active", reason="إعادة")


def test_board_visits_and_compliance(ctx):
    a = _register(ctx)
    add_board_member(ctx, a.id, "سالم عوض باعباد", "chair", "777123456")
    add_board_member(ctx, a.id, "فاطمة علي", "عضو")
    with pytest.raises(UserError, match="رئيس"):
        add_board_member(ctx, a.id, "أحمد", "chair")
    add_field_visit(
        ctx,
        a.id,
        visit_date="10/10/2025",
        visitors="لجنة المكتب",
        findings="السجلات منظمة",
        rating=4,
        follow_up="تجديد الترخيص",
        follow_up_due="10/12/2025",
    )
    with pytest.raises(ValidationError) as err:
        add_field_visit(ctx, a.id, visit_date="", visitors="", rating=9)
    assert set(err.value.problems) == {"visit_date", "visitors", "rating"}
    record_compliance(ctx, a.id, 2024, admin_report=True, financial_report=False)
    record_compliance(ctx, a.id, 2024, admin_report=True, financial_report=True, submitted_on="15/03/2025")
    full = get_association(ctx, a.id)
    assert [(b.full_name, b.role) for b in full.board] == [("سالم عوض باعباد", "chair"), ("فاطمة علي", "member")]
    assert full.visits[0].rating == 4 and full.visits[0].follow_up_due == date(2025, 12, 10)
    assert [(c.year, c.financial_report) for c in full.compliance] == [(2024, True)]


def test_find_association_by_number_or_name(ctx):
    a = _register(ctx)
    assert find_association(ctx, "123/2010").id == a.id
    assert find_association(ctx, a.id).id == a.id
    assert find_association(ctx, "جمعيه الخير الخيريه بالمكلا").id == a.id
    with pytest.raises(NotFoundError):
        find_association(ctx, "جمعية لا توجد")


def test_update_association(ctx):
    a = _register(ctx)
    b = update_association(
        ctx, a.id, AssociationInput(name="جمعية الخير", registration_number="123/2010", fields=("health",))
    )
    assert b.name == "جمعية الخير" and b.fields == ("الصحة",) and b.version == a.version + 1
