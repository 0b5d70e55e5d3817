"""Online submission and satisfaction: what an online public-service client calls.

The client holds a token with the `online_service` role (it has identified the applicant, e.g.
through VNeID); it uploads each document's file by its hash, submits the dossier with an
idempotency key, and sends the applicant's completion when the counter asks for one. The
rating is the applicant's own: the dossier's code and the applicant's personal ID are its
lookup credential, and no token is needed.
"""

# No `from __future__ import annotations`: FastAPI reads the body models from the annotations.

import asyncio
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from api.bodies import body_of
from api.deps import Services, requires_role, services
from api.errors import ApiError, refused
from api.routes.dossiers import CODE, perform
from intake.document_files import ACCEPTED_TYPES, FileRejected
from intake.forms import ApplicantAtCounter, IntakeRequest, RefusalNotice, SupplementNotice
from intake.group_forms import GroupRequest
from intake.online import (
    MissingFiles,
    NotReturned,
    OnlineGroupRegistration,
    OnlineIntake,
    OnlineRegistration,
    is_applicant,
    missing_files,
    rate_returned,
)
from intake.service import IntakeForbidden, RequestIdConflict, StartOutcomeUnknown
from model.dossier_inputs import Actor, SubmittedDocument
from model.dossier_view import DossierView
from model.input_bounds import MAX_LIST_ITEMS, PersonalId
from officers.acting import ActionForbidden, action_input
from officers.groups import NotAGroup, act_on_group
from procedures.models import Channel, Role
from records.dossier_codes import CounterBusy
from records.ratings import AlreadyRated, Rating, RatingInput
from workflows.group_models import GroupCompleteOnlineInput, GroupView

__all__ = ["router"]

router = APIRouter(prefix="/online", tags=["online"])
online_service = requires_role(Role.ONLINE_SERVICE)

FILE_STATUS = {
    "FileTooLarge": 413,
    "UnsupportedFileType": 415,
    "HashMismatch": 422,
    "EmptyFile": 422,
    "InvalidReference": 422,
}
REQUIRED_KEY = Header(
    alias="Idempotency-Key",
    min_length=1,
    max_length=100,
    description="your key for this submission (required): sent again with the same content, it"
    " answers the same dossier; with other content, 409",
)
SHA256 = PathParam(pattern=r"^[0-9a-f]{64}$", description="the file's SHA-256, 64 lowercase hex digits")
_BY_TOKEN: dict[int | str, dict[str, Any]] = {
    401: {"description": "no valid bearer token"},
    403: {"description": "WrongRole: the token is not an online service's"},
}


class StoredFileAnswer(BaseModel):
    reference: str  # what a document's `reference` names: sha256:<hex>
    size: int
    content_type: str


@router.put(
    "/files/{sha256}",
    status_code=201,
    summary="upload a document's file, named by its SHA-256",
    responses={
        200: {"description": "the same content was already stored"},
        201: {"description": "stored"},
        413: {"description": "FileTooLarge (ONLINE_FILE_MAX_BYTES) or BodyTooLarge"},
        415: {"description": "UnsupportedFileType: not a PDF, JPEG or PNG, or not what it says it is"},
        422: {"description": "HashMismatch (the content's SHA-256 is not the name), EmptyFile"},
        **_BY_TOKEN,
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {kind: {"schema": {"type": "string", "format": "binary"}} for kind in ACCEPTED_TYPES},
        }
    },
)
async def upload_file(
    request: Request,
    response: Response,
    sha256: str = SHA256,
    content_type: str = Header(default="", alias="Content-Type", max_length=200),
    officer: Actor = Depends(online_service),
    deps: Services = Depends(services),
) -> StoredFileAnswer:
    content = await request.body()
    files = _online(deps).files
    try:
        # Hashing and writing megabytes: off the event loop.
        stored = await asyncio.to_thread(files.store, content, content_type, sha256)
    except FileRejected as err:
        refused(officer, "upload_file", err.kind, str(err))  # logged with who and why
        raise ApiError(FILE_STATUS[err.kind], err.kind, str(err)) from err
    response.status_code = 201 if stored.created else 200
    return StoredFileAnswer(reference=stored.reference, size=stored.size, content_type=stored.content_type)


OnlineSubmissionBody = body_of(
    IntakeRequest,
    "OnlineSubmissionBody",
    frozenset({"received_by", "channel", "received_at", "backfill_reason", "request_id"}),
)


@router.post(
    "/dossiers",
    status_code=201,
    response_model=OnlineRegistration | SupplementNotice | RefusalNotice,
    summary="submit a dossier online: status 1, waiting for the counter's check",
    responses={
        200: {"description": "the same submission again (same key, same content): the same dossier"},
        201: {"description": "registered online (status 1); `Location` is the dossier"},
        409: {"description": "RequestIdConflict: this key was used for another submission to this unit"},
        422: {
            "description": "form 02 (documents missing) or 03 (refused), or a ValidationError (a document"
            " without its stored file names `documents.N.reference`)"
        },
        503: {"description": "StartOutcomeUnknown or CounterBusy: send the same submission again"},
        **_BY_TOKEN,
    },
)
async def submit(
    body: OnlineSubmissionBody,  # type: ignore[valid-type]
    response: Response,
    idempotency_key: str = REQUIRED_KEY,
    officer: Actor = Depends(online_service),
    deps: Services = Depends(services),
) -> Any:
    fields = body.model_dump()  # type: ignore[attr-defined]
    request = IntakeRequest(**fields, channel=Channel.ONLINE, request_id=idempotency_key, received_by=officer)
    try:
        outcome = await _online(deps).submit(request)
    except MissingFiles as err:
        raise _validation(err) from err
    except IntakeForbidden as err:
        raise refused(officer, "submit_online", err.error_type, str(err)) from err
    except RequestIdConflict as err:
        raise ApiError(409, "RequestIdConflict", str(err)) from err
    except (StartOutcomeUnknown, CounterBusy) as err:
        raise ApiError(503, type(err).__name__, str(err), {"Retry-After": "5"}) from err
    if isinstance(outcome, OnlineRegistration):
        response.status_code = 200 if outcome.resubmitted else 201
        response.headers["Location"] = f"/dossiers/{outcome.dossier_code}"
    else:
        response.status_code = 422
    return outcome


class CompletionBody(BaseModel):
    """The documents the counter asked for, each with its uploaded file's reference."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    documents: tuple[SubmittedDocument, ...] = Field(min_length=1, max_length=MAX_LIST_ITEMS)


@router.post(
    "/dossiers/{code}/completion",
    summary="the applicant's online completion of what the counter asked for (form 02)",
    responses={
        404: {"description": "UnknownDossier"},
        409: {"description": "WrongState (nothing was asked) or ActionIdReused"},
        422: {"description": "ValidationError (a file not uploaded) or InvalidRequest (a document missing)"},
        502: {"description": "UpdateFailed or TemporalError"},
        503: {"description": "TemporalUnavailable"},
        **_BY_TOKEN,
    },
)
async def complete(
    body: CompletionBody,
    code: str = CODE,
    idempotency_key: str = REQUIRED_KEY,
    officer: Actor = Depends(online_service),
    deps: Services = Depends(services),
) -> DossierView:
    problems = missing_files(_online(deps).files, body.documents)
    if problems:
        raise _validation(MissingFiles(problems))
    request = action_input(officer, "complete_online", idempotency_key, documents=body.documents)
    return await perform(deps, officer, code, "complete_online", request)


class OnlineGroupBody(BaseModel):
    """An interlinked group submitted online: the group, the applicant, the counter the applicant
    chose, and each member's documents by the member's key, each with its uploaded file."""

    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    group_code: str = Field(min_length=1, max_length=32, description="e.g. LT296.01 (starter.py group list)")
    applicant: ApplicantAtCounter
    receiving_unit: str = Field(min_length=1, max_length=64, description="agency code of the counter")
    documents: dict[str, tuple[SubmittedDocument, ...]] = Field(default_factory=dict, max_length=10)


@router.post(
    "/groups",
    status_code=201,
    response_model=OnlineGroupRegistration | SupplementNotice | RefusalNotice,
    summary="submit an interlinked group online: status 1, no member starts before the counter's check",
    responses={
        200: {"description": "the same submission again (same key, same content): the same group"},
        201: {"description": "registered online (status 1); `Location` is the group"},
        409: {"description": "RequestIdConflict: this key was used for another submission to this unit"},
        422: {
            "description": "form 02 (documents missing) or 03 (refused), or a ValidationError (a document"
            " without its stored file names `documents.KEY.N.reference`)"
        },
        503: {"description": "CounterBusy: send the same submission again"},
        **_BY_TOKEN,
    },
)
async def submit_group(
    body: OnlineGroupBody,
    response: Response,
    idempotency_key: str = REQUIRED_KEY,
    officer: Actor = Depends(online_service),
    deps: Services = Depends(services),
) -> Any:
    request = GroupRequest(
        **body.model_dump(), channel=Channel.ONLINE, request_id=idempotency_key, received_by=officer
    )
    try:
        outcome = await _online(deps).submit_group(request)
    except MissingFiles as err:
        raise _validation(err) from err
    except IntakeForbidden as err:
        raise refused(officer, "submit_group_online", err.error_type, str(err)) from err
    except RequestIdConflict as err:
        raise ApiError(409, "RequestIdConflict", str(err)) from err
    except CounterBusy as err:
        raise ApiError(503, "CounterBusy", str(err), {"Retry-After": "5"}) from err
    if isinstance(outcome, OnlineGroupRegistration):
        response.status_code = 200 if outcome.resubmitted else 201
        response.headers["Location"] = f"/groups/{outcome.group_dossier_code}"
    else:
        response.status_code = 422
    return outcome


class GroupCompletionBody(BaseModel):
    """The documents the counter asked for, by member key, each with its uploaded file's reference."""

    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)

    documents: dict[str, tuple[SubmittedDocument, ...]] = Field(min_length=1, max_length=10)


@router.post(
    "/groups/{code}/completion",
    summary="the applicant's online completion of what the counter asked for a group (form 02)",
    responses={
        404: {"description": "UnknownDossier: no such group"},
        409: {"description": "WrongState (nothing was asked) or ActionIdReused"},
        422: {"description": "ValidationError (a file not uploaded) or InvalidRequest (not a member's key)"},
        502: {"description": "UpdateFailed or TemporalError"},
        503: {"description": "TemporalUnavailable"},
        **_BY_TOKEN,
    },
)
async def complete_group(
    body: GroupCompletionBody,
    code: str = CODE,
    idempotency_key: str = REQUIRED_KEY,
    officer: Actor = Depends(online_service),
    deps: Services = Depends(services),
) -> GroupView:
    problems = [
        (f"documents.{key}.{field.removeprefix('documents.')}", message)
        for key, documents in body.documents.items()
        for field, message in missing_files(_online(deps).files, documents)
    ]
    if problems:
        raise _validation(MissingFiles(problems))
    try:
        request = GroupCompleteOnlineInput(actor=officer, action_id=idempotency_key, documents=body.documents)
    except ValidationError as err:
        raise RequestValidationError(
            [{"loc": ("body", *e["loc"]), "msg": e["msg"], "type": e["type"]} for e in err.errors()]
        ) from err
    try:
        return await act_on_group(deps.client, code, request)
    except NotAGroup as err:
        raise ApiError(404, "UnknownDossier", str(err)) from err
    except ActionForbidden as err:
        raise refused(officer, "complete_online", err.refusal.type.value, err.refusal.reason, code) from err


class RatingBody(RatingInput):
    """A rating with its lookup credential: the applicant's personal ID (never stored with it)."""

    personal_id: PersonalId


@router.post(
    "/dossiers/{code}/rating",
    status_code=201,
    summary="the applicant rates the service once the result is returned (1-5, optional comment)",
    responses={
        200: {"description": "the same rating again: recorded once"},
        201: {"description": "recorded"},
        404: {"description": "UnknownDossier: no such dossier, or the personal ID is not its applicant's"},
        409: {"description": "NotReturned (no result returned yet) or AlreadyRated (another rating)"},
        429: {
            "description": "TooManyAttempts: 10 wrong codes or personal IDs from this address in 10"
            " minutes; `Retry-After` says when to try again"
        },
        503: {"description": "TemporalUnavailable"},
    },
)
async def rate_service(
    body: RatingBody,
    request: Request,
    response: Response,
    code: str = CODE,
    deps: Services = Depends(services),
) -> Rating:
    client = request.client.host if request.client else "unknown"
    limiter = deps.rating_limiter
    if limiter.blocked(client):
        refused(None, "rate", "TooManyAttempts", "failed rating attempts from this address", code)
        raise ApiError(
            429,
            "TooManyAttempts",
            "too many ratings with a wrong dossier code or personal ID from this address: try again later",
            {"Retry-After": str(limiter.retry_after(client))},
        )
    if not await is_applicant(deps.client, code, body.personal_id):
        # The same answer as for an unknown code: the credential must not be guessable per part.
        limiter.failed(client)
        refused(None, "rate", "UnknownDossier", "personal ID is not the applicant's", code)
        raise ApiError(404, "UnknownDossier", f"no dossier {code} for this applicant")
    rating = RatingInput(score=body.score, comment=body.comment)
    try:
        answer = await rate_returned(deps.client, deps.records, code, rating, datetime.now(UTC))
    except NotReturned as err:
        raise ApiError(409, "NotReturned", str(err)) from err
    except AlreadyRated as err:
        raise ApiError(409, "AlreadyRated", str(err)) from err
    response.status_code = 200 if answer.repeated else 201
    return answer


def _online(deps: Services) -> OnlineIntake:
    if deps.online is None:
        raise ApiError(503, "OnlineSubmissionOff", "online submission is not configured on this server")
    return deps.online


def _validation(err: MissingFiles) -> RequestValidationError:
    return RequestValidationError(
        [
            {
                "loc": ("body", *(int(p) if p.isdigit() else p for p in field.split("."))),
                "msg": message,
                "type": "missing_file",
            }
            for field, message in err.problems
        ]
    )
