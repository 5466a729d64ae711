"""Records entered before the check on entry existed: how an upgraded office's registry holds unconfirmed pairs."""

from __future__ import annotations

from aidoffice.domain.access import Permission
from aidoffice.domain.persons import PersonInput
from aidoffice.services import persons
from aidoffice.services.context import ServiceContext
from aidoffice.services.records import PersonRecord
from aidoffice.store import models as m


def entered_before_the_check(ctx: ServiceContext, data: PersonInput) -> PersonRecord:
    """A person saved as AidOffice saved one before the check on entry: validated and stored with no question about
    who else is registered. Every office that upgrades brings such records, and no one has said of them «شخص آخر»;
    the registry scan is what puts their pairs in the review queue. Tests of the queue, merges and their undo need
    exactly such open pairs (a person typed today through `add_person` is stopped, or remembered distinct)."""
    ctx.require(Permission.ENTER_DATA)
    with ctx.uow() as uow:
        person = ctx.stamp(m.Person())
        persons._apply(ctx, uow.repo, person, data)
        uow.repo.add(person)
        uow.commit()
        return persons._person_record(person, ctx.can(Permission.VIEW_SENSITIVE))
