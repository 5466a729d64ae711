"""Unit of work and repository: `with uow:` opens a session, `uow.commit()` commits, leaving the block rolls back."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, delete, func, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from aidoffice.errors import UserError
from aidoffice.store import audit, bulk, dialect, locks, matching_keys, search, sync
from aidoffice.store import models as m
from aidoffice.store.engine import Database, constraint_kind, raise_storage_error, write_lock_first

T = TypeVar("T")
# A found person's household, its size and head, loaded with the page of results in three more queries: the pick
# lists name where each person sits, and row-by-row lazy loads were two round trips a result (a server feels each).
_HOME = selectinload(m.Person.membership).selectinload(m.HouseholdMember.household).selectinload(m.Household.head)


class UnitOfWork:
    """One transaction. Known database failures leave it as StorageError, broken constraints as a UserError;
    anything else is a bug and propagates."""

    def __init__(self, db: Database, actor: str = "", *, write_first: bool = False) -> None:
        self._db = db
        self.actor = actor
        self._write_first = write_first
        self.session: Session | None = None
        self.repo: Repository

    def __enter__(self) -> UnitOfWork:
        self.session = self._db.sessions()
        self.session.info["actor"] = self.actor  # the audit trail's "who"
        self.repo = Repository(self.session)
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

    def flush(self) -> None:
        assert self.session is not None
        self._guard(self.session.flush)

    def commit(self) -> None:
        assert self.session is not None
        session = self.session

        def stamp_and_commit() -> None:
            session.flush()
            sync.stamp_pending(session, int(time.time() * 1000))
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


class Repository:
    """Every query the services need, so that only this package speaks SQL."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # --- generic --------------------------------------------------------------------------------------------
    def add(self, obj: T) -> T:
        self.session.add(obj)
        return obj

    def get(self, model: type[T], ident: str) -> T | None:
        return self.session.get(model, ident)

    def first(self, model: type[T], **where: Any) -> T | None:
        return self.session.scalars(select(model).filter_by(**where).limit(1)).first()

    def all(self, model: type[T], *, order_by=None, limit: int | None = None, **where: Any) -> list[T]:
        stmt = select(model).filter_by(**where)
        if order_by is not None:
            stmt = stmt.order_by(order_by)
        if limit is not None:
            stmt = stmt.limit(limit)
        return list(self.session.scalars(stmt))

    def count(self, model: type, **where: Any) -> int:
        return int(self.session.scalar(select(func.count()).select_from(model).filter_by(**where)) or 0)

    def count_by(self, column) -> dict[Any, int]:
        rows = self.session.execute(select(column, func.count()).group_by(column))
        return {key: int(n) for key, n in rows}

    def delete(self, obj: object) -> None:
        self.session.delete(obj)

    def lock(self, *keys: int) -> None:
        """Hold these 64-bit keys until the transaction ends (store/locks.py): a check made after it is race-free."""
        locks.lock_keys(self.session, keys)

    def lock_records(self, kind: str, idents: Iterable[str]) -> None:
        """Hold these records' locks ("household", their ids) until the transaction ends."""
        locks.lock_keys(self.session, [locks.key_for(kind, ident) for ident in idents])

    # --- office and settings --------------------------------------------------------------------------------
    def office(self) -> m.OfficeProfile | None:
        return self.session.scalars(select(m.OfficeProfile).order_by(m.OfficeProfile.created_at).limit(1)).first()

    def setting(self, key: str, default: Any = None) -> Any:
        row = self.session.get(m.Setting, key)
        return default if row is None else row.value

    def set_setting(self, key: str, value: Any) -> None:
        dialect.lock_writers(self.session.connection())  # a server: no other writer adds the key between read and add
        row = self.session.get(m.Setting, key)
        if row is None:
            self.session.add(m.Setting(key=key, value=value))
        else:
            row.value = value

    # --- geography and reference lists ----------------------------------------------------------------------
    def district(self, ref: str) -> m.District | None:
        """A district by its id or by its name as typed (surrounding spaces ignored)."""
        return self.session.get(m.District, ref) or self.district_by_name(ref.strip())

    def district_by_name(self, name: str) -> m.District | None:
        return self.session.scalars(select(m.District).where(m.District.name == name).limit(1)).first()

    def districts(self) -> list[m.District]:
        return list(self.session.scalars(select(m.District).order_by(m.District.name)))

    def by_codes(self, model: type[T], codes: Iterable[str]) -> list[T]:
        codes = list(codes)
        if not codes:
            return []
        return list(self.session.scalars(select(model).where(model.code.in_(codes))))

    def code_map(self, model: type) -> dict[str, str]:
        """code → id for a reference list."""
        return {code: ident for code, ident in self.session.execute(select(model.code, model.id))}

    # --- associations ---------------------------------------------------------------------------------------
    def association_by_reference(self, ref: str) -> m.Association | None:
        """By id, registration number, or exact (normalised) name."""
        found = self.session.get(m.Association, ref)
        if found is not None:
            return found
        return self.session.scalars(
            select(m.Association)
            .where(or_(m.Association.registration_number == ref, m.Association.name == ref))
            .limit(1)
        ).first()

    def associations_by_name_norm(self, name_norm: str) -> list[m.Association]:
        return list(self.session.scalars(select(m.Association).where(m.Association.name_norm == name_norm)))

    def association_full(self, ident: str) -> m.Association | None:
        return self.session.scalars(
            select(m.Association)
            .where(m.Association.id == ident)
            .options(
                selectinload(m.Association.fields),
                selectinload(m.Association.districts),
                selectinload(m.Association.board),
                selectinload(m.Association.status_history),
                selectinload(m.Association.visits),
                selectinload(m.Association.compliance),
                selectinload(m.Association.contacts),
            )
        ).first()

    # --- persons --------------------------------------------------------------------------------------------
    def persons_by_search_rowids(self, rowids: Sequence[int]) -> list[tuple[m.Person, str | None]]:
        if not rowids:
            return []
        rows = self.session.execute(
            select(m.Person, m.District.name)
            .outerjoin(m.District, m.District.id == m.Person.district_id)
            .where(m.Person.search_rowid.in_(list(rowids)), m.Person.merged_into_id.is_(None))
            .options(_HOME)
        ).all()
        order = {rowid: i for i, rowid in enumerate(rowids)}
        rows.sort(key=lambda r: order[r[0].search_rowid])
        return [(p, d) for p, d in rows]

    def person_rowids_matching(self, tokens: list[tuple[str, ...]], limit: int) -> list[int]:
        return search.person_rowids_matching(self.session, tokens, limit)

    def persons_by_number_prefix(self, digits: str, phone_digits: str, limit: int) -> list[tuple[m.Person, str | None]]:
        """Persons whose national ID (or phone) starts with the given digits, using the column indexes."""

        def prefix(column, value: str):
            upper = value[:-1] + chr(ord(value[-1]) + 1)
            return and_(column >= value, column < upper)

        conditions = [prefix(m.Person.national_id, digits)]
        if phone_digits:
            conditions.append(prefix(m.Person.phone, phone_digits))
        results: list[tuple[m.Person, str | None]] = []
        seen: set[str] = set()
        for condition in conditions:
            rows = self.session.execute(
                select(m.Person, m.District.name)
                .outerjoin(m.District, m.District.id == m.Person.district_id)
                .where(condition, m.Person.merged_into_id.is_(None))
                .options(_HOME)
                .limit(limit)
            ).all()
            for person, district in rows:
                if person.id not in seen:
                    seen.add(person.id)
                    results.append((person, district))
        return results[:limit]

    def aid_history(self, household_ids: Iterable[str], person_ids: Iterable[str]) -> list[tuple]:
        """Lines (not reversed) of the persons or their households, newest first, with association and aid type."""
        who = m.DistributionLine.person_id.in_(list(person_ids))
        household_ids = [h for h in household_ids if h]
        if household_ids:
            who = or_(who, m.DistributionLine.household_id.in_(household_ids))
        reversed_ids = select(m.DistributionLine.reversal_of_id).where(m.DistributionLine.reversal_of_id.is_not(None))
        stmt = (
            select(m.DistributionLine, m.Distribution, m.AidType.name, m.Association.name, m.AidType.code)
            .join(m.Distribution, m.Distribution.id == m.DistributionLine.distribution_id)
            .join(m.AidType, m.AidType.id == m.Distribution.aid_type_id)
            .join(m.Project, m.Project.id == m.Distribution.project_id)
            .join(m.Association, m.Association.id == m.Project.association_id)
            .where(who, m.DistributionLine.status != "reversal", m.DistributionLine.id.not_in(reversed_ids))
            .order_by(m.Distribution.distribution_date.desc())
        )
        return list(self.session.execute(stmt).all())

    def household_member_ids(self, household_ids: Iterable[str]) -> list[str]:
        ids = [h for h in household_ids if h]
        if not ids:
            return []
        return list(
            self.session.scalars(select(m.HouseholdMember.person_id).where(m.HouseholdMember.household_id.in_(ids)))
        )

    def reversal_of(self, line_id: str) -> m.DistributionLine | None:
        return self.first(m.DistributionLine, reversal_of_id=line_id)

    def lines_for(self, distribution_id: str, person_id: str, household_id: str | None) -> list[m.DistributionLine]:
        """The round's lines (not reversals) of a person, or of the household they belong to."""
        who = m.DistributionLine.person_id == person_id
        if household_id:
            who = or_(who, m.DistributionLine.household_id == household_id)
        stmt = select(m.DistributionLine).where(
            m.DistributionLine.distribution_id == distribution_id, who, m.DistributionLine.status != "reversal"
        )
        return list(self.session.scalars(stmt))

    # --- referrals ------------------------------------------------------------------------------------------
    def overdue_referrals(self, today: date) -> list[m.Referral]:
        return list(
            self.session.scalars(
                select(m.Referral)
                .where(m.Referral.status.in_(("sent", "accepted")), m.Referral.due_on < today)
                .order_by(m.Referral.due_on)
            )
        )

    # --- listings -------------------------------------------------------------------------------------------
    def listing(self, kind: str, limit: int) -> list[tuple]:
        """Rows for the `list` command: the record plus the few joined names a reader needs."""
        if kind == "associations":
            stmt = select(m.Association).order_by(m.Association.name)
        elif kind == "persons":
            stmt = (
                select(m.Person, m.District.name)
                .outerjoin(m.District, m.District.id == m.Person.district_id)
                .where(m.Person.merged_into_id.is_(None))
                .order_by(m.Person.search_rowid)
            )
        elif kind == "households":
            stmt = (
                select(m.Household, m.Person.full_name, m.District.name)
                .outerjoin(m.Person, m.Person.id == m.Household.head_person_id)
                .outerjoin(m.District, m.District.id == m.Household.district_id)
                .order_by(m.Household.created_at)
            )
        elif kind == "projects":
            stmt = (
                select(m.Project, m.Association.name)
                .join(m.Association, m.Association.id == m.Project.association_id)
                .order_by(m.Project.start_date.desc())
            )
        elif kind == "distributions":
            stmt = (
                select(m.Distribution, m.Project.title, m.AidType.name)
                .join(m.Project, m.Project.id == m.Distribution.project_id)
                .join(m.AidType, m.AidType.id == m.Distribution.aid_type_id)
                .order_by(m.Distribution.distribution_date.desc())
            )
        elif kind == "referrals":
            stmt = (
                select(m.Referral, m.Person.full_name, m.Association.name)
                .join(m.Person, m.Person.id == m.Referral.person_id)
                .join(m.Association, m.Association.id == m.Referral.association_id)
                .order_by(m.Referral.referred_on.desc())
            )
        else:
            raise ValueError(kind)
        rows = self.session.execute(stmt.limit(limit)).all()
        return [tuple(r) for r in rows]

    # --- duplicate detection ---------------------------------------------------------------------------
    def match_rows(self):
        """The fields the matching engine reads for every person not merged into another (streamed in batches)."""
        yield from self.session.execute(self._match_select().execution_options(yield_per=20_000))

    def person_rowids_for_keys(
        self, hashes: Sequence[int], per_key: int = 150, *, year: int | None = None, stats: dict | None = None
    ) -> set[int]:
        """Persons sharing any of the key hashes. A key holding more than `per_key` persons no longer tells records
        apart (a very common name combination, an association's phone on every row): it is read for the birth
        year ±1 only, still at most `per_key`; what is left unread is counted in `stats['skipped']`."""
        found: set[int] = set()
        for h in set(hashes):
            rows = list(
                self.session.scalars(select(m.MatchKey.person_rowid).where(m.MatchKey.key_hash == h).limit(per_key + 1))
            )
            if len(rows) <= per_key:
                found.update(rows)
                continue
            if year:
                rows = list(
                    self.session.scalars(
                        select(m.MatchKey.person_rowid)
                        .join(m.Person, m.Person.search_rowid == m.MatchKey.person_rowid)
                        .where(m.MatchKey.key_hash == h, m.Person.birth_year.between(year - 1, year + 1))
                        .limit(per_key + 1)
                    )
                )
                found.update(rows[:per_key])
                if len(rows) <= per_key:
                    continue
            if stats is not None:
                stats["skipped"] = stats.get("skipped", 0) + 1
        return found

    def match_rows_by_rowids(self, rowids: Iterable[int]):
        rowids = list(rowids)
        for start in range(0, len(rowids), 900):
            yield from self.session.execute(
                self._match_select().where(m.Person.search_rowid.in_(rowids[start : start + 900]))
            )

    def _match_select(self):
        # Plain outer joins (not a subquery of households): SQLite would materialise the subquery on every call.
        return (
            select(
                m.Person.id,
                m.Person.name_parts,
                m.Person.national_id,
                m.Person.phone,
                m.Person.birth_year,
                m.Person.sex,
                m.District.name.label("district"),
                m.Household.size.label("household_size"),
                m.Person.spouse_name_norm,
                m.Person.spouse_national_id,
                m.Person.full_name,
            )
            .outerjoin(m.District, m.District.id == m.Person.district_id)
            .outerjoin(m.HouseholdMember, m.HouseholdMember.person_id == m.Person.id)
            .outerjoin(m.Household, m.Household.id == m.HouseholdMember.household_id)
            .where(m.Person.merged_into_id.is_(None))
        )

    def name_frequencies(self) -> tuple[dict[str, int], dict[str, int], int]:
        """Counts of given names (first and father's part) and family names (last part), and the total."""
        given: dict[str, int] = {}
        family: dict[str, int] = {}
        for index in (0, 1):
            column = dialect.json_item(self.session, m.Person.name_parts, index)
            for name, n in self.session.execute(select(column, func.count()).group_by(column)):
                if name:
                    given[name] = given.get(name, 0) + int(n)
        column = dialect.json_item(self.session, m.Person.name_parts, -1)
        for name, n in self.session.execute(
            select(column, func.count()).where(func.json_array_length(m.Person.name_parts) >= 3).group_by(column)
        ):
            if name:
                family[name] = int(n)
        return given, family, self.count(m.Person)

    def pair_states(self) -> dict[tuple[str, str], tuple[str, str]]:
        """(person a, person b) → (pair id, status) for every stored pair: light enough for a million-person scan."""
        rows = self.session.execute(
            select(m.DuplicatePair.person_a_id, m.DuplicatePair.person_b_id, m.DuplicatePair.id, m.DuplicatePair.status)
        )
        return {(a, b): (pid, status) for a, b, pid, status in rows}

    def update_pairs(self, rows: list[dict]) -> None:
        """rows: {"pid", "score", "decision", "reasons", "contributions"} for open pairs found again."""
        if rows:
            table = m.DuplicatePair.__table__
            self.session.connection().execute(
                update(table)
                .where(table.c.id == bindparam("pid"))
                .values(
                    score=bindparam("score"),
                    decision=bindparam("decision"),
                    reasons=bindparam("reasons"),
                    contributions=bindparam("contributions"),
                    updated_at=bindparam("now"),
                ),
                rows,
            )

    def drop_open_pairs(self, pair_ids: Sequence[str]) -> None:
        """Open pairs a new scan no longer finds (the registry, the weights or the thresholds changed); pairs a person
        decided, and the merges that point at them, are never touched."""
        table = m.DuplicatePair.__table__
        for start in range(0, len(pair_ids), 900):
            self.session.connection().execute(
                delete(table).where(table.c.id.in_(pair_ids[start : start + 900]), table.c.status == "open")
            )

    def review_queue(self, limit: int, offset: int, decision: str | None) -> list[m.DuplicatePair]:
        stmt = select(m.DuplicatePair).where(m.DuplicatePair.status == "open")
        if decision:
            stmt = stmt.where(m.DuplicatePair.decision == decision)
        order = (m.DuplicatePair.decision != "likely", m.DuplicatePair.score.desc())
        return list(self.session.scalars(stmt.order_by(*order).limit(limit).offset(offset)))

    def queue_counts(self) -> dict[str, int]:
        rows = self.session.execute(
            select(m.DuplicatePair.decision, func.count())
            .where(m.DuplicatePair.status == "open")
            .group_by(m.DuplicatePair.decision)
        )
        return {decision: int(n) for decision, n in rows}

    def open_pairs_of(self, person_id: str) -> list[m.DuplicatePair]:
        return list(
            self.session.scalars(
                select(m.DuplicatePair).where(
                    m.DuplicatePair.status == "open",
                    or_(m.DuplicatePair.person_a_id == person_id, m.DuplicatePair.person_b_id == person_id),
                )
            )
        )

    def referrals_of(self, person_id: str) -> list[m.Referral]:
        return self.all(m.Referral, person_id=person_id)

    def merged_ids_into(self, person_id: str) -> list[str]:
        return list(self.session.scalars(select(m.Person.id).where(m.Person.merged_into_id == person_id)))

    def spouse_household_links(self) -> list[tuple[str, str, str]]:
        """Household pairs whose heads are each other's spouse: by ID, or by name with a shared phone."""
        husband = m.Person.__table__.alias("h")
        wife = m.Person.__table__.alias("w")
        mh = m.HouseholdMember.__table__.alias("mh")
        mw = m.HouseholdMember.__table__.alias("mw")
        by_id = and_(husband.c.spouse_national_id != "", wife.c.national_id == husband.c.spouse_national_id)
        by_name = and_(
            husband.c.spouse_name_norm != "",
            wife.c.name_norm == husband.c.spouse_name_norm,
            husband.c.phone != "",
            wife.c.phone == husband.c.phone,
        )
        out = []
        for condition, reason in ((by_id, "رقم بطاقة الزوج/الزوجة"), (by_name, "اسم الزوج/الزوجة ونفس الهاتف")):
            stmt = (
                select(mh.c.household_id, mw.c.household_id)
                .select_from(husband)
                .join(wife, condition)
                .join(mh, and_(mh.c.person_id == husband.c.id, mh.c.relation == "head"))
                .join(mw, and_(mw.c.person_id == wife.c.id, mw.c.relation == "head"))
                .where(
                    mh.c.household_id != mw.c.household_id,
                    husband.c.merged_into_id.is_(None),
                    wife.c.merged_into_id.is_(None),
                )
            )
            out.extend((a, b, reason) for a, b in self.session.execute(stmt))
        return out

    def linked_household_ids(self, household_id: str) -> set[str]:
        rows = self.session.execute(
            select(m.HouseholdLink.household_a_id, m.HouseholdLink.household_b_id).where(
                m.HouseholdLink.status != "rejected",
                or_(m.HouseholdLink.household_a_id == household_id, m.HouseholdLink.household_b_id == household_id),
            )
        )
        return {x for pair in rows for x in pair} - {household_id}

    # --- exports -----------------------------------------------------------------------------------------
    def export_rows(self, kind: str):
        """Every row of a list for export, streamed: plain tuples in the column order of services.exports."""
        d = m.District
        if kind == "associations":
            stmt = (
                select(
                    m.Association.name,
                    m.Association.registration_number,
                    m.Association.proclamation_date,
                    m.Association.legal_form,
                    m.Association.status,
                    m.Association.status_since,
                    d.name,
                    m.Association.phone,
                    m.Association.licence_expiry,
                )
                .outerjoin(d, d.id == m.Association.district_id)
                .order_by(m.Association.name)
            )
        elif kind == "persons":
            stmt = (
                select(
                    m.Person.full_name,
                    m.Person.national_id,
                    m.Person.phone,
                    m.Person.sex,
                    m.Person.birth_date,
                    m.Person.birth_year,
                    d.name,
                    m.Person.spouse_name,
                    m.Person.id,
                )
                .outerjoin(d, d.id == m.Person.district_id)
                .where(m.Person.merged_into_id.is_(None))
                .order_by(m.Person.search_rowid)
            )
        elif kind == "households":
            stmt = (
                select(
                    m.Person.full_name,
                    m.Person.national_id,
                    m.Household.size,
                    m.Household.income_band,
                    m.Household.housing,
                    d.name,
                    m.Household.id,
                )
                .outerjoin(m.Person, m.Person.id == m.Household.head_person_id)
                .outerjoin(d, d.id == m.Household.district_id)
                .order_by(m.Household.created_at)
            )
        elif kind == "projects":
            stmt = (
                select(
                    m.Project.title,
                    m.Association.name,
                    m.Project.donor,
                    m.Project.sector,
                    m.AidType.name,
                    m.Project.start_date,
                    m.Project.end_date,
                    m.Project.target_households,
                    m.Project.budget,
                    m.Project.currency,
                )
                .join(m.Association, m.Association.id == m.Project.association_id)
                .outerjoin(m.AidType, m.AidType.id == m.Project.aid_type_id)
                .order_by(m.Project.start_date)
            )
        elif kind == "distributions":
            stmt = (
                select(
                    m.Distribution.distribution_date,
                    m.Association.name,
                    m.Project.title,
                    m.AidType.name,
                    m.Distribution.item,
                    m.Distribution.site,
                    d.name,
                    m.Distribution.quantity_per_household,
                    m.Distribution.amount_per_household,
                    m.Distribution.currency,
                    m.Distribution.status,
                )
                .join(m.Project, m.Project.id == m.Distribution.project_id)
                .join(m.Association, m.Association.id == m.Project.association_id)
                .join(m.AidType, m.AidType.id == m.Distribution.aid_type_id)
                .outerjoin(d, d.id == m.Distribution.district_id)
                .order_by(m.Distribution.distribution_date)
            )
        elif kind == "distribution_lines":
            stmt = (
                select(
                    m.Distribution.distribution_date,
                    m.Association.name,
                    m.AidType.name,
                    m.Person.full_name,
                    m.Person.national_id,
                    m.DistributionLine.quantity,
                    m.DistributionLine.amount,
                    m.DistributionLine.status,
                    m.DistributionLine.reason,
                )
                .join(m.Distribution, m.Distribution.id == m.DistributionLine.distribution_id)
                .join(m.Project, m.Project.id == m.Distribution.project_id)
                .join(m.Association, m.Association.id == m.Project.association_id)
                .join(m.AidType, m.AidType.id == m.Distribution.aid_type_id)
                .outerjoin(m.Person, m.Person.id == m.DistributionLine.person_id)
                .order_by(m.Distribution.distribution_date)
            )
        elif kind == "referrals":
            stmt = (
                select(
                    m.Referral.referred_on,
                    m.Person.full_name,
                    m.Person.national_id,
                    m.Association.name,
                    m.Referral.need,
                    m.Referral.status,
                    m.Referral.due_on,
                    m.Referral.closed_on,
                    m.Referral.outcome,
                )
                .join(m.Person, m.Person.id == m.Referral.person_id)
                .join(m.Association, m.Association.id == m.Referral.association_id)
                .order_by(m.Referral.referred_on)
            )
        elif kind == "review_queue":
            a, b = m.Person.__table__.alias("a"), m.Person.__table__.alias("b")
            stmt = (
                select(
                    m.DuplicatePair.decision,
                    m.DuplicatePair.score,
                    a.c.full_name,
                    a.c.national_id,
                    b.c.full_name,
                    b.c.national_id,
                    m.DuplicatePair.reasons,
                )
                .join(a, a.c.id == m.DuplicatePair.person_a_id)
                .join(b, b.c.id == m.DuplicatePair.person_b_id)
                .where(m.DuplicatePair.status == "open")
                .order_by(m.DuplicatePair.decision, m.DuplicatePair.score.desc())
            )
        else:
            raise ValueError(kind)
        yield from self.session.execute(stmt.execution_options(yield_per=10_000))

    # --- requests to a supervisor ---------------------------------------------------------------------------
    def requests(
        self,
        *,
        status: str | None = None,
        kinds: Iterable[str] | None = None,
        requested_by: str | None = None,
        limit: int = 200,
    ) -> list[m.Request]:
        """Newest first."""
        stmt = select(m.Request)
        if status is not None:
            stmt = stmt.where(m.Request.status == status)
        if kinds is not None:
            stmt = stmt.where(m.Request.kind.in_(list(kinds)))
        if requested_by is not None:
            stmt = stmt.where(m.Request.requested_by == requested_by)
        return list(self.session.scalars(stmt.order_by(m.Request.created_at.desc()).limit(limit)))

    def decide_request(self, request_id: str, status: str, by: str, at, note: str) -> bool:
        """Compare and set: only a request still pending is decided, so of two deciders at once one wins."""
        done = self.session.execute(
            update(m.Request)
            .where(m.Request.id == request_id, m.Request.status == "pending")
            .values(
                status=status,
                decided_by=by,
                decided_at=at,
                note=note,
                changed_by=by,
                updated_at=at,
                version=m.Request.version + 1,
            )
            .execution_options(synchronize_session=False)
        )
        return done.rowcount == 1

    # --- bulk loading (demo data, later imports) ------------------------------------------------------------
    def bulk_insert(self, model: type, rows: list[dict], chunk: int = 10_000) -> None:
        """Core executemany in chunks (no ORM bookkeeping, bounded parameter memory)."""
        if not rows:
            return
        table = model.__table__ if hasattr(model, "__table__") else model
        connection = self.session.connection()
        if dialect.is_postgresql(connection):
            # COPY fires the PL/pgSQL outbox triggers row by row (migration 0008): every new row is listed there.
            bulk.insert_rows(connection, table, rows, chunk)
            return
        fresh = self.session.info.setdefault("sync_fresh", set())  # new rows of this transaction, for link tables
        with sync.outbox_after_bulk_insert(connection, table.name, rows, fresh):
            bulk.insert_rows(connection, table, rows, chunk)

    def bulk_insert_persons(self, rows: list[dict]) -> None:
        """Persons with their index keys and blocking keys (rows must carry `search_rowid`)."""
        if not rows:
            return
        with search.index_after_bulk_insert(self.session.connection(), min(r["search_rowid"] for r in rows)):
            self.bulk_insert(m.Person, rows)
        # Plain integer pairs straight to the driver: a list of 100,000 persons brings about a million keys.
        keys = [(k["key_hash"], k["person_rowid"]) for k in matching_keys.rows_for_dicts(rows)]
        bulk.insert_ignoring_duplicates(
            self.session.connection(), m.MatchKey.__table__, ("key_hash", "person_rowid"), keys
        )

    def audit(
        self, action: str, entity: str = "", entity_id: str = "", detail: dict | None = None, *, office_id: str = ""
    ) -> None:
        """Name an action in the audit trail (login, import, export, merge, override…), in this transaction."""
        audit.append(
            self.session, self.session.info.get("actor", ""), [(action, entity, entity_id, None, detail, office_id)]
        )

    def verify_audit(self, want: tuple[int, ...] = (), since: tuple[int, str] | None = None) -> audit.ChainReport:
        return audit.verify(self.session, want, since)

    def audit_head(self) -> tuple[int, str]:
        return audit.head(self.session)

    def audit_hash_at(self, seq: int) -> str | None:
        return audit.hash_at(self.session, seq)

    def last_audit_anchor(self) -> tuple[int, dict] | None:
        """The newest `audit_anchor` entry: its seq and detail."""
        row = self.session.execute(
            select(m.AuditEntry.seq, m.AuditEntry.after)
            .where(m.AuditEntry.action == audit.ANCHOR_ACTION)
            .order_by(m.AuditEntry.seq.desc())
            .limit(1)
        ).first()
        return (row[0], row[1] if isinstance(row[1], dict) else {}) if row is not None else None

    def optimize(self) -> None:
        """Refresh the planner's statistics after a bulk load (SQLite's recommended PRAGMA optimize, PostgreSQL's
        ANALYZE: autovacuum would get there, but only after the first queries were planned on empty tables)."""
        if not dialect.is_postgresql(self.session):
            self.session.connection().exec_driver_sql("PRAGMA optimize")
            return
        # On a connection of its own, committed: statistics written in a transaction that is rolled back are lost.
        with self.session.get_bind().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")

    def next_search_rowid(self) -> int:
        return search.next_search_rowid(self.session)
