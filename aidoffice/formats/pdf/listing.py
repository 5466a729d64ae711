"""A list as it is on screen, printed: its filter in words, then its rows in a right-to-left table with totals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from aidoffice.formats.pdf.layout import Letterhead, Paragraph, build_pdf, gap, rtl_table, usable_width


@dataclass(frozen=True)
class ListingData:
    office: str
    title: str
    printed_on: date
    view: str  # the search, filters and order in words ("" for the whole list)
    headers: Sequence[str]
    widths: Sequence[int]  # relative widths of the columns
    rows: Sequence[Sequence]
    numeric: Sequence[int] = ()  # columns (by index) centred as figures
    totals: Sequence | None = None  # a last, bold row: the count and the sums


def listing_pdf(data: ListingData, target: Path) -> Path:
    """One table over as many pages as it takes, its header repeated; landscape when the columns are many."""
    wide = len(data.headers) > 5
    width = usable_width(wide)
    scale = width / max(1, sum(data.widths))
    story: list = []
    if data.view:
        story += [Paragraph(data.view, 10), gap(2)]
    if not data.rows:
        story.append(Paragraph("لا صفوف في هذا العرض.", 11, bold=True))
    else:
        wrapped = [i for i, w in enumerate(data.widths) if w >= 200]
        story.append(
            rtl_table(
                list(data.headers),
                [list(r) for r in data.rows],
                [w * scale for w in data.widths],
                numeric=data.numeric,
                size=10,
                totals=data.totals,
                wrapped=wrapped,
            )
        )
    return build_pdf(target, Letterhead(data.office, data.title, data.printed_on), story, wide=wide)
