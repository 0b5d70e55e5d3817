"""Every error the API answers with, as one JSON shape: `{"type", "message", "problems"?}`.

From every layer: the routes' refusals, pydantic's validation, Starlette's own answers (unknown
route, wrong method, unparseable body) and anything unforeseen. Bad input is quoted by a short
prefix only. Refusals are logged here, once, with who asked, what, on which dossier and why.
"""

from __future__ import annotations

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from starlette.exceptions import HTTPException
from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError, RPCStatusCode

from model.dossier_inputs import Actor
from model.errors import ErrorType
from model.input_bounds import short
from officers.policy import log_refusal
from procedures.problems import plain_message
from runtime.temporal import is_unreachable

__all__ = ["ApiError", "ErrorBody", "REFUSAL_STATUS", "install_error_handlers", "refused"]

log = structlog.get_logger("api")

# The HTTP status of each refusal type of the workflow (and of the API's own pre-check).
REFUSAL_STATUS = {
    "Unauthenticated": 401,
    ErrorType.WRONG_ROLE.value: 403,
    ErrorType.WRONG_UNIT.value: 403,
    ErrorType.WRONG_STATE.value: 409,
    ErrorType.ACTION_ID_REUSED.value: 409,
    ErrorType.UNKNOWN_STEP.value: 422,
    ErrorType.INVALID_REQUEST.value: 422,
    # A state-changing call without one idempotency key (officers.acting).
    "MissingActionId": 400,
    "ActionIdConflict": 400,
    # Too many failed credentials from one address (api/limits.py).
    "TooManyAttempts": 429,
}


class Problem(BaseModel):
    """One thing wrong with a request, and where."""

    field: str
    message: str
    kind: str


class ErrorBody(BaseModel):
    """What every error answer carries: a type a client can act on and a sentence."""

    type: str
    message: str
    problems: list[Problem] | None = None


# Starlette's and FastAPI's own answers, by status, as error types.
_HTTP_TYPES = {
    400: "BadRequest",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "BodyTooLarge",
}


class ApiError(Exception):
    """An answer other than success: HTTP status, a type a client can act on, a message."""

    def __init__(self, status: int, type: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.type, self.message, self.headers = status, type, message, headers


def refused(
    officer: Actor | None, action: str, error_type: str, reason: str, dossier_code: str | None = None
) -> ApiError:
    """Log a refusal (who, what, which dossier, why) and return the error to raise."""
    status = REFUSAL_STATUS.get(error_type, 403)
    log_refusal(officer, action, error_type, reason, dossier_code, status=status)
    return ApiError(status, error_type, reason)


def _body(type: str, message: str, **more) -> dict:
    return {"type": type, "message": message, **more}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, err: ApiError) -> JSONResponse:
        return JSONResponse(_body(err.type, err.message), status_code=err.status, headers=err.headers)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, err: HTTPException) -> JSONResponse:
        # Unknown routes, wrong methods, and bodies FastAPI cannot parse (invalid UTF-8, a
        # 5,000-digit integer, nesting deeper than the parser's recursion limit).
        kind = _HTTP_TYPES.get(err.status_code, "HttpError")
        message = {
            400: "the request body is not valid JSON (UTF-8, integers under 4,300 digits, shallow nesting)",
            404: f"no route {short(request.url.path)}",
            405: f"{request.method} is not allowed on {short(request.url.path)}",
        }.get(err.status_code, short(str(err.detail), 200))
        return JSONResponse(_body(kind, message), status_code=err.status_code, headers=err.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, err: RequestValidationError) -> JSONResponse:
        problems = [
            {
                "field": _field(error["loc"]),
                "message": short(plain_message(error), 300),
                "kind": error["type"],
            }
            for error in err.errors()[:20]
        ]
        message = "; ".join(f"{p['field']}: {p['message']}" if p["field"] else p["message"] for p in problems)
        return JSONResponse(_body("ValidationError", message, problems=problems), status_code=422)

    @app.exception_handler(RPCError)
    async def _temporal(request: Request, err: RPCError) -> JSONResponse:
        code = request.path_params.get("code")
        if err.status is RPCStatusCode.NOT_FOUND and code is not None:
            return JSONResponse(_body("UnknownDossier", f"no dossier {code}"), status_code=404)
        if err.status in (RPCStatusCode.UNAVAILABLE, RPCStatusCode.DEADLINE_EXCEEDED):
            log.error("temporal unreachable", path=short(request.url.path, 200), error=str(err))
            return JSONResponse(
                _body("TemporalUnavailable", f"Temporal did not answer: {err.message}"),
                status_code=503,
                headers={"Retry-After": "5"},
            )
        log.error("temporal error", path=short(request.url.path, 200), status=err.status.name, error=str(err))
        return JSONResponse(_body("TemporalError", err.message), status_code=502)

    @app.exception_handler(WorkflowUpdateRPCTimeoutOrCancelledError)
    async def _update_timed_out(
        request: Request, err: WorkflowUpdateRPCTimeoutOrCancelledError
    ) -> JSONResponse:
        # The server did not answer the update in time (an overloaded server, a worker down):
        # whether it was applied is unknown, and sending it again with its action id is safe.
        log.error("temporal update timed out", path=short(request.url.path, 200))
        return JSONResponse(
            _body(
                "TemporalUnavailable",
                "Temporal did not answer in time; send the action again with its action_id",
            ),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    # A records store that cannot be reached (refused, unreachable, connection lost):
    # as Temporal's outage, a 503 to retry, never a 500. Seen when a worker host's link was cut.
    @app.exception_handler(OSError)
    @app.exception_handler(OperationalError)
    @app.exception_handler(InterfaceError)
    @app.exception_handler(DBAPIError)
    async def _records_unreachable(request: Request, err: Exception) -> JSONResponse:
        if isinstance(err, DBAPIError) and not isinstance(err, OperationalError | InterfaceError):
            if not err.connection_invalidated:
                return await _unforeseen(request, err)
        log.error(
            "records store unreachable", path=short(request.url.path, 200), error_type=type(err).__name__
        )
        return JSONResponse(
            _body("RecordsUnavailable", f"the records store did not answer ({type(err).__name__})"),
            status_code=503,
            headers={"Retry-After": "5"},
        )

    # RuntimeError on its own as well: handlers of Exception answer, then Starlette re-raises.
    @app.exception_handler(RuntimeError)
    @app.exception_handler(Exception)
    async def _unforeseen(request: Request, err: Exception) -> JSONResponse:
        if not is_unreachable(err):
            log.exception("internal error", path=short(request.url.path, 200), error_type=type(err).__name__)
            return JSONResponse(_body("InternalError", "internal error"), status_code=500)
        log.error("temporal unreachable", path=short(request.url.path, 200), error=str(err))
        return JSONResponse(
            _body("TemporalUnavailable", f"Temporal did not answer: {err}"),
            status_code=503,
            headers={"Retry-After": "5"},
        )


def _field(loc: tuple) -> str:
    # ("body", "applicant", "personal_id") -> "applicant.personal_id"; ("query", "limit") stays.
    parts = [short(str(part)) for part in loc]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts)
