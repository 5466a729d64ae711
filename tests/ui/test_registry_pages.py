"""The registry pages' main flows offscreen: create, edit, validate beside the field, change status, search."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt

from aidoffice.app import make_application
from aidoffice.services.associations import get_association
from aidoffice.services.persons import aid_history, get_person
from aidoffice.services.tables import TableQuery, page_rows
from aidoffice.ui.pages.associations import AssociationsPage
from aidoffice.ui.pages.persons import PersonsPage
from aidoffice.ui.pages.referrals import ReferralsPage


@pytest.fixture
def app(qapp):
    return make_application()


def test_new_association_is_refused_beside_the_field_then_saved(qtbot, app, ctx):
    page = AssociationsPage(ctx)
    qtbot.addWidget(page)
    page.reload()
    dialog = page.open_association(None)
    f = dialog.form.fields
    f["registration_number"].setText("٢٥/٢٠١٩")
    f["proclamation_date"].edit.setText("31/02/2019")
    assert not dialog.save_profile()
    assert dialog.form.errors["name"].isVisible() and dialog.form.errors["name"].text() == "اسم الجمعية مطلوب."
    assert "غير صالح" in dialog.form.errors["proclamation_date"].text()
    assert f["registration_number"].text() == "٢٥/٢٠١٩"  # what was typed stays
    assert page.model.rowCount() == 0
    f["name"].setText("جمعية الأمل الخيرية")
    f["proclamation_date"].edit.setText("١٥/٠٣/٢٠١٩")
    assert dialog.form.fields["proclamation_date"].hijri.text().endswith("هـ")
    fields = f["fields"]
    fields.item(0).setCheckState(Qt.CheckState.Checked)
    assert dialog.save_profile()
    assert not dialog.form.errors["name"].isVisible()
    record = get_association(ctx, dialog.association_id)
    assert record.registration_number == "25/2019" and record.proclamation_date == date(2019, 3, 15)
    assert len(record.fields) == 1
    assert dialog.tabs.count() == 6
    qtbot.waitUntil(lambda: page.model.rowCount() == 1)


def test_association_file_status_board_visits_and_compliance(qtbot, app, demo_ctx):
    page = AssociationsPage(demo_ctx)
    qtbot.addWidget(page)
    page.reload()
    dialog = page.open_association(page.model.id_at(0))
    aid = dialog.association_id
    # status: a reason is required, then the history shows the change
    sf = dialog.status_form.fields
    sf["status"].setCurrentIndex(sf["status"].findData("suspended"))
    dialog.change_status()
    assert dialog.status_form.errors["reason"].text() == "سبب تغيير الحالة مطلوب."
    sf["reason"].setText("عدم تقديم التقارير")
    dialog.change_status()
    assert get_association(demo_ctx, aid).status == "suspended"
    assert dialog.history_table.item(0, 4).text() == "عدم تقديم التقارير"
    assert "موقوفة" in dialog.header.text()
    # board
    dialog.board_form.fields["full_name"].setText("سالم عوض بامطرف")
    dialog.board_form.fields["role"].setCurrentIndex(dialog.board_form.fields["role"].findData("treasurer"))
    before = dialog.board_table.rowCount()
    dialog.add_board()
    assert dialog.board_table.rowCount() == before + 1
    # a visit in the future is refused; a proper one is added, then its follow-up marked done
    vf = dialog.visit_form.fields
    vf["visit_date"].edit.setText("01/01/2090")
    vf["visitors"].setText("فريق المكتب")
    dialog.add_visit()
    assert "المستقبل" in dialog.visit_form.errors["visit_date"].text()
    vf["visit_date"].edit.setText(date.today().strftime("%d/%m/%Y"))
    vf["follow_up"].setText("تسليم كشف الأعضاء")
    dialog.add_visit()
    assert dialog.visits_table.item(0, 4).text() == "تسليم كشف الأعضاء"
    dialog.visits_table.setCurrentCell(0, 0)
    dialog.mark_follow_up_done()
    assert dialog.visits_table.item(0, 6).text() == "نعم"
    # compliance
    dialog.compliance_form.fields["admin_report"].setChecked(True)
    dialog.save_compliance()
    assert dialog.compliance_table.item(0, 1).text() == "✓"
    assert dialog.projects_model.rowCount() >= 0 and dialog.distributions_model.query.filters == {"association": aid}


def test_association_search_and_filters(qtbot, app, demo_ctx):
    page = AssociationsPage(demo_ctx)
    qtbot.addWidget(page)
    page.reload()
    total = page.model.rowCount()
    word = page.model.index(0, 0).data().split()[1]
    page.search.setText(word)
    page.reload()
    assert 0 < page.model.rowCount() < total
    assert all(word in page.model.index(r, 0).data() for r in range(page.model.rowCount()))
    page.search.clear()
    status = page.filters["status"]
    status.setCurrentIndex(status.findData("active"))
    assert {page.model.index(r, 3).data() for r in range(page.model.rowCount())} == {"نشطة"}
    page.filters["licence"].setCurrentIndex(1)
    for r in range(page.model.rowCount()):
        assert "expiring" in page.model.index(r, 0).data(Qt.ItemDataRole.UserRole + 2)


def test_person_form_validation_household_and_aid_history(qtbot, app, demo_ctx):
    page = PersonsPage(demo_ctx)
    qtbot.addWidget(page)
    page.ensure_loaded()
    dialog = page.open_person(None)
    f = dialog.form.fields
    f["full_name"].setText("زكريا منصور سالم القعيطي")
    f["phone"].setText("٧٧٧١٢٣")  # too short for Yemen
    f["birth_date"].edit.setText("01/01/2090")
    assert not dialog.save()
    assert dialog.form.errors["phone"].isVisible() and dialog.form.errors["birth_date"].isVisible()
    assert f["full_name"].text() == "زكريا منصور سالم القعيطي"
    assert f["phone"].validator().validate("77x", 0)[0].name == "Invalid"  # letters cannot be typed
    f["phone"].setText("٧٧٧١٢٣٤٥٦")
    f["birth_date"].edit.setText("١٢/٠٥/١٩٨٥")
    assert dialog.save()
    person = get_person(demo_ctx, dialog.person_id)
    assert person.phone == "777123456" and person.birth_date == date(1985, 5, 12)
    # household: create one, add a member found by the picker
    dialog.size_edit.setText("٥")
    dialog.create_own_household()
    assert get_person(demo_ctx, dialog.person_id).household_id
    everyone = page_rows(demo_ctx, "persons", TableQuery(), 0, 3000)
    lonely = next(r for r in everyone if r.values[1] and not get_person(demo_ctx, r.id).household_id)
    dialog.picker.edit.setText(lonely.values[1])
    dialog.picker.search()
    dialog.picker.results.setCurrentRow(
        next(
            i
            for i in range(dialog.picker.results.count())
            if dialog.picker.results.item(i).data(Qt.ItemDataRole.UserRole) == lonely.id
        )
    )
    dialog.relation.setCurrentIndex(dialog.relation.findData("spouse"))
    dialog.add_member()
    assert dialog.household_message.text() == ""
    assert dialog.members_table.rowCount() == 2
    # aid history of someone who received
    with_aid = next(r for r in page_rows(demo_ctx, "persons", TableQuery(), 0, 2500) if aid_history(demo_ctx, r.id))
    seen = page.open_person(with_aid.id)
    assert seen.history_table.rowCount() == len(aid_history(demo_ctx, with_aid.id)) > 0
    assert seen.history_table.item(0, 1).text().endswith("هـ")


def test_referral_created_and_advanced(qtbot, app, demo_ctx):
    page = ReferralsPage(demo_ctx)
    qtbot.addWidget(page)
    page.reload()
    before = page.model.rowCount()
    dialog = page.new_referral()
    assert not dialog.save()
    assert dialog.form.errors["person_id"].isVisible()
    person = page_rows(demo_ctx, "persons", TableQuery(), 0, 1)[0]
    dialog.picker.edit.setText(person.values[0])
    dialog.picker.search()
    dialog.picker.results.setCurrentRow(0)
    box = dialog.form.fields["association_id"]
    box.setCurrentIndex(1)
    dialog.form.fields["need"].setPlainText("كرسي متحرك")
    assert dialog.save()
    assert page.model.rowCount() == before + 1
    referral_id = next(
        r.id for r in page_rows(demo_ctx, "referrals", TableQuery(text="كرسي"), 0, 100) if r.values[3] == "مرسلة"
    )
    opened = page.open_referral(referral_id)
    statuses = [opened.form.fields["status"].itemData(i) for i in range(opened.form.fields["status"].count())]
    assert "accepted" in statuses and "sent" not in statuses
    opened.form.fields["status"].setCurrentIndex(statuses.index("accepted"))
    opened.form.fields["note"].setText("اتصال هاتفي")
    assert opened.advance()
    assert "مقبولة" in opened.header.text() and opened.history.rowCount() >= 2


def test_a_locked_database_is_a_message_and_the_form_keeps_what_was_typed(qtbot, app, ctx):
    from aidoffice.store.dialect import WRITER_LOCK_KEY
    from tests.helpers.databases import raw_connect

    page = PersonsPage(ctx)
    qtbot.addWidget(page)
    dialog = page.open_person(None)
    dialog.form.fields["full_name"].setText("زكريا منصور سالم القعيطي")
    # another program holds the write lock: SQLite's exclusive lock on the file, the writers' lock on a server
    blocker = raw_connect(ctx, autocommit=True)
    hold, free = (
        (f"SELECT pg_advisory_lock({WRITER_LOCK_KEY})", f"SELECT pg_advisory_unlock({WRITER_LOCK_KEY})")
        if blocker.on_server
        else ("BEGIN EXCLUSIVE", "ROLLBACK")
    )
    blocker.execute(hold)
    try:
        assert not dialog.save()
    finally:
        blocker.execute(free)
        blocker.close()
    assert dialog.form.general.isVisible() and "مشغولة بعمل آخر" in dialog.form.general.text()
    assert dialog.form.fields["full_name"].text() == "زكريا منصور سالم القعيطي"
    assert dialog.person_id is None
    assert dialog.save() and dialog.person_id is not None  # once the other program lets go, the same form saves
