"""User-facing Arabic strings shared by screens, reports and the command line."""

APP_TITLE = "AidOffice — نظام الجمعيات والمستفيدين"
UNEXPECTED_ERROR = "حدث خطأ غير متوقع. سُجلت التفاصيل الفنية في ملف السجل: {log}"
BAD_USAGE = "استخدام غير صحيح للأمر: {detail}"
DONE = "تم."

# The duplicate engine's decisions as screens, exports and the command line name them.
DUPLICATE_DECISIONS = {"likely": "تكرار مرجح", "review": "يحتاج مراجعة"}


def probability_text(probability: float) -> str:
    """A match probability as a reader takes it: «97٪», never «100٪» for what is not certain."""
    if probability >= 0.999:
        return "أكثر من 99.9٪"
    if probability >= 0.99:
        return f"{probability * 100:.1f}٪"
    return f"{round(probability * 100)}٪"
