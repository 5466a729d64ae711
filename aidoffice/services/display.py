"""The office's display style (digits, date order, months in labels), kept in the settings and chosen in الإعدادات."""

from __future__ import annotations

from aidoffice.domain.access import Permission
from aidoffice.domain.display import DATE_ORDERS, DIGIT_STYLES, DisplayStyle
from aidoffice.errors import UserError
from aidoffice.services.context import STYLE_SETTING, ServiceContext


def get_display_style(ctx: ServiceContext) -> DisplayStyle:
    """The style every screen, workbook and document of this office is written in (the default until one is set)."""
    return ctx.style


def set_display_style(
    ctx: ServiceContext,
    *,
    digits: str | None = None,
    date_order: str | None = None,
    month_names: bool | None = None,
) -> DisplayStyle:
    """Change the given parts of the style (checked before anything is stored); the others stay as they are."""
    ctx.require(Permission.SETTINGS)
    if digits is not None and digits not in DIGIT_STYLES:
        raise UserError(f"نوع الأرقام غير معروف: {digits}. المتاح: {'، '.join(DIGIT_STYLES)}.", field="digits")
    if date_order is not None and date_order not in DATE_ORDERS:
        raise UserError(f"ترتيب التاريخ غير معروف: {date_order}. المتاح: {'، '.join(DATE_ORDERS)}.", field="date_order")
    if month_names is not None and not isinstance(month_names, bool):
        raise UserError("طريقة كتابة الشهر: باسمه أو بالأرقام.", field="month_names")
    with ctx.uow() as uow:
        current = DisplayStyle.from_dict(uow.settings.setting(STYLE_SETTING))
        chosen = DisplayStyle(
            digits=current.digits if digits is None else digits,
            date_order=current.date_order if date_order is None else date_order,
            month_names=current.month_names if month_names is None else month_names,
        )
        uow.settings.set_setting(STYLE_SETTING, chosen.to_dict())
        uow.commit()
    ctx.forget_cached()
    return chosen
