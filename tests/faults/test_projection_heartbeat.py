"""A worker killed while it projects a dossier (issue 19): the projection heartbeats, so the
server notices the dead worker after the heartbeat timeout and another worker records the
entries within seconds, not after the activity's whole start-to-close timeout.

Real processes: the dev server and worker.py of tests/faults, a SQLite records file whose
write lock the test holds so the projection is in flight when the worker is SIGKILLed.
"""

from __future__ import annotations

import sqlite3
import time

import pytest
from sqlalchemy import select
from temporalio.api.enums.v1 import EventType, PendingActivityState, TimeoutType

from records.tables import DossierRow
from tests.builders import start_dossier
from tests.faults.harness import eventually
from tests.faults.test_faults import Deployment
from workflows.dossier import PROJECTION_HEARTBEAT, PROJECTION_TIMEOUT


async def _projection_started(handle) -> bool:
    description = await handle.describe()
    return any(
        a.activity_type.name == "record_dossier_events"
        and a.state == PendingActivityState.PENDING_ACTIVITY_STATE_STARTED
        for a in description.raw_description.pending_activities
    )


class TestProjectionHeartbeat:
    @pytest.mark.timeout(120)
    async def test_a_projection_on_a_killed_worker_is_retried_after_the_heartbeat_timeout(
        self, deployment: Deployment
    ):
        d = deployment
        path = d.database_url.removeprefix("sqlite+aiosqlite:///")
        # Holding SQLite's write lock keeps the projection's transaction waiting in the worker.
        blocker = sqlite3.connect(path, isolation_level=None, timeout=5)
        try:
            blocker.execute("BEGIN IMMEDIATE")
            handle = await start_dossier(d.client, d.task_queue)
            await eventually(lambda: _projection_started(handle), bool, 30, "the projection in flight")
            d.worker.kill()
            killed = time.monotonic()
        finally:
            blocker.rollback()
            blocker.close()
        await d.start_worker()

        async def projected() -> DossierRow | None:
            async with d.records.sessions() as session:
                return await session.scalar(select(DossierRow).where(DossierRow.code == handle.id))

        await eventually(projected, lambda row: row is not None, 60, "the dossier's row")
        waited = time.monotonic() - killed

        attempts = [
            e.activity_task_started_event_attributes
            async for e in handle.fetch_history_events()
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED
        ]
        first = attempts[0]  # the projection of the receipt
        assert first.attempt >= 2, "the killed attempt was never retried"
        assert first.last_failure.timeout_failure_info.timeout_type == TimeoutType.TIMEOUT_TYPE_HEARTBEAT, (
            first.last_failure
        )
        # The retry waited for the heartbeat timeout (plus the new worker's start), well before
        # the start-to-close timeout the projection would otherwise have waited for.
        assert PROJECTION_HEARTBEAT < PROJECTION_TIMEOUT
        assert waited < PROJECTION_TIMEOUT.total_seconds(), waited
        print(f"\n[projection heartbeat] recorded {waited:.1f} s after the worker was killed")
