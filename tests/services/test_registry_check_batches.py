"""A list checked against the registry in batches: what each record alone would find, in a few statements."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import event

from aidoffice.services import duplicates
from aidoffice.services.duplicates import _record_from_row, check_records, scorer_for


def _registered(ctx, n: int) -> list:
    with ctx.uow() as uow:
        return [_record_from_row(row) for _, row in zip(range(n), uow.repo.match_rows(), strict=False)]


def _found(candidates, person_id: str) -> str | None:
    return next((c.decision for c in candidates if c.person_id == person_id), None)


def test_records_checked_together_find_what_each_finds_alone(demo_ctx, monkeypatch):
    # Registered persons under other ids (each finds itself, likely), and the same with the card and phone dropped
    # and the birth year one off (review, or nothing): across batches of 7 and a store of 50 candidates let go.
    people = _registered(demo_ctx, 60)
    records = [replace(p, id=f"copy-{i}") for i, p in enumerate(people)]
    records += [
        replace(p, id=f"vague-{i}", national_id="", phone="", birth_year=(p.birth_year or 1980) + 1)
        for i, p in enumerate(people)
    ]
    scorer = scorer_for(demo_ctx)
    alone = {r.id: check_records(demo_ctx, [r], scorer=scorer)[r.id] for r in records}
    monkeypatch.setattr(duplicates, "CHECK_CHUNK", 7)
    monkeypatch.setattr(duplicates, "CHECK_KEPT", 50)
    together = check_records(demo_ctx, records, scorer=scorer)
    assert together == alone
    assert all(_found(alone[f"copy-{i}"], p.id) == "likely" for i, p in enumerate(people))


def test_a_list_of_the_same_few_persons_is_checked_in_a_few_statements(demo_ctx, engine):
    # 200 rows naming five registered persons (an association's list sent twice, families listed per member): their
    # keys are read once, their candidates' rows in one statement — not some eight statements a row.
    people = _registered(demo_ctx, 5)
    records = [replace(people[i % 5], id=f"row-{i}") for i in range(200)]
    scorer = scorer_for(demo_ctx)
    statements: list[str] = []
    with demo_ctx.uow() as uow:
        connection = uow.session.connection()
        if engine == "sqlite":
            connection.connection.driver_connection.set_trace_callback(statements.append)
        else:
            event.listen(connection, "before_cursor_execute", lambda *args: statements.append(args[2]))
        try:
            found = check_records(demo_ctx, records, scorer=scorer, repo=uow.repo)
        finally:
            if engine == "sqlite":
                connection.connection.driver_connection.set_trace_callback(None)
    assert all(_found(found[f"row-{i}"], people[i % 5].id) == "likely" for i in range(200))
    assert len(statements) < 60, len(statements)
