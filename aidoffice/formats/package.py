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
import json
import os
import struct
import uuid
import zlib
from collections.abc import Iterable
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

MAGIC = b"AIDOPKG1"
FORMAT = 1
CHUNK = 1 << 20  # plaintext bytes per encrypted chunk
MAX_MANIFEST = 1 << 20
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


@dataclass
class Package:
    """What a package says in clear (the manifest) and, once opened, what it carries (records)."""

    manifest: dict
    records: list[dict] = field(default_factory=list)
    digest: str = ""  # SHA-256 of the whole file: the next package of the stream names it as its predecessor

    @property
    def package_id(self) -> str:
        return self.manifest["package_id"]


def _nonce(prefix: bytes, number: int, final: bool) -> bytes:
    return prefix + struct.pack(">I", number) + (b"\x01" if final else b"\x00")


def _encrypt(plain: bytes, key: bytes, prefix: bytes, aad: bytes) -> bytes:
    aes = AESGCM(key)
    chunks = [plain[i : i + CHUNK] for i in range(0, len(plain), CHUNK)] or [b""]
    out = bytearray()
    for number, chunk in enumerate(chunks):
        out += aes.encrypt(_nonce(prefix, number, number == len(chunks) - 1), chunk, aad)
    return bytes(out)


def _decrypt(cipher: bytes, key: bytes, prefix: bytes, aad: bytes) -> bytes:
    aes = AESGCM(key)
    out = bytearray()
    size = CHUNK + 16
    count = max(1, -(-len(cipher) // size))
    for number in range(count):
        piece = cipher[number * size : (number + 1) * size]
        out += aes.decrypt(_nonce(prefix, number, number == count - 1), piece, aad)  # a cut chunk fails here
    return bytes(out)


def encode_records(records: Iterable[dict]) -> bytes:
    lines = b"\n".join(canonical(r) for r in records)
    return zlib.compress(lines, 6)


def write_package(
    folder: Path, name: str, manifest: dict, records: list[dict], keys: KeyPair, recipients: dict[str, bytes]
) -> tuple[Path, str]:
    """Seal `records` for `recipients` (label → X25519 public key), sign, write `name` in `folder` atomically, read
    it back and verify it. Returns the path and the file's SHA-256."""
    package_id = manifest.get("package_id") or str(uuid.uuid4())
    payload_key, prefix = AESGCM.generate_key(bit_length=256), os.urandom(7)
    cipher = _encrypt(encode_records(records), payload_key, prefix, package_id.encode())
    manifest = dict(
        manifest,
        format=FORMAT,
        package_id=package_id,
        records=len(records),
        sender_key=b64(keys.sign_public),
        chunk_size=CHUNK,
        nonce_prefix=b64(prefix),
        wraps=[wrap_key(payload_key, package_id, public, label) for label, public in recipients.items()],
        ciphertext_length=len(cipher),
        ciphertext_sha256=hashlib.sha256(cipher).hexdigest(),
    )
    body = canonical(manifest)
    head = MAGIC + struct.pack(">I", len(body)) + body
    data = head + keys.sign(head) + cipher
    folder = Path(folder)
    target = folder / name
    partial = folder / (name + ".partial")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(partial, target)
    except OSError as exc:
        with contextlib.suppress(OSError):  # the folder itself may be gone (a stick pulled out)
            partial.unlink(missing_ok=True)
        raise UserError(f"تعذّرت كتابة الحزمة في المجلد {folder}: القرص ممتلئ أو محمي من الكتابة أو أُزيل.") from exc
    digest = hashlib.sha256(data).hexdigest()
    try:
        written = target.read_bytes()
        _manifest, head_back, signature, cipher_back = read_manifest(written)
        sound = (
            hashlib.sha256(written).hexdigest() == digest
            and verify_signature(keys.sign_public, signature, head_back)
            and hashlib.sha256(cipher_back).hexdigest() == manifest["ciphertext_sha256"]
        )
    except (OSError, PackageError):
        sound = False
    if not sound:
        target.unlink(missing_ok=True)
        raise UserError("الحزمة المكتوبة لا تطابق ما كُتب عند قراءتها: الذاكرة المحمولة معطوبة. جرّب ذاكرة أخرى.")
    return target, digest


def read_manifest(data: bytes) -> tuple[dict, bytes, bytes, bytes]:
    """Split a package into (manifest, signed head, signature, ciphertext) without trusting any of it yet."""
    if len(data) < len(MAGIC) + 4 + 64 or data[: len(MAGIC)] != MAGIC:
        raise PackageError("الملف ليس حزمة AidOffice أو أنه مقطوع.")
    (length,) = struct.unpack(">I", data[len(MAGIC) : len(MAGIC) + 4])
    start = len(MAGIC) + 4
    if length > MAX_MANIFEST or start + length + 64 > len(data):
        raise PackageError("رأس الحزمة تالف أو مقطوع.")
    head = data[: start + length]
    try:
        manifest = json.loads(data[start : start + length].decode("utf-8"))
        if not isinstance(manifest, dict):
            raise ValueError("manifest")
    except (ValueError, UnicodeDecodeError) as exc:
        raise PackageError("رأس الحزمة تالف: لا يُقرأ.") from exc
    return manifest, head, data[start + length : start + length + 64], data[start + length + 64 :]


def open_package(data: bytes, sender_keys: Iterable[bytes], kx_privates: Iterable[bytes]) -> Package:
    """Check the signature against the sender's known signing keys, the length and hash of the ciphertext, unwrap the
    payload key with one of this installation's X25519 keys and decrypt every chunk. Refuses with an Arabic reason."""
    manifest, head, signature, cipher = read_manifest(data)
    if not any(verify_signature(public, signature, head) for public in sender_keys):
        raise PackageError("توقيع الحزمة لا يطابق مفتاح المرسل المسجَّل: الحزمة معدَّلة أو من جهة غير مسجلة.")
    try:
        if manifest["format"] != FORMAT:
            raise PackageError("إصدار صيغة الحزمة غير مدعوم في هذه النسخة من البرنامج.")
        if len(cipher) != int(manifest["ciphertext_length"]):
            raise PackageError("طول الحزمة لا يطابق ما في رأسها: الحزمة مقطوعة أو زيد عليها.")
        if hashlib.sha256(cipher).hexdigest() != manifest["ciphertext_sha256"]:
            raise PackageError("بصمة محتوى الحزمة لا تطابق رأسها: الحزمة معدَّلة.")
        package_id = str(manifest["package_id"])
        prefix = unb64(manifest["nonce_prefix"])
        wraps = list(manifest["wraps"])
        if int(manifest["chunk_size"]) != CHUNK:
            raise PackageError("حجم مقاطع الحزمة غير مدعوم.")
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
    try:
        plain = zlib.decompress(_decrypt(cipher, payload_key, prefix, package_id.encode()))
        records = [json.loads(line) for line in plain.split(b"\n")] if plain else []
    except (InvalidTag, zlib.error, ValueError) as exc:
        raise PackageError("تعذّر فك تشفير محتوى الحزمة: الحزمة تالفة.") from exc
    if len(records) != int(manifest.get("records", -1)):
        raise PackageError("عدد السجلات في الحزمة لا يطابق رأسها.")
    return Package(manifest, records, hashlib.sha256(data).hexdigest())
