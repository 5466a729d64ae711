"""Importing messy association lists (real workbooks built here) and exporting every list, round trip included."""

from __future__ import annotations

import datetime
import json

import openpyxl
import pytest
import python_calamine

from aidoffice.cli import main
from aidoffice.errors import UserError
from aidoffice.services.associations import AssociationInput, register_association
from aidoffice.services.exports import EXPORTS, export_list, write_import_template
from aidoffice.services.imports import import_beneficiaries, remembered_mapping
from aidoffice.services.overview import stats
from tests.helpers.databases import address, new_office


@pytest.fixture
def assoc(ctx):
    return register_association(ctx, AssociationInput(name="جمعية الخير الخيرية", registration_number="12/2010"))


@pytest.fixture
def engine_assoc(ctx):
    """The same association in an office on either engine (SQLite file, PostgreSQL server)."""
    return register_association(ctx, AssociationInput(name="جمعية الخير الخيرية", registration_number="12/2010"))


def messy_workbook(path, *, extra_rows=()):
    """Title rows, a merged title, a date line, a summary sheet, Arabic-Indic digits, totals and signatures."""
    wb = openpyxl.Workbook()
    summary = wb.active
    summary.title = "ملخص"
    summary.append(["إجمالي المستفيدين", 5])
    ws = wb.create_sheet("كشف المستفيدين")
    ws.append(["جمعية الخير الخيرية - كشف المستفيدين من السلال الغذائية"])
    ws.merge_cells("A1:I1")
    ws.append(["التاريخ: ١٥/٠٣/٢٠٢٦"])
    ws.append([])
    ws.append(
        [
            "م",
            "الإسم الرباعي",
            "رقم الهويه",
            "الجوال",
            "تاريخ الميلاد",
            "الجنس",
            "عدد افراد الاسرة",
            "المديرية",
            "الفئة",
        ]
    )
    ws.append(
        [
            1,
            "محمد أحمد عبد الله باوزير",
            "01010012345",
            "٧٧٧١٢٣٤٥٦",
            datetime.date(1980, 5, 1),
            "ذكر",
            5,
            "المكلا",
            "الأسر الأشد فقراً",
        ]
    )
    ws.append(
        [
            2,
            "فاطمة علي سالم العمودي",
            2020012345,
            "+967 733 111 222",
            "15/03/1985",
            "انثى",
            "٦ أفراد",
            "الشحر",
            "أرملة، نازح",
        ]
    )
    ws.append([3, "", "03030012345", "", "", "", 3, "", ""])
    ws.append([4, "سالم عوض", "12ab", "", "01/01/2090", "ذ", 90, "صنعاء", ""])
    ws.append([5, "محمد احمد عبدالله با وزير", "01010012345", "777123456", "1980", "M", 5, "المكلا", ""])
    ws.append([6, "خالد سعيد عمر الجابري", "", "733222111", "٢٠٠١/٠٢/٠٣", "ذكر", "", "خنفر", "طالب متفوق"])
    for row in extra_rows:
        ws.append(row)
    ws.append([])
    ws.append(["", "الإجمالي", "", "", "", "", 19, "", ""])
    ws.append(["", "توقيع رئيس الجمعية: ............", "", "الختم"])
    wb.save(path)
    return path


def test_dry_run_reports_everything_and_writes_nothing(ctx, assoc, tmp_path):
    errors = tmp_path / "errors.xlsx"
    report = import_beneficiaries(
        ctx, messy_workbook(tmp_path / "list.xlsx"), "12/2010", dry_run=True, errors_out=errors
    )
    assert report.sheet == "كشف المستفيدين" and report.header_row == 4
    assert (report.rows_read, report.imported, report.rejected, report.duplicates_in_file) == (6, 3, 2, 1)
    assert not report.committed and stats(ctx)["persons"] == 0
    problems = {r.row_number: r for r in report.rows}
    assert ("الاسم", "الاسم مطلوب.") in problems[7].errors
    assert {c for c, _ in problems[8].errors} == {"رقم البطاقة", "تاريخ الميلاد", "عدد أفراد الأسرة"}
    assert any("مكرر في الملف مع الصف 5" in m for _, m in problems[9].warnings)
    assert any("الصفر الأول" in m for _, m in problems[6].warnings)
    sheet = python_calamine.CalamineWorkbook.from_path(str(errors)).get_sheet_by_index(0).to_python()
    assert sheet[0][-1] == "المشكلة" and [r[0] for r in sheet[1:]] == [6, 7, 8, 9, 10]
    book = openpyxl.load_workbook(errors)
    assert book.active.sheet_view.rightToLeft


def test_import_commits_in_one_go_and_remembers_the_mapping(ctx, engine_assoc, tmp_path):
    report = import_beneficiaries(ctx, messy_workbook(tmp_path / "list.xlsx"), engine_assoc.name)
    assert report.committed and report.imported == 3
    counts = stats(ctx)
    assert counts["persons"] == 3 and counts["households"] == 3
    from aidoffice.services.persons import get_person, search_persons

    fatima = get_person(ctx, search_persons(ctx, "فاطمه العمودي")[0].id)
    assert fatima.national_id == "2020012345" and fatima.phone == "733111222" and fatima.sex == "F"
    assert fatima.birth_date == datetime.date(1985, 3, 15) and fatima.district == "الشحر"
    assert fatima.categories == ("displaced", "widow")
    khaled = get_person(ctx, search_persons(ctx, "الجابري")[0].id)
    assert khaled.birth_date == datetime.date(2001, 2, 3)
    assert remembered_mapping(ctx, engine_assoc.id)["full_name"] == "الإسم الرباعي"
    # The same list again: everyone is already registered; nothing is created twice.
    again = import_beneficiaries(ctx, messy_workbook(tmp_path / "list2.xlsx"), engine_assoc.id)
    assert again.imported == 0 and again.duplicates_in_registry == 3
    assert stats(ctx)["persons"] == 3


def test_a_failure_while_writing_leaves_the_database_as_it_was(ctx, engine_assoc, tmp_path, monkeypatch):
    from aidoffice.store.uow import Repository

    calls = []
    real = Repository.bulk_insert

    def failing(self, model, rows):
        calls.append(model)
        if len(calls) == 3:
            raise OSError("disk failed")
        return real(self, model, rows)

    monkeypatch.setattr(Repository, "bulk_insert", failing)
    with pytest.raises(OSError):
        import_beneficiaries(ctx, messy_workbook(tmp_path / "list.xlsx"), "12/2010")
    monkeypatch.undo()
    assert stats(ctx)["persons"] == 0 and stats(ctx)["households"] == 0
    report = import_beneficiaries(ctx, messy_workbook(tmp_path / "list.xlsx"), "12/2010", confirm=lambda report: False)
    assert not report.committed and stats(ctx)["persons"] == 0


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"just text", "ليس جدول بيانات"), (b"PK\x03\x04 broken zip", "تعذرت قراءة")],
)
def test_broken_files_are_clear_errors(ctx, assoc, tmp_path, content, words):
    bad = tmp_path / ("list.xlsx" if content.startswith(b"PK") else "list.txt")
    bad.write_bytes(content)
    with pytest.raises(UserError, match=words):
        import_beneficiaries(ctx, bad, "12/2010")


def test_a_sheet_without_a_name_column_or_rows(ctx, assoc, tmp_path):
    wb = openpyxl.Workbook()
    wb.active.append(["رقم", "المبلغ"])
    wb.active.append([1, 500])
    wb.save(tmp_path / "money.xlsx")
    with pytest.raises(UserError, match="عمود للاسم"):
        import_beneficiaries(ctx, tmp_path / "money.xlsx", "12/2010")
    wb = openpyxl.Workbook()
    wb.active.append(["الاسم الرباعي", "رقم البطاقة"])
    wb.save(tmp_path / "empty.xlsx")
    with pytest.raises(UserError, match="لا تحتوي على صفوف"):
        import_beneficiaries(ctx, tmp_path / "empty.xlsx", "12/2010")


def test_csv_in_windows_arabic_encoding(ctx, assoc, tmp_path):
    path = tmp_path / "list.csv"
    path.write_bytes("الاسم الكامل;رقم البطاقة;الجنس\nسعيد عمر حسن الجابري;01010012345;ذكر\n".encode("cp1256"))
    report = import_beneficiaries(ctx, path, "12/2010")
    assert report.imported == 1


def test_export_every_list_and_round_trip(demo_ctx, tmp_path):
    for kind in EXPORTS:
        out = tmp_path / f"{kind}.xlsx"
        count = export_list(demo_ctx, kind, out)
        sheet = openpyxl.load_workbook(out).active
        assert sheet.sheet_view.rightToLeft and sheet.freeze_panes == "A2"
        assert sheet.max_row == count + 1 and sheet.cell(1, 1).font.bold
    persons = openpyxl.load_workbook(tmp_path / "persons.xlsx").active
    ids = [persons.cell(r, 2).value for r in range(2, 50) if persons.cell(r, 2).value]
    assert ids and all(isinstance(v, str) for v in ids)
    dates = [persons.cell(r, 5).value for r in range(2, 200) if persons.cell(r, 5).value]
    assert dates and all(isinstance(v, datetime.datetime) for v in dates)
    # Export → import into another office: the persons come back.
    other = new_office(tmp_path / "other.sqlite3")
    try:
        register_association(other, AssociationInput(name="جمعية", registration_number="1/2000"))
        report = import_beneficiaries(other, tmp_path / "persons.xlsx", "1/2000", dry_run=True)
        assert report.rows_read == stats(demo_ctx)["persons"]
        assert report.rejected == 0
    finally:
        other.close()


def test_template_has_drop_downs(ctx, tmp_path):
    write_import_template(ctx, tmp_path / "template.xlsx")
    book = openpyxl.load_workbook(tmp_path / "template.xlsx")
    sheet = book["قائمة المستفيدين"]
    assert sheet.sheet_view.rightToLeft
    assert len(sheet.data_validations.dataValidation) == 3
    assert "المكلا" in [c.value for c in book["القوائم"]["H"]]


def test_cli_import_and_export(ctx, assoc, tmp_path, capsys):
    db = address(ctx)
    source = messy_workbook(tmp_path / "list.xlsx")
    assert (
        main(["import-beneficiaries", str(source), "--association", "12/2010", "--db", db, "--dry-run", "--json"]) == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {
        "rows_read",
        "imported",
        "rejected",
        "warnings",
        "duplicates_in_file",
        "duplicates_in_registry",
        "errors_file",
    }
    assert main(["import-beneficiaries", str(source), "--association", "12/2010", "--db", db]) == 0
    out = capsys.readouterr().out
    assert "الصف 8، العمود «رقم البطاقة»" in out
    assert main(["export", "persons", "--out", str(tmp_path / "p.xlsx"), "--db", db]) == 0
    assert (tmp_path / "p.xlsx").exists()
    assert main(["import-beneficiaries", str(tmp_path / "nothing.xlsx"), "--association", "12/2010", "--db", db]) == 2
    assert "غير موجود" in capsys.readouterr().err
