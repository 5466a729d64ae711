"""User-facing Arabic strings shared by screens, reports and the command line."""

APP_TITLE = "AidOffice — نظام الجمعيات والمستفيدين"
UNEXPECTED_ERROR = "حدث خطأ غير متوقع. سُجلت التفاصيل الفنية في ملف السجل: {log}"
BAD_USAGE = "استخدام غير صحيح للأمر: {detail}"
DONE = "تم."

# The duplicate engine's decisions as screens, exports and the command line name them.
DUPLICATE_DECISIONS = {"likely": "تكرار مرجح", "review": "يحتاج مراجعة"}
