"""aidoffice-cli end to end on real files: init, demo, stats, search, list, and refusals with exit 2."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aidoffice.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_init_demo_stats_search_list(tmp_path, capsys):
    db = str(tmp_path / "cli.sqlite3")
    code, out, _ = run(capsys, "init", "--db", db, "--office-name", "مكتب أبين", "--governorate", "أبين")
    assert code == 0 and "مكتب أبين" in out
    code, out, _ = run(capsys, "demo", "--db", db, "--persons", "1500", "--seed", "4")
    assert code == 0 and json.loads(out)["persons"] == 1500
    code, out, _ = run(capsys, "stats", "--db", db, "--json")
    counts = json.loads(out)
    assert code == 0 and counts["persons"] == 1500
    for key in (
        "associations",
        "persons",
        "households",
        "projects",
        "distributions",
        "distribution_lines",
        "referrals",
    ):
        assert isinstance(counts[key], int)
    assert set(counts["associations_by_status"]) == {"active", "dormant", "suspended", "dissolved"}
    code, out, _ = run(capsys, "list", "persons", "--db", db, "--limit", "3", "--json")
    persons = json.loads(out)
    assert code == 0 and len(persons) == 3
    family = persons[0]["name"].split()[-1]
    code, out, _ = run(capsys, "search", family, "--db", db, "--json", "--limit", "5")
    found = json.loads(out)
    assert code == 0 and 0 < len(found) <= 5
    assert set(found[0]) >= {"id", "full_name", "national_id", "district"}
    for kind in ("associations", "households", "projects", "distributions", "referrals"):
        code, out, _ = run(capsys, "list", kind, "--db", db, "--json", "--limit", "2")
        rows = json.loads(out)
        assert code == 0 and rows and all(r["id"] and (r.get("name") or r.get("title")) for r in rows)


def test_bad_usage_exits_2_in_arabic(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["list", "nothing"])
    assert exit_info.value.code == 2
    assert "استخدام غير صحيح" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--persons", "-5"])
    assert exit_info.value.code == 2


def test_bad_files_exit_2_and_stay_untouched(tmp_path, capsys):
    bad = tmp_path / "bad.sqlite3"
    bad.write_bytes(b"hello")
    code, _, err = run(capsys, "stats", "--db", str(bad))
    assert code == 2 and "ليس قاعدة بيانات" in err and bad.read_bytes() == b"hello"
    code, _, err = run(capsys, "stats", "--db", str(tmp_path / "missing.sqlite3"))
    assert code == 2 and "غير موجود" in err
    assert not (tmp_path / "missing.sqlite3").exists()


def test_default_database_lives_in_the_user_folder(aidoffice_home, capsys):
    code, _, _ = run(capsys, "init")
    assert code == 0
    assert (aidoffice_home / "data" / "aidoffice.sqlite3").exists()


def test_installed_console_script_runs(tmp_path):
    env = dict(os.environ)
    db = tmp_path / "s.sqlite3"
    done = subprocess.run(
        [sys.executable, "-m", "aidoffice.cli", "init", "--db", str(db)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    done = subprocess.run(
        [sys.executable, "-m", "aidoffice.cli", "search", "محمد", "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )
    assert done.returncode == 0 and json.loads(done.stdout) == []
    script = Path(sys.executable).with_name("aidoffice-cli")
    if script.exists():
        done = subprocess.run(
            [str(script), "stats", "--db", str(db), "--json"],
            capture_output=True,
            text=True,
            encoding="utf-8",
            env=env,
            timeout=120,
        )
        assert done.returncode == 0 and json.loads(done.stdout)["persons"] == 0


def test_reports_from_the_command_line(demo_template, tmp_path, capsys):
    import shutil

    db = tmp_path / "office.sqlite3"
    shutil.copy(demo_template, db)
    code, out, _ = run(capsys, "list", "distributions", "--db", str(db), "--json", "--limit", "1")
    distribution = json.loads(out)[0]["id"]
    code, out, _ = run(capsys, "list", "associations", "--db", str(db), "--json", "--limit", "1")
    registration = json.loads(out)[0]["registration_number"]
    for args, name in (
        (("monthly", "--month", "٢٠٢٦-١٠"), "monthly.pdf"),
        (("sheet", "--distribution", distribution), "sheet.pdf"),
        (("association", "--association", registration), "association.pdf"),
    ):
        code, out, err = run(capsys, "report", *args, "--db", str(db), "--out", str(tmp_path / name))
        assert code == 0, err
        assert (tmp_path / name).read_bytes().startswith(b"%PDF")
    code, _, err = run(
        capsys, "report", "sheet", "--distribution", "nope", "--db", str(db), "--out", str(tmp_path / "x.pdf")
    )
    assert code == 2 and "التوزيع غير موجود" in err and not (tmp_path / "x.pdf").exists()
    code, out, err = run(capsys, "--db", str(db), "report", "monthly", "--out", str(tmp_path / "y.pdf"))
    assert code == 0, err  # no --month: the last full month
    assert (tmp_path / "y.pdf").read_bytes().startswith(b"%PDF")


def test_db_and_user_before_or_after_the_command(tmp_path, capsys):
    db = tmp_path / "order.sqlite3"
    code, out, err = run(capsys, "--db", str(db), "init", "--office-name", "مكتب لحج", "--governorate", "لحج")
    assert code == 0, err
    code, out, _ = run(capsys, "--db", str(db), "--user", "cli", "stats", "--json")
    assert code == 0 and json.loads(out)["persons"] == 0
    code, out, _ = run(capsys, "stats", "--json", "--db", str(db))
    assert code == 0 and json.loads(out)["persons"] == 0


@pytest.mark.parametrize("url", ["postgresql://clerk@server/office", "mysql+pymysql://h/db", "sqlite:///x.db"])
def test_a_server_address_as_db_is_refused_and_creates_nothing(tmp_path, capsys, monkeypatch, url):
    monkeypatch.chdir(tmp_path)
    for argv in (("--db", url, "init"), ("init", "--db", url)):
        with pytest.raises(SystemExit) as stop:
            main(list(argv))
        _out, err = capsys.readouterr()
        assert stop.value.code == 2 and "ليست مسار ملف" in err
    assert list(tmp_path.iterdir()) == []


def test_command_line_acts_as_a_named_user(tmp_path, capsys, monkeypatch):
    db = str(tmp_path / "users.sqlite3")
    monkeypatch.setenv("AIDOFFICE_NEW_PASSWORD", "كلمة-سر-المدير")
    code, _, err = run(capsys, "init", "--db", db, "--admin", "admin")
    assert code == 0, err
    monkeypatch.setenv("AIDOFFICE_PASSWORD", "كلمة-سر-المدير")
    monkeypatch.setenv("AIDOFFICE_NEW_PASSWORD", "كلمة-سر-الموظف")
    code, out, err = run(capsys, "user", "add", "clerk1", "--role", "clerk", "--db", db, "--user", "admin")
    assert code == 0 and "clerk1" in out, err
    monkeypatch.setenv("AIDOFFICE_PASSWORD", "كلمة-سر-الموظف")
    code, _, err = run(capsys, "export", "persons", "--out", str(tmp_path / "p.xlsx"), "--db", db, "--user", "clerk1")
    assert code == 2 and "ليست لديك صلاحية" in err and not (tmp_path / "p.xlsx").exists()
    code, _, err = run(capsys, "stats", "--db", db, "--user", "clerk1")
    assert code == 0
    monkeypatch.setenv("AIDOFFICE_PASSWORD", "wrong-password")
    code, _, err = run(capsys, "stats", "--db", db, "--user", "clerk1")
    assert code == 2 and "غير صحيحة" in err
    monkeypatch.delenv("AIDOFFICE_PASSWORD")
    code, _, err = run(capsys, "stats", "--db", db, "--user", "clerk1")
    assert code == 2 and "AIDOFFICE_PASSWORD" in err  # no terminal to ask on, no password in an argument


def test_keys_and_packages_from_the_command_line(tmp_path, capsys):
    hq, office = str(tmp_path / "hq.sqlite3"), str(tmp_path / "office.sqlite3")
    assert run(capsys, "init", "--db", hq, "--office-code", "HQ", "--mode", "hq")[0] == 0
    assert run(capsys, "init", "--db", office, "--office-code", "ABY-02", "--governorate", "أبين")[0] == 0
    code, out, _ = run(capsys, "keys", "export", str(tmp_path / "ids"), "--db", office)
    assert code == 0 and (tmp_path / "ids" / "ABY-02.aidid").is_file()
    fingerprint = out.split("البصمة:")[1].strip()
    code, _, err = run(
        capsys,
        "keys",
        "enrol",
        str(tmp_path / "ids" / "ABY-02.aidid"),
        "--db",
        hq,
        "--fingerprint",
        "11111 11111 11111 11111 11111",
    )
    assert code == 2 and "البصمة لا تطابق" in err
    assert (
        run(capsys, "keys", "enrol", str(tmp_path / "ids" / "ABY-02.aidid"), "--db", hq, "--fingerprint", fingerprint)[
            0
        ]
        == 0
    )
    code, out, _ = run(capsys, "keys", "export", str(tmp_path / "ids"), "--db", hq)
    assert code == 0
    hq_fingerprint = out.split("البصمة:")[1].strip()
    hq_id = str(tmp_path / "ids" / "HQ.aidid")
    code, _, err = run(capsys, "keys", "enrol", hq_id, "--db", office)
    assert code == 2 and "البصمة مطلوبة" in err  # never without the fingerprint read over the phone
    assert run(capsys, "keys", "enrol", hq_id, "--db", office, "--fingerprint", hq_fingerprint)[0] == 0
    code, out, _ = run(capsys, "export-package", "--to", str(tmp_path / "usb"), "--db", office)
    assert code == 0 and "snapshot" in out
    package = tmp_path / "usb" / "ABY-02-e0-000001.aidpkg"
    code, out, _ = run(capsys, "import-package", str(package), "--db", hq)
    assert code == 0 and "ABY-02" in out
    code, out, _ = run(capsys, "import-package", str(package), "--db", hq)
    assert code == 0 and "سبق استيراد" in out
    damaged = tmp_path / "damaged.aidpkg"
    data = bytearray(package.read_bytes())
    data[-5] ^= 1
    damaged.write_bytes(bytes(data))
    code, _, err = run(capsys, "import-package", str(damaged), "--db", hq)
    assert code == 2 and "معدَّلة" in err
    code, out, _ = run(capsys, "export-package", "--to", str(tmp_path / "usb"), "--db", hq, "--office", "ABY-02")
    assert code == 0 and "reply" in out


def test_the_desktop_bundle_runs_the_command_line(tmp_path):
    """`AidOffice.exe cli …`: the windowed Windows bundle's command line (it attaches to the console it came from)."""
    db = tmp_path / "bundle.sqlite3"
    env = {**os.environ, "AIDOFFICE_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-m", "aidoffice", "cli", "--db", str(db), "init", "--office-name", "مكتب تعز"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "مكتب تعز" in done.stdout and db.exists()


def test_cards_print_when_they_are_the_first_document_of_the_process(tmp_path):
    """`report cards` in a fresh process measured the bold font before registering it (KeyError 'AidOffice-Bold')."""
    db = tmp_path / "cards.sqlite3"
    env = {**os.environ, "AIDOFFICE_HOME": str(tmp_path / "home")}
    script = (
        "import sys\n"
        "from aidoffice.cli import main\n"
        "from aidoffice.services.context import open_context\n"
        "from aidoffice.services.persons import add_person\n"
        "from aidoffice.domain.persons import PersonInput\n"
        f"assert main(['--db', {str(db)!r}, 'init']) == 0\n"
        f"ctx = open_context({str(db)!r}, username='cli')\n"
        "pid = add_person(ctx, PersonInput(full_name='سعيد مبارك عمر باسلامة')).id\n"
        "ctx.close()\n"
        f"out = {str(tmp_path / 'c.pdf')!r}\n"
        f"sys.exit(main(['--db', {str(db)!r}, 'report', 'cards', '--person', pid, '--out', out]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "c.pdf").read_bytes().startswith(b"%PDF")
