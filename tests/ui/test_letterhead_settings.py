"""The letterhead on the settings page («عام»): typed lines saved for every document, a bad emblem refused beside
its field with nothing saved, and the state line following the country."""

from __future__ import annotations

from aidoffice.services.office import get_letterhead
from aidoffice.ui.pages.settings import SettingsPage


def test_letterhead_lines_are_saved_and_a_bad_emblem_is_refused_beside_its_field(qtbot, ctx, tmp_path):
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    page.show()
    page.ensure_loaded()
    form = page.letterhead_form
    assert form.fields["state"].text() == "الجمهورية اليمنية"
    form.fields["department"].setText("إدارة الجمعيات والاتحادات")
    assert page.save_office()
    assert get_letterhead(ctx).department == "إدارة الجمعيات والاتحادات"

    (tmp_path / "emblem.png").write_bytes(b"not an image")
    form.emblem.setText(str(tmp_path / "emblem.png"))
    form.fields["department"].setText("قسم آخر")
    assert not page.save_office()
    assert form.errors["emblem"].isVisible() and "صورة الشعار" in form.errors["emblem"].text()
    assert get_letterhead(ctx).department == "إدارة الجمعيات والاتحادات" and get_letterhead(ctx).emblem == ""

    form.emblem.setText("")
    page.office_form.fields["country"].setCurrentIndex(page.office_form.fields["country"].findData("SY"))
    assert page.save_office()
    assert get_letterhead(ctx).state == "الجمهورية العربية السورية"  # the default shown was not kept as typed
    assert form.fields["state"].text() == "الجمهورية العربية السورية"
