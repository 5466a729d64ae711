"""A clock slip: an office re-stamps what it stamped in the future, from headquarters' time and its own."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from aidoffice.domain.access import Permission
from aidoffice.domain.sync import MAX_AHEAD_MS, Mode, hlc_ms
from aidoffice.errors import UserError
from aidoffice.services.context import ServiceContext
from aidoffice.services.sync.common import HQ_TIME_SETTING, MODE_SETTING, _ms
from aidoffice.store import sync as store_sync

log = logging.getLogger("aidoffice.sync")


# --- a clock slip -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RestampResult:
    records: int  # stamps moved back (and stamp-less rows given one)
    ahead_until: datetime  # where the slipped clock stood: the furthest stamp found (local time, as are the others)
    hq_time: datetime  # headquarters' time in its newest reply
    now: datetime  # this PC's clock


def _local(ms: int) -> datetime:
    """This PC's local time of a millisecond count (what its clock shows the administrator)."""
    return datetime.fromtimestamp(ms / 1000)


def restamp(ctx: ServiceContext, *, now_ms: int | None = None) -> RestampResult:
    """An office whose clock ran ahead: every stamp it made past the present (this PC's clock, once set right, and
    never before headquarters' time in its newest reply) takes a new stamp just after both, in the same order. An
    edit made during the slip would otherwise win every later merge, and headquarters rightly refuses it, package
    after package. Headquarters' check is not loosened: the new stamps are of the present. Audited, and the result
    tells the administrator what was found."""
    ctx.require(Permission.SETTINGS)
    now_ms = _ms() if now_ms is None else now_ms
    me = ctx.office_id
    with ctx.uow() as uow:
        repo = uow.repo
        if Mode(repo.setting(MODE_SETTING) or Mode.OFFICE.value) is not Mode.OFFICE:
            raise UserError("إعادة الختم للمكتب الذي تقدّمت ساعته؛ الديوان يرفض الحزم المتقدمة ولا يعيد ختمها.")
        hq_time = int(repo.setting(HQ_TIME_SETTING) or 0)
        if not hq_time:
            raise UserError(
                "لا يوجد رد من الديوان يُعتمد وقته: اطلبوا من الديوان حزمة رد لهذا المكتب واستوردوها هنا أولًا، ثم "
                "أعيدوا الختم."
            )
        hq_ms = hlc_ms(hq_time)
        if now_ms < hq_ms - MAX_AHEAD_MS:
            raise UserError(
                f"ساعة هذا الجهاز ({_local(now_ms):%Y-%m-%d %H:%M}) متأخرة عن وقت الديوان في آخر رد منه "
                f"({_local(hq_ms):%Y-%m-%d %H:%M}): صحّح التاريخ والوقت أولًا، ثم أعد الختم. لم يتغير شيء."
            )
        present = max(now_ms, hq_ms)
        limit = ((present + 1) << 16) - 1  # anything stamped after this millisecond was stamped in the future
        done = store_sync.restamp_ahead(uow.session.connection(), limit, max(hq_time, present << 16))
        if not done.records:
            raise UserError(
                f"لا سجلات مختومة بوقت بعد ساعة هذا الجهاز ({_local(now_ms):%Y-%m-%d %H:%M}): لا شيء يُعاد ختمه. إن "
                "رفض الديوان الحزمة لتقدّم الساعة فساعة هذا الجهاز ما زالت متقدمة: صحّحها ثم أعد الختم (آخر وقت "
                f"من الديوان: {_local(hq_ms):%Y-%m-%d %H:%M})."
            )
        result = RestampResult(done.records, _local(hlc_ms(done.furthest)), _local(hq_ms), _local(now_ms))
        repo.audit(
            "sync-restamp",
            "sync_stamps",
            "",
            {
                "records": done.records,
                "ahead_until": result.ahead_until.isoformat(timespec="seconds"),
                "hq_time": result.hq_time.isoformat(timespec="seconds"),
                "now": result.now.isoformat(timespec="seconds"),
            },
            office_id=me,
        )
        uow.commit()
    log.warning("clock slip: %d stamps re-stamped from the present", done.records)
    return result


def restamp_message(result: RestampResult) -> str:
    """What the administrator is told (the command line and the Sync page say the same)."""
    return (
        f"أُعيد ختم {result.records:,} سجلًا كانت مختومة بوقت في المستقبل (حتى {result.ahead_until:%Y-%m-%d %H:%M}) "
        f"لأن ساعة الجهاز كانت متقدمة. خُتمت بالوقت الحاضر: ساعة الجهاز الآن {result.now:%Y-%m-%d %H:%M}، وآخر وقت "
        f"من الديوان {result.hq_time:%Y-%m-%d %H:%M}. سُجّل ذلك في سجل التدقيق؛ صدّر الحزمة الآن."
    )
