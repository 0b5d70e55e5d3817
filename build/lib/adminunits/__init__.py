"""Administrative units of Vietnam across the 2025-07-01 reform, and the agencies derived from them.

Nothing is read at import time; call :meth:`AdminUnits.load` /
:meth:`AgencyDirectory.load` (both cached) when the data is needed.
"""

from .agencies import Agency, AgencyDirectory, AgencyKind
from .registry import REFORM_INSTANT, VN_TZ, AdminUnits, Commune, Era, Province, era_at

__all__ = [
    "VN_TZ",
    "REFORM_INSTANT",
    "Era",
    "era_at",
    "Province",
    "Commune",
    "AdminUnits",
    "AgencyKind",
    "Agency",
    "AgencyDirectory",
]
