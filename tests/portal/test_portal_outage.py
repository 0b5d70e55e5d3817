"""Sync messages reach a real stand-in portal process in order per dossier, through an outage."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest
from sqlalchemy import select

from assembly.workers import build_worker
from model.dossier_inputs import CompleteStepInput
from records.outbox_tables import DELIVERED, PortalSyncRow
from runtime.delivery_settings import DeliverySettings
from standins.portal import SYNC_PATH
from tests.builders import LEADER, SPECIALIST, Counter, action_id, free_port, request, settled
from tests.standin_processes import StandinProcess
from workflows.dossier import DossierWorkflow
from workflows.outbox_delivery import OutboxDeliveryInput, OutboxDeliveryWorkflow

KEY = "portal-test-key"


async def outbox(records, codes: list[str]) -> list[PortalSyncRow]:
    async with records.sessions() as session:
        return list(
            (
                await session.scalars(
                    select(PortalSyncRow)
                    .where(PortalSyncRow.dossier_code.in_(codes))
                    .order_by(PortalSyncRow.id)
                )
            ).all()
        )


async def until(check, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{check.__name__} still false after {timeout} s")
        await asyncio.sleep(0.1)


@pytest.fixture
async def portal(tmp_path):
    process = StandinProcess(
        "standins.portal",
        free_port(),
        "--api-key",
        KEY,
        "--store",
        str(tmp_path / "received.jsonl"),
        probe_path=SYNC_PATH,
    )
    await process.start()
    yield process
    process.stop()


class TestPortalOutage:
    async def test_nothing_lost_and_order_kept_across_an_outage(
        self, env, client, records, task_queue, portal
    ):
        """Stop the portal while dossiers move: messages wait and retry, then arrive once each, in order."""
        delivery = DeliverySettings(
            portal_url=portal.url + SYNC_PATH,
            portal_api_key=KEY,
            retry_initial=0.2,
            retry_max=1.0,
            poll_seconds=0.1,
        )
        async with build_worker(client, task_queue, records, delivery=delivery):
            counter = Counter(env, task_queue, records)
            pump = await client.start_workflow(
                OutboxDeliveryWorkflow.run,
                OutboxDeliveryInput(run_seconds=2),
                id=f"outbox-{uuid.uuid4()}",
                task_queue=task_queue,
            )
            try:
                codes = [(await counter.receive(request())).dossier_code for _ in range(3)]
                for code in codes:
                    await settled(counter.handle(code))

                async def all_delivered() -> bool:
                    rows = await outbox(records, codes)
                    return bool(rows) and all(row.state == DELIVERED for row in rows)

                await until(all_delivered)
                before = len(await outbox(records, codes))

                portal.stop()
                for code in codes:  # review, approve: two messages each, queued
                    for actor, step in ((SPECIALIST, "review"), (LEADER, "approve")):
                        await counter.handle(code).execute_update(
                            DossierWorkflow.complete_step,
                            CompleteStepInput(actor=actor, action_id=action_id(), step_id=step),
                        )
                    await settled(counter.handle(code))

                async def retried_while_down() -> bool:
                    waiting = [row for row in await outbox(records, codes) if row.state != DELIVERED]
                    heads = {
                        code: min(r.event_seq for r in waiting if r.dossier_code == code) for code in codes
                    }
                    tried = [r for r in waiting if r.event_seq == heads[r.dossier_code]]
                    behind = [r for r in waiting if r.event_seq != heads[r.dossier_code]]
                    # Each dossier's first waiting message is retried; the ones behind it are never tried.
                    assert all(r.attempts == 0 for r in behind)
                    return len(waiting) == 2 * len(codes) and all(r.attempts >= 2 for r in tried)

                await until(retried_while_down)
                await portal.start(headers={"Authorization": f"Bearer {KEY}"})
                await until(all_delivered)
            finally:
                await pump.signal(OutboxDeliveryWorkflow.stop)
                await pump.result()
                await counter.close_open_dossiers()

        rows = await outbox(records, codes)
        assert len(rows) == before + 2 * len(codes)  # written during the outage
        async with httpx.AsyncClient() as http:
            received = (
                await http.get(portal.url + SYNC_PATH, headers={"Authorization": f"Bearer {KEY}"})
            ).json()
        for code in codes:
            arrived = [m["sequence"] for m in received["messages"] if m["dossier_code"] == code]
            written = [row.event_seq for row in rows if row.dossier_code == code]
            assert arrived == sorted(written), code  # each once, in order
            statuses = [m["status_code"] for m in received["messages"] if m["dossier_code"] == code]
            assert statuses == [2, 4, 4, 9]  # received, transferred, review, approve (result ready)
