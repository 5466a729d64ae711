"""Security figures: login (the Argon2id cost), backup and restore of a big database, audit chain verification.

python -m bench.security --db FILE     (FILE is copied first; the copy is what is backed up and restored)
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from bench.common import machine, peak_rss_mb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args()

    from aidoffice.services import users
    from aidoffice.services.audit import verify_audit
    from aidoffice.services.backups import make_backup, restore_backup
    from aidoffice.services.context import open_context

    print(f"machine: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="aidoffice-security-"))
    db = work / "office.sqlite3"
    shutil.copy(args.db, db)
    ctx = open_context(db, username="bench")
    if not users.has_users(ctx):
        users.create_user(ctx, "admin", "كلمة-سر-قوية", "admin")
    times = []
    for _ in range(10):
        start = time.perf_counter()
        users.login(replace(ctx), "admin", "كلمة-سر-قوية")
        times.append(time.perf_counter() - start)
    print(
        f"login (Argon2id verify + audit entry): median {statistics.median(times) * 1000:.0f} ms, "
        f"max {max(times) * 1000:.0f} ms"
    )
    start = time.perf_counter()
    report = verify_audit(ctx)
    print(f"audit chain: {report.entries:,} entries verified in {time.perf_counter() - start:.2f} s")
    start = time.perf_counter()
    record = make_backup(ctx, work / "usb")
    took = time.perf_counter() - start
    print(f"backup of {db.stat().st_size / 1e9:.2f} GB (integrity check before and after included): {took:.1f} s")
    users.login(ctx, "admin", "كلمة-سر-قوية")  # an administrator of the current file restores
    start = time.perf_counter()
    restored = restore_backup(ctx, record.path).ctx
    print(
        f"restore (backup checked, current file kept aside, copy, reopen): {time.perf_counter() - start:.1f} s; "
        f"peak memory {peak_rss_mb():.0f} MB"
    )
    restored.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
