"""User-facing Arabic strings shared by screens, reports and the command line."""

APP_TITLE = "AidOffice — نظام الجمعيات والمستفيدين"
UNEXPECTED_ERROR = "حدث خطأ غير متوقع. سُجلت التفاصيل الفنية في ملف السجل: {log}"
BAD_USAGE = "استخدام غير صحيح للأمر: {detail}"
DONE = "تم."
