"""The keyring beside an encrypted database: the database key wrapped once per user under a key derived from that
user's password (Argon2id), so any user unlocks the file at login and no password or key is stored in the clear."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path

from argon2.low_level import Type, hash_secret_raw
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from filelock import FileLock, Timeout

from aidoffice.errors import UserError
from aidoffice.formats.atomic import atomic_file

SUFFIX = ".keys"
_CONTEXT = b"aidoffice database key v1"
# Argon2id as for the login hashes (t=3, 64 MiB, p=4): the wrap costs a guesser as much as the login does.
_KDF = {"time_cost": 3, "memory_cost": 65_536, "parallelism": 4}


def path_for(db: Path) -> Path:
    return Path(db).with_name(Path(db).name + SUFFIX)


def exists(db: Path) -> bool:
    return path_for(db).is_file()


def _kek(password: str, salt: bytes) -> bytes:
    return hash_secret_raw(password.encode("utf-8"), salt, hash_len=32, type=Type.ID, **_KDF)


def wrap(key: bytes, password: str, context: bytes = _CONTEXT) -> dict:
    salt, nonce = os.urandom(16), os.urandom(12)
    sealed = AESGCM(_kek(password, salt)).encrypt(nonce, key, context)
    return {"salt": salt.hex(), "nonce": nonce.hex(), "wrapped": sealed.hex()}


def unwrap(entry: dict, password: str, context: bytes = _CONTEXT) -> bytes | None:
    try:
        kek = _kek(password, bytes.fromhex(entry["salt"]))
        return AESGCM(kek).decrypt(bytes.fromhex(entry["nonce"]), bytes.fromhex(entry["wrapped"]), context)
    except (InvalidTag, KeyError, ValueError, TypeError):
        return None


def read(db: Path) -> dict:
    try:
        data = json.loads(path_for(db).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"ملف مفاتيح قاعدة البيانات غير مقروء: {path_for(db).name}") from exc
    return data if isinstance(data, dict) else {}


def write(db: Path, data: dict) -> None:
    """Atomically: a partial file, flushed, renamed (a power cut never leaves a keyring half written)."""
    with _locked(db):
        _write(db, data)


def _write(db: Path, data: dict) -> None:
    with atomic_file(path_for(db), "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=1)


_LOCK_WAIT_S = 30


@contextlib.contextmanager
def _locked(db: Path) -> Iterator[None]:
    """One writer at a time on the keyring (two commands, or the desktop and a command, may write at once: a failed
    login, a new wrap, the audit head); re-entrant within a process."""
    lock = FileLock(str(path_for(db)) + ".lock", timeout=_LOCK_WAIT_S)
    try:
        with lock:
            yield
    except Timeout:
        raise UserError(
            f"ملف مفاتيح قاعدة البيانات مشغول ببرنامج آخر منذ {_LOCK_WAIT_S} ثانية: {path_for(db).name}. أعد المحاولة."
        ) from None


@contextlib.contextmanager
def _update(db: Path, *, create: bool = False) -> Iterator[dict]:
    """Read, change and write the keyring under its lock, so that no other writer's change is lost in between."""
    with _locked(db):
        data = read(db) if (exists(db) or not create) else {"version": 1, "users": {}}
        yield data
        _write(db, data)


_KEY_BYTES = 32


def set_user(db: Path, username: str, password: str, key: bytes, *, bound: dict | None = None) -> None:
    """`bound`: facts sealed with the key under the same password (the administrators' key of the moment), which
    nobody without this password can change (services/trust.py)."""
    extra = json.dumps(bound, sort_keys=True).encode("utf-8") if bound else b""
    entry = wrap(key + extra, password)  # Argon2 outside the lock
    with _update(db, create=True) as data:
        data.setdefault("users", {})[username] = entry


_ESCROW_LABEL = "aidoffice-database-key"


def set_escrow(db: Path, key: bytes, escrow_public: bytes) -> None:
    """The database key also wrapped for headquarters' escrow key (X25519): if every password here is lost, the
    escrow key, kept offline at headquarters, still opens the file."""
    from aidoffice.formats.package import wrap_key

    entry = wrap_key(key, _ESCROW_LABEL, escrow_public, "escrow")
    with _update(db, create=True) as data:
        data["escrow"] = entry


def recover(db: Path, escrow_private: bytes) -> bytes:
    """The database key from its escrow wrap, with the escrow private key."""
    from aidoffice.formats.package import unwrap_key

    entry = read(db).get("escrow")
    key = unwrap_key(entry, _ESCROW_LABEL, escrow_private) if entry else None
    if key is None:
        raise UserError("لا يفتح مفتاح الضمان هذا الملف: لم يُلفّ مفتاح قاعدة البيانات له (أو المفتاح لجهة أخرى).")
    return key


def unlock(db: Path, username: str, password: str) -> bytes:
    """The database key, if this user's password opens their wrap; the same message whatever was wrong."""
    return unlock_bound(db, username, password)[0]


def unlock_bound(db: Path, username: str, password: str) -> tuple[bytes, dict]:
    """The database key and what was sealed with it (set_user's `bound`; {} for a wrap made before)."""
    entry = read(db).get("users", {}).get((username or "").strip())
    opened = unwrap(entry, password or "") if entry else None
    if opened is None or len(opened) < _KEY_BYTES:
        raise UserError("اسم الدخول أو كلمة المرور غير صحيحة.", field="password")
    try:
        bound = json.loads(opened[_KEY_BYTES:]) if len(opened) > _KEY_BYTES else {}
    except ValueError:
        bound = {}
    return opened[:_KEY_BYTES], bound if isinstance(bound, dict) else {}


# --- failed logins: a wrong password cannot open the database, so its count is kept here, beside it ----------

_PENDING_KEPT = 100  # failures waiting to be written to the audit trail at the next successful open


def has_user(db: Path, username: str) -> bool:
    return exists(db) and (username or "").strip() in read(db).get("users", {})


def login_state(db: Path, username: str) -> dict:
    """{"count": wrong passwords in a row, "locked_until": ISO time or None, "pending": ISO times not yet audited}."""
    if not exists(db):
        return {}
    state = read(db).get("logins", {}).get((username or "").strip())
    return dict(state) if isinstance(state, dict) else {}


def login_states(db: Path) -> dict[str, dict]:
    """Every user's state that holds something (see login_state)."""
    if not exists(db):
        return {}
    found = read(db).get("logins", {})
    return {name: dict(state) for name, state in found.items() if isinstance(state, dict) and state}


def set_login_state(db: Path, username: str, state: dict) -> None:
    update_login_state(db, username, lambda _current: state)


def update_login_state(db: Path, username: str, change) -> dict:
    """`change(current state) -> new state`, read and written under the keyring's lock: two wrong passwords typed at
    once (two commands, two PCs on a share) both count, and a failure recorded meanwhile is never overwritten."""
    name = (username or "").strip()
    with _update(db) as data:
        logins = data.setdefault("logins", {})
        current = logins.get(name)
        state = change(dict(current) if isinstance(current, dict) else {})
        if state:
            state = {**state, "pending": list(state.get("pending", []))[-_PENDING_KEPT:]}
            logins[name] = state
        else:
            logins.pop(name, None)
        return state


def clear_lock(db: Path, username: str) -> None:
    """An administrator unlocks the account: the count and the lock go, the failures still to audit stay."""
    if login_state(db, username):  # most accounts have nothing kept here: no write
        update_login_state(db, username, lambda current: {"pending": current.get("pending", [])})


# --- what a database edit cannot reach: the administrators' public key and the audit chain's head --------------


def trust(db: Path) -> dict:
    """{"admin_public": hex, "audit_head": {"seq", "hash"}, "audit_anchor": {"seq", "hash", "key", "sig"}}, as far as
    they were written (services/trust.py)."""
    if not exists(db):
        return {}
    value = read(db).get("trust")
    return dict(value) if isinstance(value, dict) else {}


def set_trust(db: Path, **values) -> None:
    with _update(db) as data:
        section = data.get("trust") if isinstance(data.get("trust"), dict) else {}
        data["trust"] = {**section, **values}
