"""What a counter sends to receive a dossier, and the three answers it can get back.

Form 01 (receipt and appointment slip), form 02 (everything missing, in one request) and
form 03 (refusal of receipt, with every reason) follow Circular 01/2018/TT-VPCP.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from procedures.models import Channel, Fee
from workflows.dossier_inputs import Actor, Applicant, SubmittedDocument
from workflows.input_bounds import Instant, PersonalId, PersonName, Phone

__all__ = [
    "ApplicantAtCounter",
    "IntakeOutcome",
    "IntakeRequest",
    "MissingDocument",
    "ReceiptSlip",
    "RefusalNotice",
    "SupplementNotice",
]


class ApplicantAtCounter(Applicant):
    """The applicant as a counter enters them: identity fields checked as far as they can be.

    Stricter than the `Applicant` a running dossier decodes, so that a rule added here never
    stops a dossier received under an older one from replaying.
    """

    full_name: PersonName
    personal_id: PersonalId
    phone: Phone | None = None


class IntakeRequest(BaseModel):
    # Errors never quote the input: it may be an applicant's personal data (and it is logged).
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    procedure_code: str = Field(min_length=1, max_length=32)
    applicant: ApplicantAtCounter
    receiving_unit: str = Field(min_length=1, max_length=64, description="agency code of the counter")
    documents: tuple[SubmittedDocument, ...] = Field(default=(), max_length=200)
    channel: Channel = Channel.COUNTER
    received_by: Actor
    # Default: now. Set for dossiers taken in during an outage or by post and entered later.
    received_at: Instant | None = None
    # The counter's own id for this request: sending it again never creates a second dossier.
    request_id: str | None = Field(default=None, min_length=1, max_length=100)

    @field_validator("applicant", mode="before")
    @classmethod
    def _recheck(cls, value: object) -> object:
        # An Applicant built elsewhere (a test, the demo) is checked again by the counter's rules.
        return value.model_dump() if type(value) is Applicant else value


class ReceiptSlip(BaseModel):
    """Form 01: the dossier is received; its code and appointment."""

    form: Literal["01"] = "01"
    dossier_code: str
    procedure_code: str
    procedure_name: str
    version_id: str
    applicant_name: str
    receiving_unit: str
    receiving_unit_name: str
    handling_unit: str
    handling_unit_name: str
    received_at: AwareDatetime
    due_at: AwareDatetime
    documents: tuple[str, ...]
    fees: tuple[Fee, ...] = ()
    received_by: str
    resubmitted: bool = False  # True when the request id had already produced this dossier


class MissingDocument(BaseModel):
    id: str
    name: str
    reason: str


class SupplementNotice(BaseModel):
    """Form 02: not received; everything to add, listed once."""

    form: Literal["02"] = "02"
    procedure_code: str
    missing: tuple[MissingDocument, ...]


class RefusalNotice(BaseModel):
    """Form 03: refused at receipt, with every reason."""

    form: Literal["03"] = "03"
    procedure_code: str
    reasons: tuple[str, ...]
    missing: tuple[MissingDocument, ...] = ()  # also missing, to bring with a new request


IntakeOutcome = Annotated[ReceiptSlip | SupplementNotice | RefusalNotice, Field(discriminator="form")]
