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
