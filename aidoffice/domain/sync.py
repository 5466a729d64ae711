"""Rules of office ↔ headquarters sync: the hybrid logical clock, field merge by stamp, fingerprints, clock skew."""

from __future__ import annotations

import hashlib
import os
import uuid
from dataclasses import dataclass
from enum import StrEnum

# A hybrid-logical-clock stamp is one integer: milliseconds since 1970 shifted left by 16 bits, plus a counter for
# events within the same millisecond (or while the wall clock stands behind the newest stamp seen).
COUNTER_BITS = 16
_COUNTER_MASK = (1 << COUNTER_BITS) - 1
# A package stamped further ahead of this machine's clock than this is refused: one of the two clocks is wrong,
# and a stamp years ahead would win every later merge.
MAX_AHEAD_MS = 24 * 3600 * 1000


class Mode(StrEnum):
    OFFICE = "office"
    HQ = "hq"


class PackageKind(StrEnum):
    CHANGES = "changes"  # office → headquarters: what changed since the last acknowledged package
    SNAPSHOT = "snapshot"  # office → headquarters: everything the office owns
    REPLY = "reply"  # headquarters → office: acknowledgements, reference data, duplicate flags


def hlc_ms(stamp: int) -> int:
    return stamp >> COUNTER_BITS


def next_stamp(newest: int, now_ms: int) -> int:
    """The next stamp after `newest` (the greatest stamp this database has made or seen) at wall time `now_ms`:
    never smaller than anything seen, so a machine whose clock went back still orders its changes after them."""
    physical = now_ms << COUNTER_BITS
    if physical > newest:
        return physical
    if (newest & _COUNTER_MASK) == _COUNTER_MASK:
        return (hlc_ms(newest) + 1) << COUNTER_BITS
    return newest + 1


def too_far_ahead(stamp: int, now_ms: int) -> bool:
    return hlc_ms(stamp) > now_ms + MAX_AHEAD_MS


@dataclass(frozen=True)
class Stamp:
    """Who wrote a value and when: the clock stamp, the writing office, and the stamp it replaced there (`base`),
    which tells an edit made after seeing the other value from one made without knowing it."""

    hlc: int
    origin: str
    base: int = 0

    def key(self) -> tuple[int, str]:
        return (self.hlc, self.origin)


class Outcome(StrEnum):
    SAME = "same"  # the very same write: nothing to do
    TAKE = "take"  # the incoming value is newer and was written knowing the current one
    KEEP = "keep"  # the incoming value is older and the current one was written knowing it
    TAKE_CONFLICT = "take_conflict"  # incoming wins, but the current value was written without knowing it
    KEEP_CONFLICT = "keep_conflict"  # current wins, but the incoming value was written without knowing it


def merge(current: Stamp | None, incoming: Stamp, values_equal: bool) -> Outcome:
    """Newer stamp wins, the office id breaks a tie. Concurrent writes of different values are conflicts: the loser
    goes to a person, never silently away."""
    if current is None:
        return Outcome.TAKE
    if incoming.key() == current.key():
        return Outcome.SAME
    if incoming.key() > current.key():
        if values_equal or incoming.base >= current.hlc:
            return Outcome.TAKE
        return Outcome.TAKE_CONFLICT
    if values_equal or current.base >= incoming.hlc:
        return Outcome.KEEP
    return Outcome.KEEP_CONFLICT


def fingerprint(*public_keys: bytes) -> str:
    """25 digits in five groups, read over the phone to check that an identity file is the one its office sent."""
    digest = hashlib.sha256(b"aidoffice identity v1" + b"".join(public_keys)).digest()
    number = int.from_bytes(digest[:10], "big")  # 80 bits
    digits = f"{number:025d}"
    return " ".join(digits[i : i + 5] for i in range(0, 25, 5))


# --- record ids bound to the office that made them ----------------------------------------------------------------
# A record id is a UUIDv8 whose first 6 bytes are a tag of the creating office's id, the other 74 free bits random:
# headquarters refuses a new record (or the removal of one it never saw) whose id names another office, so an
# office cannot claim or bury ids another office has made but not sent yet (they can be read off a card's QR code).
# Ids made before (UUIDv4) name nobody and are taken as before.
_TAG_BYTES = 6


def office_tag(office_id: str) -> bytes:
    return hashlib.sha256(b"aidoffice record id v1|" + office_id.encode("utf-8")).digest()[:_TAG_BYTES]


def record_id(office_id: str) -> str:
    raw = bytearray(office_tag(office_id) + os.urandom(16 - _TAG_BYTES))
    raw[6] = 0x80 | (raw[6] & 0x0F)  # version 8
    raw[8] = 0x80 | (raw[8] & 0x3F)  # RFC 9562 variant
    return str(uuid.UUID(bytes=bytes(raw)))


def id_tag(ident: object) -> bytes | None:
    """The office tag a record id carries, or None for an id that names no office (UUIDv4, anything else)."""
    try:
        parsed = uuid.UUID(str(ident))
    except ValueError:
        return None
    if parsed.version != 8 or len(str(ident)) != 36:
        return None
    return parsed.bytes[:_TAG_BYTES]


def made_elsewhere(ident: object, office_id: str) -> bool:
    """True when the id says another office made it."""
    tag = id_tag(ident)
    return tag is not None and tag != office_tag(office_id)


def _file_code(office_code: str) -> str:
    return "".join(ch for ch in office_code.upper() if ch.isascii() and (ch.isalnum() or ch == "-")) or "OFFICE"


def package_name(office_code: str, epoch: int, sequence: int, recipient_code: str | None = None) -> str:
    """Office code and sequence only: a file name on a lost stick tells nothing about anybody. Headquarters' replies
    name their recipient too (replies for two offices written to one folder would otherwise share a name)."""
    to = f"-to-{_file_code(recipient_code)}" if recipient_code else ""
    return f"{_file_code(office_code)}{to}-e{epoch}-{sequence:06d}.aidpkg"


def identity_name(office_code: str) -> str:
    return f"{_file_code(office_code)}.aidid"
