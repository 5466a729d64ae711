"""One repository per aggregate (cosmicpython's pattern), each over the unit of work's session; `Repository` composes
them all for the callers that still reach everything through `uow.repo`."""

from __future__ import annotations

from aidoffice.store.repositories.aid import AidRepository
from aidoffice.store.repositories.associations import AssociationsRepository
from aidoffice.store.repositories.audit_trail import AuditTrailRepository
from aidoffice.store.repositories.duplicates import DuplicatesRepository
from aidoffice.store.repositories.households import HouseholdsRepository
from aidoffice.store.repositories.listings import ListingsRepository
from aidoffice.store.repositories.persons import PersonsRepository
from aidoffice.store.repositories.records import Records
from aidoffice.store.repositories.references import ReferencesRepository
from aidoffice.store.repositories.referrals import ReferralsRepository
from aidoffice.store.repositories.requests import RequestsRepository
from aidoffice.store.repositories.settings import SettingsRepository


class Repository(
    SettingsRepository,
    ReferencesRepository,
    AssociationsRepository,
    PersonsRepository,
    HouseholdsRepository,
    AidRepository,
    ReferralsRepository,
    DuplicatesRepository,
    RequestsRepository,
    AuditTrailRepository,
    ListingsRepository,
):
    """Every query of every aggregate on one object: the former single repository, kept while services move to the
    aggregate attributes of the unit of work (uow.persons, uow.aid…)."""


__all__ = [
    "AidRepository",
    "AssociationsRepository",
    "AuditTrailRepository",
    "DuplicatesRepository",
    "HouseholdsRepository",
    "ListingsRepository",
    "PersonsRepository",
    "Records",
    "ReferencesRepository",
    "ReferralsRepository",
    "Repository",
    "RequestsRepository",
    "SettingsRepository",
]
