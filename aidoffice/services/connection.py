"""Which database the desktop opens: this PC's SQLite file or the office's server, remembered without a password."""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from aidoffice import paths
from aidoffice.services.context import ServiceContext, open_context
from aidoffice.store.dialect import is_server_url
from aidoffice.store.server import DEFAULT_PORT, TLS_MODES, server_parts, server_url

log = logging.getLogger("aidoffice.services")

FILE, SERVER = "file", "server"


@dataclass(frozen=True)
class Connection:
    """A database to open: `kind` "file" (with its path) or "server" (address without the password)."""

    kind: str = FILE
    path: str = ""
    host: str = ""
    port: int = DEFAULT_PORT
    database: str = "aidoffice"
    user: str = ""
    tls: str = "prefer"

    @property
    def on_server(self) -> bool:
        return self.kind == SERVER

    def file_path(self) -> Path:
        return Path(self.path) if self.path else paths.default_db_path()

    def url(self, password: str = "") -> str:
        """The server's address, with the password typed for this connection only."""
        return server_url(self.host, self.database, self.user, port=self.port, password=password, tls=self.tls)

    def where(self) -> str:
        if self.on_server:
            return f"{self.database} @ {self.host}:{self.port}"
        return str(self.file_path())


def from_url(url: str) -> Connection:
    """A --db value as a connection: a server's address (its password, if any, is left out) or a file path."""
    if is_server_url(url):
        parts = server_parts(url)
        parts.pop("password", None)
        return Connection(kind=SERVER, **parts)
    return Connection(kind=FILE, path=str(url))


def remembered() -> Connection | None:
    """The choice made last time in the connection dialog, None if none was made (or the file is unreadable)."""
    try:
        data = json.loads(paths.connection_file().read_text(encoding="utf-8"))
        known = {k: data[k] for k in Connection.__dataclass_fields__ if k in data}
        choice = Connection(**known)
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError):
        log.warning("the remembered database choice could not be read; it is asked again")
        return None
    if choice.kind not in (FILE, SERVER) or choice.tls not in TLS_MODES:
        return None
    return choice


def remember(choice: Connection) -> None:
    """Kept for the next start (never a password). A failure to write it is not worth stopping the program."""
    target = paths.connection_file()
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(json.dumps(asdict(choice), ensure_ascii=False, indent=2), encoding="utf-8")
        os.replace(partial, target)
    except OSError:
        log.warning("the database choice could not be remembered")


def open_server(choice: Connection, password: str, *, username: str = "desktop") -> ServiceContext:
    """Connect to the office's server (an empty database receives the schema; refusals in Arabic, nothing changed)."""
    return open_context(choice.url(password), username=username, create=True)
