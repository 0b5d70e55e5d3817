"""Search attributes of a dossier: what Temporal visibility can list. No personal data here."""

from __future__ import annotations

from temporalio.common import SearchAttributeKey

__all__ = [
    "ALL",
    "CARRIED_OVER_FROM",
    "DUE_AT",
    "HANDLING_UNIT",
    "OVERDUE",
    "PROCEDURE_CODE",
    "PROJECTION_FAILED",
    "RECEIVED_AT",
    "RECEIVING_UNIT",
    "STATUS",
]

PROCEDURE_CODE = SearchAttributeKey.for_keyword("ProcedureCode")
HANDLING_UNIT = SearchAttributeKey.for_keyword("HandlingUnit")
RECEIVING_UNIT = SearchAttributeKey.for_keyword("ReceivingUnit")
STATUS = SearchAttributeKey.for_keyword("DossierStatus")
RECEIVED_AT = SearchAttributeKey.for_datetime("ReceivedAt")
DUE_AT = SearchAttributeKey.for_datetime("DueAt")
OVERDUE = SearchAttributeKey.for_bool("Overdue")
# The authority a dossier was carried over from on 2025-07-01 (unset for the others).
CARRIED_OVER_FROM = SearchAttributeKey.for_keyword("CarriedOverFrom")

# Set when the records store refused the dossier's entries for good; cleared on retry_projection.
PROJECTION_FAILED = SearchAttributeKey.for_bool("ProjectionFailed")

ALL = (
    PROCEDURE_CODE,
    HANDLING_UNIT,
    RECEIVING_UNIT,
    STATUS,
    RECEIVED_AT,
    DUE_AT,
    OVERDUE,
    CARRIED_OVER_FROM,
    PROJECTION_FAILED,
)
