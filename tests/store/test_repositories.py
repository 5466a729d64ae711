"""The aggregates' repositories on the unit of work, the uow.repo facade composed of them, and the injected clock."""

from __future__ import annotations

import inspect

from aidoffice.domain.sync import hlc_ms
from aidoffice.services.associations import AssociationInput, register_association, update_association
from aidoffice.store import models as m
from aidoffice.store import sync as store_sync
from aidoffice.store.repositories import Records, Repository
from aidoffice.store.uow import UnitOfWork

AGGREGATES = [base for base in Repository.__mro__ if issubclass(base, Records) and base not in (Repository, Records)]


def _own_methods(cls: type) -> set[str]:
    return {name for name, value in vars(cls).items() if inspect.isfunction(value) and name != "__init__"}


def test_the_facade_keeps_every_method_of_every_aggregate():
    # Two aggregates defining the same name would leave uow.repo with only one of them, silently.
    seen: dict[str, str] = {name: "Records" for name in _own_methods(Records)}
    for cls in AGGREGATES:
        for name in _own_methods(cls):
            assert name not in seen, f"{cls.__name__}.{name} hides {seen[name]}.{name} in uow.repo"
            seen[name] = cls.__name__
            assert getattr(Repository, name) is vars(cls)[name]
    assert len(AGGREGATES) == 11 and len(seen) >= 56  # the former Repository's 56 methods kept; aggregates add more


def test_the_unit_of_work_gives_each_aggregate_on_its_one_session(ctx):
    with ctx.uow() as uow:
        repositories = {name: value for name, value in vars(uow).items() if isinstance(value, Records)}
        assert {type(r) for r in repositories.values()} >= {*AGGREGATES, Records, Repository}
        assert all(r.session is uow.session for r in repositories.values())
        district = uow.references.districts()[0]
        uow.records.add(
            ctx.stamp(
                m.Association(
                    name="جمعية النور", name_norm="جمعية النور", registration_number="R-9", district_id=district.id
                )
            )
        )
        uow.flush()  # seen by every repository of the transaction, the facade included
        found = uow.associations.association_by_reference("جمعية النور")
        assert found is not None and uow.repo.association_by_reference("جمعية النور") is found
        assert uow.references.district(district.name) is district
    with ctx.uow() as uow:  # never committed
        assert uow.associations.association_by_reference("جمعية النور") is None


def _clock_stamp(ctx) -> int:
    with ctx.uow() as uow:
        return store_sync.clock(uow.session.connection())


def test_the_commit_stamps_changes_with_the_injected_clock(ctx):
    start = 4_000_000_000.0  # 2096: later than any stamp the office has made, so the stamp is the clock's own
    ctx.clock = lambda: start
    assoc = register_association(ctx, AssociationInput(name="جمعية الأمل", registration_number="R-1"))
    first = _clock_stamp(ctx)
    assert hlc_ms(first) == start * 1000
    ctx.clock = lambda: start + 5  # five seconds on, without waiting for them
    update_association(ctx, assoc.id, AssociationInput(name="جمعية الأمل", registration_number="R-1", phone="0531"))
    assert hlc_ms(_clock_stamp(ctx)) - hlc_ms(first) == 5000
    # A unit of work made without a clock reads the real one; the office's clock never goes back (hybrid clock).
    with UnitOfWork(ctx.db, actor="tester") as uow:
        uow.records.get(m.Association, assoc.id).phone = "0532"
        uow.commit()
    assert _clock_stamp(ctx) == (hlc_ms(first) + 5000 << 16) + 1
