"""The dossier sync message sent to the National Public Service Portal, one per change.

The field list and the codes below are UNVERIFIED: they follow what provincial systems send
(two independent implementations, ../shared/DOMAIN.md), not the portal's specification, which
was not at hand. They are written once here and read by both the sender and the stand-in
portal (standins/portal.py), so checking them against the specification changes one module.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

__all__ = ["CHANNEL_CODES", "STATUS_CODES", "DossierSyncMessage", "StepProgress"]

# Status codes 1-10 (unverified). 1 and 3 belong to online submission and refusal at receipt,
# which never reach a started dossier here; they are listed so the stand-in accepts them.
STATUS_CODES = {
    1: "new, registered online, not yet received",
    2: "received",
    3: "not received (refused at receipt)",
    4: "processing",
    5: "supplementation requested",
    6: "financial obligation requested",
    7: "withdrawn by the applicant",
    8: "processing stopped",
    9: "processed (result ready)",
    10: "result returned",
}

# Channel codes (unverified, from public code): 1 counter, 2 online, 3 public postal service.
CHANNEL_CODES = {"counter": 1, "online": 2, "post": 3}


class StepProgress(BaseModel):
    """Where the dossier stands in its internal process when the change happened."""

    model_config = ConfigDict(extra="forbid")

    action: str = Field(min_length=1, max_length=64)  # the timeline entry that caused the message
    completed_step: str | None = Field(default=None, max_length=64)  # the step this entry completed
    current_step: str | None = Field(default=None, max_length=64)  # the step now waiting, if any
    at: AwareDatetime


class DossierSyncMessage(BaseModel):
    """One message: the dossier as the portal should show it after one timeline entry."""

    model_config = ConfigDict(extra="forbid")

    message_id: str = Field(min_length=1, max_length=140)  # `CODE:SEQ`: the receiver dedups on it
    sequence: int = Field(ge=1)  # the entry's seq: order within the dossier
    dossier_code: str = Field(min_length=1, max_length=100)
    procedure_code: str = Field(min_length=1, max_length=32)
    receipt_date: AwareDatetime
    appointment_date: AwareDatetime
    status_code: int = Field(ge=1, le=10)
    channel_code: int = Field(ge=1, le=3)
    handling_agency: str = Field(min_length=1, max_length=64)
    receiving_agency: str = Field(min_length=1, max_length=64)
    step: StepProgress
