"""Arabic text rules: normalised names and digits, name parts, and phone / national-ID normalisation by country."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

# Invisible and bidi control characters (ARABIC.md rule 2).
_INVISIBLE = {0x200B, 0x200C, 0x200D, 0x200E, 0x200F, 0x061C, 0xFEFF, 0x00AD}
_INVISIBLE.update(range(0x202A, 0x202F))
_INVISIBLE.update(range(0x2066, 0x206A))

# Tatweel and diacritics (rule 3).
_MARKS = {0x0640, 0x0670}
_MARKS.update(range(0x064B, 0x0660))
_MARKS.update(range(0x0610, 0x061B))
_MARKS.update(range(0x06D6, 0x06EE))

# Letter folding (rules 4 and 5). A bare hamza is dropped.
_LETTERS = {
    "أ": "ا",
    "إ": "ا",
    "آ": "ا",
    "ٱ": "ا",
    "ؤ": "و",
    "ئ": "ي",
    "ء": "",
    "ى": "ي",
    "ة": "ه",
    "ی": "ي",
    "ک": "ك",
    "ۀ": "ه",
    "ہ": "ه",
    "ە": "ه",
    "ھ": "ه",
}

# Punctuation that separates name parts (rule 7). Everything else that is not a letter or digit goes too.
_SEPARATORS = set("-_.,،؛;/\\()[]{}\"'`«»“”‘’:!?؟*+&|#@%^~<>=")

_SPACES = re.compile(r"\s+")

# Compounds (rule 8).
JOIN_WITH_NEXT = frozenset({"عبد", "ابو", "ام", "با", "بو", "ال"})
JOIN_WITH_PREVIOUS = frozenset({"الله", "الدين", "الرحمن", "الاله"})
CONNECTORS = frozenset({"بن", "ابن", "بنت", "ولد"})

MIN_NAME_PARTS = 2
MAX_NAME_PARTS = 6


def _digit(ch: str) -> str | None:
    """The ASCII digit for any Unicode decimal digit (Arabic-Indic, Persian, Devanagari…), else None."""
    if "0" <= ch <= "9":
        return ch
    if unicodedata.category(ch) == "Nd":
        value = unicodedata.decimal(ch, None)
        if value is not None:
            return str(value)
    return None


_DIGITS_FAST = {0x0660 + d: str(d) for d in range(10)} | {0x06F0 + d: str(d) for d in range(10)}
_DIGITS_FAST.update({ord("٫"): ".", ord("٬"): None})


def normalize_digits(text: str) -> str:
    """Map every decimal digit of any script to ASCII; ٫ becomes '.', ٬ is dropped. Nothing else changes."""
    if text.isascii():
        return text
    fast = text.translate(_DIGITS_FAST)
    if fast.isascii():  # only Arabic-Indic or Persian digits and separators: the loop would give the same
        return fast
    out = []
    for ch in text:
        d = _digit(ch)
        if d is not None:
            out.append(d)
        elif ch == "٫":
            out.append(".")
        elif ch == "٬":
            continue
        else:
            out.append(ch)
    return "".join(out)


# Fast path: one str.translate for the characters names are made of; the loop below handles anything else.
_FAST = {code: None for code in _INVISIBLE | _MARKS}
_FAST.update({ord(k): v or None for k, v in _LETTERS.items()})
_FAST.update({0x0660 + d: str(d) for d in range(10)})
_FAST.update({0x06F0 + d: str(d) for d in range(10)})
_FAST.update({ord(ch): " " for ch in _SEPARATORS})
_FAST.update({ord(ch): " " for ch in "\t\n\r\u00a0"})
_PLAIN = re.compile(r"[\u0621-\u063a\u0641-\u064a0-9a-zA-Z ]*")


def _fold_once(text: str) -> tuple[str, bool]:
    """One folding pass, and whether the fast path took it (its output is plain letters, already folded)."""
    if unicodedata.is_normalized("NFKC", text):
        fast = text.translate(_FAST)
        if _PLAIN.fullmatch(fast):
            return _SPACES.sub(" ", fast.lower()).strip(), True
    return _fold_slow(text), False


def _fold_slow(text: str) -> str:
    """Rules 1–7 character by character; the reference the fast path must agree with (tested)."""
    text = unicodedata.normalize("NFKC", text)
    out = []
    for ch in text:
        code = ord(ch)
        if code in _INVISIBLE or code in _MARKS:
            continue
        if ch in _LETTERS:
            out.append(_LETTERS[ch])
            continue
        d = _digit(ch)
        if d is not None:
            out.append(d)
            continue
        if ch in _SEPARATORS or ch.isspace():
            out.append(" ")
            continue
        category = unicodedata.category(ch)
        if category[0] in "LN":
            out.append(ch.lower())
        elif category[0] == "M":
            continue  # stray combining marks of other scripts
        else:
            out.append(" ")
    return _SPACES.sub(" ", "".join(out)).strip()


# What text from outside (a form, a list, a CSV) may not carry into the registry: C0/C1 control characters (NUL
# breaks Excel and PDF export), DEL, the bidi embeddings/overrides (U+202A–U+202E) and isolates (U+2066–U+2069)
# that can make a name or a number read differently from what is stored, the interlinear annotation marks, the
# byte-order mark and unpaired surrogates (not encodable). Kept on purpose: ZWNJ/ZWJ (U+200C/U+200D, part of how
# Persian and Kurdish names are spelled; normalize_text drops them for matching) and the LRM/RLM/ALM marks, which
# only steer neutral characters such as the digits of a phone number and cannot reorder a run.
_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ufff9-\ufffb\ud800-\udfff]"
)
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")


def drop_control_characters(text: str) -> str:
    """`text` without the characters `clean_text` removes, spacing untouched (for text already stored)."""
    return _FORBIDDEN.sub("", text)


def clean_text(value: object, *, multiline: bool = False) -> str:
    """Text as it may be stored: forbidden characters removed (never refused, since Excel and copied text carry
    them innocently); one line with single spaces, or with `multiline` the lines kept (``\\n``) and trimmed."""
    if value is None:
        return ""
    text = _FORBIDDEN.sub("", str(value))
    if not multiline:
        return " ".join(text.split())
    lines = _LINE_BREAKS.sub("\n", text).split("\n")
    return "\n".join(line.strip() for line in lines).strip()


def normalize_text(text: str | None) -> str:
    """Rules 1–7 of ARABIC.md: the searchable form of any Arabic text (names of associations, sites, items).

    Idempotent by construction: the folding is repeated until it no longer changes the text, since removing an
    invisible character can bring together characters that NFKC would then compose.
    """
    if not text:
        return ""
    current, plain = _fold_once(str(text))
    if plain:  # plain letters, digits and single spaces: a fixed point of the folding (checked at import below)
        return current
    for _ in range(4):
        again, _ = _fold_once(current)
        if again == current:
            break
        current = again
    return current


# The fast path's output alphabet maps to itself, which is what lets normalize_text stop after one fast pass.
if any(ord(ch) in _FAST for value in _FAST.values() if value for ch in value):
    raise RuntimeError("the fast folding table must map every character to a fixed point")


def _join_compounds(parts: list[str]) -> list[str]:
    """One pass of rule 8 over the parts; returns a new list."""
    out: list[str] = []
    i = 0
    n = len(parts)
    while i < n:
        part = parts[i]
        if part in CONNECTORS and out and i + 1 < n:
            i += 1  # a connector between two parts carries no identity
            continue
        if part in JOIN_WITH_NEXT and i + 1 < n and parts[i + 1] not in CONNECTORS:
            out.append(part + parts[i + 1])
            i += 2
            continue
        if part in JOIN_WITH_PREVIOUS and out:
            out[-1] = out[-1] + part
            i += 1
            continue
        out.append(part)
        i += 1
    return out


def name_tokens(text: str | None) -> list[str]:
    """The normalised parts of a person's name: rules 1–8, compounds joined, connectors dropped."""
    parts = normalize_text(text).split()
    for _ in range(MAX_NAME_PARTS * 4):
        joined = _join_compounds(parts)
        if joined == parts:
            break
        parts = joined
    return parts


def normalize_name(text: str | None) -> str:
    """The stored, searchable form of a person's name: its normalised parts joined by single spaces."""
    return " ".join(name_tokens(text))


def search_tokens(text: str | None) -> list[tuple[str, ...]]:
    """What a typed search fragment can match, part by part: each part with the spellings it may be stored under.

    Stored names join compounds (عبدالكريم) and drop connectors, so a clerk's "الكريم" also looks for
    "عبدالكريم…", "كثيري" for "الكثيري…", and a typed "بن" is ignored.
    """
    out: list[tuple[str, ...]] = []
    for token in name_tokens(text):
        if token in CONNECTORS:
            continue
        options = [token]
        if token.startswith("ال") and len(token) > 3:
            options.append("عبد" + token)
        elif not token.startswith("ال") and len(token) >= 3 and not token.isdigit():
            options.append("ال" + token)
        out.append(tuple(options))
    return out


@dataclass(frozen=True)
class NameParts:
    """A parsed name. Two to six parts is a valid person's name; fewer or more is reported, never guessed."""

    parts: tuple[str, ...]

    @property
    def given(self) -> str:
        return self.parts[0] if self.parts else ""

    @property
    def father(self) -> str:
        return self.parts[1] if len(self.parts) > 1 else ""

    @property
    def grandfather(self) -> str:
        return self.parts[2] if len(self.parts) > 3 else ""

    @property
    def family(self) -> str:
        return self.parts[-1] if len(self.parts) > 2 else ""

    @property
    def is_valid(self) -> bool:
        return MIN_NAME_PARTS <= len(self.parts) <= MAX_NAME_PARTS

    @property
    def normalized(self) -> str:
        return " ".join(self.parts)


def parse_name(text: str | None) -> NameParts:
    return NameParts(tuple(name_tokens(text)))


# --- numbers ------------------------------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")


def parse_decimal(text: str | None) -> Decimal | None:
    """A number as a clerk types it: any digit script, ٫ or '.' as decimal point, ٬ or ',' between thousands.

    Returns None for an empty value; raises ValueError for text that is not a number. `12.5`, `١٢٫٥` and
    `۱۲٫۵` are all 12.5 — never 125.
    """
    if text is None:
        return None
    cleaned = normalize_digits(str(text)).strip().replace(" ", "").replace("\u00a0", "")
    if not cleaned:
        return None
    if (cleaned.count(",") and "." in cleaned) or re.fullmatch(r"\d{1,3}(,\d{3})+", cleaned):
        cleaned = cleaned.replace(",", "")
    if not _NUMBER.match(cleaned):
        raise ValueError("not a number")
    try:
        return Decimal(cleaned)
    except InvalidOperation as exc:  # pragma: no cover - the regex admits only valid decimals
        raise ValueError("not a number") from exc


def parse_int(text: str | None) -> int | None:
    value = parse_decimal(text)
    if value is None:
        return None
    if value != value.to_integral_value():
        raise ValueError("not a whole number")
    return int(value)


# --- phones and national IDs --------------------------------------------------------------------------------

_NON_DIGIT = re.compile(r"\D")


@dataclass(frozen=True)
class PhoneRule:
    """How a country's numbers are written. `patterns` match the national significant number (no 0, no +cc)."""

    country_code: str
    trunk_prefix: str = "0"
    patterns: tuple[str, ...] = ()
    display_with_trunk: bool = True

    def normalize(self, text: str | None) -> str:
        """The national significant number: digits only, without +cc / 00cc / trunk 0. Empty if no digits."""
        if not text:
            return ""
        raw = normalize_digits(str(text)).strip()
        digits = _NON_DIGIT.sub("", raw)
        if not digits:
            return ""
        cc = self.country_code
        if raw.lstrip().startswith("+") and digits.startswith(cc):
            digits = digits[len(cc) :]
        elif digits.startswith("00" + cc):
            digits = digits[2 + len(cc) :]
        elif digits.startswith(cc) and len(digits) > len(cc) + 6 and not self._valid(digits):
            digits = digits[len(cc) :]
        if self.trunk_prefix and digits.startswith(self.trunk_prefix) and not self._valid(digits):
            digits = digits[len(self.trunk_prefix) :]
        return digits

    def _valid(self, nsn: str) -> bool:
        return any(re.fullmatch(p, nsn) for p in self.patterns)

    def is_valid(self, nsn: str) -> bool:
        return bool(nsn) and self._valid(nsn)

    def display(self, nsn: str) -> str:
        if not nsn:
            return ""
        return (self.trunk_prefix + nsn) if self.display_with_trunk and nsn.startswith("9") else nsn


@dataclass(frozen=True)
class NationalIdRule:
    """A country's national-ID format: digits only, one of the allowed lengths, optional pattern."""

    lengths: tuple[int, ...] = ()
    pattern: str | None = None

    def normalize(self, text: str | None) -> str:
        """Digits only in ASCII, spaces and dashes removed. Letters are kept so that validation can refuse them."""
        if not text:
            return ""
        value = normalize_digits(str(text)).strip()
        if value.endswith(".0") and value[:-2].isdigit():
            value = value[:-2]  # a spreadsheet turned the ID into a float
        return re.sub(r"[\s\-_./\u200e\u200f\u202a-\u202e]", "", value)

    def is_valid(self, value: str) -> bool:
        if not value or not value.isascii() or not value.isdigit():
            return False
        if self.lengths and len(value) not in self.lengths:
            return False
        return not (self.pattern and not re.fullmatch(self.pattern, value))


@dataclass(frozen=True)
class CountryRules:
    """Per-country validation an office can configure (stored in its settings)."""

    code: str
    name: str
    phone: PhoneRule
    national_id: NationalIdRule
    extra: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {
            "code": self.code,
            "name": self.name,
            "phone": {
                "country_code": self.phone.country_code,
                "trunk_prefix": self.phone.trunk_prefix,
                "patterns": list(self.phone.patterns),
            },
            "national_id": {"lengths": list(self.national_id.lengths), "pattern": self.national_id.pattern},
        }

    @classmethod
    def from_dict(cls, data: dict) -> CountryRules:
        phone = data.get("phone", {})
        nid = data.get("national_id", {})
        return cls(
            code=str(data["code"]),
            name=str(data.get("name", data["code"])),
            phone=PhoneRule(
                country_code=str(phone.get("country_code", "")),
                trunk_prefix=str(phone.get("trunk_prefix", "0")),
                patterns=tuple(phone.get("patterns", ())),
            ),
            national_id=NationalIdRule(
                lengths=tuple(int(x) for x in nid.get("lengths", ())), pattern=nid.get("pattern")
            ),
        )


# Defaults; an office edits them in its settings. Yemen mobiles: 9 digits from 7; landlines: area digit + 6.
# Syria mobiles: 09 + 8 digits; landlines: area code + 6 or 7 digits.
YEMEN = CountryRules(
    code="YE",
    name="اليمن",
    phone=PhoneRule(country_code="967", patterns=(r"7\d{8}", r"[1-7]\d{6}")),
    national_id=NationalIdRule(lengths=(8, 9, 10, 11, 12)),
)
SYRIA = CountryRules(
    code="SY",
    name="سوريا",
    phone=PhoneRule(country_code="963", patterns=(r"9\d{8}", r"[1-5]\d{7,8}")),
    national_id=NationalIdRule(lengths=(11,)),
)
COUNTRIES = {r.code: r for r in (YEMEN, SYRIA)}
