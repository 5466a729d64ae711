"""Closed vocabularies of the office's world, each value with its Arabic label."""

from __future__ import annotations

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A string enum whose members carry an Arabic label; the stored value is the English code."""

    label: str

    def __new__(cls, value: str, label: str):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.label = label
        return obj

    @classmethod
    def parse(cls, text: str):
        """The member whose code or Arabic label is `text`; ValueError otherwise."""
        for member in cls:
            if text in (member.value, member.label):
                return member
        raise ValueError(text)


class AssociationStatus(LabelledEnum):
    ACTIVE = "active", "نشطة"
    DORMANT = "dormant", "خاملة"
    SUSPENDED = "suspended", "موقوفة"
    DISSOLVED = "dissolved", "منحلة"


class LegalForm(LabelledEnum):
    ASSOCIATION = "association", "جمعية"
    FOUNDATION = "foundation", "مؤسسة"
    UNION = "union", "اتحاد"
    INITIATIVE = "initiative", "مبادرة"
    CLUB = "club", "نادٍ"


class BoardRole(LabelledEnum):
    CHAIR = "chair", "رئيس مجلس الإدارة"
    DEPUTY = "deputy", "نائب الرئيس"
    SECRETARY = "secretary", "الأمين العام"
    TREASURER = "treasurer", "المسؤول المالي"
    MEMBER = "member", "عضو"


class Sex(LabelledEnum):
    MALE = "M", "ذكر"
    FEMALE = "F", "أنثى"


class Relation(LabelledEnum):
    HEAD = "head", "رب/ربة الأسرة"
    SPOUSE = "spouse", "زوج/زوجة"
    SON = "son", "ابن"
    DAUGHTER = "daughter", "ابنة"
    FATHER = "father", "أب"
    MOTHER = "mother", "أم"
    BROTHER = "brother", "أخ"
    SISTER = "sister", "أخت"
    GRANDCHILD = "grandchild", "حفيد/حفيدة"
    OTHER = "other", "أخرى"


class IncomeBand(LabelledEnum):
    NONE = "none", "بلا دخل"
    VERY_LOW = "very_low", "دخل ضعيف جداً"
    LOW = "low", "دخل محدود"
    MEDIUM = "medium", "دخل متوسط"


class Housing(LabelledEnum):
    OWNED = "owned", "ملك"
    RENTED = "rented", "إيجار"
    HOSTED = "hosted", "لدى أقارب"
    CAMP = "camp", "مخيم نزوح"
    SHELTER = "shelter", "مأوى مؤقت"


class Sector(LabelledEnum):
    FOOD = "food", "الأمن الغذائي"
    HEALTH = "health", "الصحة"
    EDUCATION = "education", "التعليم"
    SHELTER = "shelter", "الإيواء"
    LIVELIHOOD = "livelihood", "سبل العيش"
    PROTECTION = "protection", "الحماية"
    WASH = "wash", "المياه والإصحاح"
    CASH = "cash", "النقد"


class Currency(LabelledEnum):
    YER = "YER", "ريال يمني"
    SYP = "SYP", "ليرة سورية"
    USD = "USD", "دولار أمريكي"


class ProjectStatus(LabelledEnum):
    PLANNED = "planned", "مخطط"
    RUNNING = "running", "قيد التنفيذ"
    CLOSED = "closed", "منتهٍ"


class DistributionStatus(LabelledEnum):
    DRAFT = "draft", "مسودة"
    APPROVED = "approved", "معتمد"
    CLOSED = "closed", "مغلق"


class LineStatus(LabelledEnum):
    LISTED = "listed", "في الكشف"
    RECEIVED = "received", "استلم"
    NOT_RECEIVED = "not_received", "لم يستلم"
    REVERSAL = "reversal", "إلغاء سطر"


class ReferralStatus(LabelledEnum):
    SENT = "sent", "مرسلة"
    ACCEPTED = "accepted", "مقبولة"
    SERVED = "served", "تمت الخدمة"
    DECLINED = "declined", "مرفوضة"
    CANCELLED = "cancelled", "ملغاة"


class Role(LabelledEnum):
    CLERK = "clerk", "موظف إدخال"
    SUPERVISOR = "supervisor", "مشرف"
    ADMIN = "admin", "مدير النظام"


class AidWindow(LabelledEnum):
    """The period inside which the same aid type to the same household counts as already received."""

    MONTH = "month", "نفس الشهر"
    HIJRI_RAMADAN = "ramadan", "نفس رمضان"
    HIJRI_EID = "eid", "نفس العيد"
    WINTER = "winter", "نفس الشتاء"
    DAYS = "days", "عدد أيام"
    NONE = "none", "بلا قيد"


# A referral moves forward only; closed states are final.
REFERRAL_TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.SENT: frozenset(
        {ReferralStatus.ACCEPTED, ReferralStatus.DECLINED, ReferralStatus.CANCELLED, ReferralStatus.SERVED}
    ),
    ReferralStatus.ACCEPTED: frozenset({ReferralStatus.SERVED, ReferralStatus.DECLINED, ReferralStatus.CANCELLED}),
    ReferralStatus.SERVED: frozenset(),
    ReferralStatus.DECLINED: frozenset(),
    ReferralStatus.CANCELLED: frozenset(),
}
