"""The statements shaped for a server's round trips find what the plain ones find, on SQLite and on PostgreSQL."""

from __future__ import annotations

from sqlalchemy import func, select

from aidoffice.store import models as m


def test_the_keys_looked_up_together_find_what_each_key_finds_alone(demo_ctx):
    with demo_ctx.uow() as uow:
        s = uow.session
        sizes = dict(s.execute(select(m.MatchKey.key_hash, func.count()).group_by(m.MatchKey.key_hash)).all())
        crowded = [h for h, n in sizes.items() if n > 3]
        # More keys than one statement carries (100), a crowded key read in part, and a key nobody has.
        hashes = sorted(sizes)[:230] + crowded[:3] + [12345]
        per_key = 3
        expected: set[int] = set()
        skipped = 0
        for h in set(hashes):
            rows = list(s.scalars(select(m.MatchKey.person_rowid).where(m.MatchKey.key_hash == h)))
            if len(rows) <= per_key:
                expected.update(rows)
            else:
                skipped += 1
        stats: dict = {}
        found = uow.repo.person_rowids_for_keys(hashes + hashes[:5], per_key, stats=stats)
    assert crowded and expected
    assert found == expected
    assert stats.get("skipped", 0) == skipped


def test_a_count_up_to_a_bound_on_the_server_the_whole_count_on_a_file(demo_ctx, engine):
    with demo_ctx.uow() as uow:
        total = uow.repo.count(m.Person)
        assert uow.repo.count(m.Person, at_most=total + 5) == total
        assert uow.repo.count(m.Person, at_most=10) == (10 if engine == "postgresql" else total)
        women = uow.repo.count(m.Person, sex="F")
        assert 10 < women < total
        assert uow.repo.count(m.Person, at_most=10, sex="F") == (10 if engine == "postgresql" else women)
