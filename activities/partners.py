"""Partner agencies of interlinked groups behind one interface, one adapter per agency.

Police and social insurance run systems of their own. A member of a group handed to such an
agency is submitted to it and its outcome read back through `PartnerAgency`; in this project an
agency's part is done by its officers in this engine (`EngineOfficers`), and `HttpPartnerAgency`
speaks the interface's HTTP form to a partner service (tested against a stand-in, so that a real
system can be plugged in later by configuration: runtime.partner_settings). GroupWorkflow hands a
member whose agency has a system to it through `PartnerActivities`: `submit_to_partner` once
(idempotent by member code, so a retry after a lost answer submits nothing new), then
`partner_outcome`, which fails as `PartnerPending` while the agency has not decided, so that
Temporal's retry policy is the polling schedule (docs/groups.md, "Members done by a partner's
system").

The HTTP form: `PUT /submissions/{member_code}` with a `PartnerSubmission` (idempotent: the
same code again answers the first submission's reference), `GET /submissions/{reference}`
answering a `PartnerOutcome`. A 4xx answer is the partner rejecting the call for good
(`PartnerRejected`, not retried: the group settles the member as refused by that agency), except
401/403 (our token: an operator fixes it), 405, and 404 to the submission (not the interface:
the configured URL), 408, 425 and 429 (a timeout, too early, throttled): those, 5xx, no answer
and answers outside the interface are `PartnerError`, retried as an outage.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, Protocol

import httpx
import structlog
from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from runtime.partner_settings import PartnerSettings

__all__ = [
    "PARTNER_PENDING",
    "PARTNER_REJECTED",
    "REASON_MAX_CHARS",
    "RETRIED_CLIENT_ERRORS",
    "SUBMISSION_RETRIED_CLIENT_ERRORS",
    "EngineOfficers",
    "HttpPartnerAgency",
    "PartnerActivities",
    "PartnerAgency",
    "PartnerDirectory",
    "PartnerError",
    "PartnerOutcome",
    "PartnerOutcomeInput",
    "PartnerRejected",
    "PartnerState",
    "PartnerSubmission",
    "SubmitToPartnerInput",
    "SubmitToPartnerResult",
    "rejection_details",
]

log = structlog.get_logger(__name__)
# The error type of an outcome not decided yet: retried on the group's polling schedule.
PARTNER_PENDING = "PartnerPending"
# The error type of a call the partner's system rejects for good: not retried.
PARTNER_REJECTED = "PartnerRejected"
# 4xx answers that are not a verdict on the submission, retried as an outage: our token or a URL
# that is not the interface (405: an operator fixes the configuration), a request timeout, too
# early, throttled.
RETRIED_CLIENT_ERRORS = frozenset({401, 403, 405, 408, 425, 429})
# The submission's PUT creates its resource, so a 404 to it is no verdict on the member: the
# configured URL is not the interface (a typo in PARTNER_SYSTEMS). Retried until an operator fixes
# it, rather than refusing every citizen's member sent there. A 404 to the outcome's GET is one:
# the system lost a reference it gave.
SUBMISSION_RETRIED_CLIENT_ERRORS = RETRIED_CLIENT_ERRORS | {404}
# The partner's reason as carried and logged; the most of a rejection's body ever read.
REASON_MAX_CHARS = 300
_REJECTION_BODY_MAX_BYTES = 16_384


class PartnerSubmission(BaseModel):
    """A member handed to its agency: no personal data beyond what the agency's part needs."""

    member_code: str = Field(min_length=1, max_length=100)
    group_code: str
    procedure_code: str
    handling_unit: str
    # Results of the members this one needs, by reference (their dossier codes).
    results: dict[str, str] = Field(default_factory=dict)
    documents: tuple[str, ...] = ()


class PartnerState(StrEnum):
    ACCEPTED = "accepted"
    PROCESSED = "processed"
    REFUSED = "refused"


class PartnerOutcome(BaseModel):
    reference: str
    state: PartnerState
    reason: str = ""
    result_reference: str | None = None


class PartnerError(Exception):
    """The partner's system answered something other than the interface's answers, or nothing.
    Retried: an outage, a throttle or a configuration an operator fixes."""


class PartnerRejected(ApplicationError):
    """The partner's system rejected the call for good (an HTTP 4xx not in
    RETRIED_CLIENT_ERRORS): non-retryable, its details the status and the partner's reason."""

    def __init__(self, call: str, status: int, reason: str) -> None:
        message = f"{call}: HTTP {status} rejected" + (f": {reason}" if reason else "")
        super().__init__(message, status, reason, type=PARTNER_REJECTED, non_retryable=True)
        self.status = status
        self.reason = reason


def rejection_details(details: Sequence[Any]) -> tuple[Any, str]:
    """The HTTP status (None if missing) and the partner's reason ('' if none) that a
    PartnerRejected carries as its details, as the group and the auditors' history decode it."""
    status, reason = (list(details) + [None, ""])[:2]
    return status, reason or ""


def is_rejection(status: int, retried: frozenset[int] = RETRIED_CLIENT_ERRORS) -> bool:
    """Whether an HTTP status is the partner rejecting the call for good (`retried`: the 4xx
    that are not, for this call)."""
    return 400 <= status < 500 and status not in retried


def rejection_reason(body: bytes, content_type: str) -> str:
    """The partner's reason in a rejection's body (at most its first bytes were read): the JSON
    field `reason` (the interface's), `detail`, `message` or `error`, or a plain-text body; on
    one line, at most REASON_MAX_CHARS. Empty when the body has none."""
    text = ""
    try:
        data = json.loads(body)
    except ValueError:
        data = None
        if content_type.startswith("text/plain"):
            text = body.decode("utf-8", errors="replace")
    if isinstance(data, dict):
        for key in ("reason", "detail", "message", "error"):
            value = data.get(key)
            if value:
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                break
    text = " ".join(text.split())
    return text if len(text) <= REASON_MAX_CHARS else text[: REASON_MAX_CHARS - 1] + "…"


class PartnerAgency(Protocol):
    """What the engine asks of an agency's system for one member."""

    async def submit(self, submission: PartnerSubmission) -> str:
        """Hand the member over; its reference at the agency. Idempotent by member code."""
        ...

    async def outcome(self, reference: str) -> PartnerOutcome:
        """Where the member stands at the agency."""
        ...


class EngineOfficers:
    """The agency's officers work in this engine: the member's own dossier is the submission."""

    async def submit(self, submission: PartnerSubmission) -> str:
        return f"engine:{submission.member_code}"

    async def outcome(self, reference: str) -> PartnerOutcome:
        # Read from the member's dossier by its group, not from here.
        return PartnerOutcome(reference=reference, state=PartnerState.ACCEPTED)


class HttpPartnerAgency:
    """A partner system speaking the interface's HTTP form at `base_url`."""

    def __init__(self, base_url: str, *, timeout: float = 10, token: str | None = None) -> None:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(base_url=base_url, timeout=timeout, headers=headers)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def submit(self, submission: PartnerSubmission) -> str:
        response = await self._call(
            "PUT",
            f"/submissions/{submission.member_code}",
            submission.model_dump(),
            retried=SUBMISSION_RETRIED_CLIENT_ERRORS,
        )
        return PartnerOutcome.model_validate(response).reference

    async def outcome(self, reference: str) -> PartnerOutcome:
        return PartnerOutcome.model_validate(await self._call("GET", f"/submissions/{reference}", None))

    async def _call(
        self, method: str, path: str, body: dict | None, retried: frozenset[int] = RETRIED_CLIENT_ERRORS
    ) -> dict:
        call = f"{method} {path}"
        try:
            async with self._http.stream(method, path, json=body) as response:
                status = response.status_code
                if is_rejection(status, retried):
                    reason = rejection_reason(await _head(response), response.headers.get("content-type", ""))
                    raise PartnerRejected(call, status, reason)
                if status not in (200, 201):
                    raise PartnerError(f"{call}: HTTP {status}")
                content = await response.aread()
        except httpx.HTTPError as err:
            raise PartnerError(f"{call}: {type(err).__name__}") from err
        try:
            return json.loads(content)
        except ValueError as err:
            raise PartnerError(f"{call}: not JSON") from err


async def _head(response: httpx.Response) -> bytes:
    """At most the first _REJECTION_BODY_MAX_BYTES of a body: a huge one is never read whole."""
    head = b""
    async for chunk in response.aiter_bytes():
        head += chunk
        if len(head) >= _REJECTION_BODY_MAX_BYTES:
            break
    return head[:_REJECTION_BODY_MAX_BYTES]


class PartnerDirectory:
    """The adapter for each agency kind: a partner system where one is configured, else the
    engine's own officers."""

    def __init__(self, systems: dict[str, PartnerAgency] | None = None) -> None:
        self._systems = systems or {}

    @classmethod
    def from_urls(cls, urls: dict[str, str], token: str | None = None) -> PartnerDirectory:
        """`{"commune_police": "https://…"}`: agencies (procedures.groups.MemberAgency values)
        whose part a partner system does."""
        return cls({agency: HttpPartnerAgency(url, token=token) for agency, url in urls.items() if url})

    @classmethod
    def from_settings(cls, settings: PartnerSettings) -> PartnerDirectory:
        return cls.from_urls(dict(settings.systems), settings.token)

    def adapter(self, agency: str) -> PartnerAgency:
        return self._systems.get(agency) or EngineOfficers()

    def system(self, agency: str) -> PartnerAgency | None:
        """The agency's own system, None when its officers work in this engine."""
        return self._systems.get(agency)


class SubmitToPartnerInput(BaseModel):
    agency: str  # the agency kind whose system takes the member
    submission: PartnerSubmission


class SubmitToPartnerResult(BaseModel):
    reference: str


class PartnerOutcomeInput(BaseModel):
    agency: str
    member_code: str
    reference: str


class PartnerActivities:
    """The group's calls to partners' systems, each through the agency's adapter."""

    def __init__(self, directory: PartnerDirectory) -> None:
        self._directory = directory

    @activity.defn
    async def submit_to_partner(self, request: SubmitToPartnerInput) -> SubmitToPartnerResult:
        """Hand one member to its agency's system; the same member again answers the same
        reference. A system down or not configured fails the attempt, retried."""
        system = self._system(request.agency)
        try:
            reference = await system.submit(request.submission)
        except PartnerRejected as err:
            _log_rejection(
                err,
                "submission",
                request.submission.member_code,
                request.agency,
                group_code=request.submission.group_code,
            )
            raise
        log.info(
            "member submitted to partner",
            member_code=request.submission.member_code,
            group_code=request.submission.group_code,
            agency=request.agency,
            reference=reference,
        )
        return SubmitToPartnerResult(reference=reference)

    @activity.defn
    async def partner_outcome(self, request: PartnerOutcomeInput) -> PartnerOutcome:
        """The agency's decision on the member; `PartnerPending` (retried on the group's polling
        schedule, logged as benign) while it has none."""
        try:
            outcome = await self._system(request.agency).outcome(request.reference)
        except PartnerRejected as err:
            _log_rejection(err, "outcome", request.member_code, request.agency, reference=request.reference)
            raise
        if outcome.state is PartnerState.ACCEPTED:
            raise ApplicationError(
                f"{request.member_code} is not decided yet at {request.agency}",
                type=PARTNER_PENDING,
                category=ApplicationErrorCategory.BENIGN,
            )
        log.info(
            "partner decided member",
            member_code=request.member_code,
            agency=request.agency,
            state=outcome.state.value,
        )
        return outcome

    def _system(self, agency: str) -> PartnerAgency:
        system = self._directory.system(agency)
        if system is None:
            # Configuration changed since the group was received: retried until it is back.
            raise PartnerError(f"no system configured for {agency} (PARTNER_SYSTEMS)")
        return system


def _log_rejection(err: PartnerRejected, call: str, member_code: str, agency: str, **fields: str) -> None:
    log.warning(
        "partner rejected member",
        call=call,
        member_code=member_code,
        agency=agency,
        status=err.status,
        reason=err.reason,
        **fields,
    )
