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

# Tables whose rows are never changed or removed (migrations 0001 and 0006 refuse it with triggers too): the PCs'
# role gets no UPDATE/DELETE on them, so a change would be refused by the server's rights before any trigger runs.
# distribution_lines keeps UPDATE: a listed line is marked received or not received (the trigger allows only that).
APPEND_ONLY = {"audit_log": "SELECT, INSERT", "distributions": "SELECT, INSERT, UPDATE",
               "distribution_lines": "SELECT, INSERT, UPDATE", "alembic_version": "SELECT"}  # fmt: skip
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


def ask_server_administrator(role: str, why: str) -> UserError:
    """The one step only the server's administrator (postgres) can take, with the statement to run."""
    return UserError(
        f"{why} اطلب من مسؤول الخادم أن يشغّل مرة واحدة بحساب postgres:\n"
        f"  psql -c \"CREATE ROLE {role} LOGIN PASSWORD 'كلمة-مرور-طويلة'\"\n"
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
                role, f"تغيير كلمة مرور الحساب {role} لمسؤول الخادم (ALTER ROLE … PASSWORD)، لا لمالك قاعدة البيانات."
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
        # a literal, not a bind parameter (utility statements take none); the server stores its SCRAM hash
        literal = "'" + password.replace("'", "''") + "'"
        conn.exec_driver_sql(f"ALTER ROLE {q} PASSWORD {literal}")
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
        f"GRANT {ROW_RIGHTS} ON ALL TABLES IN SCHEMA public TO {q}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {q}",
        # tables and sequences a later migration adds (run by the owner): the same rights without this command
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT {ROW_RIGHTS} ON TABLES TO {q}",
        f"ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {q}",
    ):
        conn.execute(text(statement))
    present = {r[0] for r in conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))}
    for table, rights in APPEND_ONLY.items():
        if table in present:
            conn.execute(text(f"REVOKE ALL ON {_quote(conn, table)} FROM {q}"))
            conn.execute(text(f"GRANT {rights} ON {_quote(conn, table)} TO {q}"))


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
