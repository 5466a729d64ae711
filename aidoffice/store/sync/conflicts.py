"""The conflict queue and, at headquarters, cross-office duplicate flags."""

from __future__ import annotations

from sqlalchemy import Connection, delete, insert

from aidoffice.store import models as m
from aidoffice.store.sync.schema import _sql


def save_conflicts(conn: Connection, conflicts: list[dict]) -> None:
    if conflicts:
        conn.execute(insert(m.SyncConflict.__table__), conflicts)


# --- headquarters: cross-office duplicate flags ---------------------------------------------------------------


def cross_office_pairs(conn: Connection, office: str) -> list[dict]:
    """Open duplicate pairs between a person of `office` and a person of another office: the pair id, this office's
    person, the other office's code and the score (nothing else about the other person)."""
    rows = _sql(
        conn,
        "SELECT d.id, pa.id, pa.office_id, pb.id, pb.office_id, d.score FROM duplicate_pairs d "
        "JOIN persons pa ON pa.id = d.person_a_id JOIN persons pb ON pb.id = d.person_b_id "
        "WHERE d.status = 'open' AND pa.office_id <> pb.office_id AND (pa.office_id = ? OR pb.office_id = ?)",
        (office, office),
    )
    codes = {r[0]: r[1] for r in _sql(conn, "SELECT office_id, office_code FROM sync_peers")}
    out = []
    for pair, a, a_office, b, b_office, score in rows:
        mine, other = (a, b_office) if a_office == office else (b, a_office)
        out.append(
            {"t": "flag", "id": pair, "person_id": mine, "other_office": codes.get(other, "?"), "score": float(score)}
        )
    return out


def cross_office_overview(conn: Connection, limit: int = 2000) -> list[tuple]:
    """At headquarters: open pairs across offices, best first (names, office codes, score)."""
    return _sql(
        conn,
        "SELECT pa.full_name, coalesce(ca.office_code, '?'), pb.full_name, coalesce(cb.office_code, '?'), d.score "
        "FROM duplicate_pairs d JOIN persons pa ON pa.id = d.person_a_id JOIN persons pb ON pb.id = d.person_b_id "
        "LEFT JOIN (SELECT DISTINCT office_id, office_code FROM sync_peers) ca ON ca.office_id = pa.office_id "
        "LEFT JOIN (SELECT DISTINCT office_id, office_code FROM sync_peers) cb ON cb.office_id = pb.office_id "
        "WHERE d.status = 'open' AND pa.office_id <> pb.office_id ORDER BY d.score DESC LIMIT ?",
        (limit,),
    ).all()


def replace_flags(conn: Connection, flags: list[dict]) -> None:
    conn.execute(delete(m.SyncFlag.__table__))
    known = {r[0] for r in _sql(conn, "SELECT id FROM persons")} if flags else set()
    rows = [
        {
            "id": f["id"],
            "person_id": f["person_id"],
            "other_office": f["other_office"],
            "score": f["score"],
            "received_at": m.utcnow(),
        }
        for f in flags
        if f["person_id"] in known
    ]
    if rows:
        conn.execute(insert(m.SyncFlag.__table__), rows)
