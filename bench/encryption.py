"""The cost of encryption at rest: encrypting a big database, searching it, importing a 100,000-row list into it.

python -m bench.encryption --db FILE [--rows 100000]   (FILE is copied; the copies are encrypted, never FILE)
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import machine


def _search_times(ctx, names: list[str]) -> list[float]:
    from aidoffice.services.persons import search_persons

    out = []
    for text in names:
        start = time.perf_counter()
        search_persons(ctx, text, limit=50)
        out.append((time.perf_counter() - start) * 1000)
    return out


def _import(ctx, listing: Path) -> float:
    from aidoffice.services.associations import AssociationInput, register_association
    from aidoffice.services.imports import import_beneficiaries

    register_association(ctx, AssociationInput(name="جمعية الخير", registration_number="1/2000"))
    start = time.perf_counter()
    import_beneficiaries(ctx, listing, "1/2000", check_duplicates=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()

    from aidoffice.services import users
    from aidoffice.services.context import open_context
    from aidoffice.services.encryption import encrypt_database
    from aidoffice.services.tables import TableQuery, page_rows
    from bench.excel import make_list
    from tests.helpers.databases import new_office

    print(f"machine: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="aidoffice-enc-"))
    plain_path = work / "plain.sqlite3"
    shutil.copy(args.db, plain_path)
    plain = open_context(plain_path, username="bench")
    rng = random.Random(3)
    people = page_rows(plain, "persons", TableQuery(), 0, 20_000)
    names = []
    for person in rng.sample(people, 100):
        parts = person.values[0].split()
        names += [parts[0][:3], " ".join([parts[0], parts[-1]])]
    base = _search_times(plain, names)
    if not users.has_users(plain):
        users.create_user(plain, "admin", "كلمة-سر-قوية", "admin")
    users.login(plain, "admin", "كلمة-سر-قوية")
    size = plain_path.stat().st_size / 1e9
    start = time.perf_counter()
    encrypted = encrypt_database(plain, "كلمة-سر-قوية")
    print(f"encrypting the {size:.2f} GB database: {time.perf_counter() - start:.0f} s")
    enc = _search_times(encrypted, names)
    encrypted.close()
    for label, times in (("plain", base), ("encrypted", enc)):
        p95 = statistics.quantiles(times, n=20)[18]
        print(f"search ({len(times)} queries) {label}: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms")

    listing = work / "list.xlsx"
    make_list(listing, args.rows)
    small = new_office(work / "small-plain.sqlite3")
    print(f"import of {args.rows:,} rows, plain: {_import(small, listing):.1f} s")
    small.close()
    small = new_office(work / "small-enc.sqlite3")
    users.create_user(small, "admin", "كلمة-سر-قوية", "admin")
    users.login(small, "admin", "كلمة-سر-قوية")
    small = encrypt_database(small, "كلمة-سر-قوية")
    print(f"import of {args.rows:,} rows, encrypted: {_import(small, listing):.1f} s")
    small.close()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
