"""The carryover on real processes: SIGKILL the worker mid-carryover, restart, and every dossier
is transferred exactly once (counted from the histories), none missed; and the Temporal
Schedule that starts the carryover at its instant.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType

from bench.old_dossiers import old_dossier_inputs, start_dossiers
from carryover.client import carryover_progress, find_carryover, schedule_carryover, start_carryover
from carryover.models import CarryoverInput
from carryover.workflow import CarryoverWorkflow
from records.tables import DossierRow
from tests.faults.harness import eventually
from tests.faults.test_faults import Deployment
from workflows.dossier import DossierWorkflow

N = 120


async def projected(deployment: Deployment, n: int) -> None:
    async def rows() -> int:
        async with deployment.records.sessions() as session:
            return await session.scalar(select(func.count()).select_from(DossierRow))

    await eventually(rows, lambda count: count >= n, 120, "dossiers projected")


async def transfers_in_history(deployment: Deployment, code: str) -> tuple[int, int]:
    """(transfer updates accepted, carried_over entries applied) over all the dossier's runs."""
    accepted = 0
    async for event in deployment.client.get_workflow_handle(code).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
            if (
                event.workflow_execution_update_accepted_event_attributes.accepted_request.input.name
                == "transfer"
            ):
                accepted += 1
    view = await deployment.client.get_workflow_handle(code).query(DossierWorkflow.view)
    return accepted, [e.action for e in view.timeline].count("carried_over")


class TestCarryoverFaults:
    # About 60 s on a quiet machine; the heartbeat timeout (10 s) alone delays the resume.
    @pytest.mark.timeout(300)
    async def test_sigkill_mid_carryover_then_every_dossier_transferred_once(self, deployment: Deployment):
        """Killed at about a third, restarted: all N carried over, each exactly once."""
        prefix = f"KILL-{uuid.uuid4().hex[:6]}"
        inputs = old_dossier_inputs(N, prefix)
        await start_dossiers(deployment.client, deployment.task_queue, inputs)
        await projected(deployment, N)
        request = CarryoverInput(
            carryover_id=prefix, batch_size=5, parallel_batches=2, concurrency=2, checkpoint_every=4
        )
        handle = await start_carryover(deployment.client, deployment.task_queue, request)

        before_kill = await eventually(
            lambda: carryover_progress(deployment.client, prefix),
            lambda p: p.done >= N // 3,
            120,
            "a third done",
        )
        deployment.worker.kill()  # a query needs a worker: the progress seen just before is the mark
        assert before_kill.done < N - 20, "the carryover was nearly done before the kill: make it slower"
        await asyncio.sleep(1)
        await deployment.start_worker()

        report = await asyncio.wait_for(handle.result(), 240)
        assert (report.progress.total, report.progress.done) == (N, N)
        assert (report.progress.transferred, report.progress.failed, report.progress.manual) == (N, 0, 0)
        assert report.progress.runs > 1  # it checkpointed with continue-as-new
        for dossier in inputs:
            accepted, applied = await transfers_in_history(deployment, dossier.code)
            assert (accepted, applied) == (1, 1), dossier.code
            view = await deployment.client.get_workflow_handle(dossier.code).query(DossierWorkflow.view)
            assert (
                view.handling_unit.startswith("000.") and view.carried_over_from == dossier.handling_unit.code
            )

    @pytest.mark.timeout(180)
    async def test_the_schedule_starts_the_carryover_at_its_instant(self, deployment: Deployment):
        """A schedule set two seconds ahead starts the carryover; its progress is found by id."""
        prefix = f"SCHED-{uuid.uuid4().hex[:6]}"
        inputs = old_dossier_inputs(6, prefix)
        await start_dossiers(deployment.client, deployment.task_queue, inputs)
        await projected(deployment, 6)
        # The dev server runs on this machine's clock. Taken just before scheduling: the first
        # dossier's start time could be seconds old on a loaded machine, and a calendar
        # instant already past never fires.
        now = datetime.now(UTC)
        schedule = await schedule_carryover(
            deployment.client, deployment.task_queue, carryover_id=prefix, at=now + timedelta(seconds=3)
        )
        again = await schedule_carryover(
            deployment.client, deployment.task_queue, carryover_id=prefix, at=now + timedelta(seconds=3)
        )
        assert again.id == schedule.id
        handle = await _started(deployment, prefix)
        report = await asyncio.wait_for(handle.result(), 60)
        assert report.progress.transferred == 6
        assert (await handle.query(CarryoverWorkflow.progress)).finished


async def _started(deployment: Deployment, carryover_id: str):
    for _ in range(300):
        try:
            return await find_carryover(deployment.client, carryover_id)
        except LookupError:
            await asyncio.sleep(0.1)
    raise AssertionError(f"carryover {carryover_id} not started by its schedule")
