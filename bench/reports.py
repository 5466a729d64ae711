"""Report figures: the monthly report on a big demo database, and a 10,000-line distribution sheet.

python -m bench.reports --db FILE [--lines 10000]   (adds one distribution round with that many lines to FILE)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.common import machine, peak_rss_mb


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--lines", type=int, default=10_000)
    args = parser.parse_args()

    from pypdf import PdfReader
    from sqlalchemy import func, select

    from aidoffice.formats.pdf.text import harfbuzz_available
    from aidoffice.services import reports
    from aidoffice.services.aid import DistributionInput, create_distribution
    from aidoffice.services.context import open_context
    from aidoffice.store import models as m
    from aidoffice.store.base import new_id, utcnow

    print(f"machine: {machine()}")
    print(f"shaping: {'HarfBuzz (uharfbuzz)' if harfbuzz_available() else 'arabic-reshaper only'}")
    ctx = open_context(args.db, username="bench")
    with ctx.uow() as uow:
        persons = uow.repo.count(m.Person)
        busiest = uow.session.execute(
            select(func.strftime("%Y-%m", m.Distribution.distribution_date), func.count())
            .group_by(func.strftime("%Y-%m", m.Distribution.distribution_date))
            .order_by(func.count().desc())
            .limit(1)
        ).one()[0]
    out = Path(tempfile.mkdtemp(prefix="aidoffice-reports-"))
    print(f"database: {persons:,} persons; busiest month {busiest}")
    for run in range(3):
        start = time.perf_counter()
        path = reports.write_monthly_report(ctx, busiest, out / "monthly.pdf")
        took = time.perf_counter() - start
        print(f"monthly report, run {run + 1}: {took:.2f} s, {len(PdfReader(str(path)).pages)} pages")

    with ctx.uow() as uow:
        project = uow.session.scalars(select(m.Project).limit(1)).one()
        households = list(uow.session.scalars(select(m.Household.id).limit(args.lines)))
    dist = create_distribution(
        ctx, DistributionInput(project_id=project.id, distribution_date=date.today(), site="مخيم النازحين")
    )
    now = utcnow()
    with ctx.uow() as uow:
        uow.repo.bulk_insert(
            m.DistributionLine,
            [
                {
                    "id": new_id(),
                    "office_id": ctx.office_id,
                    "created_at": now,
                    "updated_at": now,
                    "changed_by": "bench",
                    "version": 1,
                    "distribution_id": dist.id,
                    "household_id": h,
                    "person_id": None,
                    "quantity": None,
                    "amount": None,
                    "status": "listed",
                    "reversal_of_id": None,
                    "reason": "",
                    "override_reason": "",
                    "overridden_by": None,
                }
                for h in households
            ],
        )
        uow.commit()
    start = time.perf_counter()
    path = reports.write_distribution_sheet(ctx, dist.id, out / "sheet.pdf")
    took = time.perf_counter() - start
    pages = len(PdfReader(str(path)).pages)
    print(
        f"distribution sheet of {len(households):,} lines: {took:.1f} s, {pages} pages "
        f"({len(households) / pages:.1f} rows a page), {path.stat().st_size / 1e6:.1f} MB; "
        f"peak memory {peak_rss_mb():.0f} MB"
    )
    ctx.close()


if __name__ == "__main__":
    main()
