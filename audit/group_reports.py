"""The groups' report: per agency, its parts of interlinked groups received in a period, on time
or late (late: among the members still open when the group's due moment passed)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import InstrumentedAttribute

from records.database import RecordsStore
from records.tables import GroupMemberRow

__all__ = ["GroupAgencyCounts", "groups_by_agency"]

_RESOLVED = ("processed", "returned")
# Open: being handled, or submitted online and waiting for the counter's check (or the applicant's
# completion); a group refused at that check (not_received) is not answered.
_OPEN = ("processing", "supplement_requested", "registered_online", "online_incomplete")


class GroupAgencyCounts(BaseModel):
    handling_unit: str
    groups: int  # groups with a part at this agency
    on_time: int  # the group answered, this agency's part not late
    late: int  # this agency's part was late when the group went overdue
    open: int  # the group is still being handled
    not_answered: int  # the group was refused or withdrawn


async def groups_by_agency(records: RecordsStore, start: datetime, end: datetime) -> list[GroupAgencyCounts]:
    """Counts per agency for groups received in [start, end), agencies in code order."""
    row = GroupMemberRow
    resolved = row.group_status.in_(_RESOLVED)

    def count(condition: ColumnElement[bool] | InstrumentedAttribute[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    query = (
        select(
            row.handling_unit,
            func.count(),
            count(resolved & ~row.late),
            count(row.late),
            count(row.group_status.in_(_OPEN) & ~row.late),
            count(~resolved & ~row.group_status.in_(_OPEN) & ~row.late),
        )
        .where(row.received_at >= start, row.received_at < end)
        .group_by(row.handling_unit)
        .order_by(row.handling_unit)
    )
    async with records.sessions() as session:
        result = await session.execute(query)
    return [
        GroupAgencyCounts(
            handling_unit=unit, groups=groups, on_time=on_time, late=late, open=open_, not_answered=other
        )
        for unit, groups, on_time, late, open_, other in result.all()
    ]
