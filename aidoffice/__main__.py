"""`python -m aidoffice` and the PyInstaller bundle's entry point: the desktop application."""

from aidoffice.app import main

raise SystemExit(main())
