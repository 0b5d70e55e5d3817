"""The carryover finds open dossiers the records store never heard of, through Temporal visibility.

Runs on a local dev server of its own (the time-skipping server has no visibility listing),
so it runs in every pass. A dossier's projection is held back by serving its queue with a
workflow worker only: the workflow runs, takes updates, and its `record_dossier_events`
activity waits with nobody to run it, so the records store never gets its row.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest_asyncio
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from assembly.workers import build_worker
from carryover.models import CarryoverInput
from carryover.workflow import CarryoverWorkflow
from intake.forms import ReceiptSlip
from model import search_attributes
from model.dossier_inputs import SubmittedDocument
from procedures.models import Role
from records.database import open_records
from records.tables import DossierRow
from runtime.temporal import binary
from tests.builders import Counter, request
from tests.carryover.test_carryover import BA_DINH_DISTRICT, BA_DINH_WARD, applicant, officer, receive, vn
from workflows.dossier import DossierWorkflow


@pytest_asyncio.fixture
async def server(data_converter) -> AsyncIterator[WorkflowEnvironment]:
    env = await WorkflowEnvironment.start_local(
        data_converter=data_converter,
        search_attributes=search_attributes.ALL,
        dev_server_existing_path=binary("temporal"),
        dev_server_log_level="error",
    )
    async with env:
        yield env


async def listed(client: Client, code: str, query: str) -> None:
    """Wait until visibility lists dossier `code` under `query` (it is eventually consistent)."""
    for _ in range(100):
        if [w async for w in client.list_workflows(f"WorkflowId = '{code}' AND {query}")]:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"visibility never listed {code} with {query}")


async def test_a_dossier_whose_projection_never_landed_is_carried_over(server, tmp_path):
    """Two open dossiers at an abolished district, one projected and one held back: the
    carryover transfers both, the second found through visibility; run again, it transfers
    nothing twice."""
    client = server.client
    dossiers, carryovers = f"dossiers-{uuid.uuid4()}", f"carryover-{uuid.uuid4()}"
    who = applicant("01", "001", "00004")
    async with open_records(f"sqlite+aiosqlite:///{tmp_path / 'records.sqlite'}") as store:
        desk = Counter(server, dossiers, store)
        async with build_worker(client, dossiers, store):
            projected = await receive(desk, "1.001612", BA_DINH_DISTRICT, who, vn(25, 9), ["application"])
        async with Worker(client, task_queue=dossiers, workflows=[DossierWorkflow]):
            held = await desk.receive(
                request(
                    "1.001612",
                    applicant=who,
                    receiving_unit=BA_DINH_DISTRICT,
                    received_by=officer(Role.COUNTER_OFFICER, BA_DINH_DISTRICT, "counter"),
                    received_at=vn(26, 9),
                    documents=(SubmittedDocument(id="application"),),
                )
            )
            assert isinstance(held, ReceiptSlip), held
            await listed(
                client, held.dossier_code, f"{search_attributes.HANDLING_UNIT.name} = '{BA_DINH_DISTRICT}'"
            )
            async with store.sessions() as session:
                assert await session.get(DossierRow, held.dossier_code) is None  # held back

            async with build_worker(client, carryovers, store):
                run = CarryoverInput(carryover_id="visibility", batch_size=2, parallel_batches=2)
                report = await client.execute_workflow(
                    CarryoverWorkflow.run, run, id="carryover-visibility", task_queue=carryovers
                )
                progress = report.progress
                assert (progress.total, progress.transferred, progress.failed) == (2, 2, 0), report
                for slip in (projected, held):
                    view = await desk.handle(slip.dossier_code).query(DossierWorkflow.view)
                    assert (view.handling_unit, view.carried_over_from) == (BA_DINH_WARD, BA_DINH_DISTRICT)

                await listed(
                    client,
                    held.dossier_code,
                    f"{search_attributes.CARRIED_OVER_FROM.name} = '{BA_DINH_DISTRICT}'",
                )
                again = await client.execute_workflow(
                    CarryoverWorkflow.run, run, id="carryover-visibility-again", task_queue=carryovers
                )
                assert again.progress.transferred == 0
                view = await desk.handle(held.dossier_code).query(DossierWorkflow.view)
                assert [e.action for e in view.timeline].count("carried_over") == 1
