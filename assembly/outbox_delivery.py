"""Starting the outboxes' delivery workflow beside a worker (worker.py)."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from workflows.outbox_delivery import OUTBOX_WORKFLOW_ID, OutboxDeliveryInput, OutboxDeliveryWorkflow

__all__ = ["ensure_delivery_running"]


async def ensure_delivery_running(client: Client, task_queue: str) -> str:
    """Start the one delivery workflow of this task queue unless it runs already; its run id."""
    handle = await client.start_workflow(
        OutboxDeliveryWorkflow.run,
        OutboxDeliveryInput(),
        id=f"{OUTBOX_WORKFLOW_ID}-{task_queue}",
        task_queue=task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return handle.result_run_id or ""
