"""Reading and moving the outboxes' rows: what is due, delivered, retried, failed, resent.

Shared by the delivery activities and the operator's CLI (`starter.py portal|notices ...`).
Both outbox tables have the same delivery columns (records/outbox_tables.py).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from records.outbox_tables import DELIVERED, FAILED, NO_CONTACT, PENDING, NoticeDeliveryRow, PortalSyncRow

__all__ = ["due_notices", "due_portal_queues", "list_rows", "mark_attempt_failed", "mark_delivered", "resend"]

TABLES = {"portal": PortalSyncRow, "notices": NoticeDeliveryRow}


async def due_portal_queues(session, now: datetime, limit: int = 500) -> list[list[PortalSyncRow]]:
    """Per dossier, its undelivered messages in order, for the dossiers whose first undelivered
    message is pending and due. A dossier whose first is `failed` or waiting out its back-off
    is left out whole: its later messages never overtake it."""
    rows = (
        await session.scalars(
            select(PortalSyncRow)
            .where(PortalSyncRow.state.in_((PENDING, FAILED)))
            .order_by(PortalSyncRow.id)
            .limit(limit)
        )
    ).all()
    queues: dict[str, list[PortalSyncRow]] = defaultdict(list)
    for row in rows:
        queues[row.dossier_code].append(row)
    due = []
    for queue in queues.values():
        queue.sort(key=lambda row: row.event_seq)
        head = queue[0]
        if head.state == PENDING and (head.next_attempt_at is None or head.next_attempt_at <= now):
            due.append(queue)
    return due


async def due_notices(session, now: datetime, limit: int = 200) -> list[NoticeDeliveryRow]:
    return list(
        (
            await session.scalars(
                select(NoticeDeliveryRow)
                .where(
                    NoticeDeliveryRow.state == PENDING,
                    or_(
                        NoticeDeliveryRow.next_attempt_at.is_(None), NoticeDeliveryRow.next_attempt_at <= now
                    ),
                )
                .order_by(NoticeDeliveryRow.id)
                .limit(limit)
            )
        ).all()
    )


async def mark_delivered(session, table, row_id: int, at: datetime) -> None:
    stamp = "delivered_at" if table is PortalSyncRow else "sent_at"
    await session.execute(
        update(table)
        .where(table.id == row_id)
        .values(
            state=DELIVERED, last_error="", next_attempt_at=None, attempts=table.attempts + 1, **{stamp: at}
        )
    )


async def mark_attempt_failed(
    session, table, row, error: str, now: datetime, backoff: float, give_up: bool
) -> str:
    """Count a failed attempt; the row waits `backoff` seconds, or is `failed` for good."""
    state = FAILED if give_up else PENDING
    await session.execute(
        update(table)
        .where(table.id == row.id)
        .values(
            state=state,
            attempts=row.attempts + 1,
            last_error=error[:500],
            next_attempt_at=None if give_up else now + timedelta(seconds=backoff),
        )
    )
    return state


async def list_rows(session, table, states: tuple[str, ...], limit: int = 1000) -> list:
    return list(
        (
            await session.scalars(
                select(table).where(table.state.in_(states)).order_by(table.id).limit(limit)
            )
        ).all()
    )


async def resend(session, table, ids: list[int] | None) -> int:
    """Put rows back to `pending` now, their attempts reset: the given ids whatever their state
    (a delivered message sent again is dropped by the receiver's dedup) except `no_contact`
    (there is nowhere to send it), or every `failed` row."""
    statement = update(table).values(state=PENDING, attempts=0, next_attempt_at=None)
    statement = (
        statement.where(table.id.in_(ids), table.state != NO_CONTACT)
        if ids is not None
        else statement.where(table.state == FAILED)
    )
    result = await session.execute(statement)
    return result.rowcount
