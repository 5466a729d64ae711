"""A PostgreSQL server's addresses (host, port, database, account, TLS) and the office PCs' least-privilege role."""

from __future__ import annotations

import re

from sqlalchemy import URL, Connection, make_url, text
from sqlalchemy.exc import ArgumentError, DBAPIError

from aidoffice.errors import StorageError, UserError
from aidoffice.store.dialect import SERVER_SCHEME, is_server_url
from aidoffice.store.engine import raise_storage_error, server_engine

DEFAULT_PORT = 5432
# libpq's sslmode values offered to a clerk: "prefer" (libpq's own default: encrypted when the server offers it),
# "require" (encrypted or nothing, certificate not checked), "verify-full" (encrypted, the server's certificate
# checked against the office's CA — sslrootcert in the address, or root.crt in the user's PostgreSQL folder).
TLS_MODES = ("prefer", "require", "verify-full")
_DRIVER = SERVER_SCHEME.removesuffix("://")

# The PCs' role reads every table and adds rows; it changes rows in place (UPDATE) and removes them (DELETE) only
# where the program does, found by reading every UPDATE and DELETE the store and the services make (the ORM's edits
# and collections, the sync apply, merges, duplicate pairs, settings' upserts) and checked by running the services
# as that role (tests/store/test_server_security.py). What psql in a clerk's hands could do beyond that is refused.
#
# Never changed in place: the audit trail (migration 0006's triggers refuse it too), the schema's revision, and the
# rows that are only keys (a list field is replaced by removing and adding its rows; a person's blocking keys too).
NO_UPDATE = frozenset({"audit_log", "alembic_version", "person_categories", "association_fields",
                       "association_districts", "project_districts", "import_batch_persons", "match_keys"})  # fmt: skip
# Only these columns of a user change: a login (failures, lock, last login), an administrator's change of role,
# state or password, a user's own password, the administrators' seal over them; never the id, the name or the office.
UPDATE_COLUMNS = {
    "users": ("role", "password_hash", "active", "failed_logins", "locked_until", "last_login_at", "seal",
              "updated_at", "changed_by", "version"),
}  # fmt: skip
# The rows the program removes: a household member moved or merged away, a link between households undone, a list
# field's rows replaced (a person's categories, an association's fields and districts, a project's districts), the
# duplicate pairs a new scan no longer finds, a person's blocking keys made again, the sync flags recounted, and a
# sync package's removal of such a row. Persons, households, distributions and their lines, referrals, users,
# associations, the audit trail are never removed: no DELETE (a package that would remove one is refused whole).
DELETES = frozenset({"household_members", "household_links", "person_categories", "association_fields",
                     "association_districts", "project_districts", "duplicate_pairs", "match_keys",
                     "sync_flags"})  # fmt: skip
# The rights of a table a later migration adds (as the owner), until `server roles` runs again after the upgrade.
ROW_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"
_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def server_url(
    host: str, database: str, user: str, *, port: int | None = None, password: str = "", tls: str = "prefer"
) -> str:
    """The address the program opens (postgresql+psycopg://user[:password]@host:port/database?sslmode=…)."""
    host, database, user = host.strip(), database.strip(), user.strip()
    if not host or not database or not user:
        raise UserError("عنوان الخادم واسم قاعدة البيانات واسم المستخدم مطلوبة كلها للاتصال بخادم المكتب.")
    if tls not in TLS_MODES:
        raise UserError(f"طريقة التشفير غير معروفة: {tls}")
    url = URL.create(
        _DRIVER,
        username=user,
        password=password or None,
        host=host,
        port=port or DEFAULT_PORT,
        database=database,
        query={"sslmode": tls} if tls != "prefer" else {},
    )
    return url.render_as_string(hide_password=False)


def server_parts(url: str) -> dict:
    """The parts of a server's address, for a form: host, port, database, user, tls (no password)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise UserError("عنوان خادم قاعدة البيانات غير صالح.") from exc
    mode = parsed.query.get("sslmode", "prefer")
    return {
        "host": parsed.host or "",
        "port": parsed.port or DEFAULT_PORT,
        "database": parsed.database or "",
        "user": parsed.username or "",
        "tls": mode if isinstance(mode, str) else mode[0],
        "password": parsed.password or "",
    }


def _with(url: str, **parts) -> str:
    """The address with some parts replaced; a password of None leaves none (URL.set would keep the old one)."""
    parsed = make_url(url)
    fields = {k: getattr(parsed, k) for k in ("drivername", "username", "password", "host", "port", "database")}
    fields.update(parts)
    return URL.create(**fields, query=parsed.query).render_as_string(hide_password=False)


def without_password(url: str) -> str:
    return _with(url, password=None)


def with_password(url: str, password: str) -> str:
    return _with(url, password=password or None)


def _check_role_name(role: str) -> str:
    if not _ROLE_NAME.match(role):
        raise UserError(
            "اسم حساب الأجهزة غير صالح: حروف لاتينية صغيرة وأرقام وشرطة سفلية (_) فقط، ويبدأ بحرف، مثل aidoffice_pc."
        )
    return role


def role_state(url: str, role: str) -> tuple[bool, bool]:
    """(whether the role exists, whether the connected account may create roles and set their passwords)."""
    engine = server_engine(url)
    try:
        with engine.connect() as conn:
            return _role_state(conn, role)
    except DBAPIError as exc:
        raise_storage_error(exc)
        raise
    finally:
        engine.dispose()


def _role_state(conn: Connection, role: str) -> tuple[bool, bool]:
    exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}).scalar()
    manages = conn.execute(text("SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = current_user")).scalar()
    return bool(exists), bool(manages)


def ask_server_administrator(role: str, why: str, *, exists: bool = False) -> UserError:
    """The one step only the server's administrator (postgres) can take, with the commands to run: the password set
    with psql's \\password, which sends only its SCRAM verifier (a PASSWORD '…' literal would reach the server's log
    and the shell's history in clear)."""
    create = "" if exists else f'  psql -c "CREATE ROLE {role} LOGIN"\n'
    return UserError(
        f"{why} اطلب من مسؤول الخادم أن يشغّل مرة واحدة بحساب postgres:\n"
        f"{create}"
        f'  psql -c "\\password {role}"\n'
        "(يسأل عن كلمة المرور مرتين ولا يرسل إلى الخادم إلا بصمتها، فلا تظهر في سجلاته) "
        "ثم أعد هذا الأمر بحساب مالك قاعدة البيانات (يمنح الصلاحيات دون كلمة المرور). لم يُغيَّر شيء."
    )


def _quote(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def grant_pc_role(owner_url: str, role: str, password: str | None) -> str:
    """As the database's owner (who ran `init`): create or update the login role the office's PCs use, with only
    what the program needs — rows of the tables (no DDL, no TRUNCATE, no change to the append-only tables),
    sequences, temporary tables (bulk imports) — and the same for tables later migrations add. Returns the address
    the PCs use (without a password). Run again after each upgrade: it is idempotent."""
    if not is_server_url(owner_url):
        raise UserError("هذا الأمر لقاعدة بيانات على خادم PostgreSQL فقط: --db postgresql+psycopg://…")
    role = _check_role_name(role)
    engine = server_engine(owner_url)
    try:
        with engine.begin() as conn:
            _require_owner(conn, role)
            _grant(conn, role, password)
    except DBAPIError as exc:
        raise_storage_error(exc)
        raise
    finally:
        engine.dispose()
    return _with(owner_url, username=role, password=None)


def _require_owner(conn: Connection, role: str) -> None:
    owner, me, has_tables = conn.execute(
        text(
            "SELECT pg_get_userbyid(d.datdba), current_user, "
            "EXISTS (SELECT 1 FROM pg_tables WHERE schemaname = 'public' AND tablename = 'alembic_version') "
            "FROM pg_database d WHERE d.datname = current_database()"
        )
    ).one()
    if not has_tables:
        raise UserError(
            "قاعدة البيانات على الخادم فارغة: أنشئ فيها قاعدة AidOffice أولاً بالأمر init بحساب مالكها، "
            "ثم أعد هذا الأمر."
        )
    if role in (owner, me):
        raise UserError(
            f"حساب الأجهزة يجب أن يكون حساباً غير مالك قاعدة البيانات ({owner}) وغير الحساب المتصل الآن: "
            "اختر اسماً آخر، مثل aidoffice_pc."
        )
    allowed = conn.execute(
        text(
            "SELECT pg_has_role(current_user, :owner, 'MEMBER') OR rolsuper FROM pg_roles WHERE rolname = current_user"
        ),
        {"owner": owner},
    ).scalar()
    if not allowed:
        raise UserError(
            f"هذا الأمر يشغّله مالك قاعدة البيانات ({owner}) الذي أنشأها بالأمر init، لا حساب الأجهزة. لم يُغيَّر شيء."
        )


def _grant(conn: Connection, role: str, password: str | None) -> None:
    q = _quote(conn, role)
    exists, manages = _role_state(conn, role)
    attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
    if not manages:  # the database's owner alone (no CREATEROLE, as it should be): grants, but no role of its own
        if not exists:
            raise ask_server_administrator(
                role, f"حساب الأجهزة {role} غير موجود على الخادم، وحساب مالك قاعدة البيانات لا يُنشئ حسابات."
            )
        if password:
            raise ask_server_administrator(
                role,
                f"تغيير كلمة مرور الحساب {role} لمسؤول الخادم (بأمر \\password في psql)، لا لمالك قاعدة البيانات.",
                exists=True,
            )
        wide = conn.execute(
            text(
                "SELECT rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls "
                "FROM pg_roles WHERE rolname = :r"
            ),
            {"r": role},
        ).scalar()
        if wide:
            raise UserError(
                f"للحساب {role} صلاحيات على الخادم أوسع مما تحتاجه الأجهزة (إنشاء قواعد أو حسابات أو مدير خادم): "
                f'اطلب من مسؤول الخادم: psql -c "ALTER ROLE {role} {attributes}" ثم أعد هذا الأمر. لم يُغيَّر شيء.'
            )
    elif not exists:
        conn.execute(text(f"CREATE ROLE {q} {attributes}"))
    else:
        conn.execute(text(f"ALTER ROLE {q} {attributes}"))
    if password:
        _set_password(conn, role, password)
    grant_rights(conn, role)


def grant_rights(conn: Connection, role: str) -> None:
    """The PCs' rights on the database, its schema, tables and sequences, from nothing (idempotent): run by
    `server roles`, and again after a restore has made the tables anew."""
    q = _quote(conn, role)
    database = _quote(conn, conn.execute(text("SELECT current_database()")).scalar())
    # who runs the migrations: the owner of the schema's tables (init's account), whoever runs this command
    owner = _quote(
        conn,
        conn.execute(
            text("SELECT tableowner FROM pg_tables WHERE schemaname = 'public' AND tablename = 'alembic_version'")
        ).scalar(),
    )
    for statement in (
        # only named roles reach the office's database; no one but the owner creates objects in it
        f"REVOKE CONNECT, TEMPORARY ON DATABASE {database} FROM PUBLIC",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {q}",
        f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {q}",
        f"REVOKE CREATE ON SCHEMA public FROM {q}",
        f"GRANT CONNECT, TEMPORARY ON DATABASE {database} TO {q}",
        f"GRANT USAGE ON SCHEMA public TO {q}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {q}",
        # tables and sequences a later migration adds (run by the owner): the same rights without this command
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT {ROW_RIGHTS} ON TABLES TO {q}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {q}",
    ):
        conn.execute(text(statement))
    present = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).scalars()
    for table in present:
        conn.execute(text(f"GRANT {table_rights(table)} ON {_quote(conn, table)} TO {q}"))


def table_rights(table: str) -> str:
    """What the PCs' role may do to a table's rows (GRANT's list of privileges)."""
    if table == "alembic_version":
        return "SELECT"
    rights = ["SELECT", "INSERT"]
    if table in UPDATE_COLUMNS:
        rights.append(f"UPDATE ({', '.join(UPDATE_COLUMNS[table])})")
    elif table not in NO_UPDATE:
        rights.append("UPDATE")
    if table in DELETES:
        rights.append("DELETE")
    return ", ".join(rights)


def pc_roles(conn: Connection) -> list[str]:
    """The roles `server roles` gave the office PCs' rights to: those, other than the table's owner, that may add to
    the audit trail (every account the program works with must; a read-only reporting role may not)."""
    return list(
        conn.execute(
            text(
                "SELECT DISTINCT r.rolname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "CROSS JOIN LATERAL aclexplode(c.relacl) a JOIN pg_roles r ON r.oid = a.grantee "
                "WHERE n.nspname = 'public' AND c.relname = 'audit_log' AND a.privilege_type = 'INSERT' "
                "AND a.grantee <> c.relowner ORDER BY 1"
            )
        ).scalars()
    )


def scram_verifier(conn: Connection, role: str, password: str) -> str:
    """The role's SCRAM-SHA-256 verifier, computed on this PC by libpq (PQencryptPasswordConn with the algorithm
    named: no round trip to the server)."""
    raw = conn.connection.driver_connection  # psycopg's own connection
    verifier = raw.pgconn.encrypt_password(password.encode(), role.encode(), b"scram-sha-256").decode("ascii")
    if not verifier.startswith("SCRAM-SHA-256$") or "'" in verifier:
        raise StorageError("تعذر تجهيز كلمة مرور حساب الأجهزة للخادم. لم تُغيَّر كلمة المرور.")
    return verifier


def _set_password(conn: Connection, role: str, password: str) -> None:
    """ALTER ROLE … PASSWORD with the verifier only: the clear password never travels in a statement's text, which
    the server may log (log_statement) or show to others (pg_stat_activity). A literal, not a bind parameter
    (utility statements take none); the verifier holds no quote."""
    conn.exec_driver_sql(f"ALTER ROLE {_quote(conn, role)} PASSWORD '{scram_verifier(conn, role, password)}'")


def can_migrate(conn: Connection) -> bool:
    """Whether the connected account may change the schema: the database's owner (or a member of its role), or a
    superuser. The PCs' role may not, and is told to ask the administrator instead of failing half-way."""
    return bool(
        conn.execute(
            text(
                "SELECT r.rolsuper OR pg_has_role(current_user, d.datdba, 'MEMBER') FROM pg_database d, pg_roles r "
                "WHERE d.datname = current_database() AND r.rolname = current_user"
            )
        ).scalar()
    )


def refuse_limited_upgrade(engine, current: str | None) -> None:
    """An empty or outdated database opened with an account that cannot migrate it (the PCs' role): an Arabic
    message for the administrator, before any DDL is tried."""
    with engine.connect() as conn:
        if can_migrate(conn):
            return
    if current is None:
        raise StorageError(
            "قاعدة البيانات على الخادم فارغة، وحساب هذا الجهاز لا يملك صلاحية إنشائها: اطلب من مسؤول الخادم تشغيل "
            "الأمر «aidoffice-cli init» بحساب مالك قاعدة البيانات. لم يُغيَّر شيء."
        )
    raise StorageError(
        "قاعدة البيانات على الخادم من إصدار أقدم من هذا البرنامج وتحتاج إلى ترقية، وحساب هذا الجهاز لا يملك صلاحية "
        "ترقيتها: اطلب من مسؤول الخادم تشغيل الأمر «aidoffice-cli init» بحساب مالك قاعدة البيانات (ثم "
        "«aidoffice-cli server roles») ثم أعد المحاولة. لم يُغيَّر شيء."
    )
