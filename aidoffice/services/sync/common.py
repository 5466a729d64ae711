"""Settings, limits and the wall clock shared by the sync services."""

from __future__ import annotations

import time

MODE_SETTING = "sync.mode"
EPOCH_SETTING = "sync.epoch"  # raised when a backup is restored (services.backups)
ESCROW_SETTING = "sync.escrow_public"
HQ_TIME_SETTING = "sync.hq_time"  # at an office: the clock stamp of headquarters' newest reply, a time not this PC's
MAX_PACKAGE = 2 << 30
MAX_IDENTITY = 64 * 1024


def _ms() -> int:
    return int(time.time() * 1000)
