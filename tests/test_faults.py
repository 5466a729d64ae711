"""Faults as offices meet them: a process killed in the middle of an import, a merge or a backup; a full disk.
Afterwards the database passes its integrity check and the operation is either complete or absent."""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers.databases import new_office

IMPORT = r"""
import sys
from pathlib import Path
from aidoffice.services.context import open_context
from aidoffice.services.imports import import_beneficiaries
ctx = open_context(Path(sys.argv[1]), create=False)
print("ready", flush=True)
import_beneficiaries(ctx, Path(sys.argv[2]), "55/2015", check_duplicates=False)
print("done", flush=True)
"""

MERGE = r"""
import sys
from pathlib import Path
from aidoffice.services.context import open_context
from aidoffice.services.review import merge_pair, review_queue
ctx = open_context(Path(sys.argv[1]), create=False)
print("ready", flush=True)
for pair in review_queue(ctx, limit=500):
    merge_pair(ctx, pair.id)
print("done", flush=True)
"""

BACKUP = r"""
import sys
from pathlib import Path
from aidoffice.services.backups import make_backup
from aidoffice.services.context import open_context
ctx = open_context(Path(sys.argv[1]), create=False)
print("ready", flush=True)
make_backup(ctx, Path(sys.argv[2]))
print("done", flush=True)
"""


def _env(tmp_path):
    return {**os.environ, "AIDOFFICE_HOME": str(tmp_path / "home"), "PYTHONPATH": str(Path.cwd())}


def _kill_midway(script: str, args: list[str], tmp_path, delay: float) -> bool:
    """Run the script, kill it `delay` seconds after it is ready; True if it finished before the kill."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True, env=_env(tmp_path)
    )
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    out, _ = proc.communicate()
    return "done" in out


def _count(path: Path, sql: str) -> int:
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute(sql).fetchone()[0]
    finally:
        conn.close()


@pytest.fixture
def office_with_list(tmp_path):
    from aidoffice.services.associations import AssociationInput, register_association
    from bench.excel import make_list

    db = tmp_path / "office.sqlite3"
    ctx = new_office(db)
    register_association(ctx, AssociationInput(name="جمعية الإحسان", registration_number="55/2015"))
    ctx.close()
    listing = tmp_path / "list.xlsx"
    make_list(listing, 3000)
    return db, listing


def test_an_import_killed_midway_is_absent_or_complete(office_with_list, tmp_path):
    db, listing = office_with_list
    outcomes = set()
    for delay in (0.1, 0.4, 1.0, 2.5):
        work = tmp_path / f"run-{delay}.sqlite3"
        shutil.copy(db, work)
        finished = _kill_midway(IMPORT, [str(work), str(listing)], tmp_path, delay)
        persons = _count(work, "SELECT count(*) FROM persons")  # integrity_check passes first
        assert persons in (0, 3000)  # one transaction: all or nothing
        if finished:
            assert persons == 3000
        outcomes.add(persons)
    assert 0 in outcomes  # at least one kill landed before the commit


def test_a_merge_killed_midway_leaves_every_pair_whole(tmp_path, demo_template):
    from aidoffice.services.context import open_context
    from aidoffice.services.duplicates import scan_registry

    db = tmp_path / "office.sqlite3"
    shutil.copy(demo_template, db)
    ctx = open_context(db, create=False)
    scan_registry(ctx)
    ctx.close()
    _kill_midway(MERGE, [str(db)], tmp_path, random.Random(5).uniform(0.3, 1.5))
    merges = _count(db, "SELECT count(*) FROM person_merges")
    merged = _count(db, "SELECT count(*) FROM persons WHERE merged_into_id IS NOT NULL")
    assert merges == merged  # each merge is its own transaction: a record merged has its merge row, and back
    conn = sqlite3.connect(db)
    try:  # raises if the search index no longer matches the persons
        conn.execute("INSERT INTO persons_fts(persons_fts, rank) VALUES ('integrity-check', 1)")
    finally:
        conn.close()


def test_a_backup_killed_midway_leaves_no_half_backup(tmp_path, demo_template):
    db = tmp_path / "office.sqlite3"
    shutil.copy(demo_template, db)
    folder = tmp_path / "usb"
    for delay in (0.05, 0.3, 1.0):
        _kill_midway(BACKUP, [str(db), str(folder)], tmp_path, delay)
        for copy in folder.glob("aidoffice-*.sqlite3"):
            assert _count(copy, "SELECT count(*) FROM persons") > 0  # any file with a backup's name is whole
        assert _count(db, "SELECT count(*) FROM persons") > 0


FULL_DISK = r"""
import resource, signal, sys
from pathlib import Path
from aidoffice.errors import UserError
from aidoffice.services.context import open_context
from aidoffice.services.imports import import_beneficiaries
db = Path(sys.argv[1])
ctx = open_context(db, create=False)
if sys.argv[3] == "rlimit":  # the equivalent without a small filesystem: writes past a size limit fail (EFBIG)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    size = db.stat().st_size
    resource.setrlimit(resource.RLIMIT_FSIZE, (size + 200_000, size + 200_000))
try:
    import_beneficiaries(ctx, Path(sys.argv[2]), "55/2015", check_duplicates=False)
except UserError as exc:
    print("refused:", exc.message)
"""


@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB filesystem (tmpfs) when this machine lets us mount one; otherwise None (the size-limit equivalent)."""
    folder = tmp_path / "small"
    folder.mkdir()
    mounted = (
        os.geteuid() == 0
        and subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)], capture_output=True
        ).returncode
        == 0
    )
    yield folder if mounted else None
    if mounted:
        subprocess.run(["umount", str(folder)], check=False)


@pytest.mark.skipif(not hasattr(signal, "SIGXFSZ"), reason="file-size limits are a POSIX feature")
def test_a_full_disk_is_a_clear_message_and_nothing_is_lost(office_with_list, tmp_path, small_disk):
    db, listing = office_with_list
    if small_disk is not None:
        db = Path(shutil.copy(db, small_disk / db.name))
    before = _count(db, "SELECT count(*) FROM associations")
    mode = "tmpfs" if small_disk is not None else "rlimit"
    result = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(db), str(listing), mode],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=120,
    )
    expected = "القرص ممتلئ" if mode == "tmpfs" else "الكتابة على القرص"  # ENOSPC vs EFBIG: SQLite says "I/O"
    assert expected in result.stdout, result.stdout + result.stderr[-2000:]
    assert _count(db, "SELECT count(*) FROM persons") == 0
    assert _count(db, "SELECT count(*) FROM associations") == before
