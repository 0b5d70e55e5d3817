"""What a query or an accepted update returns: the dossier as officers see it.

A module of its own, imported through the sandbox's pass-through: the sandbox re-executes a
workflow's module for every run, and rebuilding this pydantic class each time cost ~1.5 ms.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import AwareDatetime, BaseModel

from model.dossier_inputs import APOLOGY_MAX_WORKING_DAYS
from model.dossier_state import DossierStatus, PaymentRequest, SupplementRequest, TimelineEntry
from procedures.models import Step

__all__ = ["DossierView", "TransferFacts"]


class DossierView(BaseModel):
    """What a query or an accepted update returns: the dossier as officers see it."""

    code: str
    request_id: str | None = None
    procedure_code: str
    version_id: str
    # Which internal process (steps, roles, shares) the dossier follows: "curated", a level's
    # default or a province's own; pinned at receipt with the version.
    internal_process: str = "curated"
    case: str | None = None
    status: DossierStatus
    status_code: int
    current_step: Step | None
    receiving_unit: str
    handling_unit: str
    received_at: AwareDatetime
    due_at: AwareDatetime
    overdue: bool
    apology_due: bool
    paused_since: AwareDatetime | None
    paused_working_time: timedelta
    supplement_request: SupplementRequest | None
    payment: PaymentRequest | None
    resolved_at: AwareDatetime | None
    closed_at: AwareDatetime | None
    outcome_reason: str
    timeline: list[TimelineEntry]
    unrecorded_events: int
    # Set while the records store refuses this dossier's entries (ProjectionFailed): see docs/records.md.
    projection_failure: str | None = None
    runs: int
    # Set once carried over (2025 reform): the authority it came from, and when.
    original_handling_unit: str | None = None
    original_receiving_unit: str | None = None
    carried_over_from: str | None = None
    carried_over_at: AwareDatetime | None = None
    # How far an apology's new appointment may lie, in working days (pinned at the start).
    apology_max_working_days: int = APOLOGY_MAX_WORKING_DAYS


class TransferFacts(BaseModel):
    """What the carryover needs to choose a successor. The applicant's address travels only as
    unit codes (no name, street or ID), so no personal data reaches the records store."""

    code: str
    status: str
    handling_unit: str
    original_handling_unit: str
    received_at: AwareDatetime
    due_at: AwareDatetime
    procedure_code: str
    version_id: str
    address_province_code: str
    address_district_code: str | None
    address_commune_code: str
    carried_over_from: str | None = None
