"""USB sync between offices and headquarters: keys and enrolment, package export and import, acknowledgements,
the conflict queue and cross-office duplicate flags."""

from __future__ import annotations

from aidoffice.domain.sync import package_name  # callers name a package as export_package does
from aidoffice.services.sync.clock import RestampResult, restamp, restamp_message
from aidoffice.services.sync.common import (
    EPOCH_SETTING,
    ESCROW_SETTING,
    HQ_TIME_SETTING,
    MAX_IDENTITY,
    MAX_PACKAGE,
    MODE_SETTING,
)
from aidoffice.services.sync.export import ExportResult, export_package
from aidoffice.services.sync.import_ import ImportResult, _clock_refusal, import_package
from aidoffice.services.sync.keys import (
    PeerRecord,
    create_escrow,
    enrol,
    export_identity,
    fingerprint,
    mode,
    open_with_escrow,
    peers,
    read_identity,
    revoke,
    rotate_keys,
    set_mode,
)
from aidoffice.services.sync.outcomes import (
    ConflictRecord,
    CrossOfficePair,
    FlagRecord,
    PackageRecord,
    conflicts,
    cross_office_pairs,
    flags,
    history,
    other_offices_of,
    resolve_conflict,
)

__all__ = [
    "EPOCH_SETTING",
    "ESCROW_SETTING",
    "HQ_TIME_SETTING",
    "MAX_IDENTITY",
    "MAX_PACKAGE",
    "MODE_SETTING",
    "ConflictRecord",
    "CrossOfficePair",
    "ExportResult",
    "FlagRecord",
    "ImportResult",
    "PackageRecord",
    "PeerRecord",
    "RestampResult",
    "_clock_refusal",
    "conflicts",
    "create_escrow",
    "cross_office_pairs",
    "enrol",
    "export_identity",
    "export_package",
    "fingerprint",
    "flags",
    "history",
    "import_package",
    "mode",
    "open_with_escrow",
    "other_offices_of",
    "package_name",
    "peers",
    "read_identity",
    "resolve_conflict",
    "restamp",
    "restamp_message",
    "revoke",
    "rotate_keys",
    "set_mode",
]
