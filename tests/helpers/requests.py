"""Builders for the tests of requests to a supervisor: a household that already received, an open duplicate pair."""

from __future__ import annotations

from datetime import date

from aidoffice.domain.persons import PersonInput
from aidoffice.services.aid import (
    DistributionInput,
    ProjectInput,
    add_distribution_line,
    create_distribution,
    create_project,
)
from aidoffice.services.associations import AssociationInput, register_association
from aidoffice.services.duplicates import scan_registry
from aidoffice.services.persons import add_person, create_household
from aidoffice.services.records import PersonRecord
from aidoffice.services.review import ReviewPair, review_queue
from tests.helpers.legacy import entered_before_the_check


def household_that_received(ctx) -> tuple[PersonRecord, str]:
    """A household that received a food basket on 2 March, and a second round on 20 March: (head, later round)."""
    assoc = register_association(ctx, AssociationInput(name="جمعية الإحسان", registration_number="55/2015"))
    project = create_project(ctx, ProjectInput(association_id=assoc.id, title="سلال", aid_type="food_basket"))
    head = add_person(ctx, PersonInput(full_name="سالم عوض بامطرف", national_id="01010012345"))
    create_household(ctx, head.id, size=6)
    first = create_distribution(ctx, DistributionInput(project_id=project.id, distribution_date=date(2026, 3, 2)))
    add_distribution_line(ctx, first.id, person_id=head.id)
    later = create_distribution(ctx, DistributionInput(project_id=project.id, distribution_date=date(2026, 3, 20)))
    return head, later.id


def open_pair(ctx) -> ReviewPair:
    """One open pair in the review queue, as an upgraded office's registry holds them."""
    add_person(ctx, PersonInput(full_name="فاطمة علي صالح العمودي", national_id="02020012345", sex="أنثى"))
    entered_before_the_check(
        ctx, PersonInput(full_name="فاطمه علي صالح العمودي", national_id="02020012345", sex="أنثى")
    )
    scan_registry(ctx)
    return review_queue(ctx, limit=1)[0]
