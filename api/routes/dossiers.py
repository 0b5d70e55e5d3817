"""Dossiers: receive one at a counter, read one, act on one, issue its lookup secret again.

Every write is checked twice: here against the token's officer and the dossier's view (a
refusal is logged and costs no update), then by the workflow's validator, the last word.
"""

# No `from __future__ import annotations`: FastAPI reads the generated body models from the
# handlers' annotations, which must be real classes, not strings. Built at import time
# (api.bodies), they are variables to mypy, which sees neither them as types nor their fields:
# hence the `type: ignore`s on the lines that read a body.

from typing import Any

from fastapi import APIRouter, Depends, Header, Path, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from api.bodies import ACTION_BODIES, ReceiveBody
from api.deps import Services, current_officer, services
from api.errors import ApiError, refused
from intake.forms import IntakeOutcome, IntakeRequest, ReceiptSlip
from intake.service import IntakeForbidden, RequestIdConflict, StartOutcomeUnknown
from model.dossier_inputs import ACTION_INPUTS, Actor
from model.dossier_view import DossierView
from model.input_bounds import DOSSIER_CODE_PATTERN, amount_over
from officers.acting import MISSING_ACTION_ID, ActionForbidden, MissingActionId, action_input
from officers.acting import act as act_as
from officers.acting import read as read_dossier
from officers.lookup_secret import REASON, ReissueLookupSecretInput, reissue_lookup_secret
from officers.policy import may_receive
from records.dossier_codes import CounterBusy
from records.lookup_secrets import LookupSecrets, ReissueKeyUsed
from workflows.dossier import DossierWorkflow

__all__ = ["CODE", "IDEMPOTENCY_KEY", "perform", "router"]

router = APIRouter(prefix="/dossiers", tags=["dossiers"])

CODE = Path(
    min_length=1,
    max_length=100,
    pattern=DOSSIER_CODE_PATTERN,
    description="the dossier code, e.g. 000.00004.01.H01-261207-0001",
)
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid bearer token"},
    403: {"description": "WrongRole or WrongUnit: not this officer's to do"},
    404: {"description": "UnknownDossier: no such dossier, or none this officer may read"},
    502: {"description": "TemporalError or UpdateFailed: Temporal or the dossier's workflow failed"},
    503: {"description": "TemporalUnavailable: Temporal unreachable"},
}

IDEMPOTENCY_KEY = Header(
    default=None,
    alias="Idempotency-Key",
    min_length=1,
    max_length=100,
    description="the action's idempotency key, instead of action_id in the body",
)


@router.post(
    "",
    status_code=201,
    response_model=IntakeOutcome,
    summary="receive a dossier at the officer's counter",
    responses={
        200: {"description": "form 01 again: this request_id was received before"},
        201: {"description": "form 01: received; the receipt and appointment slip"},
        403: {
            "description": "WrongRole or WrongUnit: not this officer's to receive (a backfill needs operator)"
        },
        409: {
            "description": "RequestIdConflict: this request_id was used at this counter for another request"
        },
        422: {
            "description": "form 02 (documents missing) or 03 (refused), or a ValidationError",
            "content": {
                "application/json": {
                    "schema": {
                        "oneOf": [
                            {"$ref": "#/components/schemas/SupplementNotice"},
                            {"$ref": "#/components/schemas/RefusalNotice"},
                        ]
                    }
                }
            },
        },
        503: {
            "description": "StartOutcomeUnknown (Temporal did not confirm the start; the code is reserved:"
            " send the same request again), CounterBusy, or TemporalUnavailable"
        },
        **{k: v for k, v in _ERRORS.items() if k not in (403, 404, 503)},
    },
)
async def receive(
    body: ReceiveBody,  # type: ignore[valid-type]
    response: Response,
    officer: Actor = Depends(current_officer),
    deps: Services = Depends(services),
) -> Any:
    unit = body.receiving_unit or officer.unit  # type: ignore[attr-defined]
    refusal = may_receive(officer, unit)
    if refusal is not None:
        raise refused(officer, "receive", refusal.type.value, refusal.reason)
    fields = body.model_dump(exclude={"receiving_unit"})  # type: ignore[attr-defined]
    request = IntakeRequest(**fields, receiving_unit=unit, received_by=officer)
    try:
        outcome = await deps.intake.receive(request)
    except IntakeForbidden as err:
        raise refused(officer, "receive", err.error_type, str(err)) from err
    except RequestIdConflict as err:
        raise ApiError(409, "RequestIdConflict", str(err)) from err
    except (StartOutcomeUnknown, CounterBusy) as err:
        raise ApiError(503, type(err).__name__, str(err), {"Retry-After": "5"}) from err
    if isinstance(outcome, ReceiptSlip):
        response.status_code = 200 if outcome.resubmitted else 201
        response.headers["Location"] = f"{router.prefix}/{outcome.dossier_code}"
    else:
        response.status_code = 422  # not received: the form says what to bring or why not
    return outcome


@router.get(
    "/{code}",
    summary="a dossier's state and timeline",
    responses={k: v for k, v in _ERRORS.items() if k != 403},
)
async def get_dossier(
    code: str = CODE, officer: Actor = Depends(current_officer), deps: Services = Depends(services)
) -> DossierView:
    try:
        return await read_dossier(deps.client, officer, code)
    except ActionForbidden as err:
        # Logged with its reason, answered as an unknown code: codes are sequential, and a
        # 403 naming the units would let anyone list the dossiers and where they are.
        refused(officer, "read", err.refusal.type.value, err.refusal.reason, code)
        raise ApiError(404, "UnknownDossier", f"no dossier {code}") from err


class LookupSecretBody(BaseModel):
    """A new lookup secret for a lost slip: why (required, kept for auditors), and the key."""

    reason: REASON = Field(description="why, e.g. 'mất phiếu hẹn, đã kiểm tra CCCD'")
    action_id: str | None = Field(
        default=None, min_length=1, max_length=100, description="idempotency key (or the header)"
    )


@router.post(
    "/{code}/lookup-secret",
    response_model=ReceiptSlip,
    summary="issue a new lookup secret for a lost slip: form 01 reprinted with it",
    responses={
        **_ERRORS,
        200: {
            "description": "form 01 reprinted with a new lookup_secret (the old one no longer works) and"
            " reissued_at; the same key again within 10 minutes: another new secret, one record"
        },
        400: {"description": "MissingActionId or ActionIdConflict: no idempotency key, or two that differ"},
        403: {"description": "WrongRole or WrongUnit: only the counter of the dossier's receiving unit"},
        404: {"description": "UnknownDossier"},
        409: {"description": "ActionIdReused: this key issued a secret for this dossier long ago"},
        422: {"description": "ValidationError: reason missing or empty"},
    },
)
async def new_lookup_secret(
    body: LookupSecretBody,
    code: str = CODE,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
    officer: Actor = Depends(current_officer),
    deps: Services = Depends(services),
) -> ReceiptSlip:
    action = "reissue_lookup_secret"
    if body.action_id and idempotency_key and body.action_id != idempotency_key:
        raise refused(
            officer, action, "ActionIdConflict", "action_id and the Idempotency-Key header differ", code
        )
    action_id = body.action_id or idempotency_key
    if not action_id:
        raise refused(
            officer,
            action,
            MISSING_ACTION_ID,
            "give action_id in the body or an Idempotency-Key header",
            code,
        )
    request = ReissueLookupSecretInput(actor=officer, action_id=action_id, reason=body.reason)
    secrets = LookupSecrets(deps.records.engine, deps.records.sessions)
    try:
        done = await reissue_lookup_secret(deps.client, secrets, code, request)
    except ActionForbidden as err:
        raise refused(officer, action, err.refusal.type.value, err.refusal.reason, code) from err
    except ReissueKeyUsed as err:
        raise refused(officer, action, "ActionIdReused", str(err), code) from err
    return await deps.intake.reprinted_slip(code, done.secret, done.reissued_at, done.view.due_at)


def _handle(deps: Services, code: str) -> WorkflowHandle:
    return deps.client.get_workflow_handle_for(DossierWorkflow.run, code)


async def perform(deps: Services, officer: Actor, code: str, action: str, request: Any) -> DossierView:
    """Do `action` (`officers.acting.act`) and answer its refusals in the API's terms."""
    try:
        return await act_as(deps.client, code, action, request)
    except ActionForbidden as err:
        raise refused(officer, action, err.refusal.type.value, err.refusal.reason, code) from err
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type:
            raise refused(officer, action, cause.type, cause.message, code) from err
        raise ApiError(
            502, "UpdateFailed", f"the dossier's workflow failed the update ({type(cause).__name__})"
        ) from err


def _action_route(action: str, body_model: type[BaseModel]) -> None:
    model = ACTION_INPUTS[action]

    async def act(
        body: body_model,  # type: ignore[valid-type]
        code: str = CODE,
        idempotency_key: str | None = IDEMPOTENCY_KEY,
        officer: Actor = Depends(current_officer),
        deps: Services = Depends(services),
    ) -> DossierView:
        action_id = body.action_id or idempotency_key  # type: ignore[attr-defined]
        if body.action_id and idempotency_key and body.action_id != idempotency_key:  # type: ignore[attr-defined]
            raise refused(
                officer,
                action,
                "ActionIdConflict",
                f"action_id {body.action_id!r} and the Idempotency-Key header {idempotency_key!r} differ;"  # type: ignore[attr-defined]
                " send one key, or the same in both",
                code,
            )
        try:
            request = action_input(officer, action, action_id, **body.model_dump(exclude={"action_id"}))  # type: ignore[attr-defined]
        except MissingActionId as err:
            raise refused(
                officer,
                action,
                MISSING_ACTION_ID,
                f"{err}: give action_id in the body or an Idempotency-Key header",
                code,
            ) from err
        too_much = amount_over(request, deps.settings.max_amount_vnd)
        if too_much is not None:
            raise RequestValidationError(
                [{"loc": ("body", "amount_vnd"), "msg": too_much, "type": "less_than_equal"}]
            )
        return await perform(deps, officer, code, action, request)

    act.__name__ = action
    router.add_api_route(
        f"/{{code}}/actions/{action}",
        act,
        methods=["POST"],
        summary=f"{action.replace('_', ' ')} ({model.__name__})",
        responses={
            **_ERRORS,
            400: {
                "description": "MissingActionId or ActionIdConflict: no idempotency key, or two that differ"
            },
            409: {"description": "WrongState or ActionIdReused"},
            422: {"description": "ValidationError, UnknownStep or InvalidRequest"},
        },
    )


for _action, _body in ACTION_BODIES.items():
    _action_route(_action, _body)
