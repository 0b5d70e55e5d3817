"""The outbox rows a projected batch adds: portal sync messages, notice deliveries, contacts.

Called by the projection (activities/records.py) inside its transaction, so a message exists
exactly when its timeline entry is recorded, and a retried batch adds nothing twice (every row
is unique per dossier and event seq, and inserted with ON CONFLICT DO NOTHING).
"""

from __future__ import annotations

from datetime import datetime

from model.dossier_state import TimelineEntry
from portal.messages import CHANNEL_CODES, DossierSyncMessage, StepProgress
from records.database import insert_for
from records.outbox_tables import (
    NO_CHANNEL,
    NO_CONTACT,
    PENDING,
    ApplicantContactRow,
    NoticeDeliveryRow,
    PortalSyncRow,
)
from runtime.codec import EncryptionCodec

__all__ = ["CONTACT_PURPOSE", "REASON_PURPOSE", "sync_messages", "write_notice_deliveries", "write_outbox"]

# Besides every change of status, these entries change the handling unit (transferred,
# carried_over), the appointment (apology_issued, supplemented: the paused time is added) or
# the step (step_completed): each is one sync message. `overdue` changes none of them.
SYNCED_ACTIONS = frozenset(
    {"transferred", "carried_over", "step_completed", "apology_issued", "supplemented"}
)

CONTACT_PURPOSE = {"email": b"applicant-contact/email", "sms": b"applicant-contact/phone"}
# An officer's reason in a group's refusal notice: sealed, as it may name the applicant.
REASON_PURPOSE = b"group-notice/reason"


def sync_messages(summary, entries: list[TimelineEntry]) -> list[DossierSyncMessage]:
    """One message per entry that creates the dossier or changes what the portal shows.

    The status is the entry's own; the units, appointment and current step are the dossier's
    as of the batch's last entry (the only state the projection is given). A live dossier is
    projected one action at a time, so batches of several entries come from catching up.
    """
    messages = []
    for entry in entries:
        changed = entry.status_before is not None and entry.status_before != entry.status_after
        if entry.seq != 1 and not changed and entry.action not in SYNCED_ACTIONS:
            continue
        messages.append(
            DossierSyncMessage(
                message_id=f"{summary.code}:{entry.seq}",
                sequence=entry.seq,
                dossier_code=summary.code,
                procedure_code=summary.procedure_code,
                receipt_date=summary.received_at,
                appointment_date=summary.due_at,
                status_code=entry.status_after.portal_code,
                channel_code=CHANNEL_CODES[summary.channel],
                handling_agency=summary.handling_unit,
                receiving_agency=summary.receiving_unit,
                step=StepProgress(
                    action=entry.action,
                    completed_step=entry.step_id if entry.action == "step_completed" else None,
                    current_step=summary.current_step,
                    at=entry.at,
                ),
            )
        )
    return messages


async def write_outbox(
    session, engine, batch, now: datetime, codec: EncryptionCodec | None, notice_channels=("email", "sms")
) -> None:
    code = batch.dossier.code
    messages = sync_messages(batch.dossier, batch.entries)
    if messages:
        at = {entry.seq: entry.at for entry in batch.entries}
        await session.execute(
            insert_for(engine, PortalSyncRow)
            .values(
                [
                    {
                        "message_id": message.message_id,
                        "dossier_code": code,
                        "event_seq": message.sequence,
                        "body": message.model_dump_json(),
                        "event_at": at[message.sequence],
                        "created_at": now,
                        "state": PENDING,
                        "attempts": 0,
                        "last_error": "",
                    }
                    for message in messages
                ]
            )
            .on_conflict_do_nothing(index_elements=["dossier_code", "event_seq"])
        )
    await write_notice_deliveries(
        session,
        engine,
        code,
        batch.contact,
        [n.event_seq for n in batch.notices],
        [n.kind for n in batch.notices],
        now,
        codec,
        notice_channels,
    )


async def write_notice_deliveries(
    session,
    engine,
    code: str,
    contact,
    seqs: list[int],
    kinds: list[str],
    now: datetime,
    codec: EncryptionCodec | None,
    notice_channels=("email", "sms"),
) -> None:
    """The applicant's sealed contact and one delivery per notice and channel, for a dossier's
    notices and a group's alike (the group's code as the dossier code)."""
    if not seqs:
        return
    addresses = {"email": contact.email, "sms": contact.phone} if contact is not None else {}
    channels = [channel for channel in notice_channels if addresses.get(channel)]
    if not channels:
        # Nowhere to send them: each notice gets its final state once, listed as such, instead
        # of waiting for a delivery that can never come.
        await session.execute(
            insert_for(engine, NoticeDeliveryRow)
            .values(
                [
                    {
                        "dossier_code": code,
                        "event_seq": seq,
                        "channel": NO_CHANNEL,
                        "kind": kind,
                        "created_at": now,
                        "state": NO_CONTACT,
                        "attempts": 0,
                        "last_error": "the applicant gave no e-mail and no phone",
                    }
                    for seq, kind in zip(seqs, kinds, strict=True)
                ]
            )
            .on_conflict_do_nothing(index_elements=["dossier_code", "event_seq", "channel"])
        )
        return
    if codec is None:
        return  # no key to seal the contact with: it is not stored, nothing is sent
    await session.execute(
        insert_for(engine, ApplicantContactRow)
        .values(
            dossier_code=code,
            email_sealed=codec.seal_text(contact.email, CONTACT_PURPOSE["email"]) if contact.email else None,
            phone_sealed=codec.seal_text(contact.phone, CONTACT_PURPOSE["sms"]) if contact.phone else None,
            created_at=now,
        )
        .on_conflict_do_nothing(index_elements=["dossier_code"])
    )
    await session.execute(
        insert_for(engine, NoticeDeliveryRow)
        .values(
            [
                {
                    "dossier_code": code,
                    "event_seq": seq,
                    "channel": channel,
                    "kind": kind,
                    "created_at": now,
                    "state": PENDING,
                    "attempts": 0,
                    "last_error": "",
                }
                for seq, kind in zip(seqs, kinds, strict=True)
                for channel in channels
            ]
        )
        .on_conflict_do_nothing(index_elements=["dossier_code", "event_seq", "channel"])
    )
