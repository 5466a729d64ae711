"""Sync figures: an office's package of N changes (every record it owns, as at its first export), written, then
imported at headquarters; then an incremental package after the acknowledgement.

    python -m bench.sync --persons 40000
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.common import machine, peak_rss_mb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--persons", type=int, default=40_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="aidoffice-sync-"))
    os.environ.setdefault("AIDOFFICE_HOME", str(work / "home"))
    from aidoffice.domain.persons import PersonInput
    from aidoffice.services import persons, sync
    from aidoffice.services.demo import generate_demo
    from tests.helpers.sync import installation, introduce

    print(f"machine: {machine()}")
    office = installation(work / "office.sqlite3", "HDR-01")
    start = time.perf_counter()
    generate_demo(office, args.persons, seed=3)
    print(f"office: demo of {args.persons:,} persons generated in {time.perf_counter() - start:.0f} s")
    hq = installation(work / "hq.sqlite3", "HQ", hq=True)
    introduce(hq, office, work)
    conn = sqlite3.connect(work / "office.sqlite3")
    changes = conn.execute("SELECT count(*) FROM (SELECT DISTINCT entity, entity_id FROM sync_outbox)").fetchone()[0]
    conn.close()

    start = time.perf_counter()
    out = sync.export_package(office, work / "usb")
    export_s = time.perf_counter() - start
    print(
        f"export: {out.records:,} records ({changes:,} changed records in the outbox) in {export_s:.1f} s; "
        f"package {out.size / 1e6:.1f} MB ({out.size / out.records:.0f} bytes a record)"
    )
    start = time.perf_counter()
    result = sync.import_package(hq, out.path)
    print(
        f"import at headquarters: {result.applied:,} applied, {result.skipped:,} skipped in "
        f"{time.perf_counter() - start:.1f} s"
    )
    start = time.perf_counter()
    again = sync.import_package(hq, out.path)
    print(f"replay of the same package: {again.status} in {time.perf_counter() - start:.1f} s")

    reply = sync.export_package(hq, work / "usb", to_office="HDR-01")
    sync.import_package(office, reply.path)
    for i in range(100):
        persons.add_person(
            office, PersonInput(full_name=f"مستفيد جديد رقم {i} العامري", national_id=f"9{(i * 104_729) % 10**10:010d}")
        )
    start = time.perf_counter()
    small = sync.export_package(office, work / "usb")
    export_small = time.perf_counter() - start
    start = time.perf_counter()
    sync.import_package(hq, small.path)
    print(
        f"after the acknowledgement, 100 new persons: {small.kind} of {small.records} records, "
        f"{small.size / 1e3:.1f} kB, export {export_small:.2f} s, import {time.perf_counter() - start:.2f} s"
    )
    print(f"peak memory {peak_rss_mb():.0f} MB; work folder {work}")


if __name__ == "__main__":
    main()
