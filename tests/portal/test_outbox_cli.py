"""Operators list what waits or failed in the outboxes and send it again."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

import starter
from records.outbox_tables import FAILED, PENDING, PortalSyncRow
from runtime.settings import Settings


@pytest.fixture
def settings(tmp_path, records) -> Settings:
    return Settings.from_env(
        {
            "DATA_DIR": str(tmp_path),
            "DATABASE_URL": str(records.engine.url.render_as_string(hide_password=False)),
        }
    )


async def add_messages(records, code: str, states: list[str]) -> list[int]:
    now = datetime.now(UTC)
    async with records.sessions() as session:
        rows = [
            PortalSyncRow(
                message_id=f"{code}:{seq}",
                dossier_code=code,
                event_seq=seq,
                body="{}",
                event_at=now,
                created_at=now,
                state=state,
                attempts=5 if state == FAILED else 0,
                last_error="HTTP 422",
            )
            for seq, state in enumerate(states, start=1)
        ]
        session.add_all(rows)
        await session.commit()
        return [row.id for row in rows]


async def run(capsys, settings, *argv) -> tuple[int, str, str]:
    code = await starter.main(list(argv), None, settings)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


class TestOutboxCli:
    async def test_lists_the_failed_and_resends_them(self, capsys, records, settings):
        """A failed message shows with its error; `resend --failed` makes it pending, attempts reset."""
        code = f"CLI-{uuid.uuid4()}"
        failed_id, waiting_id = await add_messages(records, code, [FAILED, PENDING])
        status, out, _ = await run(capsys, settings, "portal", "list", "--state", "failed")
        listed = [e for e in json.loads(out)["entries"] if e["dossier_code"] == code]
        assert status == 0 and [(e["id"], e["last_error"], e["attempts"]) for e in listed] == [
            (failed_id, "HTTP 422", 5)
        ]

        status, out, _ = await run(capsys, settings, "portal", "resend", "--failed")
        assert status == 0 and json.loads(out)["resent"] >= 1
        async with records.sessions() as session:
            row = await session.scalar(select(PortalSyncRow).where(PortalSyncRow.id == failed_id))
        assert (row.state, row.attempts) == (PENDING, 0)

    async def test_an_unknown_id_exits_2_and_changes_nothing(self, capsys, records, settings):
        code = f"CLI-{uuid.uuid4()}"
        (failed_id,) = await add_messages(records, code, [FAILED])
        status, _, err = await run(
            capsys, settings, "portal", "resend", "--id", str(failed_id), "--id", "999999999"
        )
        assert status == 2 and "--id" in err
        async with records.sessions() as session:
            row = await session.scalar(select(PortalSyncRow).where(PortalSyncRow.id == failed_id))
        assert row.state == FAILED

    async def test_resend_needs_ids_or_failed(self, capsys, settings):
        with pytest.raises(SystemExit) as exit_:
            await run(capsys, settings, "notices", "resend")
        assert exit_.value.code == 2
