"""Which timeline entries become dossier sync messages, and what they carry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from activities.outbox_rows import sync_messages
from model.dossier_state import DossierStatus as S
from model.dossier_state import TimelineEntry
from model.projection import DossierSummary

T0 = datetime(2025, 7, 2, 3, 0, tzinfo=UTC)


def entry(seq: int, action: str, before: S | None, after: S, step: str | None = None) -> TimelineEntry:
    return TimelineEntry(
        seq=seq,
        at=T0 + timedelta(minutes=seq),
        action=action,
        actor_id="x",
        status_before=before,
        status_after=after,
        step_id=step,
    )


SUMMARY = DossierSummary(
    code="000.00004.01.H01-250702-0001",
    procedure_code="1.004873",
    version_id="v1",
    receiving_unit="000.00004.01.H01",
    handling_unit="000.00004.00.H01",
    received_at=T0,
    due_at=T0 + timedelta(days=5),
    status="processing",
    overdue=False,
    channel="online",
    current_step="approve",
)


class TestSyncMessages:
    def test_creation_and_every_change_but_overdue(self):
        """Receipt, status changes, steps and appointment changes are messages; `overdue` is not."""
        entries = [
            entry(1, "received", None, S.RECEIVED),
            entry(2, "transferred", S.RECEIVED, S.PROCESSING),
            entry(3, "step_completed", S.PROCESSING, S.PROCESSING, step="review"),
            entry(4, "overdue", S.PROCESSING, S.PROCESSING),
            entry(5, "apology_issued", S.PROCESSING, S.PROCESSING),
            entry(6, "payment_requested", S.PROCESSING, S.PAYMENT_REQUESTED),
        ]
        messages = sync_messages(SUMMARY, entries)
        assert [m.sequence for m in messages] == [1, 2, 3, 5, 6]
        assert [m.status_code for m in messages] == [2, 4, 4, 4, 6]
        assert messages[0].message_id == f"{SUMMARY.code}:1"
        assert messages[2].step.completed_step == "review" and messages[2].step.current_step == "approve"
        assert {m.channel_code for m in messages} == {2}  # online
        assert {m.handling_agency for m in messages} == {"000.00004.00.H01"}

    def test_message_carries_no_personal_data(self):
        """The portal gets codes, units, dates and statuses only."""
        body = sync_messages(SUMMARY, [entry(1, "received", None, S.RECEIVED)])[0].model_dump()
        assert set(body) == {
            "message_id",
            "sequence",
            "dossier_code",
            "procedure_code",
            "receipt_date",
            "appointment_date",
            "status_code",
            "channel_code",
            "handling_agency",
            "receiving_agency",
            "step",
        }
