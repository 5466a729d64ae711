"""Unit of work and repository: `with uow:` opens a session, `uow.commit()` commits, leaving the block rolls back."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, func, insert, or_, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.exc import StaleDataError

from aidoffice.errors import UserError
from aidoffice.store import models as m
from aidoffice.store import search
from aidoffice.store.engine import Database, raise_storage_error

T = TypeVar("T")


class UnitOfWork:
    """One transaction. Known SQLite failures leave it as StorageError; anything else is a bug and propagates."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self.session: Session | None = None
        self.repo: Repository

    def __enter__(self) -> UnitOfWork:
        self.session = self._db.sessions()
        self.repo = Repository(self.session)
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        assert self.session is not None
        # close() rolls back what was not committed and detaches the objects without expiring them, so records
        # built from them after the block still read the loaded values.
        self.session.close()
        self.session = None
        if isinstance(exc, DBAPIError):
            raise_storage_error(exc)

    def flush(self) -> None:
        assert self.session is not None
        self._guard(self.session.flush)

    def commit(self) -> None:
        assert self.session is not None
        self._guard(self.session.commit)

    @staticmethod
    def _guard(action) -> None:
        try:
            action()
        except StaleDataError as exc:
            raise UserError("عدّل شخص آخر هذا السجل في الوقت نفسه. أعد فتحه ثم أعد المحاولة.") from exc
        except IntegrityError as exc:
            text = str(exc.orig).lower()
            if "append-only" in text:
                raise UserError("التوزيعات وكشوفها لا تُحذف ولا تُعدَّل: صحّح بقيد عكسي.") from exc
            if "unique" in text:
                raise UserError("يوجد سجل آخر بنفس القيمة الفريدة (مثل رقم الإشهار).") from exc
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

    # --- office and settings --------------------------------------------------------------------------------
    def office(self) -> m.OfficeProfile | None:
        return self.session.scalars(select(m.OfficeProfile).order_by(m.OfficeProfile.created_at).limit(1)).first()

    def setting(self, key: str, default: Any = None) -> Any:
        row = self.session.get(m.Setting, key)
        return default if row is None else row.value

    def set_setting(self, key: str, value: Any) -> None:
        row = self.session.get(m.Setting, key)
        if row is None:
            self.session.add(m.Setting(key=key, value=value))
        else:
            row.value = value

    # --- geography and reference lists ----------------------------------------------------------------------
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
                .limit(limit)
            ).all()
            for person, district in rows:
                if person.id not in seen:
                    seen.add(person.id)
                    results.append((person, district))
        return results[:limit]

    def aid_history(self, household_id: str | None, person_id: str) -> list[tuple]:
        """Lines received by the person or their household, newest first, with association and aid type."""
        who = m.DistributionLine.person_id == person_id
        if household_id:
            who = or_(who, m.DistributionLine.household_id == household_id)
        reversed_ids = select(m.DistributionLine.reversal_of_id).where(m.DistributionLine.reversal_of_id.is_not(None))
        stmt = (
            select(m.DistributionLine, m.Distribution, m.AidType.name, m.Association.name)
            .join(m.Distribution, m.Distribution.id == m.DistributionLine.distribution_id)
            .join(m.AidType, m.AidType.id == m.Distribution.aid_type_id)
            .join(m.Project, m.Project.id == m.Distribution.project_id)
            .join(m.Association, m.Association.id == m.Project.association_id)
            .where(who, m.DistributionLine.status != "reversal", m.DistributionLine.id.not_in(reversed_ids))
            .order_by(m.Distribution.distribution_date.desc())
        )
        return list(self.session.execute(stmt).all())

    def reversal_of(self, line_id: str) -> m.DistributionLine | None:
        return self.first(m.DistributionLine, reversal_of_id=line_id)

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
        """The fields the matching engine reads, for every person not merged into another, with district names and
        household sizes; streamed in batches so a million rows do not sit in memory as ORM objects."""
        household = (
            select(m.HouseholdMember.person_id, m.Household.size)
            .join(m.Household, m.Household.id == m.HouseholdMember.household_id)
            .subquery()
        )
        stmt = (
            select(
                m.Person.id,
                m.Person.name_parts,
                m.Person.national_id,
                m.Person.phone,
                m.Person.birth_year,
                m.Person.sex,
                m.District.name.label("district"),
                household.c.size.label("household_size"),
                m.Person.spouse_name_norm,
                m.Person.spouse_national_id,
            )
            .outerjoin(m.District, m.District.id == m.Person.district_id)
            .outerjoin(household, household.c.person_id == m.Person.id)
            .where(m.Person.merged_into_id.is_(None))
            .execution_options(yield_per=20_000)
        )
        yield from self.session.execute(stmt)

    # --- bulk loading (demo data, later imports) ------------------------------------------------------------
    def bulk_insert(self, model: type, rows: list[dict]) -> None:
        if not rows:
            return
        table = model.__table__ if hasattr(model, "__table__") else model
        self.session.execute(insert(table), rows)

    def optimize(self) -> None:
        """Refresh the planner's statistics after a bulk load (SQLite's recommended PRAGMA optimize)."""
        self.session.connection().exec_driver_sql("PRAGMA optimize")

    def next_search_rowid(self) -> int:
        return search.next_search_rowid(self.session)

    def set_household_heads(self, pairs: list[dict]) -> None:
        """pairs: [{"hid": household id, "pid": head person id}]."""
        if pairs:
            self.session.connection().execute(
                update(m.Household.__table__)
                .where(m.Household.__table__.c.id == bindparam("hid"))
                .values(head_person_id=bindparam("pid")),
                pairs,
            )
