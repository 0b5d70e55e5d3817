"""Writing known dossiers into the records store through the projection activity itself."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import text
from temporalio.testing import ActivityEnvironment

from activities.records import RecordActivities
from model.dossier_state import DossierStatus, TimelineEntry
from model.projection import DossierSummary, RecordEventsInput
from records.append_only import create_statements, drop_statements
from records.database import RecordsStore
from tests.builders import BA_DINH_COMMITTEE, BA_DINH_COUNTER


def new_code(prefix: str = "REC") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def summary(code: str, received_at: datetime, **changes) -> DossierSummary:
    fields = {
        "code": code,
        "procedure_code": "1.004873",
        "version_id": "1.004873@2025",
        "receiving_unit": BA_DINH_COUNTER,
        "handling_unit": BA_DINH_COMMITTEE,
        "received_at": received_at,
        "due_at": received_at + timedelta(days=5),
        "status": DossierStatus.PROCESSING.value,
        "overdue": False,
    }
    fields.update(changes)
    return DossierSummary(**fields)


def entry(seq: int, at: datetime, action: str, status: DossierStatus, **fields) -> TimelineEntry:
    defaults = {"actor_id": "system"}
    defaults.update(fields)
    return TimelineEntry(seq=seq, at=at, action=action, status_after=status, **defaults)


def received_entries(at: datetime, counter: str = "counter-1") -> list[TimelineEntry]:
    return [
        entry(
            1,
            at,
            "received",
            DossierStatus.RECEIVED,
            actor_id=counter,
            actor_roles=("counter_officer",),
            actor_unit=BA_DINH_COUNTER,
            action_id=None,
        ),
        entry(2, at, "transferred", DossierStatus.PROCESSING, status_before=DossierStatus.RECEIVED),
    ]


async def record(store: RecordsStore, dossier: DossierSummary, entries: list[TimelineEntry]) -> None:
    """One projection batch, as the workflow sends it."""
    activities = RecordActivities(store)
    await ActivityEnvironment().run(
        activities.record_events, RecordEventsInput(dossier=dossier, entries=entries)
    )


async def tamper(store: RecordsStore, *statements: str, **params) -> None:
    """Run SQL on dossier_events as someone with DDL rights would: guards off, then on again."""
    dialect = store.engine.dialect.name
    async with store.engine.begin() as connection:
        for statement in drop_statements(dialect):
            if "FUNCTION" not in statement:
                await connection.execute(text(statement))
        for statement in statements:
            await connection.execute(text(statement), params)
        for statement in create_statements(dialect):
            await connection.execute(text(statement))
