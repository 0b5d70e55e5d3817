"""Partner agencies of interlinked groups behind one interface, one adapter per agency.

Police and social insurance run systems of their own. A member of a group handed to such an
agency is submitted to it and its outcome read back through `PartnerAgency`; in this project an
agency's part is done by its officers in this engine (`EngineOfficers`), and `HttpPartnerAgency`
speaks the interface's HTTP form to a partner service (tested against a stand-in, so that a real
system can be plugged in later by configuration). Not yet called by GroupWorkflow
(docs/groups.md, "Not done yet").

The HTTP form: `PUT /submissions/{member_code}` with a `PartnerSubmission` (idempotent: the
same code again answers the first submission's reference), `GET /submissions/{reference}`
answering a `PartnerOutcome`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

import httpx
from pydantic import BaseModel, Field

__all__ = [
    "EngineOfficers",
    "HttpPartnerAgency",
    "PartnerAgency",
    "PartnerDirectory",
    "PartnerError",
    "PartnerOutcome",
    "PartnerState",
    "PartnerSubmission",
]


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
    def from_urls(cls, urls: dict[str, str]) -> PartnerDirectory:
        """`{"commune_police": "https://…"}`: agencies (procedures.groups.MemberAgency values)
        whose part a partner system does."""
        return cls({agency: HttpPartnerAgency(url) for agency, url in urls.items() if url})

    def adapter(self, agency: str) -> PartnerAgency:
        return self._systems.get(agency) or EngineOfficers()
