"""Interlinked groups submitted online waiting for the counter's check, for that counter's
officers: the groups' answer to the inbox's online dossiers in status 1 (docs/groups.md).

Read from the records store alone (the group's projected rows, `group_members`, one per member,
with the group's status, check deadline and counter since migration 0014), in one query on
their partial index, without a workflow query per group. Who sees them is the rule of the
check itself: a counter officer of the group's receiving unit (`officers.policy.may_receive`,
which `officers.groups.available_group_actions` asks too). Late checks first, then by the
check's deadline: a group is late once its deadline has passed while it still waits (the
workflow's `check_late` marks exactly that; the projection does not carry the flag, so it is
read from the deadline, never behind).
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel
from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from model.dossier_inputs import Actor
from officers.policy import may_receive
from records.database import RecordsStore
from records.tables import GroupMemberRow, inline_value
from workflows.group_models import GroupStatus

__all__ = ["GroupWaiting", "groups_waiting_check", "waiting_check_rows"]

# Inline, not a parameter: only then does the planner see the partial index's condition.
_WAITING = inline_value(GroupStatus.REGISTERED_ONLINE.value)


class GroupWaiting(BaseModel):
    """A group submitted online that waits for the officer's counter to check it."""

    code: str  # the group's dossier code: its page is /web/groups/CODE, its view GET /groups/CODE
    group_code: str  # the group in the catalogue, e.g. LT296.01
    receiving_unit: str
    submitted_at: AwareDatetime
    check_due_at: AwareDatetime
    check_late: bool


def waiting_check_rows(officer: Actor, limit: int) -> Select | None:
    """The groups waiting for `officer`'s check, earliest deadline first (so the late ones come
    first), one row per group; None for an officer who checks no group here."""
    if may_receive(officer, officer.unit) is not None:
        return None
    g = GroupMemberRow
    return (
        select(g.group_code, g.group_kind, g.received_at, g.group_due_at)
        .where(g.receiving_unit == officer.unit, g.group_status == _WAITING)
        .distinct()
        .order_by(g.group_due_at, g.group_code)
        .limit(limit)
    )


async def groups_waiting_check(
    records: RecordsStore,
    officer: Actor,
    limit: int = 50,
    now: datetime | None = None,
    reads: AsyncSession | None = None,
) -> list[GroupWaiting]:
    """Up to `limit` groups submitted online waiting for `officer`'s check: late first (their
    deadline passed by `now`, default the clock's), then by the check's deadline; empty for any
    officer but a counter officer (of the unit the groups were submitted to). Read through
    `reads` if given (a page's read session), else a read session of its own."""
    if limit < 1:
        raise ValueError(f"limit {limit}: at least 1")
    query = waiting_check_rows(officer, limit)
    if query is None:
        return []
    now = now or datetime.now(UTC)
    async with nullcontext(reads) if reads is not None else records.reads() as session:
        rows = (await session.execute(query)).all()
    return [
        GroupWaiting(
            code=code,
            group_code=kind,
            receiving_unit=officer.unit,
            submitted_at=submitted_at,
            check_due_at=due_at,
            check_late=due_at <= now,
        )
        for code, kind, submitted_at, due_at in rows
    ]
