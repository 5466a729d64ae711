"""What every service call needs: the open database, who is acting, the office's id and country rules, today."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from aidoffice import paths
from aidoffice.domain.access import SYSTEM, Permission, allowed, refusal
from aidoffice.domain.arabic import COUNTRIES, YEMEN, CountryRules
from aidoffice.domain.display import DisplayStyle
from aidoffice.errors import PermissionDeniedError, StorageError, UserError
from aidoffice.formats import keyring
from aidoffice.store.backup import is_plain
from aidoffice.store.dialect import is_server_url
from aidoffice.store.engine import Database, open_database
from aidoffice.store.uow import UnitOfWork, wall_clock

RULES_SETTING = "country_rules"
STYLE_SETTING = "display.style"  # digits, date order and months: services/display.py


@dataclass
class ServiceContext:
    db: Database
    username: str = "system"
    today: Callable[[], date] = date.today
    role: str = SYSTEM  # a logged-in user's role; "system" for set-up and maintenance before anyone logs in
    # Wall time in seconds, read when a unit of work commits (its sync stamp); a test gives one that moves on demand.
    clock: Callable[[], float] = wall_clock
    _office_id: str | None = field(default=None, repr=False)
    _rules: CountryRules | None = field(default=None, repr=False)
    _style: DisplayStyle | None = field(default=None, repr=False)

    def uow(self, *, write_first: bool = False) -> UnitOfWork:
        """A unit of work; `write_first` for one that checks then writes under a lock (store/locks.py)."""
        return UnitOfWork(self.db, actor=self.username, write_first=write_first, clock=self.clock)

    @property
    def office_id(self) -> str:
        """The office stamped on every new record; refuses to write before the office profile exists."""
        if self._office_id is None:
            with self.uow() as uow:
                office = uow.settings.office()
                if office is None:
                    raise UserError("لم يُضبط ملف المكتب بعد: شغّل الأمر init أو أكمل إعداد التشغيل الأول.")
                self._office_id = office.id
        return self._office_id

    @property
    def rules(self) -> CountryRules:
        if self._rules is None:
            with self.uow() as uow:
                stored = uow.settings.setting(RULES_SETTING)
                office = uow.settings.office()
            if stored:
                self._rules = CountryRules.from_dict(stored)
            else:
                self._rules = COUNTRIES.get(office.country if office else "YE", YEMEN)
        return self._rules

    @property
    def style(self) -> DisplayStyle:
        """The office's display style for figures and dates (read once, then kept until it is changed)."""
        if self._style is None:
            with self.uow() as uow:
                self._style = DisplayStyle.from_dict(uow.settings.setting(STYLE_SETTING))
        return self._style

    def can(self, permission: Permission) -> bool:
        return allowed(self.role, permission)

    def require(self, permission: Permission) -> None:
        """Refuse, in Arabic, an action the acting user's role does not allow (checked here, not only in the UI)."""
        if not allowed(self.role, permission):
            raise PermissionDeniedError(refusal(permission))

    def forget_cached(self) -> None:
        self._office_id = None
        self._rules = None
        self._style = None

    def stamp(self, obj):
        """Fill the office and author of a new record."""
        obj.office_id = self.office_id
        obj.changed_by = self.username
        return obj

    def close(self) -> None:
        self.db.close()


def open_context(
    db_path: Path | str | None = None, *, username: str = "system", create: bool = True, key: bytes | None = None
) -> ServiceContext:
    """Open the database at `db_path` (default: the user's data folder), migrating it after a safety copy;
    `key` opens an encrypted one (see services.encryption)."""
    if is_server_url(db_path):  # a database on a PostgreSQL server: no file, no keyring, no copy before migrating
        return ServiceContext(db=open_database(db_path, create=create), username=username)
    path = Path(db_path) if db_path else paths.default_db_path()
    if key is None:
        refuse_missing_keyring(path)
    db = open_database(path, create=create, backups=paths.backups_dir(), key=key)
    return ServiceContext(db=db, username=username)


def refuse_missing_keyring(path: Path) -> None:
    """A file shaped like an encrypted database (whole pages, no SQLite header) with no keyring beside it: say that
    the key file is missing and where it belongs, rather than "not a database" (and never offer to replace it)."""
    path = Path(path)
    try:
        size = path.stat().st_size if path.is_file() else 0
    except OSError:
        return
    if size >= 1024 and size % 512 == 0 and not is_plain(path) and not keyring.exists(path):
        raise StorageError(
            f"قاعدة البيانات {path.name} مشفرة على ما يبدو، لكن ملف مفاتيحها مفقود: يجب أن يكون بجانبها باسم "
            f"{keyring.path_for(path).name} في المجلد {path.parent}. انسخه إلى هناك (يُحفظ مع كل نسخة احتياطية مشفرة) "
            "ثم أعد المحاولة. لم يُغيَّر شيء في الملف."
        )
