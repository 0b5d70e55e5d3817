"""Delivering the portal's sync messages from the outbox: in order per dossier, at least once.

One long activity (heartbeating) drains the outbox in rounds for `round_seconds`, then returns;
OutboxDeliveryWorkflow starts the next one. Dossiers go in parallel (bounded); within one
dossier, messages go one after the other and a message that is not delivered stops its
dossier's queue for this round, so the portal never sees a later change before an earlier one.
A round's outcomes are written in one transaction (one commit per round, not per message).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

import httpx
import structlog
from pydantic import BaseModel
from temporalio import activity

from portal.client import Answer, Outcome, PortalClient
from records.database import RecordsStore
from records.outbox import due_portal_queues, mark_attempt_failed, mark_delivered
from records.outbox_tables import FAILED, PortalSyncRow
from runtime.delivery_settings import DeliverySettings

__all__ = ["DeliveryRoundInput", "DeliveryRoundResult", "PortalSyncActivities", "idle_round", "pause"]

log = structlog.get_logger(__name__)

PARALLEL_DOSSIERS = 32


class DeliveryRoundInput(BaseModel):
    # None: the settings' round_seconds. Tests pass a few seconds.
    run_seconds: float | None = None


class DeliveryRoundResult(BaseModel):
    delivered: int = 0
    retried: int = 0
    failed: int = 0


class PortalSyncActivities:
    def __init__(self, records: RecordsStore, settings: DeliverySettings) -> None:
        self._records = records
        self._settings = settings

    @activity.defn(name="deliver_portal_sync")
    async def deliver(self, round_input: DeliveryRoundInput) -> DeliveryRoundResult:
        result = DeliveryRoundResult()
        settings = self._settings
        run_for = round_input.run_seconds or settings.round_seconds
        if not settings.portal_url:
            await idle_round(run_for)  # not configured: the messages wait in the outbox
            return result
        ends = time.monotonic() + run_for
        async with httpx.AsyncClient(timeout=settings.http_timeout) as http:
            portal = PortalClient(http, settings.portal_url, settings.portal_api_key)
            while time.monotonic() < ends and not activity.is_worker_shutdown():
                moved = await self._round(portal, result)
                activity.heartbeat(result.model_dump())
                if not moved:
                    await pause(settings.poll_seconds)
        return result

    async def _round(self, portal: PortalClient, result: DeliveryRoundResult) -> int:
        """One pass: every due dossier's queue sent (dossiers in parallel), then every outcome
        written in one transaction. A crash before that commit sends the round again: the
        portal drops what it has by message id."""
        async with self._records.sessions() as session:
            queues = await due_portal_queues(session, datetime.now(UTC))
            session.expunge_all()
        if not queues:
            return 0
        gate = asyncio.Semaphore(PARALLEL_DOSSIERS)

        async def drain(queue: list[PortalSyncRow]) -> list[tuple[PortalSyncRow, Answer]]:
            async with gate:
                return await _drain(portal, queue)

        outcomes = [item for answers in await asyncio.gather(*(drain(q) for q in queues)) for item in answers]
        now = datetime.now(UTC)
        async with self._records.sessions() as session:
            failed = []
            for row, answer in outcomes:
                if answer.outcome is Outcome.DELIVERED:
                    await mark_delivered(session, PortalSyncRow, row.id, now)
                    result.delivered += 1
                    continue
                attempts = row.attempts + 1
                give_up = answer.outcome is Outcome.REFUSED or attempts >= self._settings.max_attempts
                state = await mark_attempt_failed(
                    session, PortalSyncRow, row, answer.detail, now, self._settings.backoff(attempts), give_up
                )
                failed.append((row, answer, attempts, state))
            await session.commit()
        for row, answer, attempts, state in failed:
            fields = dict(
                dossier_code=row.dossier_code,
                message_id=row.message_id,
                attempts=attempts,
                error=answer.detail,
            )
            if state == FAILED:
                result.failed += 1
                log.error("portal sync message failed", **fields)
            else:
                result.retried += 1
                log.warning("portal sync message not delivered, will retry", **fields)
        return len(outcomes)


async def _drain(portal: PortalClient, queue: list[PortalSyncRow]) -> list[tuple[PortalSyncRow, Answer]]:
    """A dossier's messages in order, up to the first one not delivered: the later ones wait
    behind it, so the portal never sees a change before an earlier one."""
    answers = []
    for row in queue:
        if row.state == FAILED:
            break
        answer = await portal.send(row.body, row.message_id)
        answers.append((row, answer))
        if answer.outcome is not Outcome.DELIVERED:
            break
    return answers


async def idle_round(seconds: float) -> None:
    """A round with nothing configured to deliver to: heartbeat, wait, return."""
    ends = time.monotonic() + seconds
    while time.monotonic() < ends and not activity.is_worker_shutdown():
        activity.heartbeat()
        await pause(min(5.0, max(0.0, ends - time.monotonic())))


async def pause(seconds: float) -> None:
    """Sleep, but wake when the worker shuts down: the round then ends at once instead of
    holding the worker's graceful shutdown (20 s) for a loop that has nothing left to finish."""
    try:
        await asyncio.wait_for(activity.wait_for_worker_shutdown(), timeout=seconds)
    except TimeoutError:
        pass
