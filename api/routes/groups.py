"""Interlinked groups (liên thông): receive one at a counter, read one, check one submitted online,
withdraw it or return its result."""

# No `from __future__ import annotations`: FastAPI reads the body models from the annotations.

from typing import Any

from fastapi import APIRouter, Depends, Header, Path, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from temporalio.client import WorkflowUpdateFailedError

from api.deps import Services, current_officer, services
from api.errors import ApiError, refused
from intake.errors import RequestIdConflict
from intake.forms import ApplicantAtCounter, RefusalNotice, SupplementNotice
from intake.group_forms import GroupReceipt, GroupRequest
from intake.service import IntakeForbidden
from model.dossier_inputs import Actor, DocumentName, SubmittedDocument
from model.input_bounds import DOSSIER_CODE_PATTERN, MAX_LIST_ITEMS
from officers.acting import ActionForbidden
from officers.groups import GROUP_ACTIONS, NotAGroup, act_on_group, may_read_group, read_group
from officers.policy import may_receive
from procedures.models import Channel
from records.dossier_codes import CounterBusy
from workflows.group_models import GroupView

__all__ = ["router"]

router = APIRouter(prefix="/groups", tags=["groups"])

CODE = Path(min_length=1, max_length=100, pattern=DOSSIER_CODE_PATTERN, description="the group's code")
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid bearer token"},
    403: {"description": "WrongRole or WrongUnit: not this officer's to do"},
    404: {"description": "UnknownDossier: no such group, or none this officer may read"},
    502: {"description": "TemporalError or UpdateFailed: Temporal or the group's workflow failed"},
    503: {"description": "TemporalUnavailable: Temporal unreachable"},
}


class GroupReceiveBody(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    group_code: str = Field(min_length=1, max_length=32, description="e.g. LT296.01 (starter.py group list)")
    applicant: ApplicantAtCounter
    documents: dict[str, tuple[SubmittedDocument, ...]] = Field(default_factory=dict, max_length=10)
    channel: Channel = Channel.COUNTER
    request_id: str | None = Field(default=None, min_length=1, max_length=100)
    receiving_unit: str | None = Field(default=None, min_length=1, max_length=64)


class GroupActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    action_id: str | None = Field(default=None, min_length=1, max_length=100)
    reason: str | None = Field(
        default=None,
        max_length=2000,
        description="withdraw; request_online_completion and refuse_online (required there)",
    )
    channel: Channel | None = Field(default=None, description="return_result only")
    note: str | None = Field(default=None, max_length=2000, description="receive_online only")
    documents: tuple[DocumentName, ...] | None = Field(
        default=None,
        max_length=MAX_LIST_ITEMS,
        description="request_online_completion only (required there): the documents asked for",
    )


@router.post(
    "",
    status_code=201,
    response_model=GroupReceipt | SupplementNotice | RefusalNotice,
    summary="receive an interlinked group at the officer's counter: one receipt, one appointment",
    responses={
        200: {"description": "the receipt again: this request_id was received before"},
        409: {
            "description": "RequestIdConflict: this request_id was used at this counter for another request"
        },
        422: {"description": "form 02 (documents missing) or 03 (refused), or a ValidationError"},
        **{k: v for k, v in _ERRORS.items() if k != 404},
    },
)
async def receive_group(
    body: GroupReceiveBody,
    response: Response,
    officer: Actor = Depends(current_officer),
    deps: Services = Depends(services),
) -> Any:
    unit = body.receiving_unit or officer.unit
    refusal = may_receive(officer, unit)
    if refusal is not None:
        raise refused(officer, "receive_group", refusal.type.value, refusal.reason)
    request = GroupRequest(
        **body.model_dump(exclude={"receiving_unit"}), receiving_unit=unit, received_by=officer
    )
    try:
        assert deps.groups is not None  # create_app builds it
        outcome = await deps.groups.receive(request)
    except IntakeForbidden as err:
        raise refused(officer, "receive_group", err.error_type, str(err)) from err
    except RequestIdConflict as err:
        raise ApiError(409, "RequestIdConflict", str(err)) from err
    except CounterBusy as err:
        raise ApiError(503, "CounterBusy", str(err), {"Retry-After": "5"}) from err
    if isinstance(outcome, GroupReceipt):
        response.status_code = 200 if outcome.resubmitted else 201
        response.headers["Location"] = f"{router.prefix}/{outcome.group_dossier_code}"
    else:
        response.status_code = 422
    return outcome


@router.get("/{code}", summary="a group: every member's state, the group's timeline", responses=_ERRORS)
async def get_group(
    code: str = CODE, officer: Actor = Depends(current_officer), deps: Services = Depends(services)
) -> GroupView:
    try:
        view = await read_group(deps.client, code)
    except NotAGroup as err:
        raise ApiError(404, "UnknownDossier", str(err)) from err
    refusal = may_read_group(officer, view)
    if refusal is not None:
        refused(officer, "read_group", refusal.type.value, refusal.reason, code)
        raise ApiError(404, "UnknownDossier", f"no group {code}")
    return view


_ACTION_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    400: {"description": "MissingActionId: no idempotency key"},
    409: {"description": "WrongState or ActionIdReused"},
    422: {"description": "ValidationError"},
}


async def _act(
    action: str, body: GroupActionBody, code: str, idempotency_key: str | None, officer: Actor, deps: Services
) -> GroupView:
    action_id = body.action_id or idempotency_key
    if action_id is None:
        raise refused(
            officer,
            action,
            "MissingActionId",
            "give action_id in the body or an Idempotency-Key header",
            code,
        )
    model = GROUP_ACTIONS[action]
    # Only what this action takes; an empty reason is the withdrawal's default, as before.
    given = body.model_dump(exclude={"action_id"})
    fields = {name: v for name, v in given.items() if name in model.model_fields and v not in (None, "")}
    try:
        request = model(actor=officer, action_id=action_id, **fields)
    except ValidationError as err:
        raise RequestValidationError(
            [{"loc": ("body", *e["loc"]), "msg": e["msg"], "type": e["type"]} for e in err.errors()]
        ) from err
    try:
        return await act_on_group(deps.client, code, request)
    except NotAGroup as err:
        raise ApiError(404, "UnknownDossier", str(err)) from err
    except ActionForbidden as err:
        raise refused(officer, action, err.refusal.type.value, err.refusal.reason, code) from err
    except WorkflowUpdateFailedError as err:
        raise ApiError(502, "UpdateFailed", "the group's workflow failed the update") from err


IDEMPOTENCY_KEY = Header(default=None, alias="Idempotency-Key", min_length=1, max_length=100)


@router.post(
    "/{code}/actions/withdraw",
    summary="withdraw the group: every open member withdrawn, the waiting ones stopped",
    responses=_ACTION_RESPONSES,
)
async def withdraw_group(
    body: GroupActionBody,
    code: str = CODE,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
    officer: Actor = Depends(current_officer),
    deps: Services = Depends(services),
) -> GroupView:
    return await _act("withdraw", body, code, idempotency_key, officer, deps)


@router.post(
    "/{code}/actions/return_result",
    summary="return the group's result: every processed member's, one answer",
    responses=_ACTION_RESPONSES,
)
async def return_group_result(
    body: GroupActionBody,
    code: str = CODE,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
    officer: Actor = Depends(current_officer),
    deps: Services = Depends(services),
) -> GroupView:
    return await _act("return_result", body, code, idempotency_key, officer, deps)


_CHECK_RESPONSES: dict[int | str, dict[str, Any]] = {
    **_ACTION_RESPONSES,
    409: {"description": "WrongState (not waiting for the counter's check) or ActionIdReused"},
    422: {
        "description": "ValidationError (request_online_completion: reason and documents; refuse_online: reason)"
    },
}


@router.post(
    "/{code}/actions/receive_online",
    summary="receive a group submitted online (status 1): its clock and its first members start now",
    responses=_CHECK_RESPONSES,
)
async def receive_online_group(
    body: GroupActionBody,
    code: str = CODE,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
    officer: Actor = Depends(current_officer),
    deps: Services = Depends(services),
) -> GroupView:
    return await _act("receive_online", body, code, idempotency_key, officer, deps)


@router.post(
    "/{code}/actions/request_online_completion",
    summary="form 02 for a group submitted online: the applicant completes it online",
    responses=_CHECK_RESPONSES,
)
async def request_online_group_completion(
    body: GroupActionBody,
    code: str = CODE,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
    officer: Actor = Depends(current_officer),
    deps: Services = Depends(services),
) -> GroupView:
    return await _act("request_online_completion", body, code, idempotency_key, officer, deps)


@router.post(
    "/{code}/actions/refuse_online",
    summary="form 03 for a group submitted online: not received, no member ever starts",
    responses=_CHECK_RESPONSES,
)
async def refuse_online_group(
    body: GroupActionBody,
    code: str = CODE,
    idempotency_key: str | None = IDEMPOTENCY_KEY,
    officer: Actor = Depends(current_officer),
    deps: Services = Depends(services),
) -> GroupView:
    return await _act("refuse_online", body, code, idempotency_key, officer, deps)
