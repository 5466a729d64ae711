"""The console of a windowed Windows program: `--self-test` and `cli` write to the window they were started from."""

from __future__ import annotations

import os
import sys


def attach_console() -> bool:
    """A windowed Windows program has no console: for `--self-test` and `cli`, write to the console it was started
    from (cmd or PowerShell), if any. Returns True when one was attached; elsewhere, where the streams are the
    terminal's already, it does nothing."""
    if sys.platform != "win32" or (sys.stdout is not None and sys.stdout.isatty()):
        return False
    import ctypes

    attach_parent_process = -1
    if not ctypes.windll.kernel32.AttachConsole(attach_parent_process):  # type: ignore[attr-defined]
        return False
    for name in ("stdout", "stderr"):
        setattr(sys, name, open("CONOUT$", "w", encoding="utf-8", errors="replace"))  # noqa: SIM115 - program-long
    return True


def guard_missing_streams() -> None:
    """A windowed Windows program started from a shortcut has no stdout or stderr: writes must not crash it."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the program
