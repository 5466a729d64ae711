"""The office profile, configurable country rules and editable geography."""

from __future__ import annotations

import pytest

from aidoffice.domain.arabic import YEMEN
from aidoffice.domain.persons import PersonInput
from aidoffice.errors import UserError, ValidationError
from aidoffice.services.associations import AssociationInput, add_contact, register_association
from aidoffice.services.office import (
    add_district,
    add_sub_district,
    get_office,
    initialise_office,
    list_geography,
    rename_district,
    set_country_rules,
)
from aidoffice.services.persons import add_person, get_person


def test_initialise_seeds_reference_and_geography_once(ctx):
    office = get_office(ctx)
    assert (office.name, office.governorate, office.office_code, office.country) == (
        "مكتب الاختبار",
        "حضرموت",
        "TST-01",
        "YE",
    )
    geo = list_geography(ctx)
    assert "المكلا" in geo["حضرموت"] and "زنجبار" in geo["أبين"]
    assert "الديس" in geo["حضرموت"]["المكلا"]
    again = initialise_office(ctx, name="مكتب المكلا")
    assert again.id == office.id and again.name == "مكتب المكلا"
    assert list_geography(ctx) == geo
    with pytest.raises(UserError):
        initialise_office(ctx, country="FR")


def test_office_configures_its_id_rules(ctx):
    with pytest.raises(ValidationError):
        add_person(ctx, PersonInput(full_name="سالم عوض بامطرف", national_id="1234567"))
    set_country_rules(ctx, {**YEMEN.to_dict(), "national_id": {"lengths": [7], "pattern": None}})
    person = add_person(ctx, PersonInput(full_name="سالم عوض بامطرف", national_id="١٢٣٤٥٦٧"))
    assert person.national_id == "1234567"
    with pytest.raises(UserError):
        set_country_rules(ctx, {"code": "YE", "phone": {"patterns": ["(unclosed"]}})


def test_geography_is_editable(ctx):
    district_id = add_district(ctx, "حضرموت", "المكلا الجديدة")
    add_sub_district(ctx, "المكلا الجديدة", "حي السلام")
    with pytest.raises(UserError, match="موجودة"):
        add_district(ctx, "حضرموت", "المكلا الجديدة")
    person = add_person(ctx, PersonInput(full_name="سالم عوض بامطرف", district="المكلا الجديدة"))
    rename_district(ctx, district_id, "المكلا الشرقية")
    assert get_person(ctx, person.id).district == "المكلا الشرقية"
    assert list_geography(ctx)["حضرموت"]["المكلا الشرقية"] == ["حي السلام"]
    with pytest.raises(UserError):
        rename_district(ctx, "لا توجد", "x")


def test_association_contacts(ctx):
    a = register_association(ctx, AssociationInput(name="جمعية الأمل", registration_number="9/2020"))
    add_contact(ctx, a.id, "سعيد باعباد", role="منسق المشاريع", phone="777123456")
    with pytest.raises(ValidationError) as err:
        add_contact(ctx, a.id, "", phone="12", email="x")
    assert set(err.value.problems) == {"name", "phone", "email"}
