"""A notice for an applicant with neither e-mail nor phone ends in `no_contact`, once, for good."""

from __future__ import annotations

import json
import os
import uuid
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select
from temporalio.testing import ActivityEnvironment

import starter
from activities.records import RecordActivities
from model.dossier_state import DossierStatus
from model.projection import ApplicantContact, ApplicantNotice, RecordEventsInput
from records.outbox import due_notices
from records.outbox_tables import NO_CHANNEL, NO_CONTACT, NoticeDeliveryRow
from runtime.codec import EncryptionCodec
from runtime.metrics import refresh_from_records
from runtime.settings import Settings
from tests.records.dataset import received_entries, summary


@pytest.fixture
def settings(tmp_path, records) -> Settings:
    return Settings.from_env(
        {
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": str(records.engine.url.render_as_string(hide_password=False)),
        }
    )


def codec() -> EncryptionCodec:
    return EncryptionCodec({"k1": os.urandom(32)}, "k1")


def batch(code: str, contact: ApplicantContact | None) -> RecordEventsInput:
    at = datetime.now(UTC)
    entries = received_entries(at)
    return RecordEventsInput(
        dossier=summary(code, at, status=DossierStatus.PROCESSING.value),
        entries=entries,
        notices=[ApplicantNotice(event_seq=1, kind="received", message="Hồ sơ đã được tiếp nhận")],
        contact=contact,
    )


async def deliveries(records, code: str) -> list[NoticeDeliveryRow]:
    async with records.sessions() as session:
        return list(
            (
                await session.scalars(select(NoticeDeliveryRow).where(NoticeDeliveryRow.dossier_code == code))
            ).all()
        )


def unsent() -> float:
    return REGISTRY.get_sample_value("onestop_notifications_unsent") or 0.0


async def run(capsys, settings, *argv) -> tuple[int, str, str]:
    code = await starter.main(list(argv), None, settings)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


class TestNoContact:
    async def test_a_notice_without_contact_is_no_contact_once_and_never_due(self, capsys, records, settings):
        await refresh_from_records(records)
        before = unsent()
        code = f"NOCONTACT-{uuid.uuid4().hex[:10]}"
        activities = RecordActivities(records, codec())
        await ActivityEnvironment().run(activities.record_events, batch(code, None))
        # A retried projection batch records nothing twice.
        await ActivityEnvironment().run(activities.record_events, batch(code, None))

        rows = await deliveries(records, code)
        assert [(r.channel, r.state, r.kind, r.attempts) for r in rows] == [
            (NO_CHANNEL, NO_CONTACT, "received", 0)
        ]
        async with records.sessions() as session:
            due = await due_notices(session, datetime.now(UTC), limit=10_000)
        assert code not in {row.dossier_code for row in due}
        # Not waiting for any gateway: the unsent gauge does not count it.
        await refresh_from_records(records)
        assert unsent() == before

        # Listed on its own, not among what waits; and an operator cannot resend it.
        status, out, _ = await run(capsys, settings, "notices", "list", "--state", "no_contact")
        assert status == 0
        assert [e["what"] for e in json.loads(out)["entries"] if e["dossier_code"] == code] == [
            "received by none"
        ]
        status, out, _ = await run(capsys, settings, "notices", "list")
        assert code not in out
        status, _, err = await run(capsys, settings, "notices", "resend", "--id", str(rows[0].id))
        assert status == 2 and "no_contact" in err
        assert [r.state for r in await deliveries(records, code)] == [NO_CONTACT]

    async def test_a_notice_with_a_phone_waits_for_its_channel(self, records):
        """The contrast: with a phone, one pending SMS delivery and no no_contact row."""
        code = f"CONTACT-{uuid.uuid4().hex[:10]}"
        activities = RecordActivities(records, codec())
        await ActivityEnvironment().run(
            activities.record_events, batch(code, ApplicantContact(email=None, phone="0912345678"))
        )
        assert [(r.channel, r.state) for r in await deliveries(records, code)] == [("sms", "pending")]
