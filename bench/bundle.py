"""Bundle figures: size of the PyInstaller folder, and cold start to the first painted window inside it.

pyinstaller build.spec --noconfirm && python -m bench.bundle --dist dist/AidOffice
The self-test's window step is the measured start: the bundle starts, creates a database, and paints the main
window; the time from spawning the process to that paint is printed (the self-test's other steps run before it,
so the figure is an upper bound of a clerk's start on an existing database).
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import machine


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--dist", type=Path, default=Path("dist/AidOffice"))
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    exe = args.dist / ("AidOffice.exe" if sys.platform == "win32" else "AidOffice")
    print(f"machine: {machine()}")
    print(f"bundle: {folder_size(args.dist) / 1e6:.0f} MB in {sum(1 for _ in args.dist.rglob('*')):,} files")
    starts = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as home:
            env = {
                **os.environ,
                "AIDOFFICE_HOME": home,
                "QT_QPA_PLATFORM": "offscreen",
                "AIDOFFICE_SPAWNED_AT": repr(time.time()),
            }
            out = subprocess.run([str(exe), "--self-test"], capture_output=True, text=True, env=env, check=True)
            found = re.search(r"([\d.]+) s after launch", out.stdout)
            starts.append(float(found.group(1)))
    print(
        f"launch to first painted window (self-test): median {statistics.median(starts):.2f} s, max {max(starts):.2f} s"
    )


if __name__ == "__main__":
    main()
