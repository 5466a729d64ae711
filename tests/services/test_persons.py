"""Persons and households: add, update, members and their relation, moving a member, aid history."""

from __future__ import annotations

import pytest

from aidoffice.domain.persons import PersonInput
from aidoffice.errors import NotFoundError, UserError, ValidationError
from aidoffice.services.persons import (
    add_household_member,
    add_person,
    create_household,
    get_household,
    get_person,
    move_household_member,
    update_person,
)


def test_add_person_stores_typed_and_normalised_forms(ctx):
    p = add_person(
        ctx,
        PersonInput(
            full_name="مُحَمَّد بن أحمد باوزير",
            national_id="٠١٠١٠٠١٢٣٤٥",
            phone="٧٧٧١٢٣٤٥٦",
            sex="ذكر",
            birth_year="١٩٨٠",
            district="المكلا",
            categories=("poorest", "ذوو الإعاقة"),
        ),
    )
    assert p.full_name == "مُحَمَّد بن أحمد باوزير"
    assert p.name_norm == "محمد احمد باوزير" and p.name_parts == ("محمد", "احمد", "باوزير")
    assert (p.national_id, p.phone, p.sex, p.birth_year, p.district) == (
        "01010012345",
        "777123456",
        "M",
        1980,
        "المكلا",
    )
    assert p.categories == ("disability", "poorest")
    assert get_person(ctx, p.id) == p


def test_invalid_person_writes_nothing(ctx):
    with pytest.raises(ValidationError) as err:
        add_person(ctx, PersonInput(full_name="محمد", district="صنعاء", categories=("unknown",)))
    assert set(err.value.problems) == {"full_name", "district", "categories"}
    with ctx.uow() as uow:
        from aidoffice.store.models import Person

        assert uow.repo.count(Person) == 0


def test_update_person_bumps_version(ctx):
    p = add_person(ctx, PersonInput(full_name="سالم عوض بامطرف"))
    q = update_person(
        ctx, p.id, PersonInput(full_name="سالم عوض بامطرف", phone="733123456"), expected_version=p.version
    )
    assert q.phone == "733123456" and q.version == p.version + 1
    with pytest.raises(NotFoundError):
        update_person(ctx, "no-such-id", PersonInput(full_name="أ ب"))


def test_household_members_and_moves(ctx):
    head = add_person(ctx, PersonInput(full_name="سالم عوض بامطرف", district="الشحر"))
    wife = add_person(ctx, PersonInput(full_name="فاطمة علي العمودي"))
    son = add_person(ctx, PersonInput(full_name="محمد سالم عوض بامطرف"))
    other_head = add_person(ctx, PersonInput(full_name="عمر سالم عوض بامطرف"))
    h = create_household(ctx, head.id, size=3, income_band="very_low", housing="rented")
    add_household_member(ctx, h.id, wife.id, "spouse")
    h = add_household_member(ctx, h.id, son.id, "ابن")
    assert [(name, rel) for _, name, rel in h.members] == [
        ("سالم عوض بامطرف", "head"),
        ("فاطمة علي العمودي", "spouse"),
        ("محمد سالم عوض بامطرف", "son"),
    ]
    with pytest.raises(UserError, match="أسرة أخرى"):
        add_household_member(ctx, h.id, son.id, "son")
    with pytest.raises(UserError, match="رب"):
        add_household_member(ctx, h.id, other_head.id, "head")
    h2 = create_household(ctx, other_head.id)
    moved = move_household_member(ctx, son.id, h2.id, "brother")
    assert {pid for pid, _, _ in moved.members} == {other_head.id, son.id}
    assert son.id not in {pid for pid, _, _ in get_household(ctx, h.id).members}
    assert get_person(ctx, son.id).household_id == h2.id
    with pytest.raises(UserError, match="رب الأسرة لا يُنقل"):
        move_household_member(ctx, head.id, h2.id, "brother")
    with pytest.raises(ValidationError):
        create_household(ctx, wife.id, size=0)
