"""Record one closed DossierWorkflow history per workflow shape, as JSON, for the replay tests.

    .venv/bin/python scripts/record_histories.py [--out tests/histories]

Every shape runs on a fresh time-skipping test server (so days pass in seconds), except the
continue-as-new pair, which runs on a fresh local dev server: the time-skipping server's
continue-as-new is not atomic with updates (sdk-java#1537, sdk-python#826). Payloads use the
plain pydantic converter, with no encryption codec, so the files decode and replay without a
key; they carry only the synthetic applicant of tests/builders.py.

Each history ends closed (completed, or continued as new), so a replay covers all of it.
Re-recording gives the same shapes and event sequences, but other dates, ids and timestamps:
the servers start at today's wall-clock time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
import tempfile
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.client import Client, WorkflowHandle, WorkflowHistory, WorkflowUpdateFailedError  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402
from temporalio.worker import Replayer  # noqa: E402

from adminunits import VN_TZ  # noqa: E402
from assembly.workers import build_worker  # noqa: E402
from intake.forms import ReceiptSlip  # noqa: E402
from model import search_attributes  # noqa: E402
from model.dossier_inputs import (  # noqa: E402
    ActionInput,
    Actor,
    ApologyInput,
    CompleteStepInput,
    ConfirmPaymentInput,
    RefuseInput,
    RequestPaymentInput,
    RequestSupplementInput,
    ReturnResultInput,
    SupplementInput,
    TransferInput,
    Unit,
    WithdrawInput,
)
from model.dossier_view import DossierView  # noqa: E402
from procedures.calendar import WorkingCalendar  # noqa: E402
from procedures.models import Channel  # noqa: E402
from records.database import RecordsStore, open_records  # noqa: E402
from runtime.logging import configure_logging  # noqa: E402
from runtime.temporal import binary, register_search_attributes  # noqa: E402
from tests.builders import (  # noqa: E402
    COUNTER,
    LEADER,
    SPECIALIST,
    Counter,
    at,
    quiet_day,
    request,
    settled,
    start_dossier,
    travel_to,
)
from workflows.dossier import DossierWorkflow  # noqa: E402

TASK_QUEUE = "record-histories"
# Client and worker identity in the recorded events, instead of this machine's pid@hostname.
IDENTITY = "record-histories"
# The time-skipping shapes are recorded from this moment on (the server starts at today's
# time and moves only forward), so that re-recording gives the same dates and dossier codes.
EPOCH = datetime(2030, 1, 1, tzinfo=VN_TZ)
CONTINUED_ID = "REPLAY-CONTINUED-AS-NEW"
WORKFLOW_TASK = {
    EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
}
ACTIVITY_CLOSED = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED,
}
CLOSED = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
}


class Desk:
    """The intake counter of tests/builders on the time-skipping server, and its clock."""

    def __init__(self, env: WorkflowEnvironment, records: RecordsStore) -> None:
        self.env = env
        self.counter = Counter(env, TASK_QUEUE, records)

    async def receive_on(
        self, weekday: int, hour: int = 10, procedure: str = "1.004873"
    ) -> tuple[WorkflowHandle[DossierWorkflow, DossierView], date, ReceiptSlip]:
        """Receive a dossier on the next quiet `weekday` at `hour`, projected to the records."""
        day = quiet_day(await self.env.get_current_time(), weekday=weekday)
        await travel_to(self.env, at(day, hour))
        # Received exactly on the hour, so that the recorded input does not depend on timing.
        slip = await self.counter.receive(request(procedure, received_at=at(day, hour)))
        assert isinstance(slip, ReceiptSlip), slip
        handle = self.counter.handle(slip.dossier_code)
        await idle(handle)
        return handle, day, slip


async def act(handle: WorkflowHandle, update, action: ActionInput) -> None:
    """Send an action as an Update whose id is the action id, and wait for its projection.

    Waiting keeps actions from overlapping the projection activity, so that a re-recording
    gives (mostly) the same events in the same order.
    """
    await handle.execute_update(update, action, id=action.action_id)
    await idle(handle)


async def idle(handle: WorkflowHandle, timeout: float = 10) -> None:
    """Wait until the dossier has no activity and no workflow task outstanding.

    Read from the history, not with a query: the time-skipping server writes a workflow task
    into the history for each query (their number would depend on timing), and its describe
    reports neither pending workflow tasks nor, at first, a just-scheduled activity.
    """
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        events = [e.event_type for e in (await handle.fetch_history()).events]
        tasks = [e for e in events if e in WORKFLOW_TASK]
        open_activities = events.count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED) - sum(
            events.count(e) for e in ACTIVITY_CLOSED
        )
        if tasks and tasks[-1] == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED and not open_activities:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"dossier {handle.id} is still busy")
        await asyncio.sleep(0.05)


def step(actor: Actor, step_id: str, shape: str) -> CompleteStepInput:
    return CompleteStepInput(actor=actor, action_id=f"{shape}-{step_id}", step_id=step_id)


async def returned(desk: Desk) -> WorkflowHandle:
    """Receipt on a Thursday, both steps on Friday, the result returned at the counter."""
    handle, thursday, _ = await desk.receive_on(weekday=3)
    await travel_to(desk.env, at(thursday + timedelta(days=1), 9))
    await act(handle, DossierWorkflow.complete_step, step(SPECIALIST, "review", "returned"))
    await act(handle, DossierWorkflow.complete_step, step(LEADER, "approve", "returned"))
    await act(
        handle,
        DossierWorkflow.return_result,
        ReturnResultInput(actor=COUNTER, action_id="returned-return", channel=Channel.COUNTER),
    )
    return handle


async def supplemented(desk: Desk) -> WorkflowHandle:
    """A supplement asked for on Tuesday and brought next Monday (moves the due moment), then to the end."""
    handle, monday, _ = await desk.receive_on(weekday=0)
    await travel_to(desk.env, at(monday + timedelta(days=1), 10))
    await act(
        handle,
        DossierWorkflow.request_supplement,
        RequestSupplementInput(
            actor=SPECIALIST,
            action_id="supplemented-request",
            reason="thiếu bản án ly hôn",
            documents=("divorce_judgment",),
        ),
    )
    await travel_to(desk.env, at(monday + timedelta(days=7), 10))
    await act(
        handle,
        DossierWorkflow.supplement,
        SupplementInput(actor=COUNTER, action_id="supplemented-supplement", documents=("divorce_judgment",)),
    )
    await act(handle, DossierWorkflow.complete_step, step(SPECIALIST, "review", "supplemented"))
    await act(handle, DossierWorkflow.complete_step, step(LEADER, "approve", "supplemented"))
    await act(
        handle,
        DossierWorkflow.return_result,
        ReturnResultInput(actor=COUNTER, action_id="supplemented-return"),
    )
    return handle


async def refused(desk: Desk) -> WorkflowHandle:
    """Reviewed, then refused by a leader of the handling unit."""
    handle, _, _ = await desk.receive_on(weekday=0)
    await act(handle, DossierWorkflow.complete_step, step(SPECIALIST, "review", "refused"))
    await act(
        handle,
        DossierWorkflow.refuse,
        RefuseInput(actor=LEADER, action_id="refused-refuse", reason="không đủ điều kiện"),
    )
    return handle


async def withdrawn(desk: Desk) -> WorkflowHandle:
    """Withdrawn at the receiving counter before any step."""
    handle, _, _ = await desk.receive_on(weekday=0)
    await act(handle, DossierWorkflow.withdraw, WithdrawInput(actor=COUNTER, action_id="withdrawn-withdraw"))
    return handle


async def overdue_apology(desk: Desk) -> WorkflowHandle:
    """The due timer fires, an apology sets a new appointment, then the late result is returned."""
    handle, monday, slip = await desk.receive_on(weekday=0)
    await travel_to(desk.env, slip.due_at + timedelta(minutes=1))
    await idle(handle)  # the due timer has fired: overdue, apology due
    await act(
        handle,
        DossierWorkflow.issue_apology,
        ApologyInput(
            actor=LEADER,
            action_id="overdue-apology",
            reason="cần xác minh thêm",
            new_due_at=at(monday + timedelta(days=8), 17),
        ),
    )
    await act(handle, DossierWorkflow.complete_step, step(SPECIALIST, "review", "overdue"))
    await act(handle, DossierWorkflow.complete_step, step(LEADER, "approve", "overdue"))
    await act(
        handle, DossierWorkflow.return_result, ReturnResultInput(actor=COUNTER, action_id="overdue-return")
    )
    return handle


async def payment(desk: Desk) -> WorkflowHandle:
    """3.000333 at the provincial police (a department-level version): fees requested, paid at the counter, result returned."""
    handle, _, slip = await desk.receive_on(weekday=0, procedure="3.000333")
    leader = LEADER.model_copy(update={"unit": slip.handling_unit})
    specialist = SPECIALIST.model_copy(update={"unit": slip.handling_unit})
    await act(handle, DossierWorkflow.complete_step, step(leader, "assign", "payment"))
    await act(
        handle,
        DossierWorkflow.request_payment,
        RequestPaymentInput(actor=specialist, action_id="payment-request", amount_vnd=200000, reason="phí"),
    )
    await act(
        handle,
        DossierWorkflow.confirm_payment,
        ConfirmPaymentInput(
            actor=COUNTER, action_id="payment-confirm", amount_vnd=200000, receipt_number="BL-1"
        ),
    )
    await act(handle, DossierWorkflow.complete_step, step(specialist, "review", "payment"))
    await act(handle, DossierWorkflow.complete_step, step(leader, "approve", "payment"))
    await act(
        handle, DossierWorkflow.return_result, ReturnResultInput(actor=COUNTER, action_id="payment-return")
    )
    return handle


async def carried_over(desk: Desk) -> WorkflowHandle:
    """Reviewed, carried over to another commune's committee by a transfer, approved there, returned."""
    handle, _, _ = await desk.receive_on(weekday=0)
    await act(handle, DossierWorkflow.complete_step, step(SPECIALIST, "review", "carried"))
    successor = "000.00008.00.H01"
    transfer = TransferInput(
        transfer_id="carried-transfer",
        to_unit=Unit(
            code=successor, name="Ủy ban nhân dân Phường Ngọc Hà", province_code="01", commune_code="00008"
        ),
        reason="Nghị quyết 190/2025/QH15",
    )
    await handle.execute_update(DossierWorkflow.transfer, transfer, id=transfer.transfer_id)
    await idle(handle)
    await act(
        handle,
        DossierWorkflow.complete_step,
        step(LEADER.model_copy(update={"unit": successor}), "approve", "carried"),
    )
    await act(
        handle, DossierWorkflow.return_result, ReturnResultInput(actor=COUNTER, action_id="carried-return")
    )
    return handle


async def action_ids(desk: Desk) -> WorkflowHandle:
    """Actions under the content-fingerprint patch: a request for documents sent twice (one
    effect), then under its id with another reason (refused by the validator, no event), brought;
    overdue, an apology for the end of a working day (the calendar-checked validator); returned."""
    handle, monday, slip = await desk.receive_on(weekday=0)
    ask = RequestSupplementInput(
        actor=SPECIALIST, action_id="ids-ask", reason="bản chụp mờ", documents=("photo",)
    )
    await act(handle, DossierWorkflow.request_supplement, ask)
    await handle.execute_update(DossierWorkflow.request_supplement, ask)
    await idle(handle)
    try:
        await handle.execute_update(
            DossierWorkflow.request_supplement, ask.model_copy(update={"reason": "thiếu trang 2"})
        )
    except WorkflowUpdateFailedError as err:
        assert getattr(err.cause, "type", None) == "ActionIdReused", err.cause
    else:
        raise AssertionError("the same action id with other content was accepted")
    await act(
        handle,
        DossierWorkflow.supplement,
        SupplementInput(actor=COUNTER, action_id="ids-bring", documents=("photo",)),
    )
    due_at = (await handle.query(DossierWorkflow.view)).due_at
    await travel_to(desk.env, due_at + timedelta(minutes=1))
    await idle(handle)  # overdue, apology due
    await act(
        handle,
        DossierWorkflow.issue_apology,
        ApologyInput(
            actor=LEADER,
            action_id="ids-apology",
            reason="cần xác minh thêm",
            new_due_at=WorkingCalendar.default().add_working_days(due_at + timedelta(minutes=1), 3),
        ),
    )
    await act(handle, DossierWorkflow.complete_step, step(SPECIALIST, "review", "ids"))
    await act(handle, DossierWorkflow.complete_step, step(LEADER, "approve", "ids"))
    await act(handle, DossierWorkflow.return_result, ReturnResultInput(actor=COUNTER, action_id="ids-return"))
    return handle


async def carried_over_counter(desk: Desk) -> WorkflowHandle:
    """Carried over with its counter (the district's counter was abolished too): the transfer
    also upserts `ReceivingUnit`; the successor approves and its counter returns the result."""
    handle, _, _ = await desk.receive_on(weekday=0)
    successor = "000.00008.00.H01"
    successor_counter = "000.00008.01.H01"
    transfer = TransferInput(
        transfer_id="carried-counter-transfer",
        to_unit=Unit(
            code=successor, name="Ủy ban nhân dân Phường Ngọc Hà", province_code="01", commune_code="00008"
        ),
        to_receiving_unit=Unit(
            code=successor_counter,
            name="Trung tâm Phục vụ hành chính công Phường Ngọc Hà",
            province_code="01",
            commune_code="00008",
        ),
        reason="Nghị quyết 190/2025/QH15",
    )
    await handle.execute_update(DossierWorkflow.transfer, transfer, id=transfer.transfer_id)
    await idle(handle)
    await act(
        handle,
        DossierWorkflow.complete_step,
        step(SPECIALIST.model_copy(update={"unit": successor}), "review", "carried-counter"),
    )
    await act(
        handle,
        DossierWorkflow.complete_step,
        step(LEADER.model_copy(update={"unit": successor}), "approve", "carried-counter"),
    )
    await act(
        handle,
        DossierWorkflow.return_result,
        ReturnResultInput(
            actor=COUNTER.model_copy(update={"unit": successor_counter}), action_id="carried-counter-return"
        ),
    )
    return handle


TIME_SKIPPING_SHAPES: dict[str, Callable[[Desk], Awaitable[WorkflowHandle]]] = {
    "dossier_returned": returned,
    "dossier_supplemented": supplemented,
    "dossier_refused": refused,
    "dossier_withdrawn": withdrawn,
    "dossier_overdue_apology": overdue_apology,
    "dossier_payment": payment,
    "dossier_carried_over": carried_over,
    "dossier_action_ids": action_ids,
    "dossier_carried_over_counter": carried_over_counter,
}


async def continued(client: Client) -> list[WorkflowHistory]:
    """Supplement rounds until the dossier continues as new once, then a withdrawal: every run's history."""
    handle = await start_dossier(client, TASK_QUEUE, code=CONTINUED_ID, continue_as_new_after_events=50)
    for round_ in range(20):
        await act(
            handle,
            DossierWorkflow.request_supplement,
            RequestSupplementInput(actor=SPECIALIST, action_id=f"rs-{round_}", reason="r", documents=("x",)),
        )
        await act(
            handle,
            DossierWorkflow.supplement,
            SupplementInput(actor=COUNTER, action_id=f"s-{round_}", documents=("x",)),
        )
        if (await settled(handle)).runs > 1:
            break
    else:
        raise AssertionError("the dossier never continued as new")
    await act(handle, DossierWorkflow.withdraw, WithdrawInput(actor=COUNTER, action_id="withdraw"))
    await handle.result()
    # From the last run back to the first, through each start's predecessor.
    runs: list[WorkflowHistory] = []
    run_id: str | None = (await client.get_workflow_handle(CONTINUED_ID).describe()).run_id
    while run_id:
        history = await client.get_workflow_handle(CONTINUED_ID, run_id=run_id).fetch_history()
        runs.insert(0, history)
        run_id = history.events[0].workflow_execution_started_event_attributes.continued_execution_run_id
    return runs


def write(out: Path, name: str, history: WorkflowHistory) -> None:
    last = history.events[-1].event_type
    if last not in CLOSED:
        raise AssertionError(f"{name}: history is not closed (last event {EventType.Name(last)})")
    path = out / f"{name}.json"
    # Keys sorted: the maps in an event (search attributes, payload metadata) come in no fixed order.
    text = json.dumps(json.loads(history.to_json()), indent=2, sort_keys=True, ensure_ascii=False)
    path.write_text(text + "\n", encoding="utf-8")
    print(
        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
        f"{len(history.events)} events, {path.stat().st_size} bytes"
    )


async def record(out: Path) -> dict[str, WorkflowHistory]:
    recorded: dict[str, WorkflowHistory] = {}
    with tempfile.TemporaryDirectory(prefix="record-histories-") as tmp:
        async with open_records(f"sqlite+aiosqlite:///{Path(tmp) / 'records.sqlite'}") as records:
            env = await WorkflowEnvironment.start_time_skipping(
                data_converter=pydantic_data_converter,
                identity=IDENTITY,
                test_server_existing_path=binary("temporal-test-server"),
            )
            async with env:
                await register_search_attributes(env.client)
                await travel_to(env, max(EPOCH, await env.get_current_time()))
                async with build_worker(env.client, TASK_QUEUE, records):
                    desk = Desk(env, records)
                    for name, shape in TIME_SKIPPING_SHAPES.items():
                        handle = await shape(desk)
                        await handle.result()
                        recorded[name] = await handle.fetch_history()
                        write(out, name, recorded[name])

            env = await WorkflowEnvironment.start_local(
                data_converter=pydantic_data_converter,
                identity=IDENTITY,
                search_attributes=search_attributes.ALL,
                dev_server_existing_path=binary("temporal"),
                dev_server_log_level="error",
            )
            async with env:
                async with build_worker(env.client, TASK_QUEUE, records):
                    runs = await continued(env.client)
            # A shorter chain than last time must not leave a stale run behind.
            for stale in out.glob("dossier_continued_run*.json"):
                if re.fullmatch(r"dossier_continued_run\d+", stale.stem):
                    stale.unlink()
            for number, history in enumerate(runs, start=1):
                recorded[f"dossier_continued_run{number}"] = history
                write(out, f"dossier_continued_run{number}", history)
    return recorded


async def check_replay(recorded: dict[str, WorkflowHistory]) -> None:
    """What tests/workflows/test_replay_histories.py does, so a bad recording fails here first."""
    replayer = Replayer(workflows=[DossierWorkflow], data_converter=pydantic_data_converter)
    for name, history in recorded.items():
        await replayer.replay_workflow(history)
    print(f"{len(recorded)} histories replay against the current code")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out", type=Path, default=ROOT / "tests" / "histories", help="directory for the JSON files"
    )
    args = parser.parse_args()
    configure_logging()
    args.out.mkdir(parents=True, exist_ok=True)
    await check_replay(await record(args.out.resolve()))


if __name__ == "__main__":
    asyncio.run(main())
