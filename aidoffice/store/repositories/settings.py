"""The office profile and the key/value settings."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from aidoffice.store import dialect
from aidoffice.store import models as m
from aidoffice.store.repositories.records import Records


class SettingsRepository(Records):
    """The office profile and the key/value settings."""

    def office(self) -> m.OfficeProfile | None:
        return self.session.scalars(select(m.OfficeProfile).order_by(m.OfficeProfile.created_at).limit(1)).first()

    def setting(self, key: str, default: Any = None) -> Any:
        row = self.session.get(m.Setting, key)
        return default if row is None else row.value

    def set_setting(self, key: str, value: Any) -> None:
        dialect.lock_writers(self.session.connection())  # a server: no other writer adds the key between read and add
        row = self.session.get(m.Setting, key)
        if row is None:
            self.session.add(m.Setting(key=key, value=value))
        else:
            row.value = value
