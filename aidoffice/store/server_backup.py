"""Backups of a database on a PostgreSQL server: pg_dump's custom format, checked with pg_restore, put back in one
transaction.

The server's password reaches pg_dump and pg_restore through PGPASSWORD in the child's environment only: never on
their command line (which other users of the PC can read) nor in a log. What they print is not logged either (an
error can quote a row), only their exit code."""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, make_url, text
from sqlalchemy.exc import DBAPIError

from aidoffice.errors import StorageError
from aidoffice.store import dialect, server
from aidoffice.store.engine import SERVER_CONNECT_TIMEOUT_S, Database, server_engine

log = logging.getLogger("aidoffice.backup")

SUFFIX = ".pgdump"
MAGIC = b"PGDMP"  # the first bytes of a custom-format archive
LOCK_WAIT_S = 30.0  # a restore kept waiting this long by other PCs' open transactions is cancelled
_OTHERS_AT_WORK = (
    "تعذرت الاستعادة: أجهزة أخرى تعمل على قاعدة البيانات الآن فلم تُفرَغ جداولها. بقيت قاعدة البيانات كما كانت. "
    "أغلق البرنامج على الأجهزة الأخرى ثم أعد الاستعادة."
)
WATCH_EVERY_S = 0.5
_VERSION = re.compile(rb"\)\s*(\d+)(?:\.(\d+))?")  # "pg_dump (PostgreSQL) 15.18 (Debian …)"
_WINDOWS_FOLDERS = r"C:\Program Files\PostgreSQL\*\bin"
_UNIX_FOLDERS = "/usr/lib/postgresql/*/bin"


@dataclass(frozen=True)
class Tools:
    """pg_dump and pg_restore of one PostgreSQL installation, and its major version."""

    pg_dump: Path
    pg_restore: Path
    major: int


def _exe(folder: Path, name: str) -> Path:
    return folder / (f"{name}.exe" if sys.platform == "win32" else name)


def _version(exe: Path) -> int | None:
    try:
        done = subprocess.run(
            [str(exe), "--version"], capture_output=True, stdin=subprocess.DEVNULL, timeout=30, **_no_window()
        )
    except (OSError, subprocess.SubprocessError):
        return None
    found = _VERSION.search(done.stdout or b"")
    return int(found.group(1)) if done.returncode == 0 and found else None


def _no_window() -> dict:
    """No console window flashing up over the desktop program on Windows."""
    return {"creationflags": subprocess.CREATE_NO_WINDOW} if sys.platform == "win32" else {}


def _installed_folders() -> list[Path]:
    """The folders where PostgreSQL puts its programs, newest version first."""
    pattern = _WINDOWS_FOLDERS if sys.platform == "win32" else _UNIX_FOLDERS
    found = [Path(p) for p in glob.glob(pattern)]

    def version(folder: Path) -> tuple[int, ...]:
        digits = re.findall(r"\d+", folder.parent.name)
        return tuple(int(d) for d in digits) or (0,)

    return sorted(found, key=version, reverse=True)


def find_tools(server_major: int, folder: Path | None = None) -> Tools:
    """pg_dump and pg_restore able to read and write this server's databases: from `folder` when the office's
    settings name one, else on PATH, else in PostgreSQL's usual folders (the newest). Refused in Arabic when they
    are missing, or older than the server (pg_dump refuses a newer server)."""
    if folder is not None:
        candidates = [Path(folder)]
    else:
        on_path = shutil.which("pg_dump")
        candidates = ([Path(on_path).parent] if on_path else []) + _installed_folders()
    older: int | None = None
    for candidate in candidates:
        dump, restore = _exe(candidate, "pg_dump"), _exe(candidate, "pg_restore")
        if not (dump.is_file() and restore.is_file()):
            continue
        major = _version(dump)
        if major is None:
            continue
        if major >= server_major:
            return Tools(dump, restore, major)
        older = max(older or 0, major)
    where = f"في المجلد المحدد في الإعدادات ({folder})" if folder is not None else "على هذا الجهاز"
    if older is not None:
        raise StorageError(
            f"أداة pg_dump الموجودة {where} من الإصدار {older} وخادم قاعدة البيانات من الإصدار {server_major}: "
            f"لا تنسخ أداة أقدم من الخادم. ثبّت أدوات PostgreSQL {server_major} أو أحدث (أو اختر مجلدها في الإعدادات). "
            "لم يُغيَّر شيء."
        )
    raise StorageError(
        f"لم توجد أداتا pg_dump وpg_restore {where}، وبهما تُنسخ قاعدة البيانات على الخادم وتُستعاد. ثبّت أدوات "
        f"PostgreSQL {server_major} أو أحدث (على ويندوز: C:\\Program Files\\PostgreSQL\\{server_major}\\bin) أو اختر "
        "مجلدها في الإعدادات. لم يُغيَّر شيء."
    )


def server_major(db: Database) -> int:
    """The server's major version (15 for 15.18)."""
    with db.engine.connect() as conn:
        info = conn.dialect.server_version_info
    return int(info[0]) if info else 0


def _address(url) -> tuple[str, dict[str, str]]:
    """The libpq address without its password, and the child's environment carrying the password (PGPASSWORD)."""
    url = make_url(url)
    # URL.set(password=None) would keep the password: the address is made again without it
    bare = URL.create("postgresql", url.username, None, url.host, url.port, url.database, url.query)
    address = bare.render_as_string(hide_password=False)
    env = {k: v for k, v in os.environ.items() if k not in ("PGPASSWORD", "PGPASSFILE")}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    env["PGCONNECT_TIMEOUT"] = str(SERVER_CONNECT_TIMEOUT_S)
    env["PGAPPNAME"] = "AidOffice"
    env["PGCLIENTENCODING"] = "UTF8"
    return address, env


def _run(argv: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(argv, env=env, capture_output=True, stdin=subprocess.DEVNULL, **_no_window())
    except OSError as exc:
        raise StorageError(f"تعذر تشغيل {Path(argv[0]).name}: {exc.__class__.__name__}. لم يُغيَّر شيء.") from exc


def _fsync(path: Path) -> None:
    with path.open("rb+") as fh:
        os.fsync(fh.fileno())


def dump(db: Database, target: Path, tools: Tools, office_id: str | None) -> None:
    """pg_dump's custom format of the whole database into `target.partial`, flushed, checked (pg_restore reads its
    table of contents, and the office it holds is `office_id` when one is given), then renamed to `target`."""
    partial = target.with_name(target.name + ".partial")
    address, env = _address(db.engine.url)
    try:
        done = _run([str(tools.pg_dump), "--format=custom", "--no-password", f"--file={partial}", address], env)
        if done.returncode != 0:
            log.warning("pg_dump failed (exit code %d)", done.returncode)
            raise StorageError(
                f"تعذر أخذ نسخة من قاعدة البيانات على الخادم بأداة pg_dump (رمز الخروج {done.returncode}): تحقق من "
                "الاتصال بالخادم وصلاحية الحساب. لم تُحفظ نسخة."
            )
        _fsync(partial)
        if not readable(partial, tools) or (office_id is not None and office_identity(partial, tools) != office_id):
            raise StorageError("النسخة الاحتياطية الناتجة تالفة: لم تُحفظ. تحقق من القرص وأعد المحاولة.")
        os.replace(partial, target)
    except OSError as exc:
        raise StorageError(f"تعذر كتابة النسخة الاحتياطية في {target.parent}: تحقق من المساحة والصلاحيات.") from exc
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()


def is_dump(path: Path) -> bool:
    """The file starts as a pg_dump custom-format archive."""
    try:
        with Path(path).open("rb") as fh:
            return fh.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def readable(path: Path, tools: Tools) -> bool:
    """pg_restore reads the archive's table of contents."""
    return is_dump(path) and _run([str(tools.pg_restore), "--list", str(path)]).returncode == 0


def table_rows(path: Path, tools: Tools, table: str) -> list[dict[str, str | None]]:
    """A table's rows as pg_restore writes them (COPY's text format), read from the archive without a server; [] when
    the archive cannot be read or has no such table."""
    done = _run([str(tools.pg_restore), "--data-only", f"--table={table}", "--file=-", str(path)])
    if done.returncode != 0:
        return []
    lines = done.stdout.decode("utf-8", errors="replace").splitlines()
    header = re.compile(rf"^COPY (?:public\.)?{re.escape(table)} \((.*)\) FROM stdin;$")
    rows: list[dict[str, str | None]] = []
    columns: list[str] | None = None
    for line in lines:
        if columns is None:
            found = header.match(line)
            if found:
                columns = [c.strip().strip('"') for c in found.group(1).split(",")]
            continue
        if line == "\\.":
            break
        values = [None if v == "\\N" else v for v in line.split("\t")]
        rows.append(dict(zip(columns, values, strict=False)))
    return rows


def office_identity(path: Path, tools: Tools) -> str | None:
    """The id of the office whose database the archive holds; None when it cannot be read."""
    rows = table_rows(path, tools, "office_profile")
    return rows[0].get("id") if rows else None


def revision(path: Path, tools: Tools) -> str | None:
    """The archive's schema revision (Alembic's)."""
    rows = table_rows(path, tools, "alembic_version")
    return rows[0].get("version_num") if rows else None


def owns_schema(db: Database) -> bool:
    """Whether the connected account may drop and make again every table and the extensions of the database (its
    owner's account, or a superuser), as a restore must; the office PCs' least-privilege account may not."""
    with db.engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) OR ("
                    " (SELECT coalesce(bool_and(pg_has_role(current_user, tableowner, 'USAGE')), true)"
                    "  FROM pg_tables WHERE schemaname = 'public') AND"
                    " (SELECT coalesce(bool_and(pg_has_role(current_user, extowner, 'USAGE')), true)"
                    "  FROM pg_extension WHERE extname <> 'plpgsql'))"
                )
            ).scalar()
        )


def scratch_database(db: Database) -> str:
    """A new empty database on the same server (named after the current one), for an archive of an older schema to
    be brought up to date in; its address, password included (never shown). Needs the right to create databases."""
    url = db.engine.url
    name = f"{(url.database or 'aidoffice')[:40]}_restore_{uuid.uuid4().hex[:8]}"
    try:
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            quoted = conn.dialect.identifier_preparer.quote(name)
            conn.execute(text(f"CREATE DATABASE {quoted} TEMPLATE template0 ENCODING 'UTF8'"))
    except DBAPIError as exc:
        raise StorageError(
            "النسخة من إصدار أقدم من البرنامج، وتُحدَّث قبل استعادتها في قاعدة بيانات مؤقتة على الخادم، لكن حساب "
            "الاتصال لا يملك إنشاء قواعد البيانات (CREATEDB). استعدها بحساب يملكه. لم يتغير شيء."
        ) from exc
    return url.set(database=name).render_as_string(hide_password=False)


def drop_database(db: Database, url: str) -> None:
    """Remove a scratch database made by scratch_database (its connections ended first)."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        quoted = conn.dialect.identifier_preparer.quote(make_url(url).database or "")
        conn.execute(text(f"DROP DATABASE IF EXISTS {quoted} WITH (FORCE)"))


@contextlib.contextmanager
def writers_kept_out(db: Database):
    """Other PCs' saves wait (then read "busy") from before the current data are dumped aside until the restore is
    over: a save made in between would be in neither the kept archive nor the restored database. A session-level
    hold of the writers' advisory lock on a connection of its own (advisory locks are per database: a scratch
    database used meanwhile is not held). Its owner writes nothing until it lets go."""
    engine = server_engine(db.engine.url.render_as_string(hide_password=False))
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f"SET lock_timeout = {int(LOCK_WAIT_S * 1000)}"))
            try:
                conn.execute(text(f"SELECT pg_advisory_lock({dialect.WRITER_LOCK_KEY})"))
            except DBAPIError as exc:
                raise StorageError(
                    "تعذرت الاستعادة: أجهزة أخرى تحفظ في قاعدة البيانات الآن. بقيت قاعدة البيانات كما كانت. أعد "
                    "الاستعادة بعد قليل، أو بعد إغلاق البرنامج على الأجهزة الأخرى."
                ) from exc
            try:
                yield
            finally:
                conn.execute(text(f"SELECT pg_advisory_unlock({dialect.WRITER_LOCK_KEY})"))
    finally:
        engine.dispose()


def restore(url, archive: Path, tools: Tools, *, clean: bool = True) -> list[str]:
    """Put the archive in place of the database's objects and rows, in ONE transaction: pg_restore drops each object
    the archive holds and makes it again with the archive's rows, and any failure rolls everything back, leaving the
    database as it was. Its script sets lock_timeout to 0, so it is watched instead: kept waiting for another
    connection's lock for LOCK_WAIT_S, it is cancelled (and so rolled back). `clean=False`: into an empty database.

    What it makes is the database owner's whoever restores (a superuser too), without the archive's GRANTs; the
    office PCs' roles found before it get their rights again after it (store/server.py's grant_rights). Returns the
    PCs' roles that could not be given them again (the restore stands; `server roles` must be run for them)."""
    address, env = _address(url)
    tag = f"AidOffice restore {uuid.uuid4().hex[:12]}"
    env["PGAPPNAME"] = tag
    owner, pc_roles, extensions = _prepare(url, clean)
    argv = [
        str(tools.pg_restore),
        "--single-transaction",
        "--exit-on-error",
        *(("--clean", "--if-exists") if clean else ()),
        # made as the database's owner, whoever restores (a superuser's restore left the tables its own: the owner's
        # later migrations and `server roles` were refused); the archive's GRANTs are not restored (they may name
        # roles this server lacks, or rights wider than today's): the PCs' rights are given again below
        "--no-owner",
        f"--role={owner}",
        "--no-privileges",
        "--no-password",
        f"--dbname={address}",
    ]
    try:
        with tempfile.TemporaryDirectory(prefix="aidoffice-restore-") as scratch:
            if extensions:  # an extension the database has already is kept as it is (its owner may not restore)
                argv.append(f"--use-list={_listing_without(archive, tools, extensions, Path(scratch) / 'toc.list')}")
            argv.append(str(archive))
            cancelled, returncode = _run_watched(argv, env, url, tag)
    finally:
        # rolled back or not: the default privileges _prepare took away come back
        without_rights = _grant_again(url, pc_roles)
    if returncode == 0:
        return without_rights
    log.warning("pg_restore failed (exit code %d, cancelled: %s); rolled back", returncode, cancelled)
    if cancelled:
        raise StorageError(_OTHERS_AT_WORK)
    raise StorageError(
        f"تعذرت استعادة النسخة على الخادم بأداة pg_restore (رمز الخروج {returncode}): بقيت قاعدة البيانات "
        "كما كانت. إن كانت أجهزة أخرى تعمل عليها الآن فأغلق البرنامج فيها ثم أعد المحاولة."
    )


def _run_watched(argv: list[str], env: dict[str, str], url, tag: str) -> tuple[bool, int]:
    """pg_restore run and watched (_watch): (whether it was cancelled, its exit code)."""
    try:  # what it prints is not kept: an error can quote a row
        child = subprocess.Popen(
            argv,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            **_no_window(),
        )
    except OSError as exc:
        raise StorageError(f"تعذر تشغيل pg_restore: {exc.__class__.__name__}. لم يُستعد شيء.") from exc
    cancelled = _watch(child, make_url(url), tag)
    return cancelled, child.returncode


def _prepare(url, clean: bool) -> tuple[str, list[str], set[str]]:
    """Before a restore: the database's owner (who will own what is restored), the PCs' roles (whose rights are given
    again after it) and the extensions the database has. Tables a superuser's restore left its own (before this
    program made them the owner's) are handed back to the owner first, as --clean drops them as the owner."""
    engine = server_engine(make_url(url).render_as_string(hide_password=False))
    try:
        with engine.connect() as conn:
            owner = conn.execute(
                text("SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()")
            ).scalar()
            if not clean:
                return owner, [], set()
            roles = [r for r in server.pc_roles(conn) if r != owner]
            extensions = set(conn.execute(text("SELECT extname FROM pg_extension")).scalars())
            conn.rollback()
            # ALTER … OWNER TO waits for every other PC's reading of a table: not for ever (kept waiting, it is
            # rolled back and the restore does not start).
            conn.execute(text(f"SET LOCAL lock_timeout = {int(LOCK_WAIT_S * 1000)}"))
            _hand_back(conn, owner)
            _no_default_rights(conn, owner, roles)
            return owner, roles, extensions
    except DBAPIError as exc:
        raise StorageError(
            "تعذرت الاستعادة: لم يُقرأ مالك قاعدة البيانات وحساباتها على الخادم. تحقق من الاتصال ثم أعد المحاولة. "
            "بقيت قاعدة البيانات كما كانت."
        ) from exc
    finally:
        engine.dispose()


def _hand_back(conn, owner: str) -> None:
    """Tables, views, sequences and functions of the schema (not an extension's) owned by another account than the
    database's owner, made the owner's (ALTER … OWNER TO: a superuser or a member of both roles may; otherwise
    pg_restore's own refusal says it, with nothing changed). A table's own sequences and indexes follow it."""
    quoted = conn.dialect.identifier_preparer.quote(owner)
    relations = conn.execute(
        text(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relkind FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relowner <> CAST(:o AS regrole) AND (c.relkind IN ('r', 'p', 'v', 'm') "
            "OR c.relkind = 'S' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass "
            "AND d.objid = c.oid AND d.deptype IN ('a', 'i'))) "
            "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid "
            "AND d.deptype = 'e')"
        ),
        {"o": owner},
    ).all()
    functions = (
        conn.execute(
            text(
                "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                "WHERE n.nspname = 'public' AND p.proowner <> CAST(:o AS regrole) "
                "AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid "
                "AND d.deptype = 'e')"
            ),
            {"o": owner},
        )
        .scalars()
        .all()
    )
    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
    if not relations and not functions:
        conn.rollback()
        return
    try:
        for name, kind in relations:
            conn.execute(text(f"ALTER {kinds[kind]} {name} OWNER TO {quoted}"))
        for signature in functions:
            conn.execute(text(f"ALTER FUNCTION {signature} OWNER TO {quoted}"))
        conn.commit()
    except DBAPIError as exc:
        conn.rollback()
        if getattr(exc.orig, "sqlstate", None) == "55P03":  # kept waiting for LOCK_WAIT_S by another PC's reading
            raise StorageError(_OTHERS_AT_WORK) from exc
        return  # not this account's to hand back: pg_restore refuses to drop them, with nothing changed
    log.info("%d tables and %d functions handed back to the database's owner", len(relations), len(functions))


def _no_default_rights(conn, owner: str, roles: list[str]) -> None:
    """The tables the restore makes get no rights of the PCs' roles from the owner's default privileges (all rights
    on a new table, for later migrations): between the restore's commit and _grant_again, a PC could otherwise remove
    persons. _grant_again gives the default privileges back, whether the restore went in or not."""
    if not roles:
        return
    quote = conn.dialect.identifier_preparer.quote
    try:
        for role in roles:
            conn.execute(
                text(
                    f"ALTER DEFAULT PRIVILEGES FOR ROLE {quote(owner)} IN SCHEMA public "
                    f"REVOKE ALL ON TABLES FROM {quote(role)}"
                )
            )
        conn.commit()
    except DBAPIError:
        conn.rollback()  # not this account's (pg_restore's SET ROLE is refused then too)


def _listing_without(archive: Path, tools: Tools, extensions: set[str], target: Path) -> Path:
    """The archive's table of contents without the entries (and comments) of extensions the database already has."""
    done = _run([str(tools.pg_restore), "--list", str(archive)])
    if done.returncode != 0:
        raise StorageError("ملف النسخة تالف أو ليس نسخة AidOffice من pg_dump: لم يُستعد شيء.")
    entry = re.compile(r"^\d+; \d+ \d+ (?:EXTENSION|COMMENT) - (?:EXTENSION )?(\S+)")
    kept = []
    for line in done.stdout.decode("utf-8", errors="replace").splitlines():
        found = entry.match(line)
        if found is None or found.group(1) not in extensions:
            kept.append(line)
    try:
        target.write_text("\n".join(kept) + "\n", encoding="utf-8")
    except OSError as exc:
        raise StorageError(f"تعذرت الكتابة في {target.parent}: لم يُستعد شيء.") from exc
    return target


def _grant_again(url, roles: list[str]) -> list[str]:
    """The PCs' rights on the tables the restore made anew (`server roles` as it was last run, without touching the
    roles themselves); the roles left without them (none when all went well)."""
    if not roles:
        return []
    engine = server_engine(make_url(url).render_as_string(hide_password=False))
    try:
        with engine.begin() as conn:
            for role in roles:
                server.grant_rights(conn, role)
    except DBAPIError as exc:
        # The restore itself stands (and the caller goes on to its new sync identity); a PC then reads that its
        # account lacks the right, and `server roles` run by the owner gives it again.
        log.warning("the PCs' rights could not be given again after a restore (%s)", exc.__class__.__name__)
        return list(roles)
    finally:
        engine.dispose()
    log.info("the PCs' rights given again after a restore (%d roles)", len(roles))
    return []


def _watch(child: subprocess.Popen, url: URL, tag: str) -> bool:
    """Wait for pg_restore; cancel its statement once it has waited LOCK_WAIT_S on a lock. True when cancelled."""
    engine = server_engine(url.render_as_string(hide_password=False))
    query = text(
        "SELECT pid, wait_event_type = 'Lock' FROM pg_stat_activity "
        "WHERE application_name = :tag AND datname = current_database()"
    )
    waiting_since: float | None = None
    watching, cancelled = True, False
    try:
        while True:
            try:
                child.wait(timeout=WATCH_EVERY_S)
                return cancelled
            except subprocess.TimeoutExpired:
                pass
            if not watching or cancelled:
                continue
            try:
                with engine.connect() as conn:
                    row = conn.execute(query, {"tag": tag}).first()
                    if row is None or not row[1]:
                        waiting_since = None
                        continue
                    waiting_since = waiting_since or time.monotonic()
                    if time.monotonic() - waiting_since >= LOCK_WAIT_S:
                        conn.execute(text("SELECT pg_cancel_backend(:pid)"), {"pid": row[0]})
                        cancelled = True
            except DBAPIError:
                watching = False  # the server cannot be asked: pg_restore is simply waited for
    finally:
        engine.dispose()
