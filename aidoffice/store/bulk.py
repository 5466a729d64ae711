"""Rows inserted in bulk: each column's own SQLAlchemy bind processor applied here and tuples sent straight to the
driver (SQLite's executemany, PostgreSQL's COPY), so values are stored exactly as through insert() without compiling
parameters row by row."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError

from aidoffice.store import dialect


def insert_rows(connection: Connection, table: Table, rows: list[dict], chunk: int = 10_000) -> None:
    """Insert dicts that all have the keys of the first one; columns they leave out take their Python-side default,
    as insert() would give them (server defaults are the database's own)."""
    if not rows:
        return
    given = [c for c in table.columns if c.key in rows[0]]
    defaulted = [c for c in table.columns if c.key not in rows[0] and c.default is not None]
    columns = given + defaulted
    processors = [c.type._cached_bind_processor(connection.dialect) for c in columns]
    keys = [c.key for c in given]
    makers = [
        (lambda d=c.default: d.arg(None)) if c.default.is_callable else (lambda d=c.default: d.arg) for c in defaulted
    ]

    def values(row: dict) -> tuple:
        raw = [row[k] for k in keys] + [make() for make in makers]
        return tuple(p(v) if p else v for v, p in zip(raw, processors, strict=True))

    names = [c.name for c in columns]
    if dialect.is_postgresql(connection):
        _copy(connection, table.name, names, (values(r) for r in rows))
        return
    sql = f"INSERT INTO {table.name} ({_quoted(connection, names)}) VALUES ({', '.join('?' for _ in columns)})"
    for start in range(0, len(rows), chunk):
        connection.exec_driver_sql(sql, [values(r) for r in rows[start : start + chunk]])


_FEW = 50  # rows below which a temporary table costs more than the statements it saves


def insert_ignoring_duplicates(
    connection: Connection, table: Table, names: Sequence[str], tuples: Sequence[tuple], chunk: int = 100_000
) -> None:
    """Plain value tuples for `names`; a row whose key is already there (or comes twice) is left out, as SQLite's
    INSERT OR IGNORE. On PostgreSQL the rows are copied into a temporary table first and moved over in one
    INSERT … ON CONFLICT DO NOTHING (COPY itself knows no conflicts)."""
    if not tuples:
        return
    if dialect.is_postgresql(connection) and len(tuples) <= _FEW:  # a few keys: no temporary table for them
        marks = ", ".join("%s" for _ in names)
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({_quoted(connection, names)}) VALUES ({marks}) ON CONFLICT DO NOTHING",
            list(tuples),
        )
        return
    if dialect.is_postgresql(connection):
        scratch = f"aidoffice_bulk_{table.name}"
        connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {scratch} (LIKE {table.name} INCLUDING DEFAULTS)")
        _copy(connection, scratch, names, tuples)
        columns = _quoted(connection, names)
        connection.exec_driver_sql(
            f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {scratch} ON CONFLICT DO NOTHING"
        )
        connection.exec_driver_sql(f"DROP TABLE {scratch}")
        return
    sql = f"INSERT OR IGNORE INTO {table.name} ({_quoted(connection, names)}) VALUES ({', '.join('?' for _ in names)})"
    for start in range(0, len(tuples), chunk):
        connection.exec_driver_sql(sql, tuples[start : start + chunk])


def upsert_rows(
    connection: Connection, table: Table, names: Sequence[str], keys: Sequence[str], tuples: Sequence[tuple]
) -> None:
    """Plain value tuples for `names`; a row whose `keys` are already there replaces the stored row's other columns,
    and of tuples with the same keys the last one wins — as one INSERT … ON CONFLICT DO UPDATE a row at a time.
    PostgreSQL: copied into a temporary table and moved over in one statement (the driver's executemany sends a
    statement a row: a first package of a million records spent most of its time there)."""
    if not tuples:
        return
    last = {tuple(row[names.index(k)] for k in keys): row for row in tuples}
    rows = list(last.values())
    quoted = _quoted(connection, names)
    updated = ", ".join(
        f"{q} = excluded.{q}" for q in (connection.dialect.identifier_preparer.quote(n) for n in names if n not in keys)
    )
    conflict = f"ON CONFLICT ({_quoted(connection, keys)}) " + (f"DO UPDATE SET {updated}" if updated else "DO NOTHING")
    if dialect.is_postgresql(connection) and len(rows) > _FEW:
        scratch = f"aidoffice_upsert_{table.name}"
        connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {scratch} (LIKE {table.name} INCLUDING DEFAULTS)")
        _copy(connection, scratch, names, rows)
        connection.exec_driver_sql(f"INSERT INTO {table.name} ({quoted}) SELECT {quoted} FROM {scratch} {conflict}")
        connection.exec_driver_sql(f"DROP TABLE {scratch}")
        return
    mark = "%s" if dialect.is_postgresql(connection) else "?"
    connection.exec_driver_sql(
        f"INSERT INTO {table.name} ({quoted}) VALUES ({', '.join(mark for _ in names)}) {conflict}", rows
    )


def _quoted(connection: Connection, names: Iterable[str]) -> str:
    return ", ".join(connection.dialect.identifier_preparer.quote(n) for n in names)


def _copy(connection: Connection, table_name: str, names: Sequence[str], tuples: Iterable[tuple]) -> None:
    """COPY … FROM STDIN through psycopg, in the connection's own transaction (rows fire their triggers as inserts).
    A failure leaves as SQLAlchemy's error of its kind (IntegrityError…), as an insert() would, without the values."""
    sql = f"COPY {table_name} ({_quoted(connection, names)}) FROM STDIN"
    dialect.lock_writers(connection)  # the driver's own cursor: no statement event takes the writer lock for it
    driver = connection.dialect.loaded_dbapi
    cursor = connection.connection.driver_connection.cursor()
    try:
        with cursor.copy(sql) as copy:
            for row in tuples:
                copy.write_row(row)
    except driver.Error as exc:
        raise DBAPIError.instance(
            sql, None, exc, driver.Error, hide_parameters=True, dialect=connection.dialect
        ) from exc
    finally:
        cursor.close()
