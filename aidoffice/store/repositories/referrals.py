"""Referrals of persons to associations."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from aidoffice.store import models as m
from aidoffice.store.repositories.records import Records


class ReferralsRepository(Records):
    """Referrals of persons to associations."""

    def overdue_referrals(self, today: date) -> list[m.Referral]:
        return list(
            self.session.scalars(
                select(m.Referral)
                .where(m.Referral.status.in_(("sent", "accepted")), m.Referral.due_on < today)
                .order_by(m.Referral.due_on)
            )
        )

    def referrals_of(self, person_id: str) -> list[m.Referral]:
        return self.all(m.Referral, person_id=person_id)
