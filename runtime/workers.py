"""Assembling a worker: the dossier workflow and its activities with their dependencies."""

from __future__ import annotations

from contextlib import asynccontextmanager
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from temporalio.client import Client
from temporalio.worker import Worker

from activities.calendar import CalendarActivities
from activities.notifications import NotificationActivities
from activities.records import RecordActivities
from procedures.calendar import WorkingCalendar
from records.database import create_engine, create_schema, session_factory
from workflows.dossier import DossierWorkflow

__all__ = ["RecordsStore", "WORKFLOWS", "build_worker", "open_records"]

WORKFLOWS = [DossierWorkflow]


@dataclass(frozen=True)
class RecordsStore:
    engine: AsyncEngine
    sessions: async_sessionmaker


@asynccontextmanager
async def open_records(database_url: str) -> AsyncIterator[RecordsStore]:
    engine = create_engine(database_url)
    try:
        await create_schema(engine)
        yield RecordsStore(engine, session_factory(engine))
    finally:
        await engine.dispose()


def build_worker(
    client: Client,
    task_queue: str,
    records: RecordsStore,
    calendar: WorkingCalendar | None = None,
    **worker_options,
) -> Worker:
    recorder = RecordActivities(records.engine, records.sessions)
    notifier = NotificationActivities(records.engine, records.sessions)
    clock = CalendarActivities(calendar or WorkingCalendar.default())
    return Worker(
        client,
        task_queue=task_queue,
        workflows=WORKFLOWS,
        activities=[recorder.record_event, notifier.notify_applicant, clock.shift_deadline],
        **worker_options,
    )
