"""Messages into a dossier: the workflow input and one input model per human action.

Every action carries the acting officer and an action id; the same action id applied twice
has one effect. New fields get defaults so recorded histories still decode.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from model.dossier_state import DossierState, Unit
from model.input_bounds import MAX_LIST_ITEMS, Instant, MoneyVnd
from procedures.models import Channel, ProcedureVersion, Role

__all__ = [
    "ACTION_INPUTS",
    "ACTION_NAMES",
    "APOLOGY_MAX_WORKING_DAYS",
    "ActionInput",
    "Actor",
    "Address",
    "Applicant",
    "ApologyInput",
    "CompleteStepInput",
    "ConfirmPaymentInput",
    "DossierInput",
    "RefuseInput",
    "RequestPaymentInput",
    "RequestSupplementInput",
    "ReturnResultInput",
    "SubmittedDocument",
    "SupplementInput",
    "TransferActor",
    "TransferInput",
    "Unit",
    "WithdrawInput",
]

# How far an apology's new appointment may lie, in working days, unless a dossier is given
# another bound at its start (workflows.dossier_apology checks it). Twelve weeks: room for an
# expert opinion or a partner agency's answer, short enough that a promise still means something.
APOLOGY_MAX_WORKING_DAYS = 60

PERSONAL_ID_PATTERN = r"^\d{12}$"


# A document's name or id, as a counter types it.
DocumentName = Annotated[str, Field(min_length=1, max_length=200)]


class _Message(BaseModel):
    # Errors never quote the input: it may be an applicant's personal data (and it is logged).
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class Actor(_Message):
    """The officer doing an action, as authenticated by the caller (API, CLI)."""

    id: str = Field(min_length=1, max_length=64)
    # At most one of each role: the records store keeps them comma-joined in 200 characters.
    roles: tuple[Role, ...] = Field(min_length=1, max_length=len(Role))
    unit: str = Field(min_length=1, max_length=64, description="agency code of the officer's unit")
    name: str = Field(default="", max_length=200)


class Address(_Message):
    province_code: str = Field(pattern=r"^\d{2}$")
    commune_code: str = Field(pattern=r"^\d{5}$")
    # Needed only before 2025-07-01, when communes still sat in districts.
    district_code: str | None = Field(default=None, pattern=r"^\d{3}$")
    detail: str = Field(default="", max_length=300)


class Applicant(_Message):
    full_name: str = Field(min_length=1, max_length=200)
    personal_id: str = Field(pattern=PERSONAL_ID_PATTERN, description="12-digit personal ID number")
    address: Address
    phone: str | None = Field(default=None, pattern=r"^\+?\d{8,15}$")
    email: str | None = Field(default=None, max_length=254)


class SubmittedDocument(_Message):
    id: str = Field(min_length=1, max_length=64, description="id of a required document")
    copies: int = Field(default=1, ge=1, le=100)
    # Attachments travel by reference: a payload over 2 MB fails in Temporal.
    reference: str | None = Field(default=None, max_length=500)


class DossierInput(_Message):
    # The records store keys everything on it (records.tables.CODE).
    code: str = Field(min_length=1, max_length=100)
    procedure: ProcedureVersion
    applicant: Applicant
    receiving_unit: Unit
    handling_unit: Unit
    documents: tuple[SubmittedDocument, ...] = ()
    channel: Channel = Channel.COUNTER
    received_by: Actor
    received_at: AwareDatetime
    due_at: AwareDatetime
    # The counter's request id, so a resubmission can find this dossier again.
    request_id: str | None = None
    # How far an apology's new appointment may lie, in working days (workflows.dossier_apology).
    apology_max_working_days: int = Field(default=APOLOGY_MAX_WORKING_DAYS, ge=1, le=250)
    # The procedure's case the counter selected (its time limit gave due_at), if any.
    case: str | None = None
    # Set when an operator entered a receipt dated in the past: why (recorded in the timeline).
    backfill_reason: str | None = None
    # Continue-as-new once history passes this many events (Temporal caps it at 51,200).
    continue_as_new_after_events: int = Field(default=5000, ge=50)
    # Set only when the workflow continues as new: the state it carries over.
    carried_state: DossierState | None = None


class ActionInput(_Message):
    actor: Actor
    action_id: str = Field(min_length=1, max_length=100)


class CompleteStepInput(ActionInput):
    step_id: str = Field(min_length=1, max_length=64)
    note: str = Field(default="", max_length=2000)


class RequestSupplementInput(ActionInput):
    reason: str = Field(min_length=1, max_length=2000)
    documents: tuple[DocumentName, ...] = Field(
        min_length=1, max_length=MAX_LIST_ITEMS, description="names of the documents asked for"
    )


class SupplementInput(ActionInput):
    documents: tuple[DocumentName, ...] = Field(
        min_length=1, max_length=MAX_LIST_ITEMS, description="names of the documents provided"
    )


class RequestPaymentInput(ActionInput):
    amount_vnd: MoneyVnd
    reason: str = Field(default="", max_length=2000)


class ConfirmPaymentInput(ActionInput):
    amount_vnd: MoneyVnd
    receipt_number: str = Field(min_length=1, max_length=100)


class RefuseInput(ActionInput):
    reason: str = Field(min_length=1, max_length=2000)


class WithdrawInput(ActionInput):
    reason: str = Field(default="applicant's request", max_length=2000)


class ApologyInput(ActionInput):
    reason: str = Field(min_length=1, max_length=2000)
    new_due_at: Instant


class ReturnResultInput(ActionInput):
    channel: Channel = Channel.COUNTER


class TransferActor(StrEnum):
    """Who moves a dossier to another authority: the carryover itself or an operator."""

    SYSTEM = "system"
    OPERATOR = "operator"


class TransferInput(_Message):
    """Carry the dossier over to the authority that took over the function (Res. 190/2025 Art. 5).

    Not a human step: no officer role is checked. The same transfer id has one effect, also
    after continue-as-new, so a retried or repeated carryover never moves a dossier twice.
    """

    transfer_id: str = Field(min_length=1, max_length=200)
    to_unit: Unit | None = None
    # Instead of to_unit, for a district's dossiers: the successor per pre-2025 commune of the
    # applicant's address, which only the workflow holds (so the address never leaves it).
    to_unit_by_commune: dict[str, Unit] = Field(default_factory=dict)
    # The counter for the receiving-side steps, when the one of receipt was abolished too:
    # one unit, or one per pre-2025 commune of the applicant's address. Empty: unchanged.
    to_receiving_unit: Unit | None = None
    to_receiving_unit_by_commune: dict[str, Unit] = Field(default_factory=dict)
    # Transfer only from this unit: a dossier that moved meanwhile is left alone (no-op).
    from_unit: str | None = None
    reason: str = Field(default="", max_length=2000)
    actor: TransferActor = TransferActor.SYSTEM
    actor_id: str = Field(
        default="system", min_length=1, max_length=64, description="operator id or 'system'"
    )

    @model_validator(mode="after")
    def _one_destination(self) -> TransferInput:
        if (self.to_unit is None) == (not self.to_unit_by_commune):
            raise ValueError("give either to_unit or to_unit_by_commune")
        return self


# Each human action by the name its update, the API's route and the CLI give it: refusals say
# `confirm_payment`, never the input model's class name.
ACTION_NAMES: dict[type[ActionInput], str] = {
    CompleteStepInput: "complete_step",
    RequestSupplementInput: "request_supplement",
    SupplementInput: "supplement",
    RequestPaymentInput: "request_payment",
    ConfirmPaymentInput: "confirm_payment",
    RefuseInput: "refuse",
    WithdrawInput: "withdraw",
    ApologyInput: "issue_apology",
    ReturnResultInput: "return_result",
}
# The same map the other way: each update's name and the model of its input.
ACTION_INPUTS: dict[str, type[ActionInput]] = {name: model for model, name in ACTION_NAMES.items()}
