"""What the dossier workflow hands the records store: the projection's records.

A batch of timeline entries with the dossier's searchable facts and the applicant's notices,
as `RecordActivities.record_events` (activities.records) takes it and as the auditors' history
reads it back from Temporal's history. New fields get defaults so recorded histories decode.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel

from model.dossier_state import TimelineEntry

__all__ = ["PROJECTION_DATA_ERROR", "ApplicantNotice", "DossierSummary", "RecordEventsInput"]

# The failure type of a batch the store can never take: not retried (records.data_errors).
PROJECTION_DATA_ERROR = "ProjectionDataError"


class DossierSummary(BaseModel):
    """The dossier's searchable facts as of the last entry of the batch."""

    code: str
    procedure_code: str
    version_id: str
    receiving_unit: str  # the current counter (moved by a carryover if it was abolished)
    handling_unit: str
    received_at: AwareDatetime
    due_at: AwareDatetime
    status: str
    overdue: bool
    # Added by the records issue; defaults keep older histories' inputs decodable.
    channel: str = "counter"
    current_step: str | None = None
    current_roles: tuple[str, ...] = ()  # roles that can do the next thing
    resolved_at: AwareDatetime | None = None  # result ready
    closed_at: AwareDatetime | None = None  # returned, refused or withdrawn
    carried_over_from: str | None = None
    carried_over_at: AwareDatetime | None = None
    # The counter of receipt. Older summaries lack it, and their `receiving_unit` is the
    # counter of receipt even after a carryover moved it (the `carried_over` entry says where).
    original_receiving_unit: str | None = None


class ApplicantNotice(BaseModel):
    event_seq: int
    kind: str
    message: str


class RecordEventsInput(BaseModel):
    dossier: DossierSummary
    entries: list[TimelineEntry]
    notices: list[ApplicantNotice] = []
