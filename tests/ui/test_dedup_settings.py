"""The duplicate engine's thresholds from the settings page: a supervisor sets them in percent, a clerk cannot."""

from __future__ import annotations

from dataclasses import replace

from aidoffice.app import make_application
from aidoffice.domain.persons import PersonInput
from aidoffice.services.duplicates import scan_registry, thresholds
from aidoffice.services.persons import add_person
from aidoffice.ui.pages.settings import SettingsPage


def _page(qtbot, ctx) -> SettingsPage:
    make_application()
    page = SettingsPage(ctx)
    qtbot.addWidget(page)
    page.show()
    page.tabs.setCurrentWidget(page.duplicates)
    return page


def test_a_supervisor_sets_the_thresholds_in_percent_with_any_digits(qtbot, ctx):
    page = _page(qtbot, replace(ctx, role="supervisor"))
    panel = page.duplicates
    assert panel.form.fields["likely"].text() == "99" and panel.form.fields["review"].text() == "50"
    assert "لم يتعلم" in panel.model_label.text()  # no scan yet: the starting weights
    panel.form.fields["likely"].setText("٩٩٫٥")
    panel.form.fields["review"].setText("60")
    assert panel.save()
    assert thresholds(ctx) == {"likely": 0.995, "review": 0.6}
    panel.form.fields["review"].setText("99.7")  # above «likely»: refused beside the field, nothing stored
    assert not panel.save()
    assert thresholds(ctx)["review"] == 0.6
    for name in ("سالم عوض سعيد بامطرف", "فاطمة علي صالح العمودي", "خالد سعيد عمر الجابري"):
        add_person(ctx, PersonInput(full_name=name))
    scan_registry(ctx)
    panel.ensure_loaded()
    assert "تعلّمها البرنامج" in panel.model_label.text()


def test_a_clerk_sees_the_thresholds_but_cannot_change_them(qtbot, ctx):
    page = _page(qtbot, replace(ctx, role="clerk"))
    assert not page.duplicates.save_button.isEnabled()
    assert page.duplicates.save_button.toolTip()
