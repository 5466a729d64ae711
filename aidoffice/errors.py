"""Error kinds: UserError carries the Arabic text shown to the user; anything else is a bug."""

from __future__ import annotations


class AidOfficeError(Exception):
    """Base of every error AidOffice raises on purpose."""


class UserError(AidOfficeError):
    """An expected failure caused by input or environment; `message` is Arabic and safe to show.

    `field` names the form field (or column) the message belongs to, when there is one.
    The message never contains personal data: it names fields, rows and files, not values.
    """

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class ValidationError(UserError):
    """One or more fields are invalid; `problems` maps field name to its Arabic message."""

    def __init__(self, problems: dict[str, str]) -> None:
        first_field, first_message = next(iter(problems.items()))
        text = "؛ ".join(problems.values())
        super().__init__(text, field=first_field)
        self.problems = dict(problems)
        self.first_message = first_message


class NotFoundError(UserError):
    """A record the user asked for does not exist."""


class PermissionDeniedError(UserError):
    """The acting user's role does not allow the action."""


class StorageError(UserError):
    """The database file cannot be used: locked, read-only, full disk, damaged, or from a newer version."""


class LikelyDuplicateError(UserError):
    """The person being saved is probably registered already; `candidates` says who, the message never does.

    Saving goes ahead only when the user confirms each likely candidate is someone else (`distinct_from`).
    """

    MESSAGE = (
        "يبدو أن شخصاً بهذا الاسم مسجّل من قبل. راجع السجلات المشابهة: اختر «هو نفسه» لفتح سجله الموجود، "
        "أو «شخص آخر» إن كان شخصاً مختلفاً، ثم احفظ."
    )

    def __init__(self, candidates=()) -> None:
        super().__init__(self.MESSAGE)
        self.candidates = tuple(candidates)


class LostUpdateError(UserError):
    """Someone else saved the record after this form opened it: saving now would silently undo their change.

    `fields` are the Arabic labels of what they changed, `by` who (a name) and `at` when (already formatted), when
    known; `version` is the record's version now: the form keeps what the clerk typed and, once the clerk has read
    this, a second save on purpose goes ahead from that version. Labels only, never the values (personal data)."""

    def __init__(self, what: str, *, fields=(), by: str = "", at: str = "", version: int | None = None) -> None:
        who = by or "مستخدم آخر"
        when = f" في {at}" if at else ""
        changed = f"؛ غيّر: {'، '.join(fields)}" if fields else ""
        super().__init__(
            f"عدّل {who} {what}{when}، بعد أن فتحتَ النموذج{changed}. لم يُحفظ تعديلك، وما كتبته باقٍ في النموذج: "
            "راجع الحقول المذكورة، ثم احفظ مرة أخرى لاعتماد ما في النموذج فوق تعديله، أو أعد فتح السجل لترى تعديله."
        )
        self.what = what
        self.fields = tuple(fields)
        self.by = by
        self.at = at
        self.version = version
