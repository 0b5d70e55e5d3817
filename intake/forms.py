"""What a counter sends to receive a dossier, and the three answers it can get back.

Form 01 (receipt and appointment slip), form 02 (everything missing, in one request) and
form 03 (refusal of receipt, with every reason) follow Circular 01/2018/TT-VPCP.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from model.dossier_inputs import Actor, Applicant, SubmittedDocument
from model.input_bounds import Instant, PersonalId, PersonName, Phone
from procedures.models import Channel, Fee

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
    # The procedure's case (e.g. 1.000894.02), which selects its own time limit; none: the
    # channel's limit, or the version's general one.
    case: str | None = Field(default=None, min_length=1, max_length=32)
    received_by: Actor
    # Default: now. Set for dossiers taken in during an outage or by post and entered later.
    received_at: Instant | None = None
    # The counter's own id for this request, unique at its counter: sending the same request
    # again never creates a second dossier; another request under a used id is refused.
    request_id: str | None = Field(default=None, min_length=1, max_length=100)
    # Why a receipt dated in the past is entered now (an outage, the post): needed, with an
    # operator's permission, when received_at is older than the intake's tolerance.
    backfill_reason: str | None = Field(default=None, min_length=1, max_length=500)

    def content_hash(self) -> str:
        """SHA-256 of what the request asks for: everything but its id and who sends it.

        The same request sent again (by a colleague, after a network cut) hashes the same;
        another applicant, procedure or document list under the same id does not.
        """
        content = self.model_dump(mode="json", exclude={"request_id", "received_by"})
        text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

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
    case: str | None = None  # the case whose time limit applies
    internal_process: str = ""  # which internal process the dossier follows
    # The citizens' lookup secret (docs/web.md), printed on the slip: given once per dossier,
    # again only to a resubmission minutes after the first (records/lookup_secrets.py).
    lookup_secret: str | None = None
    # Set on a slip reprinted for a lost one, with a new lookup secret (officers.lookup_secret):
    # when the secret was issued again ("cấp lại").
    reissued_at: AwareDatetime | None = None


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
