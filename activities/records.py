"""Projecting a dossier's timeline into the records store, with the applicant's notices.

One activity call writes a batch of timeline entries, the dossier's row and the notices for
the SMS/e-mail gateway in one transaction. A retried call (worker crash, database outage)
writes nothing twice: events and notices are unique per (dossier, seq), and the dossier row
only moves forward to a later event. Each event is hash-chained to the one before it
(records.chain), computed in the same transaction; the workflow records a dossier's entries
in order, one batch at a time, so seq - 1 is always there already.
"""

from __future__ import annotations

from datetime import UTC, datetime

import structlog
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.heartbeat import heartbeating
from model.dossier_state import TimelineEntry
from model.projection import PROJECTION_DATA_ERROR, DossierSummary, RecordEventsInput
from records.chain import GENESIS, event_hash
from records.data_errors import is_data_error
from records.database import RecordsStore, insert_for
from records.tables import DossierEventRow, DossierRow, NotificationRow, OfficerRow
from runtime.metrics import observe_projection

__all__ = ["RecordActivities"]

log = structlog.get_logger(__name__)


class RecordActivities:
    def __init__(self, records: RecordsStore) -> None:
        self._engine: AsyncEngine = records.engine
        self._sessions: async_sessionmaker = records.sessions

    @activity.defn(name="record_dossier_events")
    async def record_events(self, batch: RecordEventsInput) -> None:
        if not batch.entries:
            return
        try:
            async with heartbeating():
                await self._record(batch)
        except Exception as exc:
            if not is_data_error(exc):
                raise  # an outage: retried for as long as it takes
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            log.error(
                "dossier projection refused",
                dossier_code=batch.dossier.code,
                workflow_id=activity.info().workflow_id,
                unit=batch.dossier.handling_unit,
                seqs=[entry.seq for entry in batch.entries],
                error_type=type(exc).__name__,
                reason=reason,
            )
            raise ApplicationError(
                f"dossier {batch.dossier.code}: the records store refused events "
                f"{batch.entries[0].seq}..{batch.entries[-1].seq}: {type(exc).__name__}: {reason}",
                type=PROJECTION_DATA_ERROR,
                non_retryable=True,
            ) from exc

    async def _record(self, batch: RecordEventsInput) -> None:
        code = batch.dossier.code
        entries = sorted(batch.entries, key=lambda e: e.seq)
        async with self._sessions() as session:
            prev = await self._previous_hash(session, code, entries[0].seq)
            rows = []
            now = datetime.now(UTC)
            for entry in entries:
                row = _event_row(code, entry, prev, now)
                rows.append(row)
                prev = row["hash"]
            await session.execute(self._upsert_dossier(batch.dossier, entries, prev))
            await session.execute(
                insert_for(self._engine, DossierEventRow)
                .values(rows)
                .on_conflict_do_nothing(index_elements=["dossier_code", "seq"])
            )
            officers = _officers(entries)
            if officers:
                # First sighting only: updating an existing row would make every dossier a
                # counter officer receives wait for the same row lock.
                await session.execute(
                    insert_for(self._engine, OfficerRow)
                    .values(officers)
                    .on_conflict_do_nothing(index_elements=["id"])
                )
            if batch.notices:
                await session.execute(
                    insert_for(self._engine, NotificationRow)
                    .values(
                        [
                            {
                                "dossier_code": code,
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
        observe_projection([entry.at for entry in entries])
        log.info(
            "dossier events recorded",
            dossier_code=code,
            workflow_id=activity.info().workflow_id,
            unit=batch.dossier.handling_unit,
            seqs=[entry.seq for entry in entries],
            notices=len(batch.notices),
        )

    async def _previous_hash(self, session, code: str, seq: int) -> str:
        """The hash of event seq - 1, read under this transaction's write lock.

        The first statement is a write (a no-op UPDATE returning the chain head), so the head
        is read inside the writing transaction: the Python sqlite3 driver runs a SELECT that
        comes before any write outside a transaction, and on PostgreSQL the dossier's row is
        locked, so two calls for one dossier (which the workflow never makes) would queue
        rather than chain from the same head.
        """
        head = (
            await session.execute(
                update(DossierRow)
                .where(DossierRow.code == code)
                .values(last_event_seq=DossierRow.last_event_seq)
                .returning(DossierRow.last_event_seq, DossierRow.last_event_hash)
            )
        ).first()
        if seq == 1:
            return GENESIS
        if head is not None and head.last_event_seq == seq - 1 and head.last_event_hash:
            return head.last_event_hash
        prev = await session.scalar(
            select(DossierEventRow.hash).where(
                DossierEventRow.dossier_code == code, DossierEventRow.seq == seq - 1
            )
        )
        if prev is None:
            # Retried until an operator looks: the chain must never skip an event.
            raise ApplicationError(f"dossier {code}: event {seq - 1} is not recorded")
        return prev

    def _upsert_dossier(self, dossier: DossierSummary, entries: list[TimelineEntry], last_hash: str):
        values = {
            **dossier.model_dump(),
            "original_receiving_unit": dossier.original_receiving_unit or dossier.receiving_unit,
            "current_roles": ",".join(dossier.current_roles),
            "last_event_seq": entries[-1].seq,
            "last_event_hash": last_hash,
            "overdue_at": next((e.at for e in entries if e.action == "overdue"), None),
        }
        carried = [e for e in entries if e.action == "carried_over"]
        if carried and dossier.carried_over_from is None:
            # Older summaries do not carry it: the timeline entry says it too.
            values["carried_over_from"] = carried[-1].details.get("from")
            values["carried_over_at"] = carried[-1].at
        fixed = {"code", "original_receiving_unit"}  # written by the first batch (the receipt) only
        if dossier.original_receiving_unit is None:
            # An older summary names the counter of receipt as `receiving_unit`: the current
            # counter is the one its `carried_over` entry moved it to, or the row's as it is.
            moved = [e.details["receiving_to"] for e in carried if "receiving_to" in e.details]
            if moved:
                values["receiving_unit"] = moved[-1]
            else:
                fixed.add("receiving_unit")
        statement = insert_for(self._engine, DossierRow).values(**values)
        updates = {k: v for k, v in values.items() if k not in fixed}
        # Facts learnt from one batch's entries must survive the later batches without them.
        for column in ("carried_over_from", "carried_over_at"):
            updates[column] = func.coalesce(statement.excluded[column], DossierRow.__table__.c[column])
        # The first time the deadline was missed stays, whatever later batches say.
        updates["overdue_at"] = func.coalesce(
            DossierRow.__table__.c.overdue_at, statement.excluded.overdue_at
        )
        return statement.on_conflict_do_update(
            index_elements=["code"],
            set_=updates,
            # Never move the projection back to an older event.
            where=DossierRow.last_event_seq < entries[-1].seq,
        )


def _event_row(dossier_code: str, entry: TimelineEntry, prev_hash: str, recorded_at: datetime) -> dict:
    payload = entry.as_recorded().model_dump_json()
    return {
        "dossier_code": dossier_code,
        "seq": entry.seq,
        "action": entry.action,
        "action_id": entry.action_id,
        "actor_id": entry.actor_id,
        "actor_roles": ",".join(entry.actor_roles),
        "actor_unit": entry.actor_unit,
        "at": entry.at,
        "status_before": entry.status_before.value if entry.status_before else None,
        "status_after": entry.status_after.value,
        "payload": payload,
        "prev_hash": prev_hash,
        "hash": event_hash(dossier_code, entry.seq, prev_hash, payload),
        "recorded_at": recorded_at,
    }


def _officers(entries: list[TimelineEntry]) -> list[dict]:
    """The officers acting in these entries (the system actor is not an officer)."""
    seen: dict[str, dict] = {}
    for entry in entries:
        if entry.actor_roles and entry.actor_unit and entry.actor_id not in seen:
            seen[entry.actor_id] = {
                "id": entry.actor_id,
                "name": "",
                "unit": entry.actor_unit,
                "roles": ",".join(entry.actor_roles),
                "first_seen_at": entry.at,
            }
    return [seen[key] for key in sorted(seen)]
