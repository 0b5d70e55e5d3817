"""A dossier's long-lived state, carried whole through continue-as-new, and its public view."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = [
    "AppliedAction",
    "CLOCK_RUNNING",
    "DossierState",
    "DossierStatus",
    "PaymentRequest",
    "SupplementRequest",
    "TERMINAL",
    "TimelineEntry",
    "Unit",
]


class DossierStatus(StrEnum):
    """Statuses of a received dossier; `portal_code` is the code provincial systems sync."""

    RECEIVED = "received"
    PROCESSING = "processing"
    SUPPLEMENT_REQUESTED = "supplement_requested"
    PAYMENT_REQUESTED = "payment_requested"
    WITHDRAWN = "withdrawn"
    REFUSED = "refused"
    PROCESSED = "processed"
    RETURNED = "returned"

    @property
    def portal_code(self) -> int:
        # Codes seen in two provincial implementations (no official specification found).
        # A refusal after receipt is reported as "processing stopped" (8).
        return _PORTAL_CODES[self]


_PORTAL_CODES = {
    DossierStatus.RECEIVED: 2,
    DossierStatus.PROCESSING: 4,
    DossierStatus.SUPPLEMENT_REQUESTED: 5,
    DossierStatus.PAYMENT_REQUESTED: 6,
    DossierStatus.WITHDRAWN: 7,
    DossierStatus.REFUSED: 8,
    DossierStatus.PROCESSED: 9,
    DossierStatus.RETURNED: 10,
}

TERMINAL = frozenset({DossierStatus.WITHDRAWN, DossierStatus.REFUSED, DossierStatus.RETURNED})
# The legal clock runs while the authority holds the dossier; it stops while the applicant
# is asked to supplement. Whether a payment request stops it is unverified: it does not here.
CLOCK_RUNNING = frozenset({DossierStatus.PROCESSING, DossierStatus.PAYMENT_REQUESTED})


class Unit(BaseModel):
    """An authority as a dossier refers to it (here so the state can hold the current one)."""

    # Errors never quote the input: it may be an applicant's personal data (and it is logged).
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    code: str = Field(min_length=1, max_length=64)
    name: str = Field(max_length=300)
    province_code: str = Field(pattern=r"^\d{2}$")
    commune_code: str | None = None


class TimelineEntry(BaseModel):
    """One line of the tracking log (form 06) and of the process-control sheet (form 05)."""

    seq: int
    at: AwareDatetime
    action: str
    actor_id: str
    actor_roles: tuple[str, ...] = ()
    actor_unit: str = ""
    action_id: str | None = None
    status_before: DossierStatus | None = None
    status_after: DossierStatus
    step_id: str | None = None
    note: str = ""
    details: dict[str, str] = Field(default_factory=dict)

    def as_recorded(self) -> TimelineEntry:
        """The entry as the records store keeps it: without its free-text note (reasons and
        remarks officers type may name the applicant), which stays in the encrypted history."""
        return self.model_copy(update={"note": ""}) if self.note else self


class SupplementRequest(BaseModel):
    reason: str
    documents: tuple[str, ...]
    requested_at: AwareDatetime
    requested_by: str


class PaymentRequest(BaseModel):
    amount_vnd: int
    reason: str = ""
    requested_at: AwareDatetime
    paid_at: AwareDatetime | None = None
    receipt_number: str | None = None


class AppliedAction(BaseModel):
    """An action id the dossier has applied: the action's input model and its content's fingerprint."""

    action: str
    fingerprint: str | None = None


class DossierState(BaseModel):
    status: DossierStatus = DossierStatus.RECEIVED
    step_index: int = 0  # index into the version's steps; == len(steps) once processed
    due_at: AwareDatetime
    overdue: bool = False
    apology_due: bool = False  # overdue and no apology with a new appointment yet
    paused_since: AwareDatetime | None = None
    paused_working_time: timedelta = timedelta(0)
    supplement_request: SupplementRequest | None = None
    payment: PaymentRequest | None = None
    resolved_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    outcome_reason: str = ""
    timeline: list[TimelineEntry] = Field(default_factory=list)
    # action id -> action name, so a repeated action id has one effect.
    applied_actions: dict[str, str] = Field(default_factory=dict)
    # action id -> fingerprint of the action's content (`dossier_rules.fingerprint`), so an id
    # sent again with other content is refused instead of answered; absent for actions applied
    # before fingerprints were kept.
    applied_fingerprints: dict[str, str] = Field(default_factory=dict)
    # Entries not yet handed to the records store; carried over so none is lost.
    unrecorded: list[int] = Field(default_factory=list)
    # Why the records store refused these entries for good ("type: message"); None while the
    # projection is fine. Cleared by an operator's retry_projection.
    projection_failure: str | None = None
    runs: int = 1
    # The authority handling the dossier now: None means the one it was received for
    # (DossierInput.handling_unit); set when the dossier is carried over to a successor.
    handling_unit: Unit | None = None
    # Likewise the counter for the receiving-side steps (supplement, payment, return), moved
    # when the counter the dossier was received at was abolished too.
    receiving_unit: Unit | None = None
    carried_over_from: str | None = None
    carried_over_at: AwareDatetime | None = None

    def add_entry(
        self, at: datetime, action: str, status_after: DossierStatus, **fields: Any
    ) -> TimelineEntry:
        entry = TimelineEntry(
            seq=len(self.timeline) + 1,
            at=at,
            action=action,
            status_before=self.status,
            status_after=status_after,
            **fields,
        )
        self.timeline.append(entry)
        self.unrecorded.append(entry.seq)
        self.status = status_after
        return entry
