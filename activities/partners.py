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
answering a `PartnerOutcome`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

import httpx
import structlog
from pydantic import BaseModel, Field
from temporalio import activity
from temporalio.exceptions import ApplicationError, ApplicationErrorCategory

from runtime.partner_settings import PartnerSettings

__all__ = [
    "PARTNER_PENDING",
    "EngineOfficers",
    "HttpPartnerAgency",
    "PartnerActivities",
    "PartnerAgency",
    "PartnerDirectory",
    "PartnerError",
    "PartnerOutcome",
    "PartnerOutcomeInput",
    "PartnerState",
    "PartnerSubmission",
    "SubmitToPartnerInput",
    "SubmitToPartnerResult",
]

log = structlog.get_logger(__name__)
# The error type of an outcome not decided yet: retried on the group's polling schedule.
PARTNER_PENDING = "PartnerPending"


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
    """The partner's system answered something other than the interface's answers, or nothing."""


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
        response = await self._call("PUT", f"/submissions/{submission.member_code}", submission.model_dump())
        return PartnerOutcome.model_validate(response).reference

    async def outcome(self, reference: str) -> PartnerOutcome:
        return PartnerOutcome.model_validate(await self._call("GET", f"/submissions/{reference}", None))

    async def _call(self, method: str, path: str, body: dict | None) -> dict:
        try:
            response = await self._http.request(method, path, json=body)
        except httpx.HTTPError as err:
            raise PartnerError(f"{method} {path}: {type(err).__name__}") from err
        if response.status_code not in (200, 201):
            raise PartnerError(f"{method} {path}: HTTP {response.status_code}")
        try:
            return response.json()
        except ValueError as err:
            raise PartnerError(f"{method} {path}: not JSON") from err


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
        reference = await system.submit(request.submission)
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
        outcome = await self._system(request.agency).outcome(request.reference)
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
