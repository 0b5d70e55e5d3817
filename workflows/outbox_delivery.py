"""OutboxDeliveryWorkflow: keeps the outboxes' delivery running, on whichever worker is alive.

Why a workflow and not a loop in each worker process: one workflow id (`outbox-delivery`) means
one delivery loop across all the workers of a task queue, so a dossier's messages are never
sent by two processes at once (order per dossier holds without row leases); if the worker
running it dies, the heartbeat timeout hands the activity to another worker; Temporal's retry
policy restarts an activity that crashes, and the Web UI shows the rounds. The rows themselves
are the durable state (records/outbox_tables.py): a round that dies mid-way loses nothing, at
worst a message is sent twice and the receiver drops it by message id.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from pydantic import BaseModel
from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.notice_sending import NoticeActivities
    from activities.portal_sync import DeliveryRoundInput, PortalSyncActivities

__all__ = ["OUTBOX_WORKFLOW_ID", "OutboxDeliveryInput", "OutboxDeliveryWorkflow"]

OUTBOX_WORKFLOW_ID = "outbox-delivery"

# A round that crashes is started again, for ever, at most a minute apart.
DELIVERY_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
HEARTBEAT = timedelta(seconds=30)


class OutboxDeliveryInput(BaseModel):
    run_seconds: float | None = None  # per round; None: the worker's DeliverySettings
    rounds_per_run: int = 50  # then continue-as-new, keeping the history short


@workflow.defn
class OutboxDeliveryWorkflow:
    """Runs the portal sync and the notices' sending side by side, round after round, for ever."""

    def __init__(self) -> None:
        self._stopping = False

    @workflow.signal
    def stop(self) -> None:
        """Finish the rounds in flight, then end (an operator pausing delivery; tests)."""
        self._stopping = True

    @workflow.run
    async def run(self, delivery: OutboxDeliveryInput) -> None:
        round_input = DeliveryRoundInput(run_seconds=delivery.run_seconds)
        # A round's own length plus margin; the heartbeat catches a dead worker sooner.
        timeout = timedelta(seconds=(delivery.run_seconds or 300.0) + 120)
        for _ in range(delivery.rounds_per_run):
            if self._stopping:
                return
            await asyncio.gather(
                workflow.execute_activity_method(
                    PortalSyncActivities.deliver,
                    round_input,
                    start_to_close_timeout=timeout,
                    heartbeat_timeout=HEARTBEAT,
                    retry_policy=DELIVERY_RETRY,
                ),
                workflow.execute_activity_method(
                    NoticeActivities.send,
                    round_input,
                    start_to_close_timeout=timeout,
                    heartbeat_timeout=HEARTBEAT,
                    retry_policy=DELIVERY_RETRY,
                ),
            )
        if not self._stopping:
            workflow.continue_as_new(delivery)
