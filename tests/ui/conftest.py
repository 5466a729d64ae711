"""UI tests: the application set up as the desktop sets it up; Qt settings in a temporary folder, never the user's."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings


@pytest.fixture(autouse=True)
def qt_settings_in_tmp(tmp_path, qapp):
    from aidoffice.app import make_application

    make_application()  # font, style, translations, and garbage collected on the GUI thread only
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path / "qsettings"))
    return tmp_path / "qsettings"
