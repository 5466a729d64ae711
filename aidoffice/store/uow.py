"""Unit of work: `with uow:` opens a session, `uow.commit()` commits, leaving the block rolls back. Inside the block
the aggregates' repositories (store/repositories) are its attributes: uow.persons, uow.aid, uow.settings…"""

from __future__ import annotations

import time
from collections.abc import Callable

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from aidoffice.errors import UserError
from aidoffice.store import sync
from aidoffice.store.engine import Database, constraint_kind, raise_storage_error, write_lock_first
from aidoffice.store.repositories import (
    AidRepository,
    AssociationsRepository,
    AuditTrailRepository,
    DuplicatesRepository,
    HouseholdsRepository,
    ListingsRepository,
    PersonsRepository,
    Records,
    ReferencesRepository,
    ReferralsRepository,
    Repository,
    RequestsRepository,
    SettingsRepository,
)

__all__ = ["Repository", "UnitOfWork"]


def wall_clock() -> float:
    """time.time() looked up at each call (a test that moves the system clock moves this one too)."""
    return time.time()


class UnitOfWork:
    """One transaction. Known database failures leave it as StorageError, broken constraints as a UserError;
    anything else is a bug and propagates."""

    def __init__(
        self, db: Database, actor: str = "", *, write_first: bool = False, clock: Callable[[], float] | None = None
    ) -> None:
        self._db = db
        self.actor = actor
        self._write_first = write_first
        self._clock = clock or wall_clock  # wall time in seconds: the sync stamp of what this unit commits
        self.session: Session | None = None
        self.records: Records  # any model: add, get, first, all, count, delete, locks, bulk inserts
        self.settings: SettingsRepository
        self.references: ReferencesRepository
        self.associations: AssociationsRepository
        self.persons: PersonsRepository
        self.households: HouseholdsRepository
        self.aid: AidRepository
        self.referrals: ReferralsRepository
        self.duplicates: DuplicatesRepository
        self.requests: RequestsRepository
        self.audit_trail: AuditTrailRepository
        self.listings: ListingsRepository
        self.repo: Repository  # all of the above on one object, for the callers not yet moved to the aggregates

    def __enter__(self) -> UnitOfWork:
        self.session = self._db.sessions()
        self.session.info["actor"] = self.actor  # the audit trail's "who"
        self._open_repositories(self.session)
        if self._write_first:
            # SQLite: BEGIN IMMEDIATE now, so every check this unit makes is read under the write lock (a deferred
            # unit that read first cannot take it later without failing); nothing on PostgreSQL (see store/locks).
            try:
                with write_lock_first():
                    self.session.connection()
            except DBAPIError as exc:  # another program held the write lock past the busy timeout
                session, self.session = self.session, None
                session.close()
                raise_storage_error(exc)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.session is not None
        # close() rolls back what was not committed and detaches the objects without expiring them, so records
        # built from them after the block still read the loaded values.
        session, self.session = self.session, None
        try:
            session.close()
        except DBAPIError as closing:
            # The server dropped the connection under the transaction (a restart, a cable pulled): it rolls back by
            # itself and the pool discards the connection. The failure the clerk reads is the first one.
            raise_storage_error(exc if isinstance(exc, DBAPIError) else closing)
        if isinstance(exc, DBAPIError):
            raise_storage_error(exc)

    def _open_repositories(self, session: Session) -> None:
        self.records = Records(session)
        self.settings = SettingsRepository(session)
        self.references = ReferencesRepository(session)
        self.associations = AssociationsRepository(session)
        self.persons = PersonsRepository(session)
        self.households = HouseholdsRepository(session)
        self.aid = AidRepository(session)
        self.referrals = ReferralsRepository(session)
        self.duplicates = DuplicatesRepository(session)
        self.requests = RequestsRepository(session)
        self.audit_trail = AuditTrailRepository(session)
        self.listings = ListingsRepository(session)
        self.repo = Repository(session)

    def flush(self) -> None:
        assert self.session is not None
        self._guard(self.session.flush)

    def commit(self) -> None:
        assert self.session is not None
        session = self.session

        def stamp_and_commit() -> None:
            session.flush()
            sync.stamp_pending(session, int(self._clock() * 1000))
            session.commit()
            session.info.pop("sync_fresh", None)  # "new in this transaction" ends with it

        self._guard(stamp_and_commit)

    @staticmethod
    def _guard(action) -> None:
        try:
            action()
        except StaleDataError as exc:
            raise UserError("عدّل شخص آخر هذا السجل في الوقت نفسه. أعد فتحه ثم أعد المحاولة.") from exc
        except IntegrityError as exc:
            kind = constraint_kind(exc)  # by SQLSTATE or SQLite's result code, never by the message's words
            if kind == "append_only":
                raise UserError("التوزيعات وكشوفها لا تُحذف ولا تُعدَّل: صحّح السطر بـ«إلغاء سطر» مع السبب.") from exc
            if kind == "unique":
                raise UserError("يوجد سجل آخر بنفس القيمة الفريدة (مثل رقم الإشهار).") from exc
            if kind == "foreign_key":
                raise UserError("بعض السجلات تشير إلى سجلات غير موجودة في قاعدة البيانات: لم يُحفظ شيء.") from exc
            raise
        except DBAPIError as exc:
            raise_storage_error(exc)
            raise
