"""Excel figures: a 100,000-row list read, validated and written (no duplicate scoring), then exported; memory.

python -m bench.excel --rows 100000    (each step runs in its own process so its peak memory is its own)
"""

from __future__ import annotations

import argparse
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import machine, peak_rss_mb


def make_list(path: Path, rows: int) -> None:
    from openpyxl import Workbook

    from aidoffice.services import demo_pools as pools

    rng = random.Random(5)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("كشف المستفيدين")
    ws.append(["جمعية الخير الخيرية — كشف المستفيدين"])
    ws.append([])
    ws.append(
        [
            "م",
            "الاسم الرباعي",
            "رقم البطاقة",
            "الجوال",
            "تاريخ الميلاد",
            "الجنس",
            "عدد أفراد الأسرة",
            "المديرية",
            "الفئة",
            "ملاحظات",
            "العنوان",
            "اسم الزوج/الزوجة",
            "رقم بطاقة الزوج",
            "الحالة",
            "المبلغ",
        ]
    )
    districts = ("المكلا", "الشحر", "غيل باوزير", "زنجبار", "خنفر")
    for i in range(rows):
        male = rng.random() < 0.6
        name = " ".join(
            (
                rng.choice(pools.MALE_GIVEN if male else pools.FEMALE_GIVEN),
                rng.choice(pools.MALE_GIVEN),
                rng.choice(pools.MALE_GIVEN),
                rng.choice(pools.FAMILIES),
            )
        )
        ws.append(
            [
                i + 1,
                name,
                f"{rng.randint(10**10, 3 * 10**10 - 1):011d}",
                f"77{rng.randint(0, 9999999):07d}",
                f"{rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(1950, 2005)}",
                "ذكر" if male else "أنثى",
                rng.randint(1, 12),
                rng.choice(districts),
                "الأسر الأشد فقراً",
                "",
                "حي السلام",
                "",
                "",
                "نشط",
                20000,
            ]
        )
    ws.append(["", "الإجمالي"])
    wb.save(path)


def step_import(db: Path, source: Path) -> None:
    from aidoffice.services.associations import AssociationInput, register_association
    from aidoffice.services.imports import import_beneficiaries
    from tests.helpers.databases import new_office

    ctx = new_office(db)
    register_association(ctx, AssociationInput(name="جمعية الخير", registration_number="1/2000"))
    start = time.perf_counter()
    report = import_beneficiaries(ctx, source, "1/2000", check_duplicates=False)
    seconds = time.perf_counter() - start
    print(
        f"import (read, validate, write; no duplicate scoring): {report.rows_read:,} rows, {report.imported:,} "
        f"imported in {seconds:.1f} s; peak memory {peak_rss_mb():.0f} MB"
    )


def step_export(db: Path, out: Path) -> None:
    from aidoffice.services.context import open_context
    from aidoffice.services.exports import export_list

    ctx = open_context(db, create=False)
    start = time.perf_counter()
    count = export_list(ctx, "persons", out)
    print(
        f"export: {count:,} persons in {time.perf_counter() - start:.1f} s "
        f"({out.stat().st_size / 1e6:.1f} MB); peak memory {peak_rss_mb():.0f} MB"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--step", choices=("import", "export"))
    parser.add_argument("--db", type=Path)
    parser.add_argument("--file", type=Path)
    args = parser.parse_args()
    if args.step == "import":
        step_import(args.db, args.file)
        return
    if args.step == "export":
        step_export(args.db, args.file)
        return
    print(f"machine: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="aidoffice-excel-"))
    source = work / "list.xlsx"
    start = time.perf_counter()
    make_list(source, args.rows)
    print(
        f"test list: {args.rows:,} rows × 15 columns, {source.stat().st_size / 1e6:.1f} MB "
        f"(written in {time.perf_counter() - start:.0f} s)"
    )
    db = work / "excel.sqlite3"
    for step, target in (("import", source), ("export", work / "export.xlsx")):
        subprocess.run(
            [sys.executable, "-m", "bench.excel", "--step", step, "--db", str(db), "--file", str(target)], check=True
        )


if __name__ == "__main__":
    main()
