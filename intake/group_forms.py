"""What a counter sends to receive an interlinked group, and the one receipt it gets back."""

from __future__ import annotations

import hashlib
import json
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from intake.forms import ApplicantAtCounter
from model.dossier_inputs import Actor, Applicant, SubmittedDocument
from model.input_bounds import Instant
from procedures.models import Channel

__all__ = ["GroupReceipt", "GroupRequest", "MemberReceipt"]


class GroupRequest(BaseModel):
    # Errors never quote the input: it may be an applicant's personal data (and it is logged).
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    group_code: str = Field(min_length=1, max_length=32, description="e.g. LT296.01")
    applicant: ApplicantAtCounter
    receiving_unit: str = Field(min_length=1, max_length=64, description="agency code of the counter")
    # The documents for each member, by the member's key in the group's definition.
    documents: dict[str, tuple[SubmittedDocument, ...]] = Field(default_factory=dict, max_length=10)
    channel: Channel = Channel.COUNTER
    received_by: Actor
    received_at: Instant | None = None
    request_id: str | None = Field(default=None, min_length=1, max_length=100)
    backfill_reason: str | None = Field(default=None, min_length=1, max_length=500)

    def content_hash(self) -> str:
        """SHA-256 of what the request asks for: everything but its id and who sends it."""
        content = self.model_dump(mode="json", exclude={"request_id", "received_by"})
        text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(("group:" + text).encode()).hexdigest()

    @field_validator("applicant", mode="before")
    @classmethod
    def _recheck(cls, value: object) -> object:
        return value.model_dump() if type(value) is Applicant else value


class MemberReceipt(BaseModel):
    key: str
    dossier_code: str
    procedure_code: str
    procedure_name: str
    handling_unit: str
    handling_unit_name: str
    depends_on: tuple[str, ...] = ()


class GroupReceipt(BaseModel):
    """Form 01 of a group: one code, one appointment, and the agency doing each part."""

    form: Literal["01"] = "01"
    group_dossier_code: str
    group_code: str
    group_name: str
    version_id: str
    applicant_name: str
    receiving_unit: str
    received_at: AwareDatetime
    due_at: AwareDatetime
    received_by: str
    members: tuple[MemberReceipt, ...]
    resubmitted: bool = False
    # The citizens' lookup secret, valid for each member's code (docs/web.md): given once,
    # again only to a resubmission minutes after the first (records/lookup_secrets.py).
    lookup_secret: str | None = None
