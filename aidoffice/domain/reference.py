"""Reference lists an office starts with: demo geography, vulnerability categories, fields of work, aid types."""

from __future__ import annotations

from dataclasses import dataclass

from aidoffice.domain.vocab import AidWindow


@dataclass(frozen=True)
class CategoryDef:
    code: str
    name: str
    sensitive: bool = False


@dataclass(frozen=True)
class AidTypeDef:
    code: str
    name: str
    window: AidWindow
    window_days: int | None = None


# Demo geography (DOMAIN.md): governorate → district → sub-districts / neighbourhoods. Offices edit their own.
GEOGRAPHY: dict[str, dict[str, tuple[str, ...]]] = {
    "حضرموت": {
        "المكلا": ("الديس", "الشرج", "فوة", "المكلا القديمة", "ابن سيناء"),
        "الشحر": ("الشحر المدينة", "تبالة", "الحامي"),
        "غيل باوزير": ("غيل باوزير المدينة", "الحزم", "شحير"),
        "الديس الشرقية": ("الديس الشرقية المدينة", "قصيعر الساحل"),
        "بروم ميفع": ("بروم", "ميفع"),
        "حجر": ("حجر الصيعر", "الجول"),
        "الريدة وقصيعر": ("الريدة", "قصيعر"),
    },
    "أبين": {
        "زنجبار": ("زنجبار المدينة", "الكود", "باجدار"),
        "خنفر": ("جعار", "الحصن", "باتيس"),
        "لودر": ("لودر المدينة", "العين"),
        "مودية": ("مودية المدينة", "الشعراء"),
        "أحور": ("أحور المدينة", "الرواء"),
    },
}

CATEGORIES: tuple[CategoryDef, ...] = (
    CategoryDef("poorest", "الأسر الأشد فقراً"),
    CategoryDef("disability", "ذوو الإعاقة"),
    CategoryDef("widow", "أرملة"),
    CategoryDef("female_head", "المرأة المعيلة"),
    CategoryDef("orphan", "يتيم"),
    CategoryDef("elderly", "مسن"),
    CategoryDef("chronic", "مريض بمرض مزمن"),
    CategoryDef("displaced", "نازح"),
    CategoryDef("student", "طالب متفوق"),
    CategoryDef("gbv", "ناجية من العنف القائم على النوع الاجتماعي", sensitive=True),
    CategoryDef("disability_detail", "تفاصيل الإعاقة", sensitive=True),
)

FIELDS_OF_WORK: tuple[tuple[str, str], ...] = (
    ("relief", "الإغاثة"),
    ("orphans", "رعاية الأيتام"),
    ("health", "الصحة"),
    ("education", "التعليم"),
    ("women", "تمكين المرأة"),
    ("disability", "رعاية ذوي الإعاقة"),
    ("youth", "الشباب"),
    ("development", "التنمية"),
    ("water", "المياه"),
    ("elderly", "رعاية المسنين"),
)

AID_TYPES: tuple[AidTypeDef, ...] = (
    AidTypeDef("food_basket", "سلة غذائية", AidWindow.MONTH),
    AidTypeDef("ramadan_basket", "سلة رمضانية", AidWindow.HIJRI_RAMADAN),
    AidTypeDef("cash", "مساعدة نقدية", AidWindow.MONTH),
    AidTypeDef("medical", "مساعدة طبية", AidWindow.DAYS, 30),
    AidTypeDef("in_kind", "مساعدة عينية", AidWindow.DAYS, 30),
    AidTypeDef("shelter", "إيواء", AidWindow.DAYS, 180),
    AidTypeDef("winter_kit", "حقيبة شتوية", AidWindow.WINTER),
    AidTypeDef("school_kit", "حقيبة مدرسية", AidWindow.DAYS, 180),
    AidTypeDef("eid_clothing", "كسوة العيد", AidWindow.HIJRI_EID),
    AidTypeDef("stipend", "كفالة شهرية", AidWindow.MONTH),
)
