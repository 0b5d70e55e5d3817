"""Receiving a dossier at a one-stop counter: check, number, start, answer with a form.

Nothing is started for a refused or incomplete request. A received dossier becomes one
DossierWorkflow whose id is its code. The code is reserved for the request's id, and
committed, before the start, and no database transaction is open during the call to
Temporal; so a start whose outcome is unknown (a network cut) keeps its code, and the same
request sent again starts or finds that very dossier: one request id, one dossier.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import ClassVar, Literal

import structlog
from pydantic import AwareDatetime, BaseModel
from temporalio.client import Client, WorkflowHandle
from temporalio.common import (
    SearchAttributePair,
    TypedSearchAttributes,
    WorkflowIDConflictPolicy,
    WorkflowIDReusePolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from adminunits import VN_TZ, AdminUnits, AgencyDirectory
from intake.checks import IntakeForbidden, IntakeReview, check_receipt_time, review_request, unit_of
from intake.errors import RequestIdConflict, StartOutcomeUnknown
from intake.forms import IntakeOutcome, IntakeRequest, ReceiptSlip, RefusalNotice, SupplementNotice
from procedures.calendar import WorkingCalendar
from procedures.catalogue import Catalogue, default_catalogue
from records.database import RecordsStore
from records.dossier_codes import Claim, DossierCodeAllocator
from workflows import search_attributes as sa
from workflows.dossier import DossierWorkflow
from workflows.dossier_inputs import DossierInput
from workflows.dossier_state import DossierStatus

__all__ = [
    "IntakeForbidden",
    "IntakeService",
    "IntakeTimeouts",
    "RequestIdConflict",
    "StartOutcomeUnknown",
    "UnsettledReceipt",
]

log = structlog.get_logger(__name__)
# A counter's clock may be a little ahead of the server's; more than this is a mistake.
CLOCK_TOLERANCE = timedelta(minutes=5)
# Temporal answers that leave the start's outcome unknown: the request may have been applied.
_UNKNOWN_OUTCOME = frozenset(
    {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.CANCELLED,
        RPCStatusCode.UNKNOWN,
        RPCStatusCode.INTERNAL,
        RPCStatusCode.ABORTED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
    }
)


@dataclass(frozen=True)
class IntakeTimeouts:
    """How long a receipt waits for Temporal, and how far back a receipt may be dated.

    `rpc` bounds each call; `settle` bounds the retries of a start whose outcome is unknown
    before the counter is told to send the request again; `backfill_tolerance` is how far in
    the past a receipt may be dated without an operator's backfill permission.
    """

    rpc: timedelta = timedelta(seconds=5)
    settle: timedelta = timedelta(seconds=20)
    backfill_tolerance: timedelta = timedelta(minutes=5)

    VARIABLES: ClassVar[dict[str, str]] = {
        "rpc": "INTAKE_RPC_TIMEOUT",
        "settle": "INTAKE_START_SETTLE_TIMEOUT",
        "backfill_tolerance": "INTAKE_BACKFILL_TOLERANCE",
    }

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> IntakeTimeouts:
        """From INTAKE_RPC_TIMEOUT, INTAKE_START_SETTLE_TIMEOUT, INTAKE_BACKFILL_TOLERANCE (seconds)."""
        values = {}
        for name, variable in cls.VARIABLES.items():
            text = env.get(variable)
            if not text:
                continue
            try:
                seconds = float(text)
            except ValueError:
                raise ValueError(f"{variable}: {text!r} is not a number of seconds") from None
            if seconds <= 0:
                raise ValueError(f"{variable}: {text!r} must be more than 0")
            values[name] = timedelta(seconds=seconds)
        return cls(**values)


class UnsettledReceipt(BaseModel):
    """A reserved code whose dossier's start was never confirmed, as Temporal sees it now."""

    receiving_unit: str
    request_id: str
    dossier_code: str
    received_at: AwareDatetime | None
    # started: found (this request's) and now confirmed; not_started: awaits the counter's
    # resend of the request; unknown: Temporal did not answer.
    state: Literal["started", "not_started", "unknown"]


class IntakeService:
    def __init__(
        self,
        client: Client,
        task_queue: str,
        allocator: DossierCodeAllocator,
        *,
        catalogue: Catalogue,
        units: AdminUnits,
        agencies: AgencyDirectory,
        calendar: WorkingCalendar,
        clock: Callable[[], datetime] | None = None,
        timeouts: IntakeTimeouts | None = None,
    ) -> None:
        self._client = client
        self._task_queue = task_queue
        self._allocator = allocator
        self._catalogue = catalogue
        self._units = units
        self._agencies = agencies
        self._calendar = calendar
        self._clock = clock or (lambda: datetime.now(VN_TZ))
        self._timeouts = timeouts or IntakeTimeouts()

    @classmethod
    def standard(
        cls,
        client: Client,
        task_queue: str,
        records: RecordsStore,
        *,
        catalogue: Catalogue | None = None,
        clock: Callable[[], datetime] | None = None,
        timeouts: IntakeTimeouts | None = None,
    ) -> IntakeService:
        """The service on the shipped catalogue, units and calendar; timeouts from the environment."""
        return cls(
            client,
            task_queue,
            DossierCodeAllocator(records.engine, records.sessions),
            catalogue=catalogue or default_catalogue(),
            units=AdminUnits.load(),
            agencies=AgencyDirectory.load(),
            calendar=WorkingCalendar.default(),
            clock=clock,
            timeouts=timeouts or IntakeTimeouts.from_env(),
        )

    async def receive(self, request: IntakeRequest) -> IntakeOutcome:
        """Form 01, 02 or 03 for `request`.

        Raises RequestIdConflict when the request id names another request at this counter,
        StartOutcomeUnknown when Temporal did not confirm the start in time (the code stays
        reserved: send the same request again), IntakeForbidden for a caller who may not.
        """
        now = self._clock()
        fingerprint = request.content_hash()
        unit = request.receiving_unit
        claim = await self._allocator.find(unit, request.request_id) if request.request_id else None
        while True:
            if claim is not None:
                _check_same_request(claim, request, fingerprint)
            # A claimed request keeps the receipt instant of its first submission.
            received_at = (
                claim.received_at if claim is not None and claim.received_at is not None
                else request.received_at or now
            ).astimezone(VN_TZ)
            review = review_request(request, received_at, self._catalogue, self._units, self._agencies)
            backfill_reason = None
            if claim is None:
                backfill_reason = check_receipt_time(
                    request, received_at, now, CLOCK_TOLERANCE, self._timeouts.backfill_tolerance, review.reasons
                )
            elif claim.started:
                return await self._slip_of_stored(claim.dossier_code)
            elif request.backfill_reason is not None:
                # A reservation resent: its instant was accepted at the first submission; a
                # backfill keeps its reason on the dossier (and still needs an operator).
                backfill_reason = check_receipt_time(
                    request, received_at, now, CLOCK_TOLERANCE, self._timeouts.backfill_tolerance, []
                )
            if review.reasons:
                # The missing documents too, so that a corrected request needs one round only.
                return RefusalNotice(
                    procedure_code=request.procedure_code,
                    reasons=tuple(review.reasons),
                    missing=tuple(review.missing),
                )
            if review.missing:
                return SupplementNotice(procedure_code=request.procedure_code, missing=tuple(review.missing))
            if claim is None:
                # Requests without an id get one of their own: the code is reserved all the same.
                request_id = request.request_id or f"auto-{uuid.uuid4()}"
                claim = await self._allocator.reserve(
                    unit, received_at.date(), request_id, fingerprint, received_at
                )
                if not claim.claimed_now:
                    continue  # a concurrent submission of this request claimed it first
            break
        dossier = self._dossier_input(request, review, claim, received_at, backfill_reason)
        dossier, created = await self._start_settled(claim, dossier)
        log.info(
            "dossier received",
            dossier_code=dossier.code,
            workflow_id=dossier.code,
            unit=dossier.receiving_unit.code,
            handling_unit=dossier.handling_unit.code,
            procedure=dossier.procedure.version_id,
            resubmitted=not created,
            backfill=backfill_reason is not None,
        )
        if backfill_reason is not None:
            log.warning(
                "past receipt backfilled",
                dossier_code=dossier.code,
                officer=request.received_by.id,
                received_at=received_at.isoformat(),
                reason=backfill_reason,
            )
        if not created:
            return await self._slip_of_stored(dossier.code)
        return _slip(dossier, resubmitted=False)

    def _dossier_input(
        self,
        request: IntakeRequest,
        review: IntakeReview,
        claim: Claim,
        received_at: datetime,
        backfill_reason: str | None,
    ) -> DossierInput:
        version, receiving, handling = review.version, review.receiving_unit, review.handling_unit
        assert version is not None and receiving is not None and handling is not None
        due_at = self._calendar.due_at(
            received_at, version.time_limit.amount, version.time_limit.unit.value, version.afternoon_cutoff
        )
        return DossierInput(
            code=claim.dossier_code,
            procedure=version,
            applicant=request.applicant,
            receiving_unit=unit_of(receiving),
            handling_unit=handling,
            documents=request.documents,
            channel=request.channel,
            received_by=request.received_by,
            received_at=received_at,
            due_at=due_at,
            request_id=claim.request_id,
            backfill_reason=backfill_reason,
        )

    async def _start_settled(self, claim: Claim, dossier: DossierInput) -> tuple[DossierInput, bool]:
        """Start the dossier under its claim's code, or find it started for this request.

        Returns the dossier as started (renumbered if its code was another's) and whether
        this call started it. An unknown outcome is not a "no": the start is tried
        again (an id that exists is never started twice) until Temporal answers or the settle
        time is over; then StartOutcomeUnknown, and the claim keeps its code for the resend.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeouts.settle.total_seconds()
        delay, created, attempted = 0.1, True, False
        while True:
            try:
                await self._start(dossier)
                break
            except WorkflowAlreadyStartedError:
                try:
                    owner = await self._stored_dossier(dossier.code)
                except (RPCError, RuntimeError) as err:
                    if not _outcome_unknown(err):
                        raise
                    last: BaseException = err
                else:
                    if (owner.receiving_unit.code, owner.request_id) == (claim.receiving_unit, claim.request_id):
                        # Started by this call's unanswered attempt, or by an earlier submission.
                        created = attempted
                        break
                    # Another dossier holds this code (the counter's row was behind).
                    log.warning("dossier code taken; renumbering", dossier_code=dossier.code)
                    claim = await self._allocator.renumber(claim, dossier.received_at.astimezone(VN_TZ).date())
                    dossier = dossier.model_copy(update={"code": claim.dossier_code})
                    continue
            except (RPCError, RuntimeError) as err:
                if not _outcome_unknown(err):
                    raise  # a definite refusal: nothing started; the claim stays for a resend
                last, attempted = err, True
            if loop.time() + delay > deadline:
                log.error(
                    "dossier start unsettled",
                    dossier_code=dossier.code,
                    request_id=claim.request_id,
                    unit=claim.receiving_unit,
                    error=str(last),
                )
                raise StartOutcomeUnknown(claim.receiving_unit, claim.request_id, dossier.code) from last
            log.warning("dossier start unanswered; trying again", dossier_code=dossier.code, error=str(last))
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)
        await self._allocator.mark_started(claim)
        return dossier, created

    async def _start(self, dossier: DossierInput) -> WorkflowHandle:
        return await self._client.start_workflow(
            DossierWorkflow.run,
            dossier,
            id=dossier.code,
            task_queue=self._task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            rpc_timeout=self._timeouts.rpc,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(sa.PROCEDURE_CODE, dossier.procedure.procedure_code),
                    SearchAttributePair(sa.HANDLING_UNIT, dossier.handling_unit.code),
                    SearchAttributePair(sa.RECEIVING_UNIT, dossier.receiving_unit.code),
                    # The workflow hands a received dossier to its authority at once.
                    SearchAttributePair(sa.STATUS, DossierStatus.PROCESSING.value),
                    SearchAttributePair(sa.RECEIVED_AT, dossier.received_at),
                    SearchAttributePair(sa.DUE_AT, dossier.due_at),
                    SearchAttributePair(sa.OVERDUE, False),
                ]
            ),
        )

    async def settle(self) -> list[UnsettledReceipt]:
        """Reconcile every claim whose start is unconfirmed with Temporal.

        A dossier found under the code, started for that request, is confirmed; one not found
        keeps its reservation for the counter's resend (the request's content is not stored,
        so it cannot be started from here); no answer leaves it as it is.
        """
        receipts = []
        for claim in await self._allocator.unsettled():
            state: Literal["started", "not_started", "unknown"]
            try:
                stored = await self._stored_dossier(claim.dossier_code)
            except RPCError as err:
                state = "not_started" if err.status is RPCStatusCode.NOT_FOUND else "unknown"
            except RuntimeError:
                state = "unknown"
            else:
                ours = (stored.receiving_unit.code, stored.request_id) == (claim.receiving_unit, claim.request_id)
                state = "started" if ours else "not_started"
                if ours:
                    await self._allocator.mark_started(claim)
            receipts.append(
                UnsettledReceipt(
                    receiving_unit=claim.receiving_unit,
                    request_id=claim.request_id,
                    dossier_code=claim.dossier_code,
                    received_at=claim.received_at,
                    state=state,
                )
            )
        return receipts

    async def _stored_dossier(self, code: str) -> DossierInput:
        """The input the dossier `code` was started with (its current run's), read from its
        history: no worker needed, and nothing from a resubmitted request."""
        handle = self._client.get_workflow_handle(code)
        async for event in handle.fetch_history_events(page_size=1, rpc_timeout=self._timeouts.rpc):
            started = event.workflow_execution_started_event_attributes
            [dossier] = await self._client.data_converter.decode(started.input.payloads, [DossierInput])
            return dossier
        raise RPCError(f"dossier {code} has no history", RPCStatusCode.NOT_FOUND, b"")

    async def _slip_of_stored(self, code: str) -> ReceiptSlip:
        return _slip(await self._stored_dossier(code), resubmitted=True)


def _check_same_request(claim: Claim, request: IntakeRequest, fingerprint: str) -> None:
    # Claims from before content hashes were kept cannot be compared: they are trusted.
    if claim.content_hash and claim.content_hash != fingerprint:
        log.warning(
            "request id reused for another request",
            request_id=claim.request_id,
            unit=claim.receiving_unit,
            dossier_code=claim.dossier_code,
            officer=request.received_by.id,
        )
        raise RequestIdConflict(claim.receiving_unit, claim.request_id, claim.dossier_code)


def _outcome_unknown(err: BaseException) -> bool:
    if isinstance(err, RPCError):
        return err.status in _UNKNOWN_OUTCOME
    # A lazily connected client that cannot reach its server.
    return isinstance(err, RuntimeError) and "connect" in str(err)


def _slip(dossier: DossierInput, *, resubmitted: bool) -> ReceiptSlip:
    """Form 01 of a dossier, from what it was started with."""
    version = dossier.procedure
    return ReceiptSlip(
        dossier_code=dossier.code,
        procedure_code=version.procedure_code,
        procedure_name=version.procedure_name,
        version_id=version.version_id,
        applicant_name=dossier.applicant.full_name,
        receiving_unit=dossier.receiving_unit.code,
        receiving_unit_name=dossier.receiving_unit.name,
        handling_unit=dossier.handling_unit.code,
        handling_unit_name=dossier.handling_unit.name,
        received_at=dossier.received_at.astimezone(VN_TZ),
        due_at=dossier.due_at.astimezone(VN_TZ),
        documents=tuple(d.id for d in dossier.documents),
        fees=version.fees,
        received_by=dossier.received_by.id,
        resubmitted=resubmitted,
    )
