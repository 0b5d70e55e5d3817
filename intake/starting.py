"""Starting a dossier under the code reserved for its request, whatever the network does.

An unknown outcome is not a "no": a start that Temporal did not answer is tried again (a
workflow id that exists is never started twice) until Temporal answers or the settle time
is over; the reservation then stays for the counter's resend, and `settle` reconciles the
reservations left unconfirmed.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Literal

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

from adminunits import VN_TZ
from intake.errors import StartOutcomeUnknown
from intake.timeouts import IntakeTimeouts
from model import search_attributes
from model.dossier_inputs import DossierInput
from model.dossier_state import DossierStatus
from model.queue_routing import QueueRouting
from records.dossier_codes import Claim, DossierCodeAllocator
from workflows.dossier import DossierWorkflow
from workflows.group import GroupWorkflow
from workflows.group_models import GroupInput

__all__ = ["DossierStarter", "UnsettledReceipt", "owner_of", "started_input"]

log = structlog.get_logger(__name__)
# The workflow type a group's code was started as (`@workflow.defn` names it after its class).
GROUP_WORKFLOW = GroupWorkflow.__name__
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


class UnsettledReceipt(BaseModel):
    """A reserved code whose dossier's start was never confirmed, as Temporal sees it now."""

    receiving_unit: str
    request_id: str
    dossier_code: str
    received_at: AwareDatetime | None
    # started: found (this request's) and now confirmed; not_started: awaits the counter's
    # resend of the request; unknown: Temporal did not answer.
    state: Literal["started", "not_started", "unknown"]


class DossierStarter:
    """Starts dossiers under their claims' codes, each on its handling unit's province's task
    queue (`task_queue`: one queue for all, or a QueueRouting), and settles the claims."""

    def __init__(
        self,
        client: Client,
        task_queue: str | QueueRouting,
        allocator: DossierCodeAllocator,
        timeouts: IntakeTimeouts,
    ) -> None:
        self._client = client
        self._routing = (
            task_queue if isinstance(task_queue, QueueRouting) else QueueRouting(default=task_queue)
        )
        self._allocator = allocator
        self._timeouts = timeouts

    async def start_settled(self, claim: Claim, dossier: DossierInput) -> tuple[DossierInput, bool]:
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
                    owner = await self._started_for(dossier.code)
                except (RPCError, RuntimeError) as err:
                    if not _outcome_unknown(err):
                        raise
                    last: BaseException = err
                else:
                    if owner == (claim.receiving_unit, claim.request_id):
                        # Started by this call's unanswered attempt, or by an earlier submission.
                        created = attempted
                        break
                    # Another dossier, or a group, holds this code (the counter's row was behind).
                    log.warning("dossier code taken; renumbering", dossier_code=dossier.code)
                    claim = await self._allocator.renumber(
                        claim, dossier.received_at.astimezone(VN_TZ).date()
                    )
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
        queue = self._routing.queue_for(dossier.handling_unit.province_code)
        return await self._client.start_workflow(
            DossierWorkflow.run,
            # The run knows its queue from its input (a transfer compares against it).
            dossier.model_copy(update={"task_queue": queue}),
            id=dossier.code,
            task_queue=queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            rpc_timeout=self._timeouts.rpc,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(search_attributes.PROCEDURE_CODE, dossier.procedure.procedure_code),
                    SearchAttributePair(search_attributes.HANDLING_UNIT, dossier.handling_unit.code),
                    SearchAttributePair(search_attributes.RECEIVING_UNIT, dossier.receiving_unit.code),
                    # The workflow hands a received dossier to its authority at once; one
                    # submitted online waits for the counter's check.
                    SearchAttributePair(
                        search_attributes.STATUS,
                        (
                            DossierStatus.REGISTERED_ONLINE
                            if dossier.online is not None
                            else DossierStatus.PROCESSING
                        ).value,
                    ),
                    SearchAttributePair(search_attributes.RECEIVED_AT, dossier.received_at),
                    SearchAttributePair(search_attributes.DUE_AT, dossier.due_at),
                    SearchAttributePair(search_attributes.OVERDUE, False),
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
                owner = await self._started_for(claim.dossier_code)
            except RPCError as err:
                state = "not_started" if err.status is RPCStatusCode.NOT_FOUND else "unknown"
            except RuntimeError:
                state = "unknown"
            else:
                ours = owner == (claim.receiving_unit, claim.request_id)
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

    async def _started_for(self, code: str) -> tuple[str, str | None]:
        return owner_of(await started_input(self._client, code, self._timeouts.rpc))

    async def stored_dossier(self, code: str) -> DossierInput:
        """The input the dossier `code` was started with (its current run's), read from its
        history: no worker needed, and nothing from a resubmitted request."""
        stored = await started_input(self._client, code, self._timeouts.rpc)
        if not isinstance(stored, DossierInput):
            raise LookupError(f"{code} was started as an interlinked group, not a dossier")
        return stored


async def started_input(
    client: Client, code: str, rpc_timeout: timedelta | None = None
) -> DossierInput | GroupInput:
    """The input the workflow `code` was started with (its current run's), read from its history
    (no worker needed): a dossier's, or an interlinked group's. Both take their codes from the
    same counter's sequence, so a code found taken may be either's: read by its workflow type."""
    handle = client.get_workflow_handle(code)
    async for event in handle.fetch_history_events(page_size=1, rpc_timeout=rpc_timeout):
        started = event.workflow_execution_started_event_attributes
        kind = GroupInput if started.workflow_type.name == GROUP_WORKFLOW else DossierInput
        [stored] = await client.data_converter.decode(started.input.payloads, [kind])
        return stored
    raise RPCError(f"dossier {code} has no history", RPCStatusCode.NOT_FOUND, b"")


def owner_of(started: DossierInput | GroupInput) -> tuple[str, str | None]:
    """Whose request started it: its receiving unit and request id, as a claim names them."""
    return started.receiving_unit.code, started.request_id


def _outcome_unknown(err: BaseException) -> bool:
    if isinstance(err, RPCError):
        return err.status in _UNKNOWN_OUTCOME
    # A lazily connected client that cannot reach its server.
    return isinstance(err, RuntimeError) and "connect" in str(err)
