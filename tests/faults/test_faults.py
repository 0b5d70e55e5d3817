"""Fault injection on real processes (issue 7): a dev server with its state in a file, and
worker.py, both subprocesses that the tests SIGKILL or stop and start again.

1. The worker is SIGKILLed during a burst of intakes and again during human steps.
2. The dev server is restarted while dossiers are open and their deadline timers pending.
3. The records database (PostgreSQL) refuses connections for a while.

Afterwards every dossier is in its expected state exactly once: one workflow per receipt,
one records row per dossier, its events seq 1..n equal to its timeline, gapless codes.
These start their own servers, so they run in the default (time-skipping) pass only.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter as Tally
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import pytest_asyncio
from sqlalchemy import select
from temporalio.client import Client

from adminunits import VN_TZ
from intake.forms import ReceiptSlip
from intake.service import IntakeService
from model.dossier_inputs import Actor, CompleteStepInput, ReturnResultInput
from model.dossier_state import DossierStatus, TimelineEntry
from model.dossier_view import DossierView
from procedures.models import Role
from records.chain import GENESIS, event_hash
from records.database import RecordsStore, open_records
from records.tables import DossierEventRow, DossierRow, DossierSequenceRow, IntakeRequestRow, NotificationRow
from runtime.settings import Settings
from tests.builders import COUNTER, LEADER, NGOC_HA_COUNTER, SPECIALIST, request, start_dossier
from tests.faults.harness import (
    DevServer,
    PostgresDatabase,
    WorkerProcess,
    eventually,
    payload_keys,
    process_env,
    retried_activities,
    send_until_accepted,
    settled_views,
    workflow_task_timeouts,
)
from tests.faults.harness import (
    view as query_view,
)
from workflows.dossier import NOTIFIED_ACTIONS, DossierWorkflow

NGOC_HA_OFFICER = Actor(id="counter-8", roles=(Role.COUNTER_OFFICER,), unit=NGOC_HA_COUNTER)


@pytest.fixture(autouse=True)
def default_pass_only(request: pytest.FixtureRequest) -> None:
    if request.config.getoption("--workflow-environment") == "local":
        pytest.skip("starts its own dev server and workers: run once, in the default pass")


@dataclass
class Deployment:
    """A dev server, a worker process and a records database, as in production."""

    directory: Path
    database_url: str
    server: DevServer
    env: dict[str, str]
    settings: Settings
    worker: WorkerProcess
    records: RecordsStore
    client: Client = field(init=False)

    @property
    def task_queue(self) -> str:
        return self.settings.task_queue

    async def start_worker(self) -> None:
        self.worker.start()
        await self.worker.wait_ready()


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    """The records database of the deployment: a SQLite file unless a test class says otherwise."""
    return f"sqlite+aiosqlite:///{tmp_path / 'records.sqlite'}"


@pytest_asyncio.fixture
async def deployment(tmp_path: Path, database_url: str) -> AsyncIterator[Deployment]:
    server = DevServer(tmp_path)
    env = process_env(
        DATA_DIR=str(tmp_path),
        DATABASE_URL=database_url,
        TEMPORAL_ADDRESS=server.address,
        TASK_QUEUE=f"faults-{uuid.uuid4()}",
        PAYLOAD_KEYS=payload_keys(),
    )
    settings = Settings.from_env(env)
    worker = WorkerProcess(tmp_path, env)
    try:
        server.start()
        # The test opens the records first: the schema exists before any process writes.
        async with open_records(database_url) as records:
            deployment = Deployment(tmp_path, database_url, server, env, settings, worker, records)
            deployment.client = await server.wait_ready(settings)
            await deployment.start_worker()
            yield deployment
    finally:
        worker.stop()
        server.stop()


# --- reading the records database -------------------------------------------------------


@dataclass
class Projection:
    dossiers: dict[str, DossierRow]
    events: dict[str, list[DossierEventRow]]
    notices: dict[str, list[int]]
    sequences: dict[tuple[str, str], int]
    intake_requests: dict[str, str | None]

    @property
    def event_count(self) -> int:
        return sum(len(rows) for rows in self.events.values())


async def read_projection(records: RecordsStore) -> Projection:
    async with records.sessions() as session:
        dossiers = {row.code: row for row in await session.scalars(select(DossierRow))}
        events: dict[str, list[DossierEventRow]] = {}
        ordered = select(DossierEventRow).order_by(DossierEventRow.dossier_code, DossierEventRow.seq)
        for row in await session.scalars(ordered):
            events.setdefault(row.dossier_code, []).append(row)
        notices: dict[str, list[int]] = {}
        for code, seq in await session.execute(
            select(NotificationRow.dossier_code, NotificationRow.event_seq)
        ):
            notices.setdefault(code, []).append(seq)
        sequences = {
            (row.agency_code, row.day): row.last_number
            for row in await session.scalars(select(DossierSequenceRow))
        }
        intake_requests = {
            row.request_id: row.dossier_code for row in await session.scalars(select(IntakeRequestRow))
        }
    return Projection(dossiers, events, notices, sequences, intake_requests)


def assert_projection_matches(projection: Projection, views: dict[str, DossierView]) -> None:
    """Each dossier once, its events exactly seq 1..n and equal to its timeline, notices once."""
    assert set(projection.dossiers) == set(views), "records rows are not exactly the dossiers"
    for code, view in views.items():
        rows = projection.events.get(code, [])
        assert [r.seq for r in rows] == list(range(1, len(view.timeline) + 1)), code
        for row, entry in zip(rows, view.timeline, strict=True):
            assert TimelineEntry.model_validate_json(row.payload) == entry, (code, entry.seq)
            assert (row.action, row.status_after, row.actor_id) == (
                entry.action,
                entry.status_after.value,
                entry.actor_id,
            ), (code, entry.seq)
        # The hash chain survived the faults: each row links to the one before, the head is known.
        prev = GENESIS
        for row in rows:
            assert (row.prev_hash, row.hash) == (prev, event_hash(code, row.seq, prev, row.payload)), (
                code,
                row.seq,
            )
            prev = row.hash
        dossier = projection.dossiers[code]
        assert dossier.last_event_hash == prev, code
        assert dossier.last_event_seq == len(view.timeline), code
        assert (dossier.status, dossier.overdue) == (view.status.value, view.overdue), code
        notified = [e.seq for e in view.timeline if e.action in NOTIFIED_ACTIONS]
        assert sorted(projection.notices.get(code, [])) == notified, code
        # An action id has one effect: one timeline entry per id (system entries have none).
        ids = Tally(e.action_id for e in view.timeline if e.action_id)
        assert all(n == 1 for n in ids.values()), (code, ids)


def assert_codes_gapless(projection: Projection, codes: list[str]) -> None:
    """Per counter and day, numbers 1..n with no gap and no repeat, n as the counter row says."""
    by_counter: dict[tuple[str, str], list[int]] = {}
    for code in codes:
        agency, day, number = code.rsplit("-", 2)
        by_counter.setdefault((agency, day), []).append(int(number))
    assert set(by_counter) == set(projection.sequences)
    for key, numbers in by_counter.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), (key, sorted(numbers))
        assert projection.sequences[key] == len(numbers), key


async def count_workflows(client: Client, task_queue: str, also: str = "") -> int:
    return (await client.count_workflows(f'TaskQueue="{task_queue}"{also}')).count


async def workflow_ids(client: Client, task_queue: str) -> list[str]:
    return [w.id async for w in client.list_workflows(f'TaskQueue="{task_queue}"')]


async def retries_of(client: Client, codes: list[str]) -> tuple[int, int, int]:
    """(activity executions, retried executions, workflow task timeouts) over these dossiers."""
    executions = retried = timeouts = 0
    for code in codes:
        e, r = await retried_activities(client, code)
        executions, retried = executions + e, retried + r
        timeouts += await workflow_task_timeouts(client, code)
    return executions, retried, timeouts


# --- the steps of a dossier ---------------------------------------------------------------


def review(code: str) -> CompleteStepInput:
    return CompleteStepInput(actor=SPECIALIST, action_id=f"review-{code}", step_id="review")


def approve(code: str) -> CompleteStepInput:
    return CompleteStepInput(actor=LEADER, action_id=f"approve-{code}", step_id="approve")


def hand_back(code: str, officer: Actor) -> ReturnResultInput:
    return ReturnResultInput(actor=officer, action_id=f"return-{code}")


# Expected end of each plan: (status, timeline length).
PLANS = {
    "untouched": (DossierStatus.PROCESSING, 2),  # received, transferred
    "reviewed": (DossierStatus.PROCESSING, 3),  # + step_completed
    "processed": (DossierStatus.PROCESSED, 5),  # + step_completed, processed
    "returned": (DossierStatus.RETURNED, 6),  # + result_returned
}


class TestWorkerKilled:
    @pytest.mark.timeout(120)
    async def test_sigkill_during_intake_burst_and_human_steps(self, deployment: Deployment):
        """Two SIGKILLs: one amid 30 concurrent intakes (with steps on the first dossiers),
        one amid a burst of human steps. Updates are resent with the same ids until a worker
        takes them. Every dossier ends in its planned state, recorded exactly once."""
        started = time.monotonic()
        d = deployment
        service = IntakeService.standard(d.client, d.task_queue, d.records)
        desks = (COUNTER, NGOC_HA_OFFICER)  # two counters, each numbering its own dossiers
        officers = {officer.unit: officer for officer in desks}
        requests = [
            request(receiving_unit=desks[i % 2].unit, received_by=desks[i % 2], request_id=f"burst-{i}")
            for i in range(30)
        ]
        slips: list[ReceiptSlip] = []
        by_request: dict[str, str] = {}
        sends: list[int] = []
        kills = 0

        async def receive(intake_request) -> ReceiptSlip:
            slip = await service.receive(intake_request)
            assert isinstance(slip, ReceiptSlip), slip
            slips.append(slip)
            by_request[intake_request.request_id] = slip.dossier_code
            return slip

        async def act(code: str, update, action) -> DossierView:
            handle = d.client.get_workflow_handle(code)
            result, n = await send_until_accepted(handle, update, action, timeout=60)
            sends.append(n)
            return result

        async def review_soon(slip: ReceiptSlip) -> None:
            await act(slip.dossier_code, DossierWorkflow.complete_step, review(slip.dossier_code))

        # Phase 1: the burst; the first receipts get their review at once; SIGKILL after 10.
        early_reviews: list[asyncio.Task] = []
        burst = [asyncio.create_task(receive(r)) for r in requests]
        await eventually(lambda: asyncio.sleep(0, len(slips)), lambda n: n >= 10, 30, "10 receipts")
        early_reviews = [asyncio.create_task(review_soon(s)) for s in slips[:6]]
        await asyncio.sleep(0.05)
        d.worker.kill()
        kills += 1
        receipts_at_kill = len(slips)
        await asyncio.sleep(1.5)  # intakes go on without any worker
        d.worker.start()
        await asyncio.gather(*burst)
        await d.worker.wait_ready()

        codes = [s.dossier_code for s in slips]
        plans = {code: list(PLANS)[i % len(PLANS)] for i, code in enumerate(codes)}
        # The early reviews went to the first six; those must not stay untouched.
        for code in codes[:6]:
            if plans[code] == "untouched":
                plans[code] = "reviewed"
        officer_of = {s.dossier_code: officers[s.receiving_unit] for s in slips}

        async def follow_plan(code: str) -> None:
            plan = plans[code]
            if plan == "untouched":
                return
            # For the first six, the same review again, maybe while the first send still waits.
            await act(code, DossierWorkflow.complete_step, review(code))
            if plan in ("processed", "returned"):
                await act(code, DossierWorkflow.complete_step, approve(code))
            if plan == "returned":
                await act(code, DossierWorkflow.return_result, hand_back(code, officer_of[code]))

        # Phase 2: every dossier's human steps at once; SIGKILL amid them, restart.
        steps = [asyncio.create_task(follow_plan(code)) for code in codes]
        await asyncio.sleep(0.4)
        d.worker.kill()
        kills += 1
        sends_before_second_kill = len(sends)
        await asyncio.sleep(1.5)
        await d.start_worker()
        t_restarted = time.monotonic() - started
        await asyncio.gather(*steps, *early_reviews)
        t_steps = time.monotonic() - started

        # Everything recorded and in its planned state. A task or activity abandoned by the
        # killed worker is retried after its timeout (the projection's is 30 s).
        views = await settled_views(d.client, codes, lambda v: True, 50, "dossier not settled")
        t_settled = time.monotonic() - started
        for code, v in views.items():
            status, entries = PLANS[plans[code]]
            assert (v.status, len(v.timeline)) == (status, entries), (code, plans[code], v.status)

        # One workflow per receipt, seen by the server's visibility.
        assert len(set(codes)) == len(codes) == len(requests)
        await eventually(
            lambda: count_workflows(d.client, d.task_queue), lambda n: n == len(codes), 10, "workflow count"
        )
        assert sorted(await workflow_ids(d.client, d.task_queue)) == sorted(codes)

        projection = await read_projection(d.records)
        assert_projection_matches(projection, views)
        assert_codes_gapless(projection, codes)
        assert projection.intake_requests == by_request

        executions, retried, task_timeouts = await retries_of(d.client, codes)
        print(
            f"\n[worker killed] dossiers={len(codes)} (receipts at first kill: {receipts_at_kill}),"
            f" kills={kills}, updates={len(sends)} (before second kill: {sends_before_second_kill},"
            f" resent: {sum(n - 1 for n in sends)}), events={projection.event_count},"
            f" notices={sum(len(n) for n in projection.notices.values())},"
            f" projection activities={executions} (retried: {retried}),"
            f" workflow task timeouts={task_timeouts}, plans={dict(Tally(plans.values()))},"
            f" second restart at {t_restarted:.1f}s, steps done at {t_steps:.1f}s, settled at {t_settled:.1f}s,"
            f" elapsed={time.monotonic() - started:.1f}s"
        )


class TestDevServerRestarted:
    @pytest.mark.timeout(120)
    async def test_restart_with_dossiers_open_and_deadlines_pending(self, deployment: Deployment):
        """The dev server stops (SIGTERM) and starts again on its state file while dossiers are
        open: some deadlines pass while it is down, others after. All dossiers continue, every
        deadline fires once, and the projection records each overdue entry."""
        started = time.monotonic()
        d = deployment
        service = IntakeService.standard(d.client, d.task_queue, d.records)
        slips = [await service.receive(request(request_id=f"restart-{i}")) for i in range(3)]
        assert all(isinstance(s, ReceiptSlip) for s in slips)
        received = [s.dossier_code for s in slips]
        # Real procedures have deadlines of days: these dossiers are started with seconds.
        now = datetime.now(VN_TZ)
        due = {}
        for i in range(6):
            due_at = now + timedelta(seconds=8 if i < 3 else 14)
            handle = await start_dossier(d.client, d.task_queue, received_at=now, due_at=due_at)
            due[handle.id] = due_at
        timed = list(due)
        codes = received + timed
        await settled_views(d.client, codes, lambda v: len(v.timeline) == 2, 15, "dossier not received")

        # Down from about 2 s to about 10 s: the first deadlines pass while it is down.
        stopped_at = time.monotonic() - started
        d.server.stop()
        worker_alive_while_down = d.worker.alive()
        await asyncio.sleep(max(0.0, (min(due.values()) - datetime.now(VN_TZ)).total_seconds() + 1))
        d.server.start()
        d.client = await d.server.wait_ready(d.settings)
        back_at = time.monotonic() - started
        assert datetime.now(VN_TZ) > min(due.values())

        # Open dossiers answer and take human steps again.
        for code in received:
            result, _ = await send_until_accepted(
                d.client.get_workflow_handle(code), DossierWorkflow.complete_step, review(code), timeout=30
            )
            assert result.current_step is not None and result.current_step.id == "approve"

        views = await settled_views(
            d.client, codes, lambda v: v.overdue or v.code in received, 30, "deadline"
        )
        for code in timed:
            v = views[code]
            overdue = [e for e in v.timeline if e.action == "overdue"]
            assert len(overdue) == 1, (code, [e.action for e in v.timeline])
            assert overdue[0].at >= due[code], (code, overdue[0].at, due[code])
            assert (v.status, v.apology_due, len(v.timeline)) == (DossierStatus.PROCESSING, True, 3), code
        for code in received:
            v = views[code]
            assert (v.status, v.overdue, len(v.timeline)) == (DossierStatus.PROCESSING, False, 3), code

        projection = await read_projection(d.records)
        assert_projection_matches(projection, views)
        assert all(projection.dossiers[code].overdue for code in timed)
        assert_codes_gapless(projection, received)
        assert d.worker.alive(), "the worker did not survive the dev server's restart"
        await eventually(
            lambda: count_workflows(d.client, d.task_queue, " AND Overdue=true"),
            lambda n: n == len(timed),
            10,
            "overdue dossiers in visibility",
        )
        lateness = [
            (next(e.at for e in views[c].timeline if e.action == "overdue") - due[c]).total_seconds()
            for c in timed
        ]
        executions, retried, task_timeouts = await retries_of(d.client, codes)
        print(
            f"\n[dev server restarted] dossiers={len(codes)} (timers: {len(timed)}), stopped at {stopped_at:.1f}s,"
            f" back at {back_at:.1f}s, worker alive while down={worker_alive_while_down},"
            f" worker alive after={d.worker.alive()}, events={projection.event_count},"
            f" overdue fired late by {sorted(round(x, 1) for x in lateness)}s,"
            f" projection activities={executions} (retried: {retried}), workflow task timeouts={task_timeouts},"
            f" elapsed={time.monotonic() - started:.1f}s"
        )


POSTGRES_URL = os.environ.get("POSTGRES_TEST_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")


class TestRecordsUnavailable:
    # A SQLite file cannot be made to fail cleanly: a connection kept in the worker's pool
    # goes on writing to the file it opened whatever happens to its name or mode (only new
    # connections fail), and a held lock only makes writers wait (30 s busy timeout, as long
    # as the activity's). PostgreSQL refuses connections on demand, its server kept running.

    @pytest_asyncio.fixture
    async def database_url(self) -> AsyncIterator[str]:
        database = PostgresDatabase(POSTGRES_URL)
        try:
            await database.create()
        except (OSError, TimeoutError) as err:
            if os.environ.get("REQUIRE_POSTGRES") == "1":
                raise
            pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {err}")
        try:
            yield database.url
        finally:
            await database.make_available()
            await database.drop()

    @pytest.mark.timeout(120)
    async def test_activities_retry_through_an_outage_and_nothing_is_missing(
        self, deployment: Deployment, database_url: str
    ):
        """About 5 s without the records database while dossiers take steps and counters try
        to receive: the projection activities fail and retry, the intakes fail having started
        nothing; once it is back, every timeline entry is in the database exactly once."""
        started = time.monotonic()
        d = deployment
        database = PostgresDatabase.existing(POSTGRES_URL, database_url)
        service = IntakeService.standard(d.client, d.task_queue, d.records)
        by_request: dict[str, str] = {}

        async def receive(request_id: str) -> str:
            slip = await service.receive(request(request_id=request_id))
            assert isinstance(slip, ReceiptSlip), slip
            by_request[request_id] = slip.dossier_code
            return slip.dossier_code

        before = [await receive(f"before-{i}") for i in range(8)]
        await settled_views(d.client, before, lambda v: len(v.timeline) == 2, 15, "dossier not received")

        # The outage.
        outage_began = time.monotonic()
        await database.make_unavailable()
        reviews = await asyncio.gather(
            *(
                send_until_accepted(
                    d.client.get_workflow_handle(c), DossierWorkflow.complete_step, review(c), timeout=20
                )
                for c in before
            )
        )
        assert all(v.current_step.id == "approve" for v, _ in reviews)
        refused_intakes = 0
        during = [f"during-{i}" for i in range(3)]
        for request_id in during:
            with pytest.raises(Exception) as refused:
                await receive(request_id)
            assert not isinstance(refused.value, AssertionError)
            refused_intakes += 1
        assert await count_workflows(d.client, d.task_queue) == len(before), (
            "a failed intake started a dossier"
        )

        async def failed_attempts() -> int:
            total = 0
            for code in before:
                description = await d.client.get_workflow_handle(code).describe()
                for pending in description.raw_description.pending_activities:
                    if pending.attempt > 1 or pending.HasField("last_failure"):
                        total += 1
            return total

        failing = await eventually(failed_attempts, lambda n: n == len(before), 5, "projection failing")
        views_during = {c: await query_view(d.client, c) for c in before}
        assert all(v.unrecorded_events == 1 for v in views_during.values())
        await asyncio.sleep(max(0.0, 5 - (time.monotonic() - outage_began)))
        await database.make_available()
        outage = time.monotonic() - outage_began

        # Back: the refused intakes are submitted again, half the dossiers are approved.
        after = [await receive(request_id) for request_id in during]
        for code in before[::2]:
            await send_until_accepted(
                d.client.get_workflow_handle(code), DossierWorkflow.complete_step, approve(code), timeout=20
            )
        codes = before + after
        views = await settled_views(d.client, codes, lambda v: True, 30, "dossier not settled")
        for code in before:
            expected = (DossierStatus.PROCESSED, 5) if code in before[::2] else (DossierStatus.PROCESSING, 3)
            assert (views[code].status, len(views[code].timeline)) == expected, code
        for code in after:
            assert (views[code].status, len(views[code].timeline)) == (DossierStatus.PROCESSING, 2), code

        projection = await read_projection(d.records)
        assert_projection_matches(projection, views)
        assert_codes_gapless(projection, codes)
        assert projection.intake_requests == by_request
        await eventually(
            lambda: count_workflows(d.client, d.task_queue), lambda n: n == len(codes), 10, "workflow count"
        )
        executions, retried, task_timeouts = await retries_of(d.client, codes)
        assert retried >= len(before), "the projection activities did not retry"
        failures_logged = d.worker.count("Completing activity as failed")
        assert failures_logged >= len(before)
        print(
            f"\n[records unavailable] dossiers={len(codes)} (before: {len(before)}, refused then"
            f" resubmitted: {refused_intakes}), outage={outage:.1f}s, dossiers with failing projection"
            f" during it={failing}, activity failures logged by the worker={failures_logged},"
            f" projection activities={executions} (retried: {retried}), events={projection.event_count},"
            f" workflow task timeouts={task_timeouts}, elapsed={time.monotonic() - started:.1f}s"
        )

    @pytest.mark.timeout(120)
    async def test_outage_between_start_and_commit_leaves_one_dossier_per_request(
        self, deployment: Deployment, database_url: str
    ):
        """The records database goes away just after an intake started its dossier and before
        the number is committed (as when the counter's process dies there). The counter sees
        an error and submits the same request again: it must get one dossier, not two."""
        d = deployment
        database = PostgresDatabase.existing(POSTGRES_URL, database_url)

        class OutageAfterStart:
            """The client, except that the first start is followed by the outage."""

            def __init__(self, client: Client) -> None:
                self._client, self.starts = client, 0

            def __getattr__(self, name: str):
                return getattr(self._client, name)

            async def start_workflow(self, *args, **kwargs):
                handle = await self._client.start_workflow(*args, **kwargs)
                self.starts += 1
                if self.starts == 1:
                    await database.make_unavailable()
                return handle

        client = OutageAfterStart(d.client)
        service = IntakeService.standard(client, d.task_queue, d.records)  # type: ignore[arg-type]
        with pytest.raises(Exception) as failed:
            await service.receive(request(request_id="interrupted"))
        assert not isinstance(failed.value, AssertionError)
        await database.make_available()
        slip = await service.receive(request(request_id="interrupted"))
        assert isinstance(slip, ReceiptSlip)

        ids = await eventually(
            lambda: workflow_ids(d.client, d.task_queue), lambda ids: slip.dossier_code in ids, 10, "visible"
        )
        views = await settled_views(d.client, ids, lambda v: True, 30, "dossier not settled")
        projection = await read_projection(d.records)
        print(
            f"\n[start then outage] starts={client.starts}, workflows={sorted(ids)}, slip={slip.dossier_code},"
            f" records rows={sorted(projection.dossiers)}, notices={projection.notices},"
            f" intake_requests={projection.intake_requests}"
        )
        assert_projection_matches(projection, views)
        assert projection.intake_requests == {"interrupted": slip.dossier_code}
        assert ids == [slip.dossier_code], "one counter request, more than one dossier"
