"""Projecting a dossier's timeline into the records store, with the applicant's notices.

One activity call writes a batch of timeline entries, the dossier's row and the notices for
the SMS/e-mail gateway in one transaction. A retried call (worker crash, database outage)
writes nothing twice: events and notices are unique per (dossier, seq), and the dossier row
only moves forward to a later event.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from pydantic import AwareDatetime, BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from temporalio import activity

from records.database import RecordsStore, insert_for
from records.tables import DossierEventRow, DossierRow, NotificationRow
from workflows.dossier_state import TimelineEntry

__all__ = ["ApplicantNotice", "DossierSummary", "RecordActivities", "RecordEventsInput"]

log = structlog.get_logger(__name__)


class DossierSummary(BaseModel):
    """The dossier's searchable facts as of the last entry of the batch."""

    code: str
    procedure_code: str
    version_id: str
    receiving_unit: str
    handling_unit: str
    received_at: AwareDatetime
    due_at: AwareDatetime
    status: str
    overdue: bool
    carried_over_from: str | None = None
    carried_over_at: AwareDatetime | None = None


class ApplicantNotice(BaseModel):
    event_seq: int
    kind: str
    message: str


class RecordEventsInput(BaseModel):
    dossier: DossierSummary
    entries: list[TimelineEntry]
    notices: list[ApplicantNotice] = []


class RecordActivities:
    def __init__(self, records: RecordsStore) -> None:
        self._engine: AsyncEngine = records.engine
        self._sessions: async_sessionmaker = records.sessions

    @activity.defn(name="record_dossier_events")
    async def record_events(self, batch: RecordEventsInput) -> None:
        if not batch.entries:
            return
        last_seq = max(entry.seq for entry in batch.entries)
        async with self._sessions() as session:
            await session.execute(self._upsert_dossier(batch.dossier, last_seq))
            await session.execute(
                insert_for(self._engine, DossierEventRow)
                .values([_event_row(batch.dossier.code, entry) for entry in batch.entries])
                .on_conflict_do_nothing(index_elements=["dossier_code", "seq"])
            )
            if batch.notices:
                now = datetime.now(UTC)
                await session.execute(
                    insert_for(self._engine, NotificationRow)
                    .values(
                        [
                            {
                                "dossier_code": batch.dossier.code,
                                "event_seq": notice.event_seq,
                                "kind": notice.kind,
                                "message": notice.message,
                                "created_at": now,
                            }
                            for notice in batch.notices
                        ]
                    )
                    .on_conflict_do_nothing(index_elements=["dossier_code", "event_seq"])
                )
            await session.commit()
        log.info(
            "dossier events recorded",
            dossier_code=batch.dossier.code,
            workflow_id=activity.info().workflow_id,
            unit=batch.dossier.handling_unit,
            seqs=[entry.seq for entry in batch.entries],
            notices=len(batch.notices),
        )

    def _upsert_dossier(self, dossier: DossierSummary, last_seq: int):
        # Only the columns the table has: the records branch adds the carryover columns.
        columns = DossierRow.__table__.columns.keys()
        values = {k: v for k, v in dossier.model_dump().items() if k in columns} | {"last_event_seq": last_seq}
        statement = insert_for(self._engine, DossierRow).values(**values)
        return statement.on_conflict_do_update(
            index_elements=["code"],
            set_={k: v for k, v in values.items() if k != "code"},
            # Never move the projection back to an older event.
            where=DossierRow.last_event_seq < last_seq,
        )


def _event_row(dossier_code: str, entry: TimelineEntry) -> dict:
    return {
        "dossier_code": dossier_code,
        "seq": entry.seq,
        "action": entry.action,
        "actor_id": entry.actor_id,
        "actor_unit": entry.actor_unit,
        "at": entry.at,
        "status_after": entry.status_after.value,
        "payload": entry.model_dump_json(),
    }
