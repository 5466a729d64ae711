"""The look of the application: the bundled Arabic font (IBM Plex Sans Arabic, OFL), one style sheet, the icon."""

from __future__ import annotations

import logging
from pathlib import Path

import fontpkg_ibm_plex_sans_arabic as plex
from PySide6.QtGui import QFont, QFontDatabase, QIcon
from PySide6.QtWidgets import QApplication

log = logging.getLogger("aidoffice.ui")

ASSETS = Path(__file__).resolve().parent / "assets"
FONT_FILES = ("IBMPlexSansArabic-Regular.ttf", "IBMPlexSansArabic-Medium.ttf", "IBMPlexSansArabic-Bold.ttf")
FONT_POINT_SIZE = 10
ACCENT = "#1f6f5c"

STYLE = f"""
QMainWindow, QDialog {{ background: #f6f7f6; }}
QListWidget#navigation {{ background: #24403a; color: #eef3f1; border: none; padding-top: 8px; }}
QListWidget#navigation::item {{ border-radius: 6px; padding-right: 12px; }}
QListWidget#navigation::item:selected {{ background: {ACCENT}; color: white; }}
QListWidget#navigation::item:hover:!selected {{ background: #2f554c; }}
QLabel#pageTitle {{ font-size: 16pt; font-weight: 600; color: #24403a; }}
QLabel#fieldError {{ color: #b3261e; }}
QLabel#message {{ color: #5a5a5a; }}
QLabel#banner {{ background: #fff4e5; border: 1px solid #f0c36d; border-radius: 6px; padding: 8px; }}
QFrame#card {{ background: white; border: 1px solid #dfe4e2; border-radius: 8px; }}
QLabel#cardCount {{ font-size: 20pt; font-weight: 700; color: {ACCENT}; }}
QPushButton {{ padding: 5px 14px; border-radius: 5px; border: 1px solid #b9c4c0; background: white; }}
QPushButton:hover {{ background: #eef3f1; }}
QPushButton#primary {{ background: {ACCENT}; color: white; border-color: {ACCENT}; }}
QPushButton:disabled, QPushButton#primary:disabled {{ color: #9aa3a0; background: #f0f0f0; border-color: #d5dcd9; }}
QLineEdit, QPlainTextEdit {{ padding: 4px; border: 1px solid #b9c4c0; border-radius: 4px; background: white; }}
QLineEdit[invalid="true"] {{ border: 1px solid #b3261e; background: #fff6f5; }}
QTableView {{ background: white; alternate-background-color: #f4f7f6; gridline-color: #e3e8e6;
    selection-background-color: #cfe6df; selection-color: black; }}
QHeaderView::section {{ background: #e8eeec; padding: 5px; border: none; border-left: 1px solid #d5dcd9;
    font-weight: 600; }}
QTabWidget::pane {{ border: 1px solid #dfe4e2; background: white; }}
QStatusBar QLabel {{ padding: 0 8px; color: #3d4a46; }}
"""


def load_font() -> str:
    """Register the bundled font files; returns the family name (the system default if loading fails)."""
    family = ""
    for name in FONT_FILES:
        font_id = QFontDatabase.addApplicationFont(str(Path(plex.ROOT) / "files" / name))
        if font_id < 0:
            log.warning("font file could not be loaded: %s", name)
            continue
        family = family or QFontDatabase.applicationFontFamilies(font_id)[0]
    return family


def apply_theme(app: QApplication) -> str:
    """Font, style sheet and icon for the whole application; returns the font family in use."""
    family = load_font()
    if family:
        app.setFont(QFont(family, FONT_POINT_SIZE))
    app.setStyle("Fusion")
    app.setStyleSheet(STYLE)
    app.setWindowIcon(app_icon())
    return family


def app_icon() -> QIcon:
    return QIcon(str(ASSETS / "aidoffice.svg"))
