"""Assembling a worker: the dossier workflow and its activities with their dependencies."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.worker import Worker

from activities.calendar import CalendarActivities
from activities.group_records import GroupRecordActivities
from activities.records import RecordActivities
from carryover.activities import CarryoverActivities
from carryover.workflow import CarryoverWorkflow
from procedures.calendar import WorkingCalendar
from records.database import RecordsStore
from workflows.dossier import DossierWorkflow
from workflows.group import GroupWorkflow

__all__ = ["WORKFLOWS", "build_worker"]

WORKFLOWS = [DossierWorkflow, CarryoverWorkflow, GroupWorkflow]


def build_worker(
    client: Client,
    task_queue: str,
    records: RecordsStore,
    calendar: WorkingCalendar | None = None,
    **worker_options,
) -> Worker:
    # The apology's validator asks the shipped calendar inside the workflow (see
    # workflows.dossier_apology): built here, outside the sandbox, so no workflow task reads its file.
    WorkingCalendar.default()
    recorder = RecordActivities(records)
    clock = CalendarActivities(calendar or WorkingCalendar.default())
    carryover = CarryoverActivities(client, records)
    groups = GroupRecordActivities(records)
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[
            recorder.record_events,
            clock.shift_deadline,
            carryover.count_candidates,
            carryover.list_candidates,
            carryover.carry_over_batch,
            groups.record_group,
        ],
        **worker_options,
    )
