"""Telling the applicant what happened: messages queued for the SMS/e-mail gateway.

The gateway is outside this system; the queue is a table it reads, unique per dossier
event, so a retried activity never sends the same message twice.
"""

from __future__ import annotations

import structlog
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from temporalio import activity

from records.database import insert_for
from records.tables import NotificationRow

__all__ = ["NotificationActivities", "NotifyApplicantInput"]

log = structlog.get_logger(__name__)


class NotifyApplicantInput(BaseModel):
    dossier_code: str
    event_seq: int
    kind: str
    message: str


class NotificationActivities:
    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker) -> None:
        self._engine = engine
        self._sessions = sessions

    @activity.defn(name="notify_applicant")
    async def notify_applicant(self, notice: NotifyApplicantInput) -> None:
        statement = (
            insert_for(self._engine, NotificationRow)
            .values(
                dossier_code=notice.dossier_code,
                event_seq=notice.event_seq,
                kind=notice.kind,
                message=notice.message,
                created_at=activity.info().current_attempt_scheduled_time,
            )
            .on_conflict_do_nothing(index_elements=["dossier_code", "event_seq"])
        )
        async with self._sessions() as session:
            await session.execute(statement)
            await session.commit()
        log.info(
            "applicant notification queued",
            dossier_code=notice.dossier_code,
            workflow_id=activity.info().workflow_id,
            kind=notice.kind,
        )
