"""Encryption at rest with SQLCipher: turn a database into an encrypted one, and open it at login.

The database key (32 random bytes) never leaves memory in the clear: beside the file a keyring holds it wrapped for
each user under a key derived from that user's password (formats/keyring.py). A user added or given a new password
by the administrator gets a wrap then; after encrypting, the other users need a new password from the administrator.
"""

from __future__ import annotations

import logging
import os
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from aidoffice.domain.access import Permission
from aidoffice.errors import StorageError, UserError
from aidoffice.formats import keyring
from aidoffice.services import trust, users
from aidoffice.services.context import ServiceContext, open_context
from aidoffice.store.backup import export_encrypted, integrity, is_plain
from aidoffice.store.base import utcnow

log = logging.getLogger("aidoffice.security")

MAX_ESCROW_FILE = 64 * 1024  # an escrow file is a few hundred bytes


def is_encrypted(db_path: Path) -> bool:
    """A keyring beside a file that no longer starts as plain SQLite (a keyring beside a plain file is the trace of
    an encryption cut short before the new file was put in place: the plain file is still the database)."""
    db_path = Path(db_path)
    return keyring.exists(db_path) and db_path.exists() and not is_plain(db_path)


def unlock_key(db_path: Path, username: str, password: str) -> bytes:
    """The database key (see unlock)."""
    return unlock(db_path, username, password)[0]


def unlock(db_path: Path, username: str, password: str) -> tuple[bytes, dict]:
    """The database key and what the user's wrap carries with it (the administrators' key when it was made, for the
    login to check), if this user's password opens their wrap, with the lock-out of a plain database's login:
    a wrong password cannot open the file to count itself, so the count and the lock are kept in the keyring beside
    it (per user with a wrap), and the failures are written to the audit trail at the next successful open."""
    db_path, name = Path(db_path), (username or "").strip()
    now = utcnow()
    state = keyring.login_state(db_path, name)
    locked_until = _when(state.get("locked_until"))
    if locked_until is not None and locked_until > now:
        raise users.locked_refusal(locked_until, now)
    try:
        return keyring.unlock_bound(db_path, name, password)
    except UserError:
        if keyring.has_user(db_path, name):

            def one_more(current: dict) -> dict:  # counted on the state as it is now, under the keyring's lock
                count, until = users.next_failure(int(current.get("count") or 0), now)
                pending = [*current.get("pending", []), now.isoformat()]
                return {"count": count, "locked_until": until.isoformat() if until else None, "pending": pending}

            if keyring.update_login_state(db_path, name, one_more).get("locked_until"):
                log.warning("account locked after repeated failed logins (encrypted database)")
        raise


def _when(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _audit_failures_before_unlock(ctx: ServiceContext, username: str) -> None:
    """Every user's wrong passwords counted in the keyring, written to the audit trail now that the file is open
    (whoever opens it: an administrator sees them at once). The opener's own count goes (their password was right);
    another user's count and lock stay. Most opens find nothing and leave the keyring untouched."""
    for name, state in keyring.login_states(ctx.db.path).items():
        audited = list(state.get("pending", []))
        if audited:
            users.audit_failed_logins(ctx, name, audited)
        opener = name == username

        def after(current: dict, audited=audited, opener=opener) -> dict:  # failures recorded meanwhile stay
            rest = [t for t in current.get("pending", []) if t not in audited]
            kept = {} if opener else {k: v for k, v in current.items() if k != "pending"}
            return {**kept, "pending": rest} if rest else kept

        if audited or opener:
            keyring.update_login_state(ctx.db.path, name, after)


def open_encrypted(
    db_path: Path, username: str, password: str, *, create: bool = False, unlocked: tuple[bytes, dict] | None = None
) -> ServiceContext:
    """Unlock the key with the user's password, open the file with it, then log the user in. `unlocked`: what
    `unlock` already returned for this user and password (Argon2 costs a second and 64 MiB: not twice per login)."""
    key, bound = unlocked if unlocked is not None else unlock(Path(db_path), username, password)
    ctx = open_context(db_path, username=username, create=create, key=key)
    try:
        _audit_failures_before_unlock(ctx, (username or "").strip())
        users.login(ctx, username, password, bound=bound)
    except UserError:
        ctx.close()
        raise
    return ctx


def encrypt_database(ctx: ServiceContext, password: str) -> ServiceContext:
    """Rewrite the (plain) database encrypted under a new random key, wrapped for the acting administrator.

    Closes `ctx` and returns a new context on the encrypted file. The steps are ordered so that a power cut leaves
    either the plain database (with a stale keyring that is ignored) or the encrypted one with its keyring.
    """
    ctx.require(Permission.SETTINGS)
    if ctx.db.on_server:
        raise UserError(
            "تشفير SQLCipher لملفات قواعد البيانات على هذا الحاسوب فقط. قاعدة الخادم يحميها تشفير قرص الخادم "
            "والاتصال المشفر (TLS) وصلاحيات حسابات قاعدة البيانات. لم يُغيَّر شيء."
        )
    if ctx.db.key:
        raise UserError("قاعدة البيانات مشفرة بالفعل.")
    users.login(replace(ctx), ctx.username, password)  # the acting user's own password, checked
    escrow = escrow_public(ctx)
    with ctx.uow() as uow:
        admin_public = trust.public_key(ctx, uow.repo)
    path, username, role = ctx.db.path, ctx.username, ctx.role
    ctx.close()
    key = os.urandom(32)
    partial = path.with_name(path.name + ".encrypting")
    partial.unlink(missing_ok=True)
    export_encrypted(path, partial, key)
    if integrity(partial, key) != "ok":
        partial.unlink(missing_ok=True)
        raise StorageError("فشل التحقق من النسخة المشفرة: بقيت قاعدة البيانات كما كانت.")
    keyring.set_user(path, username, password, key, bound={"admin_key": admin_public.hex()} if admin_public else None)
    if escrow:
        keyring.set_escrow(path, key, escrow)
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    os.replace(partial, path)
    log.info("database encrypted")
    encrypted = open_context(path, username=username, create=False, key=key)
    encrypted.role = role
    return encrypted


def escrow_public(ctx: ServiceContext) -> bytes | None:
    """The escrow key of the headquarters this office trusts, if it has one."""
    from aidoffice.formats.package import unb64
    from aidoffice.store import models as m

    with ctx.uow() as uow:
        peer = uow.records.first(m.SyncPeer, role="hq", status="active")
        return unb64(peer.escrow_public) if peer is not None and peer.escrow_public else None


def recover_with_escrow(db_path: Path, escrow: Path, passphrase: str, username: str, new_password: str) -> None:
    """Every password lost: headquarters' escrow key (its file and passphrase) opens the database key, and the named
    user gets a new password (and a new wrap of the key). Written in the audit trail."""
    from aidoffice.formats.atomic import require_regular_file
    from aidoffice.formats.package import escrow_open

    # a named pipe would block the reading for good, /dev/zero would never end: a regular file of an escrow's size
    escrow = require_regular_file(Path(escrow), "ملف مفتاح الضمان")
    try:
        with escrow.open("rb") as fh:
            sealed = fh.read(MAX_ESCROW_FILE + 1)
    except OSError as exc:
        raise UserError(f"تعذّرت قراءة ملف مفتاح الضمان: {escrow.name}") from exc
    if len(sealed) > MAX_ESCROW_FILE:
        raise UserError(f"{escrow.name} أكبر من أي ملف مفتاح ضمان: ليس ملف مفتاح ضمان AidOffice. لم يتغير شيء.")
    escrow_private = escrow_open(sealed, passphrase)
    key = keyring.recover(Path(db_path), escrow_private)
    ctx = open_context(db_path, username="escrow-recovery", create=False, key=key)
    try:
        # every administrator's password lost means their key too: the escrow proof makes a new one
        trust.rekey(ctx, escrow_private)
        record = users.update_user(ctx, username, password=new_password, active=True, unlock=True)
        with ctx.uow() as uow:
            uow.audit_trail.audit(
                "escrow-recovery", "users", record.id, {"username": username}, office_id=ctx.office_id
            )
            uow.commit()
        log.info("database key recovered with the escrow key; a user was given a new password")
    finally:
        ctx.close()
