"""Starting a carryover, reading its progress, and scheduling it for the boundary.

The operator's entry points (CLI, API) go through these functions; the workflow id is
derived from the carryover id, so starting the same carryover twice finds the same workflow
(and its transfer ids), never a second one.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from temporalio.client import (
    Client,
    Schedule,
    ScheduleActionExecutionStartWorkflow,
    ScheduleActionStartWorkflow,
    ScheduleAlreadyRunningError,
    ScheduleCalendarSpec,
    ScheduleHandle,
    ScheduleRange,
    ScheduleSpec,
    WorkflowHandle,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from adminunits.registry import REFORM_INSTANT
from carryover.models import CarryoverInput, CarryoverMode, CarryoverProgress, CarryoverReport
from carryover.workflow import CarryoverWorkflow

__all__ = [
    "DEFAULT_CARRYOVER_ID",
    "carryover_handle",
    "carryover_progress",
    "carryover_workflow_id",
    "find_carryover",
    "schedule_id",
    "schedule_carryover",
    "start_carryover",
]

DEFAULT_CARRYOVER_ID = "2025-07-01"
_TZ = "Asia/Ho_Chi_Minh"


def carryover_workflow_id(carryover_id: str, mode: CarryoverMode = CarryoverMode.RUN) -> str:
    return f"carryover-{carryover_id}" if mode is CarryoverMode.RUN else f"carryover-{carryover_id}-plan"


async def start_carryover(
    client: Client, task_queue: str, request: CarryoverInput
) -> WorkflowHandle[CarryoverWorkflow, CarryoverReport]:
    """Start (or, if it is running, join) the carryover; a finished one may be run again,
    which transfers only what is still at an abolished authority."""
    await client.start_workflow(
        CarryoverWorkflow.run,
        request,
        id=carryover_workflow_id(request.carryover_id, request.mode),
        task_queue=task_queue,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    # A handle without a run id: queries reach the latest run after continue-as-new.
    return carryover_handle(client, request.carryover_id, request.mode)


def carryover_handle(
    client: Client, carryover_id: str, mode: CarryoverMode = CarryoverMode.RUN
) -> WorkflowHandle[CarryoverWorkflow, CarryoverReport]:
    return client.get_workflow_handle_for(CarryoverWorkflow.run, carryover_workflow_id(carryover_id, mode))


async def find_carryover(
    client: Client, carryover_id: str, mode: CarryoverMode = CarryoverMode.RUN
) -> WorkflowHandle[CarryoverWorkflow, CarryoverReport]:
    """The carryover's workflow, started by an operator or by its schedule (a scheduled start
    gets the schedule's time appended to its workflow id)."""
    handle = carryover_handle(client, carryover_id, mode)
    try:
        await handle.describe()
        return handle
    except RPCError as err:
        if err.status is not RPCStatusCode.NOT_FOUND:
            raise
    try:
        described = await client.get_schedule_handle(schedule_id(carryover_id)).describe()
    except RPCError:
        raise LookupError(f"no carryover {carryover_id!r} has been started or scheduled") from None
    actions = described.info.recent_actions
    if not actions:
        raise LookupError(f"carryover {carryover_id!r} is scheduled and has not started yet")
    # The schedule's action starts a workflow (schedule_carryover), so its executions are workflows.
    started = cast(ScheduleActionExecutionStartWorkflow, actions[-1].action)
    return client.get_workflow_handle_for(CarryoverWorkflow.run, started.workflow_id)


async def carryover_progress(
    client: Client, carryover_id: str, mode: CarryoverMode = CarryoverMode.RUN
) -> CarryoverProgress:
    """done / total / failed / manual of the latest run of that carryover."""
    return await (await find_carryover(client, carryover_id, mode)).query(CarryoverWorkflow.progress)


def schedule_id(carryover_id: str) -> str:
    return f"carryover-schedule-{carryover_id}"


async def schedule_carryover(
    client: Client,
    task_queue: str,
    *,
    carryover_id: str = DEFAULT_CARRYOVER_ID,
    at: datetime = REFORM_INSTANT,
    request: CarryoverInput | None = None,
) -> ScheduleHandle:
    """A Temporal Schedule that starts the carryover once, at `at` (default the boundary,
    2025-07-01T00:00+07:00). Creating it twice is harmless: the existing one is returned."""
    local = at.astimezone(REFORM_INSTANT.tzinfo)
    spec = ScheduleSpec(
        calendars=[
            ScheduleCalendarSpec(
                year=[ScheduleRange(local.year)],
                month=[ScheduleRange(local.month)],
                day_of_month=[ScheduleRange(local.day)],
                hour=[ScheduleRange(local.hour)],
                minute=[ScheduleRange(local.minute)],
                second=[ScheduleRange(local.second)],
            )
        ],
        time_zone_name=_TZ,
    )
    request = request or CarryoverInput(carryover_id=carryover_id)
    try:
        return await client.create_schedule(
            schedule_id(request.carryover_id),
            Schedule(
                action=ScheduleActionStartWorkflow(
                    CarryoverWorkflow.run,
                    request,
                    id=carryover_workflow_id(request.carryover_id, request.mode),
                    task_queue=task_queue,
                ),
                spec=spec,
            ),
        )
    except ScheduleAlreadyRunningError:
        return client.get_schedule_handle(schedule_id(request.carryover_id))
