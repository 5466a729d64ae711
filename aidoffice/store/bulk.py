"""Rows inserted in bulk: each column's own SQLAlchemy bind processor applied here and tuples sent straight to the
driver, so values are stored exactly as through insert() without compiling parameters row by row."""

from __future__ import annotations

from sqlalchemy import Connection, Table


def insert_rows(connection: Connection, table: Table, rows: list[dict], chunk: int = 10_000) -> None:
    """Insert dicts that all have the keys of the first one; columns they leave out take their Python-side default,
    as insert() would give them (server defaults are SQLite's)."""
    if not rows:
        return
    given = [c for c in table.columns if c.key in rows[0]]
    defaulted = [c for c in table.columns if c.key not in rows[0] and c.default is not None]
    columns = given + defaulted
    dialect = connection.dialect
    processors = [c.type._cached_bind_processor(dialect) for c in columns]
    sql = (
        f"INSERT INTO {table.name} ({', '.join(dialect.identifier_preparer.quote(c.name) for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    keys = [c.key for c in given]
    makers = [
        (lambda d=c.default: d.arg(None)) if c.default.is_callable else (lambda d=c.default: d.arg) for c in defaulted
    ]

    def values(row: dict) -> tuple:
        raw = [row[k] for k in keys] + [make() for make in makers]
        return tuple(p(v) if p else v for v, p in zip(raw, processors, strict=True))

    for start in range(0, len(rows), chunk):
        connection.exec_driver_sql(sql, [values(r) for r in rows[start : start + chunk]])
