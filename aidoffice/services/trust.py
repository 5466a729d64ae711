"""The administrators' key: it seals every user row, anchors the audit chain, and the keyring keeps what a database
edit cannot reach (its public half and the chain's head).

Every user holds the database key, so nothing inside the database can tell a real row from one a clerk wrote with
sqlite3. What they cannot forge is a signature: an Ed25519 key made with the first administrator, its private half
wrapped only for administrators (Argon2id of their password, AES-GCM), its public half in the settings and pinned in
the keyring. It signs (id, username, role, active, password hash) of each user, checked at every login (the role a
session acts with is the one checked there), and `audit_anchor` entries that fix the chain's head at each
administrator's login: recomputing every hash after an edit no longer matches them.

A clerk can also make a key of their own and write it everywhere (database and keyring), re-sealing every row. A new
key is therefore accepted only with a statement: signed by the key it replaces, or an escrow recovery's proof (a
secret only headquarters' escrow key opens, its hash signed beforehand by the key it replaces). Every trace of an
earlier key (the anchors, the keyring's pins, the key bound inside each user's keyring wrap) must lead to the current
one through such statements; otherwise the key was replaced, and logins and `audit verify` say so.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import replace

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from aidoffice.domain.vocab import Role
from aidoffice.errors import UserError
from aidoffice.formats import keyring
from aidoffice.services.context import ServiceContext
from aidoffice.store import audit as chain
from aidoffice.store import models as m
from aidoffice.store.audit import ChainReport

log = logging.getLogger("aidoffice.security")

KEY_SETTING = "security.admin_key"  # {"public": hex, "wraps": {user id: wrap of the private key}}
_WRAP_CONTEXT = b"aidoffice administrators key v1"
_ADMIN = Role.ADMIN.value

REFUSALS = {
    "seal": "سجل هذا المستخدم في قاعدة البيانات لا يحمل توقيع مدير النظام (عُدّل اسمه أو دوره أو حالته أو كلمة مروره "
    "خارج البرنامج): رُفض الدخول وسُجّل ذلك. اطلب من مدير النظام مراجعة المستخدمين.",
    "admin_key": "لا تفتح كلمة المرور هذه مفتاح مديري النظام، فلا يُقبل دور «مدير النظام» لهذا السجل: رُفض الدخول "
    "وسُجّل ذلك.",
    "key": "مفتاح مديري النظام في قاعدة البيانات غير المفتاح المثبّت في ملف المفاتيح (عُدّلت قاعدة البيانات خارج "
    "البرنامج): رُفض الدخول وسُجّل ذلك.",
    "missing": "مفتاح مديري النظام محذوف من قاعدة البيانات (عُدّلت خارج البرنامج): رُفض الدخول وسُجّل ذلك.",
    "replaced": "استُبدل مفتاح مديري النظام خارج البرنامج: المفتاح في قاعدة البيانات ليس الذي عرفته هذه القاعدة، "
    "ولا يحمل توقيع المفتاح السابق ولا إثبات استعادة بمفتاح الضمان من الديوان، فلا تُقبل به أدوار ولا أختام. "
    "{who} رُفض الدخول وسُجّل ذلك. استعد نسخة احتياطية سابقة للاستبدال (انقل الملف الحالي جانباً ثم استعدها "
    "بالأمر restore)، أو اطلب من الديوان استعادة بمفتاح الضمان.",
}
NO_KEY = (
    "لا يُضاف مستخدم ولا يُعدَّل إلا في جلسة مدير نظام دخل بكلمة مروره: بها وحدها يُفتح مفتاح المديرين الذي يوقّع "
    "سجلات المستخدمين."
)

# The private key of the administrators who logged in in this process, by (database, username): the file, or the
# server and database (every database on a server has no path: by path alone they all shared one slot).
_held: dict[tuple[str, str], bytes] = {}


def _slot(ctx: ServiceContext) -> tuple[str, str]:
    return (ctx.db.where, ctx.username)


def held(ctx: ServiceContext) -> bytes | None:
    return _held.get(_slot(ctx))


def hold(ctx: ServiceContext, private: bytes) -> None:
    _held[_slot(ctx)] = private


def release(ctx: ServiceContext) -> None:
    _held.pop(_slot(ctx), None)


def require_key(ctx: ServiceContext) -> bytes:
    private = held(ctx)
    if private is None:
        raise UserError(NO_KEY)
    return private


# --- signatures ------------------------------------------------------------------------------------------------


def public_of(private: bytes) -> bytes:
    return Ed25519PrivateKey.from_private_bytes(private).public_key().public_bytes_raw()


def fingerprint(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


def refusal(problem: str, repo) -> str:
    """The Arabic refusal of a login; for a replaced key, who could have replaced it (who holds the new key)."""
    if problem != "replaced":
        return REFUSALS[problem]
    return REFUSALS["replaced"].format(who=holders_sentence(repo))


def holders_sentence(repo) -> str:
    holders = key_holders(repo)
    if not holders:
        return "ولا يفتح المفتاح الجديد أحدٌ من مستخدمي هذه القاعدة."
    return (
        f"لا يفتح المفتاح الجديد إلا: {'، '.join(holders)} — فقد استبدله واحد منهم، أو أي مستخدم يحمل مفتاح قاعدة "
        "البيانات وأعطاهم إياه."
    )


def key_holders(repo) -> list[str]:
    """The usernames the current administrators' key is wrapped for (whoever replaced it kept it for themselves)."""
    ids = set((_record(repo).get("wraps") or {}).keys())
    return sorted(u.username for u in repo.all(m.User) if u.id in ids)


def _signed(public: bytes, signature: str | None, message: bytes) -> bool:
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(bytes.fromhex(signature or ""), message)
        return True
    except (InvalidSignature, ValueError, TypeError):
        return False


def _user_message(user: m.User, own: dict | None = None) -> bytes:
    """What the administrators sign of a user. A user with a key of their own (`own`, see new_own_key) signs their
    password hash themselves, so they can change their password alone: the seal then covers their public key instead
    of the hash. Rows made before own keys keep the first form, the hash under the administrators' seal."""
    fields = {"id": user.id, "username": user.username, "role": user.role, "active": bool(user.active)}
    if own and own.get("public"):
        return b"aidoffice user v2\n" + json.dumps({**fields, "own": own["public"]}, sort_keys=True).encode("utf-8")
    fields["password_hash"] = user.password_hash
    return b"aidoffice user v1\n" + json.dumps(fields, sort_keys=True, ensure_ascii=False).encode("utf-8")


def _own_message(user: m.User, must_change: bool) -> bytes:
    fields = {"id": user.id, "password_hash": user.password_hash, "must_change": bool(must_change)}
    return b"aidoffice own password v1\n" + json.dumps(fields, sort_keys=True).encode("utf-8")


def anchor_message(seq: int, digest: str) -> bytes:
    return f"aidoffice audit anchor v1\n{int(seq)}\n{digest}".encode("ascii")


def seal(private: bytes, user: m.User, repo) -> None:
    user.seal = Ed25519PrivateKey.from_private_bytes(private).sign(_user_message(user, own_key(repo, user.id))).hex()


def seal_holds(public: bytes, user: m.User, repo) -> bool:
    own = own_key(repo, user.id)
    if not _signed(public, user.seal, _user_message(user, own)):
        return False
    if own is None:
        return True
    return _signed(bytes.fromhex(own["public"]), own.get("signed"), _own_message(user, bool(own.get("must_change"))))


# --- each user's own key: a password changed without an administrator ------------------------------------------------

OWN_KEYS_SETTING = "security.own_keys"  # {user id: {"public", "wrap", "signed", "must_change"}}
_OWN_CONTEXT = b"aidoffice own key v1"


def _own_keys(repo) -> dict:
    value = repo.setting(OWN_KEYS_SETTING)
    return dict(value) if isinstance(value, dict) else {}


def own_key(repo, user_id: str) -> dict | None:
    entry = _own_keys(repo).get(user_id)
    return dict(entry) if isinstance(entry, dict) and entry.get("public") else None


def must_change(repo, user_id: str) -> bool:
    entry = own_key(repo, user_id)
    return bool(entry and entry.get("must_change"))


def _put_own(repo, user: m.User, private: bytes, password: str, must_change_: bool) -> None:
    key = Ed25519PrivateKey.from_private_bytes(private)
    entry = {
        "public": public_of(private).hex(),
        "wrap": keyring.wrap(private, password, _OWN_CONTEXT),
        "signed": key.sign(_own_message(user, must_change_)).hex(),
        "must_change": bool(must_change_),
    }
    repo.set_setting(OWN_KEYS_SETTING, {**_own_keys(repo), user.id: entry})


def new_own_key(repo, user: m.User, password: str, *, must_change_: bool = False) -> None:
    """A new key for the user, wrapped under `password` (set `user.password_hash` first, seal the row after: the
    administrators' seal covers this key). An administrator's reset passes must_change_: the user chooses a new
    password at the next login."""
    _put_own(repo, user, Ed25519PrivateKey.generate().private_bytes_raw(), password, must_change_)


def change_own(repo, user: m.User, old_password: str, new_password: str, new_hash: str) -> bool:
    """The user's own password change, signed with their own key (opened by the old password); False when the user
    has no key of their own (a row made before own keys: an administrator resets it once)."""
    entry = own_key(repo, user.id)
    private = keyring.unwrap(entry.get("wrap"), old_password or "", _OWN_CONTEXT) if entry else None
    if private is None or public_of(private).hex() != entry["public"]:
        return False
    user.password_hash = new_hash
    _put_own(repo, user, private, new_password, False)
    return True


# --- where the key lives ----------------------------------------------------------------------------------------


def _record(repo) -> dict:
    value = repo.setting(KEY_SETTING)
    return dict(value) if isinstance(value, dict) else {}


def _pinned(ctx: ServiceContext) -> bytes | None:
    """The public key kept in the keyring of an encrypted database (a database edit does not reach it)."""
    if not ctx.db.key:
        return None
    try:
        text = keyring.trust(ctx.db.path).get("admin_public")
        return bytes.fromhex(text) if text else None
    except (UserError, ValueError, TypeError):
        return None


def public_key(ctx: ServiceContext, repo) -> bytes | None:
    pinned = _pinned(ctx)
    if pinned is not None:
        return pinned
    try:
        text = _record(repo).get("public")
        return bytes.fromhex(text) if text else None
    except (ValueError, TypeError):
        return None


def _recorded_public(repo) -> str:
    return str(_record(repo).get("public") or "")


def sealed(ctx: ServiceContext, repo) -> bool:
    """Whether this database has an administrators' key (or had one: a signed row or a pin stays as its trace)."""
    if public_key(ctx, repo) is not None:
        return True
    return any(u.seal for u in repo.all(m.User))


def _office_id(repo) -> str:
    """Read in the open transaction (ctx.office_id would open a second one and wait on this one's lock)."""
    office = repo.office()
    return office.id if office is not None else ""


def new_key(ctx: ServiceContext, repo, lineage: list | None = None) -> bytes:
    """A new administrators' key; `lineage`: the statements that lead from the keys before it to this one."""
    private = Ed25519PrivateKey.generate().private_bytes_raw()
    record = {"public": public_of(private).hex(), "wraps": {}}
    if lineage:
        record["lineage"] = lineage
    repo.set_setting(KEY_SETTING, record)
    repo.audit("admin_key", "users", "", {"key": fingerprint(public_of(private))}, office_id=_office_id(repo))
    return private


def wrap_for(repo, user_id: str, private: bytes, password: str) -> None:
    record = _record(repo)
    record["wraps"] = {**(record.get("wraps") or {}), user_id: keyring.wrap(private, password, _WRAP_CONTEXT)}
    repo.set_setting(KEY_SETTING, record)


def drop_wrap(repo, user_id: str) -> None:
    record = _record(repo)
    wraps = dict(record.get("wraps") or {})
    if wraps.pop(user_id, None) is not None:
        repo.set_setting(KEY_SETTING, {**record, "wraps": wraps})


def _unwrap_for(repo, user_id: str, password: str) -> bytes | None:
    entry = (_record(repo).get("wraps") or {}).get(user_id)
    return keyring.unwrap(entry, password or "", _WRAP_CONTEXT) if isinstance(entry, dict) else None


def pin(ctx: ServiceContext, private: bytes) -> None:
    """Keep the public key in the keyring too (encrypted databases), once an administrator proved they hold it, with
    every key pinned before it (each must lead to the current one: see replaced)."""
    if ctx.db.key and keyring.exists(ctx.db.path):
        public = public_of(private).hex()
        seen = keyring.trust(ctx.db.path).get("admin_keys")
        seen = [k for k in seen if isinstance(k, str)] if isinstance(seen, list) else []
        keyring.set_trust(ctx.db.path, admin_public=public, admin_keys=[*[k for k in seen if k != public], public])


# --- a key that replaces another: its statement ---------------------------------------------------------------

_ESCROW_LABEL = "aidoffice-admin-key-escrow"


def _change_message(old: bytes, new: bytes) -> bytes:
    return b"aidoffice admin key change v1\n" + old.hex().encode("ascii") + b"\n" + new.hex().encode("ascii")


def _commit_message(public: bytes, digest: str, recipient: str) -> bytes:
    return f"aidoffice admin key escrow commitment v1\n{public.hex()}\n{digest}\n{recipient}".encode("ascii")


def _escrow_public(repo) -> bytes | None:
    from aidoffice.formats.package import unb64

    peer = repo.first(m.SyncPeer, role="hq", status="active")
    try:
        return unb64(peer.escrow_public) if peer is not None and peer.escrow_public else None
    except (ValueError, TypeError):
        return None


def commit_escrow(repo, private: bytes) -> None:
    """While an administrator holds the key and the office knows headquarters' escrow key: a random secret sealed for
    the escrow key, its hash signed by the administrators' key. An escrow recovery opens it and shows it: the proof,
    which nobody here can forge, that the key it makes replaces this one by headquarters' hand."""
    escrow = _escrow_public(repo)
    if escrow is None:
        return
    from aidoffice.formats.package import wrap_key

    record = _record(repo)
    public = public_of(private)
    kept = record.get("escrow_commit") if isinstance(record.get("escrow_commit"), dict) else {}
    if (
        kept.get("public") == public.hex()
        and kept.get("recipient") == escrow.hex()
        and _signed(public, kept.get("sig"), _commit_message(public, str(kept.get("hash")), escrow.hex()))
    ):
        return
    secret = os.urandom(32)
    digest = hashlib.sha256(secret).hexdigest()
    key = Ed25519PrivateKey.from_private_bytes(private)
    record["escrow_commit"] = {
        "public": public.hex(),
        "recipient": escrow.hex(),
        "hash": digest,
        "sealed": wrap_key(secret, _ESCROW_LABEL, escrow, "escrow"),
        "sig": key.sign(_commit_message(public, digest, escrow.hex())).hex(),
    }
    repo.set_setting(KEY_SETTING, record)


def commit_escrow_now(ctx: ServiceContext) -> None:
    """After the office learnt headquarters' escrow key (enrolment), if an administrator holds the key here."""
    private = held(ctx)
    if private is None:
        return
    with ctx.uow() as uow:
        commit_escrow(uow.repo, private)
        uow.commit()


def _escrow_statement(repo, escrow_private: bytes | None) -> dict | None:
    """The statement an escrow recovery leaves: the secret the escrow key opened, and the old key's signed hash (the
    key that signed it, which a clerk's own key written over it since does not change)."""
    commit = _record(repo).get("escrow_commit")
    if escrow_private is None or not isinstance(commit, dict):
        return None
    from aidoffice.formats.package import unwrap_key

    sealed = commit.get("sealed")
    secret = unwrap_key(sealed, _ESCROW_LABEL, escrow_private) if isinstance(sealed, dict) else None
    statement = {"by": "escrow", **{k: commit.get(k) for k in ("public", "recipient", "hash", "sig")}}
    if secret is None:
        return None
    statement["secret"] = secret.hex()
    return statement if _statement_holds(statement, b"") else None


def _statement_holds(statement: dict, new: bytes) -> bool:
    try:
        old = bytes.fromhex(str(statement.get("public")))
        if statement.get("by") == "previous":
            return _signed(old, statement.get("sig"), _change_message(old, new))
        if statement.get("by") == "escrow":
            secret = bytes.fromhex(str(statement.get("secret")))
            digest, recipient = str(statement.get("hash")), str(statement.get("recipient"))
            return hashlib.sha256(secret).hexdigest() == digest and _signed(
                old, statement.get("sig"), _commit_message(old, digest, recipient)
            )
    except ValueError:
        return False
    return False


def lineage(repo) -> set[str]:
    """The fingerprints of the current key and of every key it replaced with a statement that holds."""
    current = _recorded_public(repo)
    if not current:
        return set()
    try:
        newer = bytes.fromhex(current)
    except ValueError:
        return set()
    found = {fingerprint(newer)}
    statements = _record(repo).get("lineage")
    for statement in statements if isinstance(statements, list) else []:
        if not isinstance(statement, dict) or not _statement_holds(statement, newer):
            break
        newer = bytes.fromhex(str(statement["public"]))
        found.add(fingerprint(newer))
    return found


def _fingerprint_of_hex(text) -> str | None:
    try:
        return fingerprint(bytes.fromhex(text)) if isinstance(text, str) and text else None
    except ValueError:
        return None


def traces(ctx: ServiceContext, repo, bound: dict | None = None) -> dict[str, str]:
    """Where each administrators' key this database has known is named ({fingerprint: where}): the keyring's pins and
    newest anchor, the newest anchor in the chain, and the key bound inside the user's own keyring wrap."""
    found: dict[str, str] = {}
    if ctx.db.key:
        try:
            kept = keyring.trust(ctx.db.path)
        except UserError:
            kept = {}
        pins = kept.get("admin_keys") if isinstance(kept.get("admin_keys"), list) else []
        for text in [kept.get("admin_public"), *pins]:
            fp = _fingerprint_of_hex(text)
            if fp:
                found.setdefault(fp, "pin")
        anchor_kept = kept.get("audit_anchor")
        if isinstance(anchor_kept, dict) and anchor_kept.get("key"):
            found.setdefault(str(anchor_kept["key"]), "anchor")
    last = repo.last_audit_anchor()
    if last is not None and last[1].get("key"):
        found.setdefault(str(last[1]["key"]), "anchor")
    fp = _fingerprint_of_hex((bound or {}).get("admin_key"))
    if fp:
        found.setdefault(fp, "wrap")
    return found


def replaced(ctx: ServiceContext, repo, bound: dict | None = None) -> bool:
    """An earlier administrators' key is named somewhere, and the current one does not lead back to it."""
    known = lineage(repo)
    return bool(known) and any(fp not in known for fp in traces(ctx, repo, bound))


# --- login -------------------------------------------------------------------------------------------------------


def check_user(
    ctx: ServiceContext, uow, user: m.User, password: str, bound: dict | None = None
) -> tuple[str | None, bytes | None]:
    """After the password: (what is wrong with this row, or None; the administrators' private key for an
    administrator). The first administrator to log in after the upgrade that brought seals makes the key and seals
    the rows as they stand. `bound`: what the user's own keyring wrap says (the administrators' key when it was made).
    """
    repo = uow.repo
    public = public_key(ctx, repo)
    if public is None:
        if sealed(ctx, repo):
            return "missing", None
        if user.role != _ADMIN:
            return None, None  # not sealed yet: the first administrator's login after the upgrade will
        private = new_key(ctx, repo)
        wrap_for(repo, user.id, private, password)
        for other in repo.all(m.User):
            seal(private, other, repo)
        log.info("administrators' key made at the first administrator login after the upgrade")
        return None, private
    recorded = _recorded_public(repo)
    if replaced(ctx, repo, bound):
        return "replaced", None
    if recorded != public.hex():
        return "key", None
    if not seal_holds(public, user, repo):
        return "seal", None
    private = _unwrap_for(repo, user.id, password)
    if private is not None and public_of(private) != public and fingerprint(public_of(private)) not in lineage(repo):
        return "replaced", None  # this administrator's own wrap holds a key the current one does not lead back to
    if user.role != _ADMIN:
        return None, None
    if private is None or public_of(private) != public:
        return "admin_key", None
    commit_escrow(repo, private)
    return None, private


def after_login(ctx: ServiceContext, private: bytes | None, anchored: dict | None) -> None:
    """Outside the transaction: hold an administrator's key, pin it and keep the anchor in the keyring."""
    if private is not None:
        hold(ctx, private)
        try:
            pin(ctx, private)
            if anchored is not None and ctx.db.key and keyring.exists(ctx.db.path):
                keyring.set_trust(ctx.db.path, audit_anchor=anchored)
        except (OSError, UserError):
            log.warning("could not write the administrators' key or the audit anchor to the keyring")


def watch_head(ctx: ServiceContext) -> None:
    """After each commit that appended to the chain, copy its head to the keyring, unless the head kept there is no
    longer in the chain: then the tail was cut, and the keyring keeps the evidence."""
    if not ctx.db.key:
        return
    path, db = ctx.db.path, ctx.db
    written: list[tuple] = []  # the head this process wrote last: the next commit usually starts from it

    def sink(before: tuple[int, str], after: tuple[int, str]) -> None:
        try:
            if written and written[-1] == tuple(before):  # our own last head: nothing to read or compare
                keyring.set_trust(path, audit_head={"seq": after[0], "hash": after[1]})
                written[-1:] = [tuple(after)]
                return
            if not keyring.exists(path):
                return
            kept = keyring.trust(path).get("audit_head") or {}
            if kept and (kept.get("seq"), kept.get("hash")) != tuple(before):
                with ServiceContext(db=db).uow() as uow:
                    at = uow.repo.audit_hash_at(int(kept.get("seq") or 0))
                if at != kept.get("hash"):
                    log.warning("the audit head kept in the keyring is no longer in the chain: kept as evidence")
                    return
            keyring.set_trust(path, audit_head={"seq": after[0], "hash": after[1]})
            written[-1:] = [tuple(after)]
        except (OSError, UserError, ValueError, TypeError):
            log.warning("could not copy the audit head to the keyring")

    chain.set_head_sink(db.sessions, sink)


# --- the audit chain ----------------------------------------------------------------------------------------------


def examine(
    ctx: ServiceContext, repo, since: tuple[int, str] | None = None, public: bytes | None = None
) -> ChainReport:
    """The chain walked (from `since`, an anchored point, or from the first entry), then what it must agree with: the
    administrators' anchors in it, and the head and anchor kept in the keyring. `public`: the key an administrator
    holds (at login, or a new one at an escrow recovery) rather than the one recorded."""
    kept = {}
    if ctx.db.key:
        try:
            kept = keyring.trust(ctx.db.path)
        except UserError:
            kept = {}
    pins = [p for p in (kept.get("audit_head"), kept.get("audit_anchor")) if isinstance(p, dict) and p.get("seq")]
    report = repo.verify_audit(tuple(int(p["seq"]) for p in pins), since)
    if report.broken_at is not None or report.reason:
        return report
    known = lineage(repo)
    if known and any(fp not in known for fp in traces(ctx, repo)):
        return replace(report, reason="replaced", who=tuple(key_holders(repo)))
    for seq, detail, _linked in report.anchors:
        if known and detail.get("key") and detail["key"] not in known:
            return replace(report, reason="replaced", at=seq, who=tuple(key_holders(repo)))
    if public is None:
        public = public_key(ctx, repo)
        if public is not None and kept.get("admin_public") and kept["admin_public"] != _recorded_public(repo):
            return replace(report, reason="key")
    key = fingerprint(public) if public is not None else None
    for seq, detail, linked in report.anchors:
        if detail.get("key") != key:
            continue  # a key an escrow recovery replaced: the new key's first anchor covers what came before
        if not linked:
            return replace(report, reason="anchor", at=detail.get("seq"))
        if not _signed(public, detail.get("sig"), anchor_message(detail.get("seq") or 0, str(detail.get("hash")))):
            return replace(report, reason="signature", at=seq)
    last_seq = report.last[0]
    hashes = report.hashes or {}
    for kept_pin in pins:
        seq = int(kept_pin["seq"])
        if since is not None and seq < since[0]:
            continue  # before the anchor this walk started from: checked when that anchor was made
        if seq > last_seq or hashes.get(seq) != kept_pin.get("hash"):
            # gone, or its number reused by entries appended after a cut (or rewritten with the rest)
            return replace(report, reason="cut" if "sig" not in kept_pin or seq > last_seq else "anchor", at=seq)
        signed_here = "sig" in kept_pin and public is not None and kept_pin.get("key") == key
        if signed_here and not _signed(public, kept_pin.get("sig"), anchor_message(seq, str(kept_pin.get("hash")))):
            return replace(report, reason="signature", at=seq)
    return replace(report, reason="guards") if report.missing else report


def anchor(ctx: ServiceContext, uow, private: bytes) -> dict | None:
    """Sign the chain's head, if the part since the last anchor by this key holds (an administrator never signs a
    chain that was tampered with: `audit verify` says where)."""
    repo = uow.repo
    uow.flush()  # the login's own changes are in the chain before its head is signed
    public = public_of(private)
    key = fingerprint(public)
    since = None
    last = repo.last_audit_anchor()
    if last is not None:
        detail = last[1]
        if detail.get("key") == key and _signed(
            public, detail.get("sig"), anchor_message(detail.get("seq") or 0, str(detail.get("hash")))
        ):
            since = (int(detail["seq"]), str(detail["hash"]))
    report = examine(ctx, repo, since, public)
    if report.broken_at is not None or report.reason:
        log.warning("audit chain not anchored: it does not hold (%s)", report.reason or "entry changed")
        return None
    seq, digest = repo.audit_head()
    signature = Ed25519PrivateKey.from_private_bytes(private).sign(anchor_message(seq, digest)).hex()
    detail = {"seq": seq, "hash": digest, "key": key, "sig": signature}
    repo.audit(chain.ANCHOR_ACTION, "audit_log", str(seq), detail, office_id=_office_id(repo))
    return detail


def anchor_now(ctx: ServiceContext) -> dict | None:
    """An anchor at any moment an administrator acts (a package export, for one); nothing for other users."""
    private = held(ctx)
    if private is None:
        return None
    with ctx.uow() as uow:
        detail = anchor(ctx, uow, private)
        uow.commit()
    if detail is not None and ctx.db.key and keyring.exists(ctx.db.path):
        keyring.set_trust(ctx.db.path, audit_anchor=detail)
    return detail


def users_intact(ctx: ServiceContext) -> None:
    """No users in a database whose rows were signed: they were deleted outside the program (which would otherwise
    take the empty table for a first start and let anyone make themselves administrator)."""
    with ctx.uow() as uow:
        if uow.repo.count(m.User) == 0 and public_key(ctx, uow.repo) is not None:
            raise UserError(
                "لا مستخدمين في قاعدة البيانات ولها مفتاح مديري نظام: حُذف المستخدمون خارج البرنامج. لا يُنشأ مدير "
                "جديد هكذا: استعد نسخة احتياطية سليمة أو اطلب مفتاح الضمان من الديوان."
            )


def rekey(ctx: ServiceContext, escrow_private: bytes | None = None) -> None:
    """Escrow recovery (every password lost, headquarters' escrow key proved): a new administrators' key. Rows whose
    seal held under the old key are sealed again, the old wraps go (the other administrators get a new password, and
    the key with it, from the recovered one), and the chain is anchored again if it holds. With the escrow key, the
    old key's escrow commitment is opened: the statement that lets every trace of the old key lead to the new one
    (without it, the change cannot be told from a clerk's own key: see `replaced`)."""
    with ctx.uow() as uow:
        repo = uow.repo
        old = public_key(ctx, repo)
        statement = _escrow_statement(repo, escrow_private)
        if statement is None:
            log.warning("escrow recovery without the old key's escrow commitment: the key change is not provable")
        chain_ = None
        if statement is not None:
            earlier = _record(repo).get("lineage") if statement["public"] == _recorded_public(repo) else None
            chain_ = [statement, *(earlier if isinstance(earlier, list) else [])]
        private = new_key(ctx, repo, chain_)
        for user in repo.all(m.User):
            if old is None or seal_holds(old, user, repo):
                seal(private, user, repo)
        uow.flush()
        anchored = anchor(ctx, uow, private)
        uow.commit()
    hold(ctx, private)
    pin(ctx, private)
    if anchored is not None and ctx.db.key and keyring.exists(ctx.db.path):
        keyring.set_trust(ctx.db.path, audit_anchor=anchored)


def leads_back(statements, current: bytes, earlier: bytes) -> bool:
    """Whether `statements` (a key record's lineage, newest first, as it travels in a sync package) lead from the
    `current` key back to the `earlier` one, each holding for the key after it (headquarters' check of an office
    whose administrators' key changed since its last package)."""
    newer = current
    for statement in statements if isinstance(statements, list) else []:
        if newer == earlier:
            return True
        if not isinstance(statement, dict) or not _statement_holds(statement, newer):
            return False
        newer = bytes.fromhex(str(statement["public"]))
    return newer == earlier
