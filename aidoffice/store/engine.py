"""Opening the SQLite file safely: checks before touching it, per-connection pragmas, migrations, error sorting."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import stat
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, event, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from aidoffice.errors import StorageError
from aidoffice.store.dialect import is_server_url

log = logging.getLogger("aidoffice.store")

SQLITE_MAGIC = b"SQLite format 3\x00"
DEFAULT_BUSY_TIMEOUT_MS = 5000
# Page cache per connection (KiB). SQLite's default is 2 MiB, too small for a million persons: bulk inserts into
# the UUID and ID indexes thrash it. 64 MiB is modest even for the old office PCs.
CACHE_KIB = 65_536


def busy_timeout_ms() -> int:
    """How long a connection waits for another program's lock; AIDOFFICE_BUSY_TIMEOUT_MS overrides it."""
    try:
        return int(os.environ.get("AIDOFFICE_BUSY_TIMEOUT_MS", DEFAULT_BUSY_TIMEOUT_MS))
    except ValueError:
        return DEFAULT_BUSY_TIMEOUT_MS


# --- sorting SQLite failures into the user's environment and bugs -------------------------------------------

# By SQLite's primary result code (the low byte of an extended one; SQLCipher's driver gives only the primary).
SQLITE_CONSTRAINT = 19
SQLITE_NOTADB = 26
_KNOWN = {
    5: "BUSY",  # SQLITE_BUSY: another connection holds the write lock
    6: "BUSY",  # SQLITE_LOCKED: a table locked within this process
    8: "لا يمكن الكتابة في قاعدة البيانات: الملف أو المجلد للقراءة فقط.",  # SQLITE_READONLY
    13: "القرص ممتلئ: لم يُحفظ شيء. أفرغ مساحة على القرص ثم أعد المحاولة.",  # SQLITE_FULL
    SQLITE_NOTADB: "الملف ليس قاعدة بيانات AidOffice صالحة أو أنه تالف.",
    11: "قاعدة البيانات تالفة. استعد آخر نسخة احتياطية سليمة.",  # SQLITE_CORRUPT
    14: "تعذر فتح ملف قاعدة البيانات. تحقق من المسار والصلاحيات.",  # SQLITE_CANTOPEN
    10: "خطأ في القراءة أو الكتابة على القرص. تحقق من القرص أو وحدة التخزين.",  # SQLITE_IOERR
}
# A broken constraint, by extended code (SQLite) or SQLSTATE (PostgreSQL). The append-only triggers abort with a
# constraint error of their own: SQLITE_CONSTRAINT_TRIGGER, and plain integrity_constraint_violation on a server.
_SQLITE_CONSTRAINTS = {2067: "unique", 1555: "unique", 787: "foreign_key", 1811: "append_only"}
_SQLSTATE_CONSTRAINTS = {"23505": "unique", "23503": "foreign_key", "23000": "append_only"}


def sqlite_code(exc: BaseException) -> int | None:
    """SQLite's primary result code of a driver error, None when the driver gave none (a misuse, not SQLite's)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def constraint_kind(exc: BaseException) -> str | None:
    """Which kind of constraint a write broke: "unique", "foreign_key", "append_only", or None (another kind, or no
    constraint at all) — by SQLSTATE on a server and by SQLite's extended result code on a file."""
    original = getattr(exc, "orig", exc)
    state = getattr(original, "sqlstate", None)
    if state:
        return _SQLSTATE_CONSTRAINTS.get(state)
    code = getattr(original, "sqlite_errorcode", None)
    if code in _SQLITE_CONSTRAINTS:
        return _SQLITE_CONSTRAINTS[code]
    if code == SQLITE_CONSTRAINT:
        # SQLCipher's driver does not turn on extended result codes, so it says only "a constraint failed"; the kind
        # is then read from the constraint SQLite names (its fixed English words), the one place that must.
        text = str(original)
        for words, kind in (("append-only", "append_only"), ("UNIQUE", "unique"), ("FOREIGN KEY", "foreign_key")):
            if words in text:
                return kind
    return None


def is_driver_error(exc: BaseException) -> bool:
    """An error of sqlite3, of SQLCipher's driver (a separate module with the same classes) or of psycopg."""
    return isinstance(exc, sqlite3.Error) or type(exc).__module__.startswith(("sqlcipher3", "psycopg"))


# PostgreSQL failures of the user's environment, by SQLSTATE (class or full code), never by message text.
_SERVER_BUSY = "BUSY"
_SQLSTATES = (
    ("28", "رفض خادم قاعدة البيانات الدخول: اسم المستخدم أو كلمة المرور غير صحيحة. لم يُغيَّر شيء."),
    ("3D000", "قاعدة البيانات المطلوبة غير موجودة على الخادم: أنشئها أولاً أو صحّح اسمها. لم يُغيَّر شيء."),
    ("42501", "حساب قاعدة البيانات على الخادم لا يملك الصلاحية اللازمة لهذا العمل: لم يُحفظ شيء."),
    ("25006", "لا يمكن الكتابة في قاعدة البيانات: الخادم يسمح بالقراءة فقط."),
    ("53100", "قرص خادم قاعدة البيانات ممتلئ: لم يُحفظ شيء. أبلغ مسؤول الخادم."),
    ("53300", "خادم قاعدة البيانات بلغ أقصى عدد من الاتصالات: أعد المحاولة بعد قليل."),
    ("57P", "خادم قاعدة البيانات يتوقف أو يُعاد تشغيله: لم يُحفظ شيء. أعد المحاولة بعد قليل."),
    ("08", "انقطع الاتصال بخادم قاعدة البيانات: لم يُحفظ شيء. تحقق من الشبكة ثم أعد المحاولة."),
    ("40001", _SERVER_BUSY),
    ("40P01", _SERVER_BUSY),
    ("55P03", _SERVER_BUSY),
    ("57014", "طال انتظار خادم قاعدة البيانات فأُلغيت العملية: لم يُحفظ شيء. أعد المحاولة بعد قليل."),
)


def _server_error_for(original: BaseException) -> StorageError | None:
    code = getattr(original, "sqlstate", None)
    if code:
        for prefix, message in _SQLSTATES:
            if code.startswith(prefix):
                return StorageError(busy_message() if message == _SERVER_BUSY else message)
        return None
    if type(original).__name__ != "OperationalError":
        return None
    connection = getattr(original, "pgconn", None)
    if connection is not None and getattr(connection, "server_version", 0):
        return None  # connected once: not a failure to connect
    # libpq gives no SQLSTATE for a refused connection: what it did get that far tells a server that answered
    # (and refused the account or the database) from one that was never reached (or whose name did not resolve).
    where = "على الخادم"
    if connection is not None:
        host = (connection.host or b"").decode(errors="replace") or "localhost"
        port = (connection.port or b"").decode(errors="replace")
        database = (connection.db or b"").decode(errors="replace")
        where = f"«{database}» على الخادم {host}:{port}" if port else f"«{database}» على الخادم {host}"
        where += "\u200f"  # a right-to-left mark: the colon after the address stays on the Arabic side
    if connection is not None and (connection.used_password or connection.needs_password):
        return StorageError(
            f"رفض الخادم الاتصال بقاعدة البيانات {where}: كلمة المرور أو اسم المستخدم غير صحيح، أو قاعدة البيانات "
            "غير موجودة عليه. لم يُغيَّر شيء."
        )
    if connection is not None and _tls_required(connection):
        return StorageError(
            f"تعذر الاتصال بقاعدة البيانات {where} اتصالاً مشفراً (TLS): الخادم لا يقبل الاتصال المشفر أو لم يثبت "
            "هويته بشهادة المكتب، أو هو متوقف أو لا يمكن الوصول إليه. اطلب من مسؤول الخادم تفعيل TLS عليه "
            "(ssl = on) أو تحقق من عنوانه وتشغيله. لم يُغيَّر شيء."
        )
    return StorageError(
        f"تعذر الاتصال بقاعدة البيانات {where}: الخادم متوقف أو لا يمكن الوصول إليه عبر الشبكة، أو لا يقبل "
        "اتصالات هذا الحاسوب، أو قاعدة البيانات غير موجودة. تحقق من عنوان الخادم وتشغيله ثم أعد المحاولة. لم يُغيَّر شيء."
    )


def _tls_required(connection) -> bool:
    """Whether the refused connection had asked for TLS (sslmode require, verify-ca or verify-full)."""
    try:
        options = {o.keyword: o.val for o in connection.info}
    except Exception:  # a connection object without its options: say nothing about TLS
        return False
    return (options.get(b"sslmode") or b"").decode() in ("require", "verify-ca", "verify-full")


def storage_error_for(exc: BaseException) -> StorageError | None:
    """The user-facing StorageError for a known SQLite or PostgreSQL failure (environment), or None for a bug."""
    original = getattr(exc, "orig", exc)
    if not is_driver_error(original):
        return None
    if type(original).__module__.startswith("psycopg"):
        return _server_error_for(original)
    message = _KNOWN.get(sqlite_code(original))
    if message is None:
        return None
    return StorageError(busy_message() if message == "BUSY" else message)


def busy_message() -> str:
    """After waiting the whole busy timeout for another command or window to finish writing."""
    seconds = max(1, round(busy_timeout_ms() / 1000))
    return (
        f"قاعدة البيانات مشغولة بعمل آخر (أمر آخر أو نافذة البرنامج) ولم تتحرر بعد انتظار {seconds} ثانية: "
        "لم يُحفظ شيء. أعد المحاولة بعد انتهاء العمل الآخر، أو أغلق النسخة الأخرى من البرنامج."
    )


def raise_storage_error(exc: BaseException) -> None:
    """Re-raise a known SQLite failure as StorageError; leave anything else to propagate."""
    known = storage_error_for(exc)
    if known is not None:
        raise known from exc


# --- engine -------------------------------------------------------------------------------------------------


def _install_pragmas(engine: Engine, *, foreign_keys: bool) -> None:
    timeout = busy_timeout_ms()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        # Autocommit at the driver level; SQLAlchemy's "begin" event below issues BEGIN itself, so PRAGMAs run
        # outside any transaction (foreign_keys is ignored inside one) and DDL is transactional.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={timeout}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection) -> None:
        # IMMEDIATE (when the caller asked, see write_lock_first): a unit of work that reads then writes (a login,
        # an entry check) takes the write lock at its start, so another program's writer makes it wait up to the
        # busy timeout; a deferred one fails at once when it writes after the other committed (its snapshot is
        # stale, and SQLite does not wait for that). A unit of work opened inside another in the same thread (the
        # office's id read while a record is built) stays deferred: it would otherwise wait for its own caller.
        held = _held_engines()
        immediate = _WRITE_LOCK_FIRST.get() and id(engine) not in held
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
        if immediate:
            held.add(id(engine))
            connection.info[_IMMEDIATE] = True

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection) -> None:
        if connection.info.pop(_IMMEDIATE, False):
            _held_engines().discard(id(engine))


_WRITE_LOCK_FIRST: ContextVar[bool] = ContextVar("aidoffice_write_lock_first", default=False)
_IMMEDIATE = "aidoffice_immediate"
_holding = threading.local()


def _held_engines() -> set[int]:
    if not hasattr(_holding, "engines"):
        _holding.engines = set()
    return _holding.engines


@contextlib.contextmanager
def write_lock_first() -> Iterator[None]:
    """Within this block, units of work take the write lock when they begin (BEGIN IMMEDIATE) and so wait their
    turn behind another program's writer, up to the busy timeout. For the command line, whose commands may run at
    once on one file; the desktop's reads stay deferred, so a long import in the background never blocks them."""
    token = _WRITE_LOCK_FIRST.set(True)
    try:
        yield
    finally:
        _WRITE_LOCK_FIRST.reset(token)


def sqlcipher_driver():
    """SQLCipher's driver (the sqlcipher3 wheels), loaded only for an encrypted database."""
    try:
        import sqlcipher3
    except ImportError as exc:
        raise StorageError("مكتبة التشفير SQLCipher غير مثبتة: لا يمكن فتح قاعدة بيانات مشفرة.") from exc
    _quiet(sqlcipher3)
    return sqlcipher3


_quieted: list[bool] = []


def _quiet(module) -> None:
    """SQLCipher writes its own English lines to stderr (ERROR CORE sqlcipher_page_cipher: hmac check failed…) when a
    key does not open a file or a page is damaged; the user gets the Arabic StorageError instead. Its log level is
    process-wide: set once, on a throwaway connection, before any keyed connection is made."""
    if _quieted:
        return
    try:
        conn = module.connect(":memory:")
        try:
            conn.execute("PRAGMA cipher_log_level = NONE")
        finally:
            conn.close()
    except Exception:  # a driver without the pragma still works, only louder
        log.debug("SQLCipher's log level could not be set")
    _quieted.append(True)


def raw_key(key: bytes) -> str:
    """SQLCipher's raw-key form: the 32 bytes are the key itself, no passphrase derivation on every connection."""
    return f"x'{key.hex()}'"


def raw_connect(path: Path, key: bytes | None = None, *, read_only: bool = False, timeout: float | None = None):
    """A DB-API connection outside SQLAlchemy (copies, checks): plain sqlite3, or SQLCipher with the key set."""
    module = sqlcipher_driver() if key else sqlite3
    target = f"file:{path}?mode=ro" if read_only else str(path)
    seconds = timeout if timeout is not None else busy_timeout_ms() / 1000
    conn = module.connect(target, uri=read_only, timeout=seconds)
    if key:
        conn.execute(f'PRAGMA key = "{raw_key(key)}"')
        conn.execute(f"PRAGMA busy_timeout = {int(seconds * 1000)}")  # SQLCipher's driver: the same wait, stated
    return conn


SERVER_CONNECT_TIMEOUT_S = 10


def server_engine(url: str) -> Engine:
    """An engine on a PostgreSQL server: a refused or unreachable server fails within seconds, a connection dropped
    while idle in the pool is replaced before use, and the server sees which program is connected."""
    try:
        import psycopg  # noqa: F401 - the [server] extra; checked here to say so in Arabic
    except ImportError as exc:
        raise StorageError(
            "مكتبة الاتصال بخادم PostgreSQL غير مثبتة على هذا الحاسوب: ثبّت البرنامج مع إضافة الخادم "
            '(pip install "aidoffice[server]") ثم أعد المحاولة.'
        ) from exc
    engine = create_engine(
        make_url(url),
        hide_parameters=True,
        pool_pre_ping=True,
        connect_args={"connect_timeout": SERVER_CONNECT_TIMEOUT_S, "application_name": "AidOffice"},
    )

    @event.listens_for(engine, "connect")
    def _no_jit(dbapi_connection, _record) -> None:
        # A searched table page costs more than jit_above_cost, and compiling it took ≈ 45 ms of a ≈ 250 ms page
        # (1,000,000 persons): the program's statements are short, never worth compiling. Committed, so it stays.
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
            # A PC that sleeps or loses its cable mid-transaction holds its locks until the server notices: ask the
            # server to probe this connection after a minute of silence (the system default is two hours).
            for setting in ("tcp_keepalives_idle = 60", "tcp_keepalives_interval = 10", "tcp_keepalives_count = 3"):
                cursor.execute(f"SET {setting}")
        dbapi_connection.commit()

    return engine


def make_engine(path: Path | str, *, foreign_keys: bool = True, key: bytes | None = None) -> Engine:
    # hide_parameters: SQL errors must not carry personal data into logs or messages.
    if is_server_url(path):
        return server_engine(str(path))
    if key:
        sqlcipher_driver()
        url = URL.create("sqlite+pysqlcipher", password=raw_key(key), database=str(path))
        # One connection per checkout, as for plain files (the dialect's default shares one per thread, and two
        # units of work open in one thread would then share a transaction).
        engine = create_engine(url, hide_parameters=True, poolclass=QueuePool)
    else:
        engine = create_engine(f"sqlite:///{path}", hide_parameters=True)
    _install_pragmas(engine, foreign_keys=foreign_keys)
    return engine


# --- checks before the file is touched ----------------------------------------------------------------------


def check_file_usable(path: Path, *, create: bool, encrypted: bool = False) -> bool:
    """Refuse a file that is not ours to open; returns True when the file does not exist yet.

    Nothing here writes to the file: an unreadable or foreign file is never replaced by an empty database.
    """
    if path.exists():
        if path.is_dir():
            raise StorageError(f"المسار المحدد مجلد وليس ملف قاعدة بيانات: {path.name}")
        try:
            with path.open("rb") as fh:
                header = fh.read(len(SQLITE_MAGIC))
        except OSError as exc:
            raise StorageError(f"تعذر قراءة ملف قاعدة البيانات {path.name}: تحقق من الصلاحيات.") from exc
        if header != SQLITE_MAGIC and not encrypted:  # an encrypted file's first bytes are random
            raise StorageError(
                f"الملف {path.name} ليس قاعدة بيانات SQLite (قد يكون تالفاً أو ملفاً آخر). لم يُغيَّر شيء في الملف."
            )
        mode = path.stat().st_mode
        if not (mode & stat.S_IWUSR) or not os.access(path, os.W_OK):
            raise StorageError(
                f"ملف قاعدة البيانات {path.name} للقراءة فقط. انسخه إلى مجلد قابل للكتابة أو غيّر خصائصه."
            )
        if not os.access(path.parent, os.W_OK):
            raise StorageError(f"المجلد الذي يحوي {path.name} للقراءة فقط: لا يمكن فتح قاعدة البيانات للكتابة.")
        return False
    if not create:
        raise StorageError(f"ملف قاعدة البيانات غير موجود: {path.name}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"تعذر إنشاء المجلد {path.parent.name}: تحقق من الصلاحيات.") from exc
    if not os.access(path.parent, os.W_OK):
        raise StorageError(f"لا يمكن إنشاء قاعدة البيانات: المجلد {path.parent.name} للقراءة فقط.")
    return True


def copy_database(source: Path, target: Path, key: bytes | None = None) -> None:
    """A consistent copy through SQLite's online backup API (safe with WAL and with other readers); an encrypted
    database's copy is encrypted with the same key."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    src = raw_connect(source, key, read_only=True)
    try:
        dst = raw_connect(partial, key)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    os.replace(partial, target)


@dataclass(frozen=True)
class Database:
    """An open database: its path (None on a server), engine and session factory."""

    path: Path | None
    engine: Engine
    sessions: sessionmaker[Session]
    created: bool
    backup_before_migration: Path | None
    key: bytes | None = None  # SQLCipher's key when the file is encrypted

    @property
    def on_server(self) -> bool:
        return self.path is None

    @property
    def where(self) -> str:
        """The file's path, or the server's URL without its password: for messages and the command line."""
        return str(self.path) if self.path is not None else self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()


def _refuse_wrong_key(exc: BaseException, key: bytes | None) -> None:
    if key and sqlite_code(getattr(exc, "orig", exc)) == SQLITE_NOTADB:
        raise StorageError("مفتاح التشفير لا يفتح قاعدة البيانات: كلمة المرور أو ملف المفاتيح لا يخصها.") from exc


def open_database(
    path: Path | str, *, create: bool = True, backups: Path | None = None, key: bytes | None = None
) -> Database:
    """Open (or create) the database at `path`, take a copy if it must be migrated, and migrate it to head. A
    postgresql+psycopg:// URL opens a database on a server instead (open_server_database)."""
    from aidoffice.store import migrate  # local import: migrate imports alembic, which imports this module's users

    if is_server_url(path):
        return open_server_database(str(path), create=create)
    path = Path(path).expanduser().resolve()
    is_new = check_file_usable(path, create=create, encrypted=key is not None)
    backup_copy: Path | None = None
    try:
        current = None if is_new else migrate.current_revision(path, key)
        if not is_new:
            migrate.check_known(current)
            if current is not None and current != migrate.head_revision() and backups is not None:
                stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
                backup_copy = backups / f"pre-migration-{current}-{stamp}.sqlite3"
                copy_database(path, backup_copy, key)
                log.info("copied database before migration from revision %s", current)
        if current != migrate.head_revision():
            migrate.upgrade(path, key=key)
        engine = make_engine(path, key=key)
        with engine.connect() as conn:  # the first real connection: fails here, not later, if locked
            conn.exec_driver_sql("SELECT 1")
    except DBAPIError as exc:
        _refuse_wrong_key(exc, key)
        raise_storage_error(exc)
        raise
    except Exception as exc:
        if not is_driver_error(exc):
            raise
        _refuse_wrong_key(exc, key)
        raise_storage_error(exc)
        raise
    return Database(path, engine, _sessions(engine), is_new, backup_copy, key)


def _sessions(engine: Engine) -> sessionmaker[Session]:
    sessions = sessionmaker(engine, expire_on_commit=False)
    from aidoffice.store import audit, matching_keys, search

    search.install(sessions)
    matching_keys.install(sessions)
    audit.install(sessions)
    return sessions


def open_server_database(url: str, *, create: bool = True) -> Database:
    """Open a database on a PostgreSQL server and migrate it to head. The database itself must exist (the server's
    administrator creates it, empty, for the office's account); `create` lets an empty one receive the schema, in
    one transaction, so a failure leaves it as empty as it was. A database of another program, or of a newer
    AidOffice, is refused untouched."""
    from aidoffice.store import migrate

    engine = server_engine(url)
    try:
        current = migrate.current_revision(url, engine=engine)
        migrate.check_known(current)
        if current is None and not create:
            raise StorageError(
                "قاعدة البيانات على الخادم فارغة: لم تُنشأ فيها قاعدة AidOffice بعد. شغّل الأمر init أولاً."
            )
        if current != migrate.head_revision():
            from aidoffice.store.server import refuse_limited_upgrade

            refuse_limited_upgrade(engine, current)  # the PCs' role: ask the administrator, before any DDL
            migrate.upgrade(url, engine=engine)
    except DBAPIError as exc:
        engine.dispose()
        raise_storage_error(exc)
        raise
    except BaseException:
        engine.dispose()
        raise
    return Database(None, engine, _sessions(engine), current is None, None)
