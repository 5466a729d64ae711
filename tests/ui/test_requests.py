"""Requests and approvals offscreen: a clerk asks with a reason, the user is switched without closing the program, the
supervisor approves or refuses from the queue, and the clerk sees the outcome."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton

from aidoffice.app import make_application
from aidoffice.domain.persons import PersonInput
from aidoffice.services import users
from aidoffice.services.persons import get_person, update_person
from aidoffice.services.requests import list_requests
from aidoffice.store import models as m
from aidoffice.ui.main_window import PAGES, MainWindow
from aidoffice.ui.pages.distributions import REQUEST_SENT, SEND_REQUEST, RequestDialog
from aidoffice.ui.pages.requests import RequestsPage
from tests.helpers.requests import household_that_received, open_pair

PASSWORDS = {
    "admin": "كلمة-سر-قوية",
    "clerk1": "كلمة-سر-الموظف",
    "super1": "كلمة-سر-المشرف",
    "super2": "كلمة-سر-المشرف2",
}


@pytest.fixture
def office(ctx):
    make_application()
    users.create_user(ctx, "admin", PASSWORDS["admin"], "admin")
    users.create_user(ctx, "clerk1", PASSWORDS["clerk1"], "clerk")
    users.create_user(ctx, "super1", PASSWORDS["super1"], "supervisor")
    users.create_user(ctx, "super2", PASSWORDS["super2"], "supervisor")
    return ctx


def logged_in(ctx, username):
    session = replace(ctx)
    users.login(session, username, PASSWORDS[username])
    return session


def window_for(qtbot, ctx) -> MainWindow:
    window = MainWindow(ctx)
    qtbot.addWidget(window)
    window.show()
    return window


def switch(qtbot, window: MainWindow, username: str) -> MainWindow:
    """«تبديل المستخدم»: the login dialog on the running window; the application then opens the new user's window
    on the same database and retires the old one (as app.main does)."""
    dialog = window.switch_user()
    assert dialog.isVisible() and dialog.windowTitle() == "تبديل المستخدم"
    dialog.username.setText(username)
    dialog.password.setText(PASSWORDS[username])
    with qtbot.waitSignal(window.user_switched) as switched:
        assert dialog.try_login()
    fresh = switched.args[0]
    assert fresh.db is window.ctx.db and (fresh.username, fresh.role) == (username, users_role(fresh, username))
    window.retire()
    return window_for(qtbot, fresh)


def users_role(ctx, username):
    with ctx.uow() as uow:
        return uow.repo.first(m.User, username=username).role


def card_button(card) -> QPushButton:
    return next(b for b in card.findChildren(QPushButton) if b.text() == "عرض الكل")


def test_the_approval_round_trip(qtbot, office):
    head, later = household_that_received(office)
    clerk_window = window_for(qtbot, logged_in(office, "clerk1"))
    sheet = clerk_window.aid_page.open_distribution(later)
    qtbot.addWidget(sheet)
    assert not sheet.add_person(head.id)
    asking = sheet.reason_dialog
    # said before a word is typed: this goes to the supervisor, with what was received and where
    assert isinstance(asking, RequestDialog) and asking.isVisible()
    assert "جمعية الإحسان" in asking.message.text() and "موافقة المشرف" in asking.message.text()
    assert asking.confirm_button.text() == SEND_REQUEST and not asking.confirm_button.isEnabled()
    asking.reason.setPlainText("أسرة نازحة فقدت مسكنها")
    asking.activateWindow()
    qtbot.waitUntil(asking.isActiveWindow)
    asking.reason.setFocus()
    qtbot.keyClick(asking.reason, Qt.Key.Key_Tab)  # Tab leaves the box: it types nothing into the reason
    assert asking.reason.toPlainText() == "أسرة نازحة فقدت مسكنها"
    qtbot.keyClick(asking.focusWidget(), Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)  # from the keys
    qtbot.waitUntil(lambda: sheet.message.text() == REQUEST_SENT)
    assert sheet.lines.rowCount() == 0
    clerk_window.go("aid")
    clerk_window.go("home")
    mine = clerk_window.home_page.cards["requests"]
    assert mine.item.title == "طلباتي إلى المشرف" and mine.rows.item(0).text().startswith("⌛ بانتظار المشرف")

    # the supervisor logs in on the same window, without closing the program
    supervisor_window = switch(qtbot, clerk_window, "super1")
    assert not clerk_window.isVisible() and clerk_window.ctx.role == "nobody"
    assert supervisor_window.status_user.text() == "super1"
    supervisor_window.go("home")
    queue = supervisor_window.home_page.cards["requests"]
    assert queue.item.title == "طلبات بانتظار موافقتك" and queue.count.text() == "1"
    assert "سالم عوض بامطرف" in queue.rows.item(0).text() and "clerk1" in queue.rows.item(0).text()
    card_button(queue).click()
    page = supervisor_window.requests_page
    assert supervisor_window.current_page() is page and page.current_scope() == "queue"
    assert page.table.rowCount() == 1 and page.table.item(0, 2).text() == "أسرة نازحة فقدت مسكنها"
    assert not page.approve_button.isEnabled()  # nothing chosen yet
    page.table.setCurrentCell(0, 0)
    page.note.setText("موافق: نزوح موثق")
    page.approve()
    qtbot.waitUntil(lambda: page.decide_task is None)
    assert page.message.text().startswith("نُفّذ الطلب: أُبقي في الكشف")
    assert page.table.rowCount() == 0 and page.empty.text().startswith("لا طلبات بانتظار قرارك")
    assert supervisor_window.home_page.cards["requests"].count.text() == "0"
    with office.uow() as uow:
        line = uow.repo.first(m.DistributionLine, distribution_id=later)
        assert (line.override_reason, line.overridden_by) == ("أسرة نازحة فقدت مسكنها", "super1")

    # the clerk comes back and reads the decision: on the home page, then in «طلباتي»
    back = switch(qtbot, supervisor_window, "clerk1")
    back.go("home")
    news = back.home_page.cards["requests"]
    assert news.rows.item(0).text().startswith("✔ وافق عليه المشرف") and "نزوح موثق" in news.rows.item(0).text()
    card_button(news).click()
    page = back.requests_page
    assert back.current_page() is page and page.current_scope() == "mine" and not page.decide_box.isVisible()
    assert page.table.item(0, 4).text() == "وافق عليه المشرف ونُفّذ" and "super1" in page.table.item(0, 5).text()
    back.go("home")
    assert "requests" not in back.home_page.cards  # read: no longer announced


def test_a_refusal_with_a_note_reaches_the_clerk(qtbot, office):
    head, later = household_that_received(office)
    clerk = logged_in(office, "clerk1")
    sheet = window_for(qtbot, clerk).aid_page.open_distribution(later)
    qtbot.addWidget(sheet)
    sheet.add_person(head.id)
    sheet.reason_dialog.reason.setPlainText("أسرة نازحة")
    sheet.reason_dialog.confirm_button.click()
    # pressed again with another reason: refused beside the box, the reason kept
    sheet.add_person(head.id)
    sheet.reason_dialog.reason.setPlainText("مرة ثانية")
    sheet.reason_dialog.confirm_button.click()
    assert sheet.reason_dialog.isVisible() and "طلب مماثل" in sheet.reason_dialog.error.text()
    assert sheet.reason_dialog.text() == "مرة ثانية"
    sheet.reason_dialog.reject()

    page = RequestsPage(logged_in(office, "super1"))
    qtbot.addWidget(page)
    page.show()
    page.ensure_loaded()
    page.table.setCurrentCell(0, 0)
    page.refuse()
    assert "سبب الرفض" in page.message.text() and page.table.item(0, 4).text() == "بانتظار المشرف"
    page.note.setText("استلمت الأسرة سلتها هذا الشهر")
    page.refuse()
    assert page.message.text().startswith("رُفض الطلب") and page.table.rowCount() == 0
    [refused] = list_requests(clerk, "mine")
    assert (refused.status, refused.note, refused.decided_by) == ("refused", "استلمت الأسرة سلتها هذا الشهر", "super1")
    with office.uow() as uow:
        assert uow.repo.count(m.DistributionLine, distribution_id=later) == 0


def test_the_second_supervisor_is_told_it_was_already_decided(qtbot, office):
    head, later = household_that_received(office)
    sheet = window_for(qtbot, logged_in(office, "clerk1")).aid_page.open_distribution(later)
    qtbot.addWidget(sheet)
    sheet.add_person(head.id)
    sheet.reason_dialog.reason.setPlainText("أسرة نازحة")
    sheet.reason_dialog.confirm_button.click()
    first, second = (RequestsPage(logged_in(office, name)) for name in ("super1", "super2"))
    for page in (first, second):
        qtbot.addWidget(page)
        page.show()
        page.ensure_loaded()
        page.table.setCurrentCell(0, 0)
    first.approve()
    qtbot.waitUntil(lambda: first.decide_task is None)
    second.approve()  # still on its screen as pending
    qtbot.waitUntil(lambda: second.decide_task is None)
    assert second.message.text().startswith("تم البت في هذا الطلب من قبل: وافق عليه المشرف ونُفّذ (super1")
    assert second.table.rowCount() == 0
    with office.uow() as uow:
        assert uow.repo.count(m.DistributionLine, distribution_id=later) == 1  # one line, never two


def test_a_clerk_asks_for_a_merge_from_the_review_page(qtbot, office):
    pair = open_pair(office)
    window = window_for(qtbot, logged_in(office, "clerk1"))
    review = window.go("review")
    review.refresh()
    assert review.pair.id == pair.id and review.merge_button.isEnabled() and not review.distinct_button.isEnabled()
    review.swap_survivor()
    review.merge_current()
    dialog = review.request_dialog
    assert dialog.isVisible() and pair.b.values["full_name"] in dialog.message.text()
    dialog.reason.setPlainText("نفس رقم البطاقة")
    dialog.confirm_button.click()
    assert review.message.text() == REQUEST_SENT and review.pair is None  # the next pair meanwhile

    page = switch(qtbot, window, "super1").requests_page
    page.ensure_loaded()
    page.table.setCurrentCell(0, 0)
    assert "دمج" in page.table.item(0, 1).text()
    page.approve()
    qtbot.waitUntil(lambda: page.decide_task is None)
    assert page.message.text().startswith("نُفّذ الطلب: دُمج السجلان")
    with office.uow() as uow:
        assert uow.repo.get(m.Person, pair.a.id).merged_into_id == pair.b.id


def test_a_merge_request_for_a_pair_changed_since_it_was_shown_is_not_sent(qtbot, office):
    """The clerk's request carries the versions shown side by side; a record corrected meanwhile on another PC closes
    the dialog, shows the pair again with the change, and F5 asks again with the reason already typed."""
    pair = open_pair(office)
    window = window_for(qtbot, logged_in(office, "clerk1"))
    review = window.go("review")
    review.refresh()
    review.merge_current()
    person = get_person(office, pair.b.id)  # meanwhile, another PC adds a note to record b
    update_person(
        office,
        pair.b.id,
        PersonInput(full_name=person.full_name, national_id="02020012345", sex="أنثى", notes="أرملة"),
        expected_version=person.version,
    )
    review.request_dialog.reason.setPlainText("نفس رقم البطاقة")
    review.request_dialog.confirm_button.click()
    assert not review.request_dialog.isVisible()
    text = review.message.text()
    assert "بعد أن عُرض الزوج" in text and "لم يُرسل طلب الدمج" in text and "F5" in text, text
    assert review.pair.id == pair.id and review.pair.b.version == person.version + 1  # shown again, changed
    assert list_requests(office, "all") == []

    review.merge_current()  # F5, once told
    assert review.request_dialog.isVisible() and review.request_dialog.text() == "نفس رقم البطاقة"
    review.request_dialog.confirm_button.click()
    assert review.message.text() == REQUEST_SENT
    (sent,) = list_requests(office, "all")
    assert sent.status == "pending"


def test_a_request_whose_record_was_deleted_closes_with_a_reason(qtbot, office):
    pair = open_pair(office)
    window = window_for(qtbot, logged_in(office, "clerk1"))
    review = window.go("review")
    review.refresh()
    review.merge_current()
    review.request_dialog.reason.setPlainText("نفس رقم البطاقة")
    review.request_dialog.confirm_button.click()
    with office.uow() as uow:  # a new scan no longer finds the pair
        uow.repo.drop_open_pairs([pair.id])
        uow.commit()
    page = RequestsPage(logged_in(office, "super1"))
    qtbot.addWidget(page)
    page.show()
    page.ensure_loaded()
    page.table.setCurrentCell(0, 0)
    page.approve()
    qtbot.waitUntil(lambda: page.decide_task is None)
    assert page.message.text().startswith("أُغلق الطلب دون تنفيذ: لم يعد الزوج في قائمة المراجعة")
    [closed] = list_requests(window.ctx, "mine")
    assert closed.status == "closed" and closed.status_label == "أُغلق دون تنفيذ"


def test_switching_user_can_be_cancelled_and_the_eleventh_page_has_no_alt_key(qtbot, office):
    window = window_for(qtbot, logged_in(office, "clerk1"))
    assert PAGES[-1][0] == "requests" and window.navigation.count() == 11
    assert window.user_menu.actions()[0].text() == "تبديل المستخدم…" and window.switch_user_button.isVisible()
    dialog = window.switch_user()
    dialog.username.setText("super1")
    dialog.password.setText("كلمة-خاطئة-تماماً")
    assert not dialog.try_login() and "غير صحيحة" in dialog.form.errors["password"].text()
    dialog.reject()
    assert (window.ctx.username, window.ctx.role) == ("clerk1", "clerk") and window.isVisible()
    assert not window.requests_page.decide_box.isVisible() and window.requests_page.scope.count() == 1


def test_another_user_logs_in_from_the_locked_screen(qtbot, office):
    window = window_for(qtbot, logged_in(office, "clerk1"))
    lock = window.enable_idle_lock(minutes=0)
    lock.last -= 1
    lock.check()
    assert not window.centralWidget().isVisible() and window.lock_dialog.isVisible()
    other = next(b for b in window.lock_dialog.findChildren(QPushButton) if b.text() == "دخول مستخدم آخر")
    other.click()
    assert not window.lock_dialog.isVisible() and window.switch_dialog.isVisible()
    window.switch_dialog.reject()  # changed their mind: back to the lock, the window still hidden
    assert window.lock_dialog.isVisible() and not window.centralWidget().isVisible()
    other.click()
    window.switch_dialog.username.setText("super1")
    window.switch_dialog.password.setText(PASSWORDS["super1"])
    with qtbot.waitSignal(window.user_switched) as switched:
        assert window.switch_dialog.try_login()
    assert switched.args[0].role == "supervisor" and window.ctx.role == "nobody"
    window.retire()
    assert not window.isVisible() and not lock.timer.isActive()
