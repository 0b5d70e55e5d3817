"""Province task queues: intake starts a dossier on its handling unit's province's queue, and a
dossier carried over to a merged province's unit continues on that province's queue; an
interlinked group's members are started on their provinces' queues too.

Three workers, each with its own identity: the shared queue (the carryover itself, and every
province without a queue of its own), old Bắc Ninh's (27) and the merged Bắc Ninh's (24). What
ran where is read from Temporal: each run's task queue (describe), each activity's scheduled
queue and the identity of the worker that took it (history).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import datetime

import pytest
import pytest_asyncio
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHandle
from temporalio.common import WorkflowIDReusePolicy

from adminunits import VN_TZ
from assembly.workers import build_worker
from carryover.models import CarryoverInput
from carryover.workflow import CarryoverWorkflow
from intake.forms import ReceiptSlip
from intake.group_forms import GroupReceipt
from model.dossier_inputs import Actor, Address, Applicant, CompleteStepInput, DossierInput, SubmittedDocument
from model.queue_routing import QueueRouting
from procedures.models import Role
from records.database import RecordsStore, open_records
from records.tables import DossierRow
from tests.builders import COUNTER, Counter, request, settled
from tests.faults.harness import PostgresDatabase
from tests.group_builders import GroupDesk
from workflows.dossier import PROVINCE_QUEUE_PATCH, DossierWorkflow
from workflows.group import GROUP_PROVINCE_QUEUES_PATCH, GroupWorkflow
from workflows.group_models import GroupInput, GroupReturnInput, GroupStatus

OLD_BAC_NINH_CENTRE = "000.00.01.H27"  # old Bắc Ninh's service centre (province merged into 24)
OLD_JUSTICE = "000.STP.00.H27"
NEW_JUSTICE = "000.STP.00.H24"
BA_DINH_DISTRICT = "001.00.00.H01"  # Hà Nội (01) keeps the shared queue
BA_DINH_WARD = "000.00004.00.H01"


def _applicant(province: str, district: str, commune: str) -> Applicant:
    return Applicant(
        full_name="Trần Thị Bình",
        personal_id="001190123456",
        address=Address(province_code=province, district_code=district, commune_code=commune),
    )


@pytest_asyncio.fixture
async def store(tmp_path) -> AsyncIterator[RecordsStore]:
    """The carryover lists every open dossier of its store: one of this test's own."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        async with open_records(f"sqlite+aiosqlite:///{tmp_path / 'records.sqlite'}") as records:
            yield records
        return
    database = PostgresDatabase(url)
    await database.create()
    try:
        async with open_records(database.url) as records:
            yield records
    finally:
        await database.drop()


@pytest_asyncio.fixture
async def provinces(env, store) -> AsyncIterator[tuple[Counter, QueueRouting]]:
    suffix = uuid.uuid4().hex[:8]
    routing = QueueRouting(
        default=f"shared-{suffix}", by_province={"27": f"h27-{suffix}", "24": f"h24-{suffix}"}
    )
    async with AsyncExitStack() as workers:
        for queue, identity in zip(
            routing.queues, ("worker-shared", "worker-h27", "worker-h24"), strict=True
        ):
            await workers.enter_async_context(
                build_worker(env.client, queue, store, routing=routing, identity=identity)
            )
        desk = Counter(env, routing.default, store, routing=routing)
        yield desk, routing
        await desk.close_open_dossiers()


async def _receive(
    desk: Counter, procedure: str, counter_unit: str, who: Applicant, documents
) -> ReceiptSlip:
    officer = Actor(id=f"counter-{counter_unit}", roles=(Role.COUNTER_OFFICER,), unit=counter_unit)
    slip = await desk.receive(
        request(
            procedure,
            applicant=who,
            receiving_unit=counter_unit,
            received_by=officer,
            received_at=datetime(2025, 6, 30, 10, tzinfo=VN_TZ),
            documents=tuple(SubmittedDocument(id=d) for d in documents),
        )
    )
    assert isinstance(slip, ReceiptSlip), slip
    await settled(desk.handle(slip.dossier_code))
    return slip


async def _run_queue(handle: WorkflowHandle) -> str:
    return (await handle.describe()).raw_description.execution_config.task_queue.name


async def _activities(handle: WorkflowHandle) -> list[tuple[str, str]]:
    """(queue scheduled on, identity of the worker that ran it) of each activity of this run."""
    scheduled, ran = {}, []
    async for event in handle.fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled[event.event_id] = event.activity_task_scheduled_event_attributes.task_queue.name
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started = event.activity_task_started_event_attributes
            ran.append((scheduled[started.scheduled_event_id], started.identity))
    return ran


async def _marker_data(handle: WorkflowHandle) -> bytes:
    """Every payload of the run's markers, joined: a patch marker holds its patch id."""
    return b"".join(
        [
            payload.data
            async for event in handle.fetch_history_events()
            if event.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            for detail in event.marker_recorded_event_attributes.details.values()
            for payload in detail.payloads
        ]
    )


async def _workflow_task_identities(handle: WorkflowHandle) -> set[str]:
    return {
        event.workflow_task_started_event_attributes.identity
        async for event in handle.fetch_history_events()
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED
    }


class TestProvinceQueues:
    async def test_intake_starts_each_dossier_on_its_province_queue(self, env, provinces):
        """A dossier handled in province 27 runs on 27's queue, one handled in Hà Nội (no queue of
        its own) on the shared one; each run's workflow and activity tasks are taken by that
        queue's worker only."""
        desk, routing = provinces
        bac_ninh = await _receive(
            desk, "3.000333", OLD_BAC_NINH_CENTRE, _applicant("27", "256", "09163"), ["declaration"]
        )
        ha_noi = await _receive(
            desk, "1.001612", BA_DINH_DISTRICT, _applicant("01", "001", "00004"), ["application"]
        )
        assert bac_ninh.handling_unit == OLD_JUSTICE and ha_noi.handling_unit == BA_DINH_DISTRICT
        for slip, queue, identity in (
            (bac_ninh, routing.by_province["27"], "worker-h27"),
            (ha_noi, routing.default, "worker-shared"),
        ):
            handle = desk.handle(slip.dossier_code)
            assert await _run_queue(handle) == queue
            assert await _activities(handle) == [(queue, identity)]  # the receipt's projection
            assert await _workflow_task_identities(handle) == {identity}

    async def test_a_carried_over_dossier_continues_on_the_new_provinces_queue(self, env, provinces, store):
        """Old Bắc Ninh's department dossier is carried over to the merged province's department:
        from the transfer on, its activities are scheduled on 24's queue, its run continues as
        new there, and 24's worker runs its next step; Hà Nội's dossier stays where it was."""
        if env.supports_time_skipping:
            # Seen in 2 of 3 runs: the query right after the continue-as-new times out there.
            pytest.skip("the Java test server loses queries to a run just continued on another queue: local")
        desk, routing = provinces
        h27, h24 = routing.by_province["27"], routing.by_province["24"]
        bac_ninh = await _receive(
            desk, "3.000333", OLD_BAC_NINH_CENTRE, _applicant("27", "256", "09163"), ["declaration"]
        )
        ha_noi = await _receive(
            desk, "1.001612", BA_DINH_DISTRICT, _applicant("01", "001", "00004"), ["application"]
        )
        first_run = (await desk.handle(bac_ninh.dossier_code).describe()).run_id

        carryover_id = f"queues-{uuid.uuid4().hex[:8]}"
        report = await env.client.execute_workflow(
            CarryoverWorkflow.run,
            CarryoverInput(carryover_id=carryover_id, batch_size=2, parallel_batches=2),
            id=f"carryover-{carryover_id}",
            task_queue=routing.default,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )
        assert (report.progress.transferred, report.progress.failed) == (2, 0)

        moved = desk.handle(bac_ninh.dossier_code)
        view = await settled(moved)
        assert view.handling_unit == NEW_JUSTICE and view.runs == 2
        # The first run, on 27's queue, ended by continuing as new on 24's queue; the carried_over
        # entry's projection already ran there.
        old_run = env.client.get_workflow_handle(bac_ninh.dossier_code, run_id=first_run)
        assert await _run_queue(old_run) == h27
        assert await _activities(old_run) == [(h27, "worker-h27"), (h24, "worker-h24")]
        assert PROVINCE_QUEUE_PATCH.encode() in await _marker_data(old_run)
        continued = [
            e.workflow_execution_continued_as_new_event_attributes
            async for e in old_run.fetch_history_events()
            if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
        ]
        assert [c.task_queue.name for c in continued] == [h24]
        new_run = env.client.get_workflow_handle(
            bac_ninh.dossier_code, run_id=continued[0].new_execution_run_id
        )
        assert await _run_queue(new_run) == h24

        # The merged province's leader assigns: the update and its projection run on 24's worker.
        view = await moved.execute_update(
            DossierWorkflow.complete_step,
            CompleteStepInput(
                actor=Actor(id="leader-24", roles=(Role.LEADER,), unit=NEW_JUSTICE),
                action_id=str(uuid.uuid4()),
                step_id="assign",
            ),
        )
        await settled(moved)
        assert await _activities(new_run) == [(h24, "worker-h24")]
        assert await _workflow_task_identities(new_run) == {"worker-h24"}
        async with store.sessions() as session:
            row = await session.get(DossierRow, bac_ninh.dossier_code)
        assert (row.handling_unit, row.current_step) == (NEW_JUSTICE, "review")

        # Hà Nội has no queue of its own: carried over within the shared queue, one run.
        stayed = desk.handle(ha_noi.dossier_code)
        view = await settled(stayed)
        assert (view.handling_unit, view.runs) == (BA_DINH_WARD, 1)
        assert await _run_queue(stayed) == routing.default
        assert {queue for queue, _ in await _activities(stayed)} == {routing.default}
        # Its province has no queue of its own: no patch marker, nothing changed in its history.
        assert PROVINCE_QUEUE_PATCH.encode() not in await _marker_data(stayed)


@pytest_asyncio.fixture
async def group_queues(env, store) -> AsyncIterator[tuple[QueueRouting, list[GroupDesk]]]:
    """Hà Nội (01) on a queue of its own beside the shared one, a worker on each with its own
    identity. Every group of a test is received on one store: the counter's codes follow on
    (a group code is also its workflow id, on a dev server shared by the session)."""
    suffix = uuid.uuid4().hex[:8]
    routing = QueueRouting(default=f"shared-{suffix}", by_province={"01": f"h01-{suffix}"})
    async with AsyncExitStack() as workers:
        for queue, identity in zip(routing.queues, ("worker-shared", "worker-h01"), strict=True):
            await workers.enter_async_context(
                build_worker(env.client, queue, store, routing=routing, identity=identity)
            )
        desks: list[GroupDesk] = []
        try:
            yield routing, desks
        finally:
            for desk in desks:
                await desk.close_open_groups()


async def _group_returned(desk: GroupDesk) -> GroupReceipt:
    """Phường Ba Đình's birth group (every member handled in Hà Nội, 01) from the counter's
    receipt, each member done by its agency in order, to the result returned."""
    receipt = await desk.receive()
    code = receipt.group_dossier_code
    units = {m.key: m.handling_unit for m in receipt.members}
    for part in receipt.members:
        await desk.do_member(part.dossier_code, units[part.key])
    await desk.until(code, lambda v: v.status is GroupStatus.PROCESSED, timeout=30)
    await desk.group(code).execute_update(
        GroupWorkflow.return_result, GroupReturnInput(actor=COUNTER, action_id=str(uuid.uuid4()))
    )
    assert (await desk.finished(code)).status is GroupStatus.RETURNED
    for part in receipt.members:
        assert (await desk.member(part.dossier_code).result()).status.value == "returned"
    return receipt


async def _started_input(env, handle: WorkflowHandle, kind):
    async for event in handle.fetch_history_events(page_size=1):
        started = event.workflow_execution_started_event_attributes
        [value] = await env.client.data_converter.decode(started.input.payloads, [kind])
        return value
    raise AssertionError(f"{handle.id} has no history")


async def _named_identities(handle: WorkflowHandle) -> set[str]:
    """The workers that took the run's workflow tasks. The dev server writes an update's
    speculative task (scheduled, started, completed together with the update's acceptance)
    with no identity: those are left out."""
    return await _workflow_task_identities(handle) - {""}


class TestGroupMembersOnProvinceQueues:
    async def test_a_groups_members_run_on_their_provinces_queue_and_only_there(
        self, env, store, group_queues
    ):
        """Hà Nội has a queue of its own: the group received at Ba Đình's counter runs on the
        shared queue, each member dossier is started on Hà Nội's queue (its run's queue, its
        input's task_queue), where only Hà Nội's worker takes its tasks and activities; the group
        asks the patch, and completes its lifecycle. Without a route for Hà Nội nothing changes."""
        routing, desks = group_queues
        desk = GroupDesk(env, routing.default, store, routing=routing)
        desks.append(desk)
        h01 = routing.by_province["01"]
        receipt = await _group_returned(desk)
        group = desk.group(receipt.group_dossier_code)
        assert await _run_queue(group) == routing.default
        assert await _named_identities(group) == {"worker-shared"}
        assert {queue for queue, _ in await _activities(group)} == {routing.default}
        assert GROUP_PROVINCE_QUEUES_PATCH.encode() in await _marker_data(group)
        started = await _started_input(env, group, GroupInput)
        assert (started.task_queue, started.task_queues) == (routing.default, routing)
        assert len(receipt.members) == 3
        for part in receipt.members:
            handle = desk.member(part.dossier_code)
            assert await _run_queue(handle) == h01
            assert (await _started_input(env, handle, DossierInput)).task_queue == h01
            assert await _named_identities(handle) == {"worker-h01"}
            assert set(await _activities(handle)) == {(h01, "worker-h01")}

        # Received without a routing (no province has a queue), or with one where only old Bắc
        # Ninh (27) has its own, Hà Nội's members are started on the group's queue as before and
        # the group's history has no patch marker. (One test, one store: the counter's codes
        # follow on, and a group's code is its workflow id on the session's dev server.)
        for by_province in (None, {"27": "h27-unpolled"}):
            other = QueueRouting(default=routing.default, by_province=by_province) if by_province else None
            desk = GroupDesk(env, routing.default, store, routing=other)
            desks.append(desk)
            receipt = await _group_returned(desk)
            group = desk.group(receipt.group_dossier_code)
            assert (await _started_input(env, group, GroupInput)).task_queues == other
            assert GROUP_PROVINCE_QUEUES_PATCH.encode() not in await _marker_data(group)
            for part in receipt.members:
                handle = desk.member(part.dossier_code)
                assert await _run_queue(handle) == routing.default
                assert (await _started_input(env, handle, DossierInput)).task_queue == routing.default
                assert await _named_identities(handle) == {"worker-shared"}
