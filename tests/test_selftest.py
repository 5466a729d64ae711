"""`aidoffice --self-test`: every step passes on a working install; a broken part is named and the exit code is 1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_self_test_passes_and_says_so(tmp_path):
    env = {**os.environ, "AIDOFFICE_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [sys.executable, "-m", "aidoffice", "--self-test"], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    for step in ("database", "record", "pdf", "excel", "encryption", "sync package", "window"):
        assert f"PASS {step}" in result.stdout
    assert "OK: 7 passed, 0 failed (source" in result.stdout
    report = Path(tmp_path / "home" / "logs" / "selftest.txt")
    assert report.read_text(encoding="utf-8").strip().endswith(result.stdout.strip().splitlines()[-1])


def test_a_broken_part_is_named_and_fails_the_run(monkeypatch, capsys, qapp):
    from aidoffice.formats.pdf import text

    def missing(folder=None):
        raise OSError("font file missing")

    monkeypatch.setattr(text, "register_fonts", missing)
    from aidoffice.formats.pdf import layout

    monkeypatch.setattr(layout, "register_fonts", missing)
    from aidoffice.app import make_application
    from aidoffice.ui import selftest

    assert selftest.run(make_application) == 1
    out = capsys.readouterr().out
    assert "FAIL pdf: OSError" in out and "PASS database" in out and "FAILED: 6 passed, 1 failed" in out
