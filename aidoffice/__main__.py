"""`python -m aidoffice` and the PyInstaller bundle's entry point: the desktop, or `cli …` for the command line."""

import sys

if sys.argv[1:2] == ["cli"]:
    # `AidOffice.exe cli <command> …`: the command line from the windowed bundle, printing to its console.
    from aidoffice.console import attach_console, guard_missing_streams

    attach_console()
    guard_missing_streams()
    from aidoffice.cli import main as cli_main

    raise SystemExit(cli_main(sys.argv[2:]))

from aidoffice.app import main

raise SystemExit(main())
