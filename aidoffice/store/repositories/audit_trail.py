"""The audit trail: naming an action, verifying the chain, its head and anchors."""

from __future__ import annotations

from sqlalchemy import select

from aidoffice.store import audit
from aidoffice.store import models as m
from aidoffice.store.repositories.records import Records


class AuditTrailRepository(Records):
    """The audit trail: naming an action, verifying the chain, its head and anchors."""

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
