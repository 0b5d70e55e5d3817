"""Projecting an interlinked group's members to the records store, for the groups' report.

One upsert per member row, keyed by (group, member): replaying or retrying the activity writes
the same rows again. A store outage only delays it (the workflow retries without limit).
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel
from temporalio import activity

from records.database import RecordsStore, insert_for
from records.tables import GroupMemberRow

__all__ = ["GroupMemberRecord", "GroupRecordActivities", "RecordGroupInput"]


class GroupMemberRecord(BaseModel):
    key: str
    dossier_code: str
    handling_unit: str
    status: str
    late: bool = False


class RecordGroupInput(BaseModel):
    group_code: str  # the group's dossier code
    group_kind: str
    received_at: AwareDatetime
    due_at: AwareDatetime
    status: str
    resolved_at: AwareDatetime | None = None
    members: tuple[GroupMemberRecord, ...]


class GroupRecordActivities:
    def __init__(self, records: RecordsStore) -> None:
        self._records = records

    @activity.defn(name="record_group")
    async def record_group(self, group: RecordGroupInput) -> None:
        rows = [
            {
                "group_code": group.group_code,
                "member_key": m.key,
                "dossier_code": m.dossier_code,
                "group_kind": group.group_kind,
                "handling_unit": m.handling_unit,
                "received_at": group.received_at,
                "group_due_at": group.due_at,
                "status": m.status,
                "late": m.late,
                "group_status": group.status,
                "group_resolved_at": group.resolved_at,
            }
            for m in group.members
        ]
        statement = insert_for(self._records.engine, GroupMemberRow)
        statement = statement.on_conflict_do_update(
            index_elements=["group_code", "member_key"],
            set_={
                name: statement.excluded[name]
                for name in (
                    "dossier_code",
                    "handling_unit",
                    "group_due_at",
                    "status",
                    "late",
                    "group_status",
                    "group_resolved_at",
                )
            },
        )
        async with self._records.sessions() as session, session.begin():
            await session.execute(statement, rows)
