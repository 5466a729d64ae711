"""What headquarters remembers of each office's audit chain and administrators' key, carried in every package.

Every office package names the office's administrators' public key, its audit chain's head, its newest signed anchor
and the hash it now has at the head headquarters last acknowledged. Headquarters remembers them per office and
refuses (and audits) a package whose administrators' key changed without a statement signed by the previous key or
proved with headquarters' escrow key, whose head or anchor went backwards, or whose chain no longer holds what it held
when headquarters saw it. Its replies carry that head back, and `audit verify` at the office compares with it: a
database edit on the office's PC cannot reach what headquarters saw.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aidoffice.errors import UserError
from aidoffice.formats import keyring
from aidoffice.formats import package as pkg
from aidoffice.services import trust
from aidoffice.services.context import ServiceContext

log = logging.getLogger("aidoffice.sync")

SEEN_SETTING = "sync.audit_seen"  # at an office: [seq, hash] of its chain as headquarters last acknowledged it
SENT_SETTING = "sync.audit_sent"  # at an office: [seq, hash] of its chain in the last package it wrote
_REMEMBERED = "sync.audit."  # at headquarters, per office id: what its last applied package said
_HEADS_KEPT = 32  # heads remembered per office, so a package made before the office read the latest reply still checks

REFUSALS = {
    "admin_key": "مفتاح مديري النظام في المكتب المرسل استُبدل دون توقيع بالمفتاح السابق أو إثبات بمفتاح ضمان "
    "الديوان: رُفضت الحزمة كلها وسُجّل ذلك. قد يكون مستخدم في المكتب صنع لنفسه مفتاح مدير؛ اتصلوا بمدير نظام المكتب.",
    "missing": "الحزمة لا تحمل رأس سجل التدقيق ومفتاح مديري النظام، وقد حملتهما حزم هذا المكتب من قبل: رُفضت كلها "
    "وسُجّل ذلك. راجعوا المكتب المرسل.",
    "back": "سجل التدقيق في المكتب المرسل رجع إلى الوراء (آخر قيد فيه رقم {now}، وقد رأى الديوان القيد رقم {then}): "
    "حُذفت قيود بعد ما رآه الديوان. رُفضت الحزمة كلها وسُجّل ذلك؛ اتصلوا بمدير نظام المكتب.",
    "rewritten": "سجل التدقيق في المكتب المرسل لم يعد كما رآه الديوان عند القيد رقم {then} (عُدّلت قيوده أو حُذفت ثم "
    "أُعيد حسابها): رُفضت الحزمة كلها وسُجّل ذلك؛ اتصلوا بمدير نظام المكتب.",
    "anchor": "ختم مدير النظام على سجل التدقيق في الحزمة ليس بتوقيع مفتاح مديري المكتب: رُفضت الحزمة كلها وسُجّل ذلك.",
}


# --- at the office: what a package says ----------------------------------------------------------------------------


def manifest_part(ctx: ServiceContext, repo) -> dict:
    """What an office's package says of its chain and key (no personal data: numbers, hashes and keys)."""
    public = trust.public_key(ctx, repo)
    seq, digest = repo.audit_head()
    last = repo.last_audit_anchor()
    anchor = None
    if last is not None:
        detail = last[1]
        anchor = {k: detail.get(k) for k in ("seq", "hash", "key", "sig")}
    out = {"admin_key": public.hex() if public else "", "head": [seq, digest], "anchor": anchor}
    # the hash now at the heads headquarters acknowledged and this office last sent: a chain cut and grown again
    # past them no longer has them
    marks = {int(v[0]) for v in (seen_by_hq(ctx, repo), repo.setting(SENT_SETTING)) if v and 0 < int(v[0]) <= seq}
    out["at"] = {str(s): repo.audit_hash_at(s) or "" for s in sorted(marks)}
    record = repo.setting(trust.KEY_SETTING)
    lineage = record.get("lineage") if isinstance(record, dict) else None
    if isinstance(lineage, list) and lineage:
        out["key_change"] = lineage  # the statements leading from earlier keys to this one (trust.py)
    return out


def note_seen(ctx: ServiceContext, repo, seen) -> None:
    """A reply from headquarters: the head of this office's chain it last saw, kept in the database and, for an
    encrypted one, in the keyring."""
    if not (isinstance(seen, list) and len(seen) == 2 and isinstance(seen[1], str)):
        return
    value = [int(seen[0]), seen[1]]
    repo.set_setting(SEEN_SETTING, value)
    if ctx.db.key and keyring.exists(ctx.db.path):
        try:
            keyring.set_trust(ctx.db.path, hq_audit_head={"seq": value[0], "hash": value[1]})
        except (OSError, UserError):
            log.warning("could not keep headquarters' audit head in the keyring")


def note_sent(repo, part: dict) -> None:
    repo.set_setting(SENT_SETTING, list(part["head"]))


def seen_by_hq(ctx: ServiceContext, repo) -> tuple[int, str] | None:
    """The head headquarters acknowledged: the keyring's copy first (a database edit does not reach it)."""
    if ctx.db.key:
        try:
            kept = keyring.trust(ctx.db.path).get("hq_audit_head")
        except UserError:
            kept = None
        if isinstance(kept, dict) and kept.get("seq"):
            return int(kept["seq"]), str(kept.get("hash") or "")
    value = repo.setting(SEEN_SETTING)
    if isinstance(value, list) and len(value) == 2 and value[0]:
        return int(value[0]), str(value[1])
    return None


# --- at headquarters ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Refusal:
    reason: str
    message: str


def remembered(repo, office_id: str) -> dict:
    value = repo.setting(_REMEMBERED + office_id)
    return dict(value) if isinstance(value, dict) else {}


def seen_for(repo, office_id: str) -> list | None:
    head = remembered(repo, office_id).get("head")
    return list(head) if isinstance(head, list) else None


def _endorsed(statements, old: str, new: str) -> bool:
    """Statements (trust.py's lineage, newest first) that lead from the new key back to the remembered one: each
    signed by the key it replaces, or an escrow recovery's proof committed to by it."""
    try:
        return trust.leads_back(statements, bytes.fromhex(new), bytes.fromhex(old))
    except ValueError:
        return False


def check(repo, sender: str, epoch: int, sequence: int, part) -> tuple[dict | None, Refusal | None]:
    """(what to remember once the package is applied, or a refusal). A package from a version that sends nothing is
    taken only from an office that never sent anything. A new epoch (a backup restored at the office) starts the
    chain's history again from what the package says; the administrators' key must still be the one remembered."""
    before = remembered(repo, sender)
    if not isinstance(part, dict):
        return (None, Refusal("audit", REFUSALS["missing"])) if before else (None, None)
    try:
        return _check(before, epoch, sequence, part)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        return None, Refusal("audit", REFUSALS["missing"])


def _check(before: dict, epoch: int, sequence: int, part: dict) -> tuple[dict | None, Refusal | None]:
    key = str(part.get("admin_key") or "")
    seq, digest = int(part["head"][0]), str(part["head"][1])
    anchor = part.get("anchor")
    at = {int(k): str(v) for k, v in (part.get("at") or {}).items()}
    old_key = str(before.get("admin_key") or "")
    if old_key and key != old_key and not _endorsed(part.get("key_change"), old_key, key):
        return None, Refusal("admin_key", REFUSALS["admin_key"])
    restarted = epoch > int(before.get("epoch", 0))
    # a package older than the last one taken (a lost stick that turns up) says an older head: only its agreement
    # with the heads remembered is checked, and it moves nothing forward
    late = not restarted and (epoch < int(before.get("epoch", 0)) or sequence < int(before.get("sequence", 0)))
    heads = {} if restarted else {int(k): v for k, v in (before.get("heads") or {}).items()}
    then = None if restarted or late else before.get("head")
    kept_anchor = None if restarted or late else before.get("anchor")
    if then and seq < int(then[0]):
        return None, Refusal("audit", REFUSALS["back"].format(now=seq, then=int(then[0])))
    for mark, now in {**at, seq: digest}.items():
        if heads.get(mark, now) != now:
            return None, Refusal("audit", REFUSALS["rewritten"].format(then=mark))
    if isinstance(anchor, dict):
        a_seq, a_hash = int(anchor.get("seq") or 0), str(anchor.get("hash") or "")
        public = bytes.fromhex(key) if key else b""
        message = trust.anchor_message(a_seq, a_hash)
        signed = bool(public) and anchor.get("key") == trust.fingerprint(public)
        signed = signed and pkg.verify_signature(public, bytes.fromhex(str(anchor.get("sig") or "")), message)
        if not signed or a_seq > seq:
            return None, Refusal("audit", REFUSALS["anchor"])
        if kept_anchor and (a_seq, a_hash) != tuple(kept_anchor) and a_seq <= int(kept_anchor[0]):
            return None, Refusal("audit", REFUSALS["rewritten"].format(then=int(kept_anchor[0])))
        kept_anchor = [a_seq, a_hash]
    elif kept_anchor:
        return None, Refusal("audit", REFUSALS["rewritten"].format(then=int(kept_anchor[0])))
    if late:
        return None, None
    heads[seq] = digest
    newest = sorted(heads)[-_HEADS_KEPT:]
    state = {
        "epoch": epoch,
        "sequence": sequence,
        "admin_key": key or old_key,
        "head": [seq, digest],
        "anchor": kept_anchor,
        "heads": {str(s): heads[s] for s in newest},
    }
    return state, None


def remember(repo, sender: str, state: dict) -> None:
    repo.set_setting(_REMEMBERED + sender, state)
