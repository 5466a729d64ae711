"""Importing an association's beneficiary list: found, read, validated, checked for duplicates, then all or nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from aidoffice.domain.access import Permission
from aidoffice.domain.arabic import normalize_text
from aidoffice.domain.matching import MatchRecord, find_pairs
from aidoffice.domain.persons import clean_person
from aidoffice.errors import UserError, ValidationError
from aidoffice.formats import beneficiary_list as bl
from aidoffice.formats.spreadsheet import read_sheets
from aidoffice.formats.xlsx_write import Column, write_table
from aidoffice.services.associations import find_association
from aidoffice.services.context import ServiceContext
from aidoffice.services.duplicates import check_records, scorer_for
from aidoffice.store import models as m
from aidoffice.store.base import new_id, utcnow

log = logging.getLogger("aidoffice.import")

MAPPING_SETTING = "import_mapping:{}"
PROBLEM_HEADER = "المشكلة"


@dataclass
class ImportReport:
    rows_read: int = 0
    imported: int = 0
    rejected: int = 0
    warnings: int = 0
    duplicates_in_file: int = 0
    duplicates_in_registry: int = 0
    errors_file: str | None = None
    committed: bool = False
    sheet: str = ""
    header_row: int = 0
    columns: dict[str, str] = field(default_factory=dict)  # field → header as written in the file
    headers: list[str] = field(default_factory=list)
    rows: list[bl.ListRow] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            k: getattr(self, k)
            for k in (
                "rows_read",
                "imported",
                "rejected",
                "warnings",
                "duplicates_in_file",
                "duplicates_in_registry",
                "errors_file",
            )
        }


def guess_headers(path: Path) -> list[str]:
    """The header cells a clerk can map by hand when the list's name column was not recognised."""
    return bl.guess_header_row(read_sheets(path))[1]


def remembered_mapping(ctx: ServiceContext, association_id: str) -> dict[str, str]:
    with ctx.uow() as uow:
        return dict(uow.repo.setting(MAPPING_SETTING.format(association_id)) or {})


def import_beneficiaries(
    ctx: ServiceContext,
    path: Path,
    association: str,
    *,
    project_id: str | None = None,
    dry_run: bool = False,
    mapping: dict[str, str] | None = None,
    errors_out: Path | None = None,
    confirm: Callable[[ImportReport], bool] | None = None,
    check_duplicates: bool = True,
) -> ImportReport:
    """Read and check the whole list first; write nothing unless it is not a dry run and `confirm(report)` agrees.

    Rows with errors are rejected; rows with warnings are imported and flagged; a row that is a likely duplicate of
    someone already registered is linked to that person instead of creating another; a likely duplicate of an
    earlier row in the same file is not created twice.
    """
    if not dry_run:
        ctx.require(Permission.ENTER_DATA)
    assoc = find_association(ctx, association)
    sheets = read_sheets(path)
    mapping = mapping if mapping is not None else remembered_mapping(ctx, assoc.id)
    location = bl.find_table(sheets, mapping)
    rows = bl.read_rows(sheets, location)
    if not rows:
        raise UserError(f"الورقة «{location.sheet}» لا تحتوي على صفوف أشخاص تحت صف العناوين.")
    report = ImportReport(
        rows_read=len(rows),
        sheet=location.sheet,
        header_row=location.header_row + 1,
        columns={f: location.headers[i] for f, i in location.columns.items()},
        headers=location.headers,
        rows=rows,
    )
    rules, today = ctx.rules, ctx.today()
    with ctx.uow() as uow:
        districts = {normalize_text(d.name): d.id for d in uow.repo.districts()}
        categories = {c.code: c.id for c in uow.repo.all(m.VulnerabilityCategory)}
        categories.update({normalize_text(c.name): c.id for c in uow.repo.all(m.VulnerabilityCategory)})
    cleaned: dict[int, tuple] = {}
    for index, row in enumerate(rows):
        try:
            clean = clean_person(row.person, rules, today)
        except ValidationError as exc:
            row.errors.extend((bl.FIELD_LABELS.get(f, f), msg) for f, msg in exc.problems.items())
            continue
        if row.errors:
            continue
        district_id = districts.get(normalize_text(row.person.district)) if row.person.district else None
        if row.person.district and district_id is None:
            row.warnings.append((bl.FIELD_LABELS["district"], "المديرية غير معروفة: استورد الصف بلا مديرية."))
        category_ids = []
        for name in row.person.categories:
            cid = categories.get(name) or categories.get(normalize_text(name))
            if cid is None:
                row.warnings.append((bl.FIELD_LABELS["categories"], f"فئة غير معروفة: {name}"))
            else:
                category_ids.append(cid)
        if not clean.national_id:
            row.warnings.append((bl.FIELD_LABELS["national_id"], "بلا رقم بطاقة."))
        cleaned[index] = (clean, district_id, category_ids)

    # Duplicates, before anything is written: inside the file, then against the registry.
    records = [
        MatchRecord(
            id=str(i),
            parts=c.name_parts,
            national_id=c.national_id,
            phone=c.phone,
            birth_year=c.birth_year,
            sex=c.sex,
            district=normalize_text(rows[i].person.district) or None,
            household_size=rows[i].household_size,
        )
        for i, (c, _, _) in cleaned.items()
    ]
    scorer = scorer_for(ctx)
    skip: set[int] = set()
    if not check_duplicates:  # measured on its own in bench/excel.py; the clerk's import always checks
        records = []
    for pair in find_pairs(records, scorer):
        first, second = sorted((int(pair.a), int(pair.b)))
        if pair.decision == "likely":
            skip.add(second)
            rows[second].warnings.append(("", f"مكرر في الملف مع الصف {rows[first].row_number}: لن يُضاف مرتين."))
            report.duplicates_in_file += 1
        else:
            rows[second].warnings.append(("", f"قد يكون نفس الشخص في الصف {rows[first].row_number}."))
    existing: dict[int, str] = {}
    for rid, candidates in check_records(ctx, [r for r in records if int(r.id) not in skip], scorer=scorer).items():
        likely = [c for c in candidates if c.decision == "likely"]
        if likely:
            existing[int(rid)] = likely[0].person_id
            rows[int(rid)].warnings.append(("", "مسجل مسبقاً في سجل المستفيدين: رُبط بالسجل الموجود."))
            report.duplicates_in_registry += 1
        elif candidates:
            rows[int(rid)].warnings.append(("", "قد يكون مسجلاً مسبقاً: سيظهر في قائمة مراجعة التكرار."))

    report.rejected = sum(1 for r in rows if r.errors)
    report.warnings = sum(1 for r in rows if r.warnings and not r.errors)
    new_rows = [i for i in cleaned if i not in skip and i not in existing]
    report.imported = len(new_rows)
    if errors_out is not None:
        report.errors_file = str(_write_errors(errors_out, location, rows))
    if dry_run or (confirm is not None and not confirm(report)):
        return report
    _write(ctx, assoc.id, project_id, path, report, rows, cleaned, new_rows, existing)
    with ctx.uow() as uow:
        uow.repo.set_setting(MAPPING_SETTING.format(assoc.id), report.columns)
        uow.commit()
    report.committed = True
    log.info(
        "import: %d rows read, %d imported, %d rejected, %d linked to registered persons",
        report.rows_read,
        report.imported,
        report.rejected,
        report.duplicates_in_registry,
    )
    return report


def _write(ctx, association_id, project_id, path, report, rows, cleaned, new_rows, existing) -> None:
    """Everything in one transaction: persons, their households, categories, the batch and its links."""
    now, office, user = utcnow(), ctx.office_id, ctx.username

    def stamp() -> dict:
        return {
            "id": new_id(office),
            "office_id": office,
            "created_at": now,
            "updated_at": now,
            "changed_by": user,
            "version": 1,
        }

    with ctx.uow() as uow:
        repo = uow.repo
        batch = ctx.stamp(
            m.ImportBatch(
                association_id=association_id,
                project_id=project_id,
                file_name=path.name,
                rows_read=report.rows_read,
                imported=report.imported,
                rejected=report.rejected,
                duplicates=report.duplicates_in_registry,
            )
        )
        repo.add(batch)
        uow.flush()
        rowid = repo.reserve_search_rowids(len(new_rows))
        persons, households, members, links, batch_links = [], [], [], [], []
        for offset, i in enumerate(new_rows):
            clean, district_id, category_ids = cleaned[i]
            person = stamp()
            person.update(
                full_name=clean.full_name,
                name_norm=clean.name_norm,
                name_parts=list(clean.name_parts),
                national_id=clean.national_id,
                phone=clean.phone,
                sex=clean.sex,
                birth_date=clean.birth_date,
                birth_year=clean.birth_year,
                district_id=district_id,
                spouse_name=clean.spouse_name,
                spouse_name_norm=clean.spouse_name_norm,
                spouse_national_id=clean.spouse_national_id,
                notes=clean.notes,
                merged_into_id=None,
                consent_sharing=False,  # given explicitly: no per-row default for SQLAlchemy to fill in
                consent_on=None,
                search_rowid=rowid + offset,
            )
            persons.append(person)
            household = stamp()
            household.update(
                head_person_id=person["id"],
                district_id=district_id,
                sub_district_id=None,
                address="",
                size=rows[i].household_size,
                income_band=None,
                housing=None,
                notes="",
            )
            households.append(household)
            members.append({**stamp(), "household_id": household["id"], "person_id": person["id"], "relation": "head"})
            links.extend({"person_id": person["id"], "category_id": c} for c in dict.fromkeys(category_ids))
            batch_links.append({"batch_id": batch.id, "person_id": person["id"], "existing": False})
        batch_links.extend(
            {"batch_id": batch.id, "person_id": pid, "existing": True} for pid in dict.fromkeys(existing.values())
        )
        repo.bulk_insert_persons(persons)
        repo.bulk_insert(m.Household, households)
        repo.bulk_insert(m.HouseholdMember, members)
        repo.bulk_insert(m.person_categories, links)
        repo.bulk_insert(m.batch_persons, batch_links)
        # One entry for the list (the persons came in by bulk insert, not one by one through the ORM).
        repo.audit(
            "import",
            "import_batches",
            batch.id,
            {"imported": report.imported, "rejected": report.rejected, "linked": len(existing)},
            office_id=office,
        )
        uow.commit()


def _write_errors(target: Path, location: bl.TableLocation, rows: list[bl.ListRow]) -> Path:
    """The association's own rows that need attention, as they sent them, with an Arabic «المشكلة» column."""
    width = max(len(location.headers), *(len(r.cells) for r in rows)) if rows else len(location.headers)
    headers = (location.headers + [""] * width)[:width]
    kinds = {i: "code" for f, i in location.columns.items() if f in ("national_id", "phone", "spouse_national_id")}
    columns = [
        Column("رقم الصف"),
        *[Column(h or f"عمود {i + 1}", kinds.get(i, "text"), 22) for i, h in enumerate(headers)],
        Column(PROBLEM_HEADER, "text", 60),
    ]
    problem_rows = (
        [r.row_number, *[bl.cell_text(c) for c in (r.cells + [None] * width)[:width]], r.problem_text()]
        for r in rows
        if r.errors or r.warnings
    )
    write_table(target, "للتصحيح", columns, problem_rows, highlight_last_column=True)
    return target
