"""Requests to a supervisor and their decisions."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select, update

from aidoffice.store import models as m
from aidoffice.store.repositories.records import Records


class RequestsRepository(Records):
    """Requests to a supervisor and their decisions."""

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
