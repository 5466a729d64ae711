"""Users: the first administrator, accounts and roles, login with Argon2id hashes, lock-out after failed attempts."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from aidoffice.domain.access import Permission
from aidoffice.domain.vocab import Role
from aidoffice.errors import NotFoundError, UserError, ValidationError
from aidoffice.formats import keyring
from aidoffice.services import trust
from aidoffice.services.context import ServiceContext
from aidoffice.store import models as m
from aidoffice.store.base import new_id, utcnow

log = logging.getLogger("aidoffice.security")

MAX_FAILED_LOGINS = 5
LOCKOUT_MINUTES = 15
MIN_PASSWORD_LENGTH = 8
IDLE_LOCK_MINUTES = 10
# argon2-cffi's defaults are Argon2id (RFC 9106 low-memory profile: t=3, m=64 MiB, p=4).
_hasher = PasswordHasher()


@dataclass(frozen=True)
class UserRecord:
    id: str
    username: str
    full_name: str
    role: str
    active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    must_change_password: bool = False  # an administrator reset it: the user chooses a new one before working


def _record(u: m.User) -> UserRecord:
    return UserRecord(u.id, u.username, u.full_name, u.role, u.active, u.locked_until, u.last_login_at)


def _check(username: str, password: str, role: str) -> dict[str, str]:
    problems = {}
    if not username.strip() or " " in username.strip():
        problems["username"] = "اسم الدخول مطلوب، بلا مسافات."
    if len(password) < MIN_PASSWORD_LENGTH:
        problems["password"] = f"كلمة المرور {MIN_PASSWORD_LENGTH} أحرف على الأقل."
    if role not in {r.value for r in Role}:
        problems["role"] = "الدور غير معروف."
    return problems


def _wrap_key(ctx: ServiceContext, username: str, password: str, admin_public: bytes | None = None) -> None:
    """On an encrypted database, the user's password must open the key too. The wrap also carries, sealed under the
    same password, the administrators' key of the moment: a key written over it later (by anyone holding the database
    key) no longer matches what this user's own wrap says (trust.replaced)."""
    if ctx.db.key:
        if admin_public is None:
            with ctx.uow() as uow:
                admin_public = trust.public_key(ctx, uow.repo)
        bound = {"admin_key": admin_public.hex()} if admin_public else None
        keyring.set_user(ctx.db.path, username, password, ctx.db.key, bound=bound)


def has_users(ctx: ServiceContext) -> bool:
    with ctx.uow() as uow:
        return uow.repo.count(m.User) > 0


def create_user(ctx: ServiceContext, username: str, password: str, role: str, full_name: str = "") -> UserRecord:
    """A new account. The very first one (the administrator made at set-up) needs no permission; later ones need
    the right to manage users."""
    first = not has_users(ctx)
    if not first:
        ctx.require(Permission.MANAGE_USERS)
    elif role != Role.ADMIN.value:
        raise UserError("أول مستخدم هو مدير النظام.", field="role")
    problems = _check(username, password, role)
    if problems:
        raise ValidationError(problems)
    if first:
        trust.users_intact(ctx)
    with ctx.uow() as uow:
        if uow.repo.first(m.User, username=username.strip()) is not None:
            raise UserError("اسم الدخول مستخدم من قبل.", field="username")
        # the first administrator makes the administrators' key; every later user is sealed with it
        private = trust.new_key(ctx, uow.repo) if first else trust.require_key(ctx)
        user = ctx.stamp(
            m.User(
                id=new_id(),
                username=username.strip(),
                full_name=" ".join(full_name.split()),
                role=role,
                password_hash=_hasher.hash(password),
                active=True,
                failed_logins=0,
            )
        )
        trust.new_own_key(uow.repo, user, password)
        trust.seal(private, user, uow.repo)
        if role == Role.ADMIN.value:
            trust.wrap_for(uow.repo, user.id, private, password)
        uow.repo.add(user)
        uow.commit()
        _wrap_key(ctx, user.username, password, trust.public_of(private))
        if first:
            trust.hold(ctx, private)
            trust.pin(ctx, private)
        log.info("user created with role %s", role)
        return _record(user)


def next_failure(count: int, now: datetime) -> tuple[int, datetime | None]:
    """One more wrong password: (the count kept, locked until) — the fifth in a row locks the account for fifteen
    minutes and starts the count again. One rule for the database's own count and the keyring's (encrypted file)."""
    count += 1
    if count >= MAX_FAILED_LOGINS:
        return 0, now + timedelta(minutes=LOCKOUT_MINUTES)
    return count, None


def locked_refusal(until: datetime, now: datetime) -> UserError:
    """The refusal of a locked account, the same whether the count was kept in the database or in its keyring."""
    minutes = max(1, int((until - now).total_seconds() // 60) + 1)
    return UserError(f"الحساب مقفل بعد محاولات خاطئة متكررة: حاول بعد {minutes} دقيقة.", field="password")


def login(ctx: ServiceContext, username: str, password: str, *, bound: dict | None = None) -> UserRecord:
    """Check the password; on success the context acts as this user with this role. Five wrong passwords in a row
    lock the account for fifteen minutes. The message never says whether the name or the password was wrong.
    `bound`: what the user's keyring wrap carried (encrypted database), checked against the administrators' key."""
    wrong = UserError("اسم الدخول أو كلمة المرور غير صحيحة.", field="password")
    now = utcnow()
    trust.watch_head(ctx)  # from this commit on, the chain's head is copied to the keyring (encrypted file)
    with ctx.uow() as uow:
        user = uow.repo.first(m.User, username=(username or "").strip())
        if user is None or not user.active:
            _hasher.hash(password or "x")  # the same cost whether or not the name exists
            raise wrong
        if user.locked_until is not None and user.locked_until > now:
            raise locked_refusal(user.locked_until, now)
        try:
            _hasher.verify(user.password_hash, password or "")
        except (VerificationError, InvalidHashError):
            uow.repo.audit("login_failed", "users", user.id, office_id=user.office_id)
            user.failed_logins, user.locked_until = next_failure(user.failed_logins or 0, now)
            if user.locked_until is not None:
                log.warning("account locked after repeated failed logins")
            uow.commit()
            raise wrong from None
        problem, private = trust.check_user(ctx, uow, user, password or "", bound)
        if problem is not None:
            uow.repo.audit("login_refused", "users", user.id, {"reason": problem}, office_id=user.office_id)
            message = trust.refusal(problem, uow.repo)
            uow.commit()
            log.warning("login refused: the user row does not hold the administrators' seal (%s)", problem)
            raise UserError(message, field="password")
        if _hasher.check_needs_rehash(user.password_hash):  # the new hash is signed by the user's own key
            trust.change_own(uow.repo, user, password, password, _hasher.hash(password))
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        uow.session.info["actor"] = user.username
        uow.repo.audit("login", "users", user.id, office_id=user.office_id)
        anchored = trust.anchor(ctx, uow, private) if private is not None else None
        uow.commit()
        record = replace(_record(user), must_change_password=trust.must_change(uow.repo, user.id))
    ctx.username, ctx.role = record.username, record.role
    trust.after_login(ctx, private, anchored)
    log.info("login with role %s", record.role)
    return record


def audit_failed_logins(ctx: ServiceContext, username: str, times: list[str]) -> None:
    """Wrong passwords counted where the database could not be written (its keyring): one `login_failed` entry
    each, with the time it happened."""
    with ctx.uow() as uow:
        user = uow.repo.first(m.User, username=(username or "").strip())
        if user is None:
            return
        for when in times:
            uow.repo.audit("login_failed", "users", user.id, {"at": when, "kept": "keyring"}, office_id=user.office_id)
        uow.commit()


def logout(ctx: ServiceContext) -> None:
    trust.release(ctx)
    ctx.username, ctx.role = "", "nobody"


def list_users(ctx: ServiceContext) -> list[UserRecord]:
    ctx.require(Permission.MANAGE_USERS)
    with ctx.uow() as uow:
        return [_record(u) for u in uow.repo.all(m.User, order_by=m.User.username)]


def update_user(
    ctx: ServiceContext,
    username: str,
    *,
    role: str | None = None,
    active: bool | None = None,
    password: str | None = None,
    unlock: bool = False,
) -> UserRecord:
    ctx.require(Permission.MANAGE_USERS)
    private = trust.require_key(ctx)
    with ctx.uow() as uow:
        user = uow.repo.first(m.User, username=username)
        if user is None:
            raise NotFoundError("المستخدم غير موجود.")
        if user.username == ctx.username and (active is False or (role and role != user.role)):
            raise UserError("لا يغيّر مدير النظام دوره أو يعطّل حسابه بنفسه.", field="role")
        was_admin = user.role == Role.ADMIN.value
        if role is not None:
            if role not in {r.value for r in Role}:
                raise UserError("الدور غير معروف.", field="role")
            if role == Role.ADMIN.value and not was_admin and password is None:
                raise UserError(
                    "مدير نظام جديد يحتاج كلمة مرور جديدة في الطلب نفسه: بها يُلفّ له مفتاح المديرين.", field="password"
                )
            user.role = role
        if active is not None:
            user.active = active
        if password is not None:
            if len(password) < MIN_PASSWORD_LENGTH:
                raise UserError(f"كلمة المرور {MIN_PASSWORD_LENGTH} أحرف على الأقل.", field="password")
            user.password_hash = _hasher.hash(password)
            # an administrator's reset: the user chooses their own password at the next login
            trust.new_own_key(uow.repo, user, password, must_change_=user.username != ctx.username)
            _wrap_key(ctx, user.username, password, trust.public_of(private))
        if unlock:
            user.locked_until, user.failed_logins = None, 0
            if ctx.db.key:  # the count kept in the keyring, where a wrong password could write it
                keyring.clear_lock(ctx.db.path, user.username)
        if user.role == Role.ADMIN.value and password is not None:
            trust.wrap_for(uow.repo, user.id, private, password)
        elif was_admin and user.role != Role.ADMIN.value:
            trust.drop_wrap(uow.repo, user.id)
        trust.seal(private, user, uow.repo)
        user.changed_by = ctx.username
        uow.commit()
        return _record(user)


def must_change_password(ctx: ServiceContext) -> bool:
    """The acting user's password was reset by an administrator and is still the temporary one."""
    with ctx.uow() as uow:
        user = uow.repo.first(m.User, username=ctx.username)
        return user is not None and trust.must_change(uow.repo, user.id)


def change_own_password(ctx: ServiceContext, old: str, new: str) -> None:
    """Any user changes their own password, with the current one: signed by their own key, no administrator needed
    (an administrator's reset ends here too: the temporary password gives way to the user's own)."""
    if len(new or "") < MIN_PASSWORD_LENGTH:
        raise UserError(f"كلمة المرور {MIN_PASSWORD_LENGTH} أحرف على الأقل.", field="password")
    if new == old:
        raise UserError("اختر كلمة مرور غير الحالية.", field="password")
    with ctx.uow() as uow:
        user = uow.repo.first(m.User, username=ctx.username)
        if user is None:
            raise NotFoundError("المستخدم غير موجود.")
        try:
            _hasher.verify(user.password_hash, old)
        except (VerificationError, InvalidHashError):
            raise UserError("كلمة المرور الحالية غير صحيحة.", field="old_password") from None
        if not trust.change_own(uow.repo, user, old, new, _hasher.hash(new)):
            private = trust.held(ctx)
            if private is None and trust.sealed(ctx, uow.repo):
                raise UserError(
                    "حسابك أقدم من تغيير كلمة المرور الذاتي: اطلب من مدير النظام إعادة تعيينها مرة واحدة، ثم تغيّرها "
                    "بنفسك متى شئت.",
                    field="password",
                )
            user.password_hash = _hasher.hash(new)
            if private is not None:
                trust.new_own_key(uow.repo, user, new)
                trust.seal(private, user, uow.repo)
        if user.role == Role.ADMIN.value and trust.held(ctx) is not None:
            trust.wrap_for(uow.repo, user.id, trust.held(ctx), new)
        uow.repo.audit("password_changed", "users", user.id, office_id=user.office_id)
        user.changed_by = ctx.username
        uow.commit()
    _wrap_key(ctx, ctx.username, new)
    log.info("own password changed")
