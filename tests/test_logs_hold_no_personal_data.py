"""A full day's work through the services and the command line, then the log files are read for the names, IDs and
phones used: none may be there."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from aidoffice.cli import main
from aidoffice.domain.persons import PersonInput
from aidoffice.errors import LikelyDuplicateError, UserError
from aidoffice.logs import setup_logging
from aidoffice.services import users
from aidoffice.services.aid import (
    AlreadyReceivedError,
    DistributionInput,
    ProjectInput,
    add_distribution_line,
    create_distribution,
    create_project,
)
from aidoffice.services.associations import AssociationInput, register_association
from aidoffice.services.backups import make_backup
from aidoffice.services.duplicates import scan_registry
from aidoffice.services.exports import export_list
from aidoffice.services.persons import add_person, create_household, search_persons
from aidoffice.services.reports import write_cards, write_distribution_sheet
from aidoffice.services.review import merge_pair, review_queue
from tests.helpers.databases import address
from tests.helpers.legacy import entered_before_the_check

PEOPLE = [
    ("زكريا منصور سالم القعيطي", "01015551234", "777654321"),
    ("زكريا منصور سالم القعيطى", "01015551234", "777654321"),  # the same person typed again
    ("هدى عبدالله سعيد باحميش", "02026663456", "733445566"),
]


def test_a_day_of_work_leaves_no_personal_data_in_the_logs(ctx, tmp_path, capsys):
    log_file = setup_logging(logging.DEBUG)
    assert log_file is not None  # (the process's log file: an earlier test may have opened it elsewhere)
    users.create_user(ctx, "admin", "كلمة-سر-قوية", "admin")
    with pytest.raises(UserError):
        users.login(replace(ctx), "admin", "wrong-password")
    users.login(ctx, "admin", "كلمة-سر-قوية")
    assoc = register_association(ctx, AssociationInput(name="جمعية الإحسان", registration_number="55/2015"))
    ids = []
    for index, (name, national_id, phone) in enumerate(PEOPLE):
        typed = PersonInput(full_name=name, national_id=national_id, phone=phone)
        if index == 1:  # typed again today: stopped by the check on entry (its refusal names no one either)…
            with pytest.raises(LikelyDuplicateError):
                add_person(ctx, typed)
            person = entered_before_the_check(ctx, typed)  # …and the same pair from before the upgrade, to merge
        else:
            person = add_person(ctx, typed)
        ids.append(person.id)
    household = create_household(ctx, ids[2]).id
    search_persons(ctx, "القعيطي")
    search_persons(ctx, "0101555")
    with pytest.raises(UserError):
        add_person(ctx, PersonInput(full_name="هدى", phone="12"))  # refused: the reasons name no one
    project = create_project(ctx, ProjectInput(association_id=assoc.id, title="سلال", aid_type="food_basket"))
    first = create_distribution(ctx, DistributionInput(project_id=project.id, distribution_date=date(2026, 3, 2)))
    add_distribution_line(ctx, first.id, household_id=household)
    second = create_distribution(ctx, DistributionInput(project_id=project.id, distribution_date=date(2026, 3, 9)))
    with pytest.raises(AlreadyReceivedError):
        add_distribution_line(ctx, second.id, household_id=household)
    scan_registry(ctx)
    for pair in review_queue(ctx, limit=10):
        merge_pair(ctx, pair.id)
    export_list(ctx, "persons", tmp_path / "persons.xlsx")
    write_distribution_sheet(ctx, first.id, tmp_path / "sheet.pdf")
    write_cards(ctx, ids[2:], tmp_path / "cards.pdf")
    make_backup(ctx, tmp_path / "usb")
    assert main(["search", "باحميش", "--db", address(ctx), "--user", "nobody"]) == 2  # users exist: refused
    capsys.readouterr()
    for handler in logging.getLogger("aidoffice").handlers:
        handler.flush()

    text = "\n".join(p.read_text(encoding="utf-8") for p in Path(log_file).parent.glob("*.log*"))
    assert "login" in text and "backup" in text and "exported" in text  # the log does record the work
    for name, national_id, phone in PEOPLE:
        for part in name.split():
            if len(part) > 3:
                assert part not in text, "a name part reached the log"
        assert national_id not in text and phone not in text
    for person_id in ids:
        assert person_id not in text
