"""Projecting an interlinked group's members to the records store, for the groups' report,
with the group's applicant notices (one set per group: its members send none).

One upsert per member row, keyed by (group, member): replaying or retrying the activity writes
the same rows again; the notices are unique per (group, timeline seq) and channel, as a
dossier's are per event, in the same transaction. A store outage only delays it (the workflow
retries without limit).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import func
from temporalio import activity

from activities.outbox_rows import REASON_PURPOSE, write_notice_deliveries
from model.projection import ApplicantContact
from records.database import RecordsStore, insert_for
from records.tables import GroupMemberRow, NotificationRow
from runtime.codec import EncryptionCodec

__all__ = ["GroupMemberRecord", "GroupNotice", "GroupRecordActivities", "RecordGroupInput"]


class GroupMemberRecord(BaseModel):
    key: str
    dossier_code: str
    handling_unit: str
    status: str
    late: bool = False


class GroupNotice(BaseModel):
    """One notice of the group to its applicant: the group's timeline entry it tells, and what
    it says (notices/rendering.py's facts: codes, agencies, moments, a refusal's reason)."""

    event_seq: int
    kind: str
    message: str
    facts: dict[str, str] = Field(default_factory=dict)


class RecordGroupInput(BaseModel):
    group_code: str  # the group's dossier code
    group_kind: str
    received_at: AwareDatetime
    due_at: AwareDatetime
    status: str
    resolved_at: AwareDatetime | None = None
    members: tuple[GroupMemberRecord, ...]
    # Since the patch "group-notices"; default empty so that older histories still decode.
    notices: tuple[GroupNotice, ...] = ()
    contact: ApplicantContact | None = None
    # The group's counter, for the list of groups waiting for its check (migration 0014); an
    # activity input only (no command changes, so no patch), default '' for older histories.
    receiving_unit: str = ""


class GroupRecordActivities:
    def __init__(self, records: RecordsStore, codec: EncryptionCodec | None = None) -> None:
        self._records = records
        self._codec = codec  # seals the applicant's contact, as for a dossier's notices

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
                "receiving_unit": group.receiving_unit,
            }
            for m in group.members
        ]
        statement = insert_for(self._records.engine, GroupMemberRow)
        excluded = statement.excluded
        statement = statement.on_conflict_do_update(
            index_elements=["group_code", "member_key"],
            set_={
                # An input scheduled before the field existed keeps the counter the row has.
                "receiving_unit": func.coalesce(
                    func.nullif(excluded.receiving_unit, ""), GroupMemberRow.receiving_unit
                ),
            }
            | {
                name: excluded[name]
                for name in (
                    # A group submitted online counts from its counter's receipt, once received.
                    "received_at",
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
            if group.notices:
                await self._notices(session, group)

    def _stored(self, facts: dict[str, str]) -> dict[str, str]:
        """The facts as the records store may keep them: an officer's reason (it may name the
        applicant) only sealed, as the contacts are; without a keyring, not at all."""
        facts = dict(facts)
        reason = facts.pop("reason", "")
        if reason and self._codec is not None:
            facts["reason_sealed"] = self._codec.seal_text(reason, REASON_PURPOSE)
        return facts

    async def _notices(self, session, group: RecordGroupInput) -> None:
        engine, now = self._records.engine, datetime.now(UTC)
        await session.execute(
            insert_for(engine, NotificationRow)
            .values(
                [
                    {
                        "dossier_code": group.group_code,
                        "event_seq": notice.event_seq,
                        "kind": notice.kind,
                        "message": notice.message,
                        "facts": json.dumps(self._stored(notice.facts), ensure_ascii=False, sort_keys=True),
                        "created_at": now,
                    }
                    for notice in group.notices
                ]
            )
            .on_conflict_do_nothing(index_elements=["dossier_code", "event_seq"])
        )
        await write_notice_deliveries(
            session,
            engine,
            group.group_code,
            group.contact,
            [n.event_seq for n in group.notices],
            [n.kind for n in group.notices],
            now,
            self._codec,
        )
