"""Projecting each dossier's timeline into the records store, idempotently.

A retried activity (worker crash, database outage) writes nothing twice: events are unique
per (dossier, seq) and the dossier row only moves forward to a later event.
"""

from __future__ import annotations


import structlog
from pydantic import AwareDatetime, BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from temporalio import activity

from records.database import insert_for
from records.tables import DossierEventRow, DossierRow
from workflows.dossier_state import TimelineEntry

__all__ = ["RecordActivities", "RecordEventInput"]

log = structlog.get_logger(__name__)


class RecordEventInput(BaseModel):
    dossier_code: str
    procedure_code: str
    version_id: str
    receiving_unit: str
    handling_unit: str
    received_at: AwareDatetime
    due_at: AwareDatetime
    status: str
    overdue: bool
    entry: TimelineEntry


class RecordActivities:
    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker) -> None:
        self._engine = engine
        self._sessions = sessions

    @activity.defn(name="record_dossier_event")
    async def record_event(self, event: RecordEventInput) -> None:
        entry = event.entry
        dossier = {
            "code": event.dossier_code,
            "procedure_code": event.procedure_code,
            "version_id": event.version_id,
            "receiving_unit": event.receiving_unit,
            "handling_unit": event.handling_unit,
            "status": event.status,
            "received_at": event.received_at,
            "due_at": event.due_at,
            "overdue": event.overdue,
            "last_event_seq": entry.seq,
        }
        upsert_dossier = insert_for(self._engine, DossierRow).values(**dossier)
        upsert_dossier = upsert_dossier.on_conflict_do_update(
            index_elements=["code"],
            set_={k: v for k, v in dossier.items() if k != "code"},
            # Never move the projection back to an older event.
            where=DossierRow.last_event_seq < entry.seq,
        )
        add_event = (
            insert_for(self._engine, DossierEventRow)
            .values(
                dossier_code=event.dossier_code,
                seq=entry.seq,
                action=entry.action,
                actor_id=entry.actor_id,
                actor_unit=entry.actor_unit,
                at=entry.at,
                status_after=entry.status_after.value,
                payload=entry.model_dump_json(),
            )
            .on_conflict_do_nothing(index_elements=["dossier_code", "seq"])
        )
        async with self._sessions() as session:
            await session.execute(upsert_dossier)
            await session.execute(add_event)
            await session.commit()
        log.info(
            "dossier event recorded",
            dossier_code=event.dossier_code,
            workflow_id=activity.info().workflow_id,
            unit=entry.actor_unit,
            seq=entry.seq,
            action=entry.action,
        )


