"""The one seam between SQLite and PostgreSQL: server URLs, column types and the SQL that differs between them."""

from __future__ import annotations

from sqlalchemy import BigInteger, Integer, Table, Text, cast, func
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import ReturnTypeFromArgs

SQLITE = "sqlite"
POSTGRESQL = "postgresql"
# The one driver the program ships for a server (psycopg 3); a bare postgresql:// would ask SQLAlchemy for psycopg2.
SERVER_SCHEME = "postgresql+psycopg://"

# A 64-bit value (a blocking key's hash, a hybrid logical clock stamp): BIGINT on a server; on SQLite plain INTEGER,
# which already holds 64 bits, so files made before this type existed compare equal to new ones.
BIG_INTEGER = BigInteger().with_variant(Integer(), SQLITE)


def is_server_url(text: object) -> bool:
    """Whether a --db value names a database on a PostgreSQL server rather than a file on this PC."""
    return isinstance(text, str) and text.strip().lower().startswith(SERVER_SCHEME)


def looks_like_url(text: str) -> bool:
    """Any scheme://… (or a bare server name): never to be taken for a file path."""
    lowered = text.strip().lower()
    return "://" in lowered or lowered.startswith(("postgres", "sqlite:", "mysql"))


def name_of(bind) -> str:
    """The dialect's name ("sqlite", "postgresql") of an engine, connection or session."""
    dialect = getattr(bind, "dialect", None)
    if dialect is None:
        dialect = bind.get_bind().dialect
    return dialect.name


def is_postgresql(bind) -> bool:
    return name_of(bind) == POSTGRESQL


def insert(bind, table: Table):
    """The dialect's own INSERT, which knows ON CONFLICT."""
    return (postgresql.insert if is_postgresql(bind) else sqlite.insert)(table)


def insert_ignore(bind, table: Table):
    """INSERT … ON CONFLICT DO NOTHING (SQLite's INSERT OR IGNORE, on both engines)."""
    return insert(bind, table).on_conflict_do_nothing()


def upsert(bind, table: Table, keys: tuple[str, ...], values: dict | None = None, *, select=None, columns=None):
    """INSERT … ON CONFLICT (keys) DO UPDATE of every other column to the new row's value (INSERT OR REPLACE, for a
    table that no trigger watches). Either `values` (one row) or `select` with its `columns`."""
    stmt = insert(bind, table)
    stmt = stmt.from_select(columns, select) if select is not None else stmt.values(**(values or {}))
    names = columns if select is not None else list((values or {}).keys())
    changed = {name: stmt.excluded[name] for name in names if name not in keys}
    return stmt.on_conflict_do_update(index_elements=list(keys), set_=changed)


class greatest(ReturnTypeFromArgs):  # noqa: N801 - called like func.max, whose type it keeps
    """The largest of several values in one row: SQLite's max() with two or more arguments, PostgreSQL's
    greatest(). Compiled for the engine that runs it, so a query can be built before it knows where it runs. The two
    differ on NULL (SQLite's max gives NULL, greatest() skips it): give values that are NULL only all together."""

    inherit_cache = True


@compiles(greatest, SQLITE)
def _greatest_on_sqlite(element, compiler, **kw):
    return f"max({compiler.process(element.clauses, **kw)})"


def json_item(bind, column, index: int):
    """The text of one item of a JSON array column (a negative index counts from the end)."""
    if is_postgresql(bind):
        return column.op("->>")(index)
    return func.json_extract(column, f"$[{index}]" if index >= 0 else f"$[#{index}]")


def json_integer(bind, column):
    """A whole number kept in a JSON column, as an SQL integer (PostgreSQL casts json to integer through text)."""
    return cast(cast(column, Text), Integer) if is_postgresql(bind) else cast(column, Integer)


def integer_json(bind, value):
    """An SQL integer to keep in a JSON column: SQLite stores its text (which reads back as the JSON number)."""
    return func.to_json(value) if is_postgresql(bind) else cast(value, Text)
