"""Sync packages and identity files: Ed25519-signed plaintext manifest, payload in AES-GCM chunks under a fresh key
wrapped (X25519 + HKDF + AES-GCM) for each recipient, written atomically and read back before it is trusted.

Layout of a package file:
    MAGIC (8 bytes) | manifest length (4 bytes, big-endian) | manifest (canonical JSON) | Ed25519 signature (64)
    | chunk 1 | chunk 2 | … (AES-256-GCM; nonce = 7-byte prefix ‖ 4-byte chunk number ‖ final-chunk flag)
The signature covers the magic, the length and the manifest; the manifest holds the ciphertext's length and
SHA-256, so every byte of the file is covered before anything is decrypted.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import struct
import tempfile
import uuid
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from aidoffice.domain.sync import fingerprint
from aidoffice.errors import UserError
from aidoffice.formats.atomic import atomic_file, require_regular_file

MAGIC = b"AIDOPKG1"
FORMAT = 1
CHUNK = 1 << 20  # plaintext bytes per encrypted chunk
MAX_MANIFEST = 1 << 20
# What a package may unfold to, checked while it is decompressed and before the bytes are kept: a few kilobytes of
# zlib can stand for gigabytes (a 1.5 MB package with one 1.5 GB record once made headquarters use 5.2 GB).
MAX_RECORD = 1 << 20  # one record's line (a person is about 1-2 KB; a spreadsheet cell holds at most 32,767 letters)
MAX_CHUNK_OUTPUT = 64 << 20  # decompressed bytes from one 1 MiB chunk (real records shrink 3-15 times, zlib 1,000)
MAX_PAYLOAD = 8 << 30  # decompressed bytes of a whole package (a million-person snapshot is about 1.5 GB)
_PIECE = 1 << 20  # decompressed bytes produced at a time
IDENTITY_FORMAT = "aidoffice-identity/1"
_RAW = serialization.Encoding.Raw
_PUB = serialization.PublicFormat.Raw
_PRIV = serialization.PrivateFormat.Raw
_NOENC = serialization.NoEncryption()


class PackageError(UserError):
    """A package refused before anything was applied; the text says why, in Arabic."""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def canonical(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


# --- keys and identities ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyPair:
    """This installation's private keys: Ed25519 to sign, X25519 to receive wrapped package keys."""

    sign_private: bytes
    kx_private: bytes

    @staticmethod
    def generate() -> KeyPair:
        sign = Ed25519PrivateKey.generate().private_bytes(_RAW, _PRIV, _NOENC)
        kx = X25519PrivateKey.generate().private_bytes(_RAW, _PRIV, _NOENC)
        return KeyPair(sign, kx)

    @property
    def sign_public(self) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.sign_private).public_key().public_bytes(_RAW, _PUB)

    @property
    def kx_public(self) -> bytes:
        return X25519PrivateKey.from_private_bytes(self.kx_private).public_key().public_bytes(_RAW, _PUB)

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.sign_public, self.kx_public)

    def sign(self, data: bytes) -> bytes:
        return Ed25519PrivateKey.from_private_bytes(self.sign_private).sign(data)


def verify_signature(public: bytes, signature: bytes, data: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


@dataclass(frozen=True)
class Identity:
    """The public side of an installation, as it travels in a file: who, which role, which keys."""

    office_id: str
    office_code: str
    name: str
    role: str  # "office" or "hq"
    sign_public: bytes
    kx_public: bytes
    escrow_public: bytes | None = None  # headquarters only: the escrow key offices also wrap for
    endorsed_by: bytes | None = None  # on a rotation: the previous signing key …
    endorsement: bytes | None = None  # … and its signature over this identity

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.sign_public, self.kx_public)

    def body(self) -> dict:
        return {
            "format": IDENTITY_FORMAT,
            "office_id": self.office_id,
            "office_code": self.office_code,
            "name": self.name,
            "role": self.role,
            "sign_public": b64(self.sign_public),
            "kx_public": b64(self.kx_public),
            "escrow_public": b64(self.escrow_public) if self.escrow_public else None,
        }


def identity_to_bytes(identity: Identity, keys: KeyPair, previous: KeyPair | None = None) -> bytes:
    """The identity signed by its own key (and, after a rotation, endorsed by the previous one)."""
    body = identity.body()
    data = dict(body, signature=b64(keys.sign(canonical(body))))
    if previous is not None:
        data["endorsed_by"] = b64(previous.sign_public)
        data["endorsement"] = b64(previous.sign(canonical(body)))
    return json.dumps(data, ensure_ascii=False, indent=1).encode("utf-8")


def identity_from_bytes(raw: bytes) -> Identity:
    try:
        data = json.loads(raw.decode("utf-8"))
        if data.get("format") != IDENTITY_FORMAT:
            raise ValueError("format")
        body = {
            k: data[k]
            for k in ("format", "office_id", "office_code", "name", "role", "sign_public", "kx_public", "escrow_public")
        }
        identity = Identity(
            office_id=str(body["office_id"]),
            office_code=str(body["office_code"]),
            name=str(body["name"]),
            role=str(body["role"]),
            sign_public=unb64(body["sign_public"]),
            kx_public=unb64(body["kx_public"]),
            escrow_public=unb64(body["escrow_public"]) if body["escrow_public"] else None,
            endorsed_by=unb64(data["endorsed_by"]) if data.get("endorsed_by") else None,
            endorsement=unb64(data["endorsement"]) if data.get("endorsement") else None,
        )
        signature = unb64(data["signature"])
        if identity.role not in ("office", "hq") or len(identity.sign_public) != 32 or len(identity.kx_public) != 32:
            raise ValueError("keys")
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise UserError("ملف الهوية غير صالح أو تالف: ليس ملف هوية AidOffice.") from exc
    if not verify_signature(identity.sign_public, signature, canonical(body)):
        raise UserError("توقيع ملف الهوية لا يطابق مفاتيحه: الملف معدَّل.")
    if identity.endorsement and not verify_signature(
        identity.endorsed_by or b"", identity.endorsement, canonical(body)
    ):
        raise UserError("تصديق المفتاح السابق على ملف الهوية غير صحيح: الملف معدَّل.")
    return identity


# --- escrow key file ----------------------------------------------------------------------------------------

_ESCROW_KDF = {"time_cost": 3, "memory_cost": 65_536, "parallelism": 4}


def new_escrow_pair() -> tuple[bytes, bytes]:
    """(private, public) raw X25519 bytes of a new escrow key."""
    private = X25519PrivateKey.generate()
    return private.private_bytes(_RAW, _PRIV, _NOENC), private.public_key().public_bytes(_RAW, _PUB)


def escrow_file(private: bytes, passphrase: str) -> bytes:
    """The escrow private key sealed under a passphrase (Argon2id + AES-GCM), to be kept offline in a safe."""
    salt, nonce = os.urandom(16), os.urandom(12)
    kek = hash_secret_raw(passphrase.encode("utf-8"), salt, hash_len=32, type=Type.ID, **_ESCROW_KDF)
    sealed = AESGCM(kek).encrypt(nonce, private, b"aidoffice escrow v1")
    return canonical({"format": "aidoffice-escrow/1", "salt": b64(salt), "nonce": b64(nonce), "sealed": b64(sealed)})


def escrow_open(raw: bytes, passphrase: str) -> bytes:
    try:
        data = json.loads(raw.decode("utf-8"))
        salt, nonce, sealed = unb64(data["salt"]), unb64(data["nonce"]), unb64(data["sealed"])
        kek = hash_secret_raw(passphrase.encode("utf-8"), salt, hash_len=32, type=Type.ID, **_ESCROW_KDF)
        return AESGCM(kek).decrypt(nonce, sealed, b"aidoffice escrow v1")
    except (ValueError, KeyError, TypeError, InvalidTag, UnicodeDecodeError) as exc:
        raise UserError("ملف مفتاح الضمان غير صالح أو عبارة المرور خاطئة.") from exc


# --- key wrapping -------------------------------------------------------------------------------------------


def _kek(shared: bytes, package_id: str, recipient_public: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=b"aidoffice package key v1|" + package_id.encode("ascii") + b"|" + recipient_public,
    ).derive(shared)


def wrap_key(payload_key: bytes, package_id: str, recipient_public: bytes, label: str) -> dict:
    ephemeral = X25519PrivateKey.generate()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient_public))
    nonce = os.urandom(12)
    sealed = AESGCM(_kek(shared, package_id, recipient_public)).encrypt(nonce, payload_key, package_id.encode())
    return {
        "for": label,
        "recipient": b64(recipient_public),
        "ephemeral": b64(ephemeral.public_key().public_bytes(_RAW, _PUB)),
        "nonce": b64(nonce),
        "wrapped": b64(sealed),
    }


def unwrap_key(wrap: dict, package_id: str, kx_private: bytes) -> bytes | None:
    try:
        private = X25519PrivateKey.from_private_bytes(kx_private)
        recipient = private.public_key().public_bytes(_RAW, _PUB)
        if unb64(wrap["recipient"]) != recipient:
            return None
        shared = private.exchange(X25519PublicKey.from_public_bytes(unb64(wrap["ephemeral"])))
        return AESGCM(_kek(shared, package_id, recipient)).decrypt(
            unb64(wrap["nonce"]), unb64(wrap["wrapped"]), package_id.encode()
        )
    except (InvalidTag, KeyError, ValueError, TypeError):
        return None


# --- packages -----------------------------------------------------------------------------------------------

_BLOCK = 1 << 20  # bytes read or copied at a time


@dataclass
class Package:
    """A package whose signature, length, hash and key wrap have been checked; its records are decrypted as they are
    read (`iter_records`), so a package of millions of records never sits in memory whole."""

    manifest: dict
    digest: str  # SHA-256 of the whole file: the next package of the stream names it as its predecessor
    _source: bytes | Path = b""
    _offset: int = 0
    _key: bytes = b""
    _cached: list[dict] | None = field(default=None, repr=False)

    @property
    def package_id(self) -> str:
        return self.manifest["package_id"]

    @property
    def records(self) -> list[dict]:
        """Every record at once (small packages, tests)."""
        if self._cached is None:
            self._cached = list(self.iter_records())
        return self._cached

    def iter_records(self) -> Iterator[dict]:
        for _size, record in self.iter_sized():
            yield record

    def iter_sized(self) -> Iterator[tuple[int, dict]]:
        """Decrypt chunk by chunk, decompress at most `_PIECE` bytes at a time and parse line by line, yielding each
        record with the size of its line. Each chunk is authenticated with its number and the final-chunk flag, so a
        file changed after the checks still fails here, before anything is committed. A record, a chunk's output or
        the whole payload past its limit is refused as soon as the limit is passed, before more is decompressed."""
        aes = AESGCM(self._key)
        prefix = unb64(self.manifest["nonce_prefix"])
        aad = self.package_id.encode()
        size = CHUNK + 16
        total = int(self.manifest["ciphertext_length"])
        count = max(1, -(-total // size))
        inflate = zlib.decompressobj()
        carry = b""
        seen = produced = 0
        try:
            with _opened(self._source) as fh:
                fh.seek(self._offset)
                for number in range(count):
                    data = aes.decrypt(_nonce(prefix, number, number == count - 1), fh.read(size), aad)
                    from_chunk = 0
                    while True:
                        plain = inflate.decompress(data, _PIECE)
                        data = inflate.unconsumed_tail
                        from_chunk += len(plain)
                        produced += len(plain)
                        if from_chunk > MAX_CHUNK_OUTPUT or produced > MAX_PAYLOAD:
                            raise _TooLargeError(_TOO_MUCH)
                        lines = (carry + plain).split(b"\n")
                        carry = lines.pop()
                        for line in lines:
                            seen += 1
                            yield len(line), _parse(line)
                        if len(carry) > MAX_RECORD:
                            raise _TooLargeError(_RECORD_TOO_LARGE)
                        if not data and len(plain) < _PIECE:
                            break  # this chunk's input is used up and nothing is left pending in the inflater
                if not inflate.eof:
                    raise ValueError("truncated stream")
                if carry:
                    seen += 1
                    yield len(carry), _parse(carry)
        except _TooLargeError as exc:
            raise PackageError(exc.args[0]) from None
        except (InvalidTag, zlib.error, ValueError, RecursionError, OSError) as exc:
            raise PackageError("تعذّر فك تشفير محتوى الحزمة: الحزمة تالفة أو تغيّرت بعد فحصها.") from exc
        if seen != int(self.manifest.get("records", -1)):
            raise PackageError("عدد السجلات في الحزمة لا يطابق رأسها.")


_RECORD_TOO_LARGE = (
    "في الحزمة سجل أكبر من الحد المسموح لسجل واحد: رُفضت الحزمة كلها ولم يُطبَّق منها شيء. "
    "ليست حزمة يصنعها البرنامج؛ راجعوا الجهة المرسلة."
)
_TOO_MUCH = (
    "محتوى الحزمة بعد فك ضغطه أكبر من الحد المسموح: رُفضت الحزمة كلها قبل حجز الذاكرة ولم يُطبَّق منها شيء. "
    "ليست حزمة يصنعها البرنامج؛ راجعوا الجهة المرسلة."
)


class _TooLargeError(Exception):
    """A limit passed while a package is read (kept apart from the damaged-file errors)."""


def _parse(line: bytes) -> dict:
    if len(line) > MAX_RECORD:
        raise _TooLargeError(_RECORD_TOO_LARGE)
    record = json.loads(line)
    if not isinstance(record, dict):
        raise ValueError("record")
    return record


@contextlib.contextmanager
def _opened(source: bytes | Path) -> Iterator:
    """A package's bytes from memory or from its file, as a file object."""
    if isinstance(source, bytes | bytearray):
        yield io.BytesIO(source)
    else:
        # a named pipe would block open() for good, a device would never end: a regular file only
        with require_regular_file(Path(source), "ملف الحزمة").open("rb") as fh:
            yield fh


def _nonce(prefix: bytes, number: int, final: bool) -> bytes:
    return prefix + struct.pack(">I", number) + (b"\x01" if final else b"\x00")


class _Sealer:
    """Compress and encrypt records as they come, into a temporary file: 1 MiB chunks, the last one flagged final
    (one chunk is held back until the next shows it was not the last)."""

    def __init__(self, key: bytes, prefix: bytes, aad: bytes) -> None:
        self.aes, self.prefix, self.aad = AESGCM(key), prefix, aad
        self.body = tempfile.TemporaryFile()  # noqa: SIM115 - closed by write_package when done
        self.hash = hashlib.sha256()
        self.length = self.number = self.count = 0
        self.deflate = zlib.compressobj(6)
        self.pending = bytearray()
        self.held: bytes | None = None

    def _emit(self, chunk: bytes, final: bool) -> None:
        sealed = self.aes.encrypt(_nonce(self.prefix, self.number, final), chunk, self.aad)
        self.number += 1
        self.body.write(sealed)
        self.hash.update(sealed)
        self.length += len(sealed)

    def _drain(self, keep_last: bool) -> None:
        while len(self.pending) > CHUNK or (not keep_last and len(self.pending) == CHUNK):
            if self.held is not None:
                self._emit(self.held, False)
            self.held = bytes(self.pending[:CHUNK])
            del self.pending[:CHUNK]

    def add(self, record: dict) -> None:
        line = (b"\n" if self.count else b"") + canonical(record)
        self.count += 1
        self.pending += self.deflate.compress(line)
        self._drain(keep_last=False)

    def finish(self) -> None:
        self.pending += self.deflate.flush()
        self._drain(keep_last=True)
        if self.pending:
            if self.held is not None:
                self._emit(self.held, False)
            self._emit(bytes(self.pending), True)
        else:
            self._emit(self.held or b"", True)
        self.body.seek(0)


@dataclass(frozen=True)
class Written:
    path: Path
    digest: str
    records: int


def write_package(
    folder: Path, name: str, manifest: dict, records: Iterable[dict], keys: KeyPair, recipients: dict[str, bytes]
) -> Written:
    """Seal `records` (read as they come) for `recipients` (label → X25519 public key), sign, write `name` in `folder`
    atomically (a partial file, flushed, renamed), read it back and verify it."""
    package_id = manifest.get("package_id") or str(uuid.uuid4())
    payload_key, prefix = AESGCM.generate_key(bit_length=256), os.urandom(7)
    sealer = _Sealer(payload_key, prefix, package_id.encode())
    try:
        for record in records:
            sealer.add(record)
        sealer.finish()
        manifest = dict(
            manifest,
            format=FORMAT,
            package_id=package_id,
            records=sealer.count,
            sender_key=b64(keys.sign_public),
            chunk_size=CHUNK,
            nonce_prefix=b64(prefix),
            wraps=[wrap_key(payload_key, package_id, public, label) for label, public in recipients.items()],
            ciphertext_length=sealer.length,
            ciphertext_sha256=sealer.hash.hexdigest(),
        )
        body = canonical(manifest)
        head = MAGIC + struct.pack(">I", len(body)) + body
        signed = head + keys.sign(head)
        whole = hashlib.sha256(signed)
        folder = Path(folder)
        target = folder / name
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with atomic_file(target) as fh:
                fh.write(signed)
                while block := sealer.body.read(_BLOCK):
                    whole.update(block)
                    fh.write(block)
        except OSError as exc:
            raise UserError(f"تعذّرت كتابة الحزمة في المجلد {folder}: القرص ممتلئ أو محمي من الكتابة أو أُزيل.") from exc
    finally:
        sealer.body.close()
    digest = whole.hexdigest()
    try:
        back = check_package(target, [keys.sign_public])
        sound = back.digest == digest
    except (OSError, PackageError):
        sound = False
    if not sound:
        with contextlib.suppress(OSError):
            target.unlink(missing_ok=True)
        raise UserError("الحزمة المكتوبة لا تطابق ما كُتب عند قراءتها: الذاكرة المحمولة معطوبة. جرّب ذاكرة أخرى.")
    return Written(target, digest, sealer.count)


def _read_head(fh, total: int) -> tuple[dict, bytes, bytes, int]:
    start = len(MAGIC) + 4
    first = fh.read(start)
    if total < start + 64 or first[: len(MAGIC)] != MAGIC:
        raise PackageError("الملف ليس حزمة AidOffice أو أنه مقطوع.")
    (length,) = struct.unpack(">I", first[len(MAGIC) :])
    if length > MAX_MANIFEST or start + length + 64 > total:
        raise PackageError("رأس الحزمة تالف أو مقطوع.")
    body = fh.read(length)
    signature = fh.read(64)
    try:
        manifest = json.loads(body.decode("utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("manifest")
    except (ValueError, UnicodeDecodeError) as exc:
        raise PackageError("رأس الحزمة تالف: لا يُقرأ.") from exc
    return manifest, first + body, signature, start + length + 64


def _size(source: bytes | Path) -> int:
    return len(source) if isinstance(source, bytes | bytearray) else Path(source).stat().st_size


def read_manifest(source: bytes | Path) -> dict:
    """The manifest as the file says it, not yet trusted (to find the sender's keys)."""
    with _opened(source) as fh:
        return _read_head(fh, _size(source))[0]


@dataclass(frozen=True)
class Checked:
    manifest: dict
    digest: str
    offset: int


def check_package(source: bytes | Path, sender_keys: Iterable[bytes]) -> Checked:
    """Signature against the sender's known keys, then the ciphertext's length and SHA-256, read in blocks."""
    total = _size(source)
    with _opened(source) as fh:
        manifest, head, signature, offset = _read_head(fh, total)
        if not any(verify_signature(public, signature, head) for public in sender_keys):
            raise PackageError("توقيع الحزمة لا يطابق مفتاح المرسل المسجَّل: الحزمة معدَّلة أو من جهة غير مسجلة.")
        try:
            if manifest["format"] != FORMAT:
                raise PackageError("إصدار صيغة الحزمة غير مدعوم في هذه النسخة من البرنامج.")
            if total - offset != int(manifest["ciphertext_length"]):
                raise PackageError("طول الحزمة لا يطابق ما في رأسها: الحزمة مقطوعة أو زيد عليها.")
            if int(manifest["chunk_size"]) != CHUNK:
                raise PackageError("حجم مقاطع الحزمة غير مدعوم.")
            expected = str(manifest["ciphertext_sha256"])
        except (KeyError, TypeError, ValueError) as exc:
            raise PackageError("رأس الحزمة ناقص أو تالف.") from exc
        whole, cipher = hashlib.sha256(head + signature), hashlib.sha256()
        while block := fh.read(_BLOCK):
            whole.update(block)
            cipher.update(block)
    if cipher.hexdigest() != expected:
        raise PackageError("بصمة محتوى الحزمة لا تطابق رأسها: الحزمة معدَّلة.")
    return Checked(manifest, whole.hexdigest(), offset)


def open_package(source: bytes | Path, sender_keys: Iterable[bytes], kx_privates: Iterable[bytes]) -> Package:
    """Check the package (`check_package`) and unwrap its payload key with one of this installation's X25519 keys;
    refuses with an Arabic reason. The records are decrypted when read."""
    checked = check_package(source, sender_keys)
    manifest = checked.manifest
    try:
        package_id = str(manifest["package_id"])
        wraps = list(manifest["wraps"])
        unb64(manifest["nonce_prefix"])
    except (KeyError, TypeError, ValueError) as exc:
        raise PackageError("رأس الحزمة ناقص أو تالف.") from exc
    payload_key = None
    for private in kx_privates:
        for wrap in wraps:
            payload_key = unwrap_key(wrap, package_id, private)
            if payload_key:
                break
        if payload_key:
            break
    if payload_key is None:
        raise PackageError("هذه الحزمة ليست موجّهة إلى هذه الجهة: لا يوجد فيها مفتاح لهذا الجهاز.")
    return Package(manifest, checked.digest, source, checked.offset, payload_key)
