"""Composition root of the desktop: paths, logging, database and migrations, services, QApplication, window."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from aidoffice import APP_NAME, texts
from aidoffice.errors import UserError
from aidoffice.logs import setup_logging
from aidoffice.services.context import ServiceContext, open_context
from aidoffice.services.office import get_office, initialise_office

log = logging.getLogger("aidoffice.app")


def make_application(argv: Sequence[str] | None = None) -> QApplication:
    """The QApplication, right-to-left with the Arabic (Yemen) locale."""
    app = QApplication.instance() or QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName(APP_NAME)
    app.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
    QLocale.setDefault(QLocale(QLocale.Language.Arabic, QLocale.Country.Yemen))
    return app


def open_office(db_path: Path | None) -> ServiceContext:
    """Open (creating and migrating on first run) the database, with an office profile in place."""
    ctx = open_context(db_path, username="desktop")
    if get_office(ctx) is None:
        initialise_office(ctx)
    return ctx


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aidoffice")
    parser.add_argument("--db", type=Path, default=None, help="ملف قاعدة البيانات")
    args = parser.parse_args(argv)
    setup_logging()
    app = make_application()
    try:
        ctx = open_office(args.db)
    except UserError as exc:
        QMessageBox.critical(None, texts.APP_TITLE, exc.message)
        return 2
    from aidoffice.ui.main_window import MainWindow

    window = MainWindow(ctx)
    window.show()
    log.info("main window shown")
    try:
        return app.exec()
    finally:
        ctx.close()


if __name__ == "__main__":
    raise SystemExit(main())
