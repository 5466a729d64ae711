"""Counts and plain listings of every registry, for the command line, the status bar and support."""

from __future__ import annotations

from aidoffice.domain.vocab import AssociationStatus
from aidoffice.services.context import ServiceContext
from aidoffice.store import models as m

LIST_KINDS = ("associations", "persons", "households", "projects", "distributions", "referrals")


def stats(ctx: ServiceContext) -> dict:
    with ctx.uow() as uow:
        records = uow.records
        by_status = records.count_by(m.Association.status)
        return {
            "associations": sum(by_status.values()),
            "associations_by_status": {s.value: by_status.get(s.value, 0) for s in AssociationStatus},
            "persons": records.count(m.Person),
            "households": records.count(m.Household),
            "projects": records.count(m.Project),
            "distributions": records.count(m.Distribution),
            "distribution_lines": records.count(m.DistributionLine),
            "referrals": records.count(m.Referral),
        }


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def list_records(ctx: ServiceContext, kind: str, *, limit: int = 50) -> list[dict]:
    """Plain dicts (JSON-ready) with at least `id` and a readable `name` or `title`."""
    if kind not in LIST_KINDS:
        raise ValueError(kind)
    limit = max(1, limit)
    with ctx.uow() as uow:
        rows = uow.listings.listing(kind, limit)
    out: list[dict] = []
    for row in rows:
        obj = row[0]
        if kind == "associations":
            out.append(
                {
                    "id": obj.id,
                    "name": obj.name,
                    "registration_number": obj.registration_number,
                    "status": obj.status,
                    "licence_expiry": _iso(obj.licence_expiry),
                }
            )
        elif kind == "persons":
            out.append(
                {
                    "id": obj.id,
                    "name": obj.full_name,
                    "national_id": obj.national_id,
                    "phone": obj.phone,
                    "district": row[1],
                }
            )
        elif kind == "households":
            out.append({"id": obj.id, "name": row[1] or "", "size": obj.size, "district": row[2]})
        elif kind == "projects":
            out.append(
                {
                    "id": obj.id,
                    "title": obj.title,
                    "association": row[1],
                    "donor": obj.donor,
                    "start_date": _iso(obj.start_date),
                    "currency": obj.currency,
                }
            )
        elif kind == "distributions":
            out.append(
                {
                    "id": obj.id,
                    "title": f"{row[2]} — {obj.site} {ctx.style.date(obj.distribution_date)}",
                    "project": row[1],
                    "date": _iso(obj.distribution_date),
                    "site": obj.site,
                    "status": obj.status,
                }
            )
        else:
            out.append(
                {
                    "id": obj.id,
                    "title": obj.need,
                    "person": row[1],
                    "association": row[2],
                    "status": obj.status,
                    "referred_on": _iso(obj.referred_on),
                }
            )
    return out
