"""The audit trail: hash-chained, append-only, idempotent, and every kind of tampering found."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from audit.verify import audit_trail, verify
from model.dossier_state import DossierStatus
from records.chain import GENESIS, event_hash
from records.tables import DossierEventRow, DossierRow
from tests.records.dataset import entry, new_code, received_entries, record, summary, tamper

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


async def five_event_dossier(records) -> str:
    """A dossier recorded in two batches: received + transferred, then three more entries."""
    code = new_code("AUD")
    await record(records, summary(code, T0), received_entries(T0))
    later = [
        entry(
            3,
            T0 + timedelta(hours=1),
            "step_completed",
            DossierStatus.PROCESSING,
            actor_id="specialist-1",
            actor_roles=("specialist",),
            actor_unit="u",
            action_id="a-3",
            step_id="review",
        ),
        entry(
            4,
            T0 + timedelta(hours=2),
            "supplement_requested",
            DossierStatus.SUPPLEMENT_REQUESTED,
            actor_id="leader-1",
            actor_roles=("leader",),
            actor_unit="u",
            action_id="a-4",
            details={"documents": "ID copy"},
        ),
        entry(
            5,
            T0 + timedelta(hours=3),
            "supplemented",
            DossierStatus.PROCESSING,
            actor_id="counter-1",
            actor_roles=("counter_officer",),
            actor_unit="c",
            action_id="a-5",
        ),
    ]
    await record(records, summary(code, T0, status=DossierStatus.PROCESSING.value), later)
    return code


class TestChain:
    async def test_each_event_links_to_the_one_before(self, records):
        """seq 1 links to 64 zeros, each later event to the hash of seq - 1; the dossier row
        remembers the head."""
        code = await five_event_dossier(records)
        trail = await audit_trail(records, code)
        assert [e.seq for e in trail] == [1, 2, 3, 4, 5]
        assert trail[0].prev_hash == GENESIS
        for before, after in zip(trail, trail[1:]):
            assert after.prev_hash == before.hash
        for e in trail:
            assert e.hash == event_hash(code, e.seq, e.prev_hash, e.payload)
            assert e.recorded_at is not None and e.recorded_at > e.at  # written after it happened
        async with records.sessions() as session:
            row = await session.get(DossierRow, code)
        assert (row.last_event_seq, row.last_event_hash) == (5, trail[-1].hash)
        assert (await verify(records, [code])).intact

    async def test_same_batch_twice_writes_one_row_each(self, records):
        """A retried projection call changes nothing: same rows, same hashes."""
        code = new_code("IDEM")
        batch = received_entries(T0)
        await record(records, summary(code, T0), batch)
        first = await audit_trail(records, code)
        await record(records, summary(code, T0), batch)
        assert await audit_trail(records, code) == first
        assert len(first) == 2

    async def test_a_batch_whose_predecessor_is_missing_is_refused(self, records):
        """The chain never skips: seq 3 cannot be recorded before seq 2 (the activity retries)."""
        code = new_code("GAP")
        with pytest.raises(Exception, match="event 2 is not recorded"):
            await record(
                records, summary(code, T0), [entry(3, T0, "step_completed", DossierStatus.PROCESSING)]
            )

    async def test_the_trail_refuses_updates_and_deletes(self, records):
        """Only inserts reach dossier_events: database guards refuse UPDATE and DELETE."""
        code = await five_event_dossier(records)
        for statement in (
            update(DossierEventRow).where(DossierEventRow.dossier_code == code).values(actor_id="x"),
            text("DELETE FROM dossier_events WHERE dossier_code = :code"),
        ):
            with pytest.raises((DBAPIError, IntegrityError), match="append-only"):
                async with records.sessions() as session:
                    await session.execute(statement, {"code": code})
                    await session.commit()
        assert (await verify(records, [code])).intact


class TestTamperingFound:
    async def test_edited_payload(self, records):
        """A payload changed in place (hash left as it was) is reported as edited at its seq."""
        code = await five_event_dossier(records)
        await tamper(
            records,
            "UPDATE dossier_events SET payload = replace(payload, 'ID copy', 'nothing') WHERE dossier_code = :c AND seq = 4",
            c=code,
        )
        result = await verify(records, [code])
        assert [(p.kind, p.seq) for p in result.problems] == [("edited", 4)]

    async def test_edited_column(self, records):
        """A column changed without its payload (here the actor) is reported as edited."""
        code = await five_event_dossier(records)
        await tamper(
            records,
            "UPDATE dossier_events SET actor_id = 'someone' WHERE dossier_code = :c AND seq = 3",
            c=code,
        )
        problems = (await verify(records, [code])).problems
        assert [(p.kind, p.seq) for p in problems] == [("edited", 3)]
        assert "actor_id" in problems[0].detail

    async def test_rehashed_edit_breaks_the_next_link(self, records):
        """Rewriting a payload and its hash is caught by the next event's link."""
        code = await five_event_dossier(records)
        trail = await audit_trail(records, code)
        forged = trail[2].payload.replace("review", "approve")
        await tamper(
            records,
            "UPDATE dossier_events SET payload = :p, hash = :h WHERE dossier_code = :c AND seq = 3",
            p=forged,
            h=event_hash(code, 3, trail[2].prev_hash, forged),
            c=code,
        )
        assert [(p.kind, p.seq) for p in (await verify(records, [code])).problems] == [("edited", 3)]

    async def test_deleted_row(self, records):
        """A row deleted from the middle is reported as deleted at its seq."""
        code = await five_event_dossier(records)
        await tamper(records, "DELETE FROM dossier_events WHERE dossier_code = :c AND seq = 2", c=code)
        problems = (await verify(records, [code])).problems
        assert [(p.kind, p.seq) for p in problems] == [("deleted", 2)]

    async def test_truncated_chain(self, records):
        """The last rows deleted: only the dossiers row (which went to 5) shows it."""
        code = await five_event_dossier(records)
        await tamper(records, "DELETE FROM dossier_events WHERE dossier_code = :c AND seq >= 4", c=code)
        problems = (await verify(records, [code])).problems
        assert [(p.kind, p.seq) for p in problems] == [("deleted", 4)]

    async def test_reordered_rows(self, records):
        """Two rows swapped (their seqs exchanged) are reported as reordered."""
        code = await five_event_dossier(records)
        await tamper(
            records,
            "UPDATE dossier_events SET seq = -1 WHERE dossier_code = :c AND seq = 3",
            "UPDATE dossier_events SET seq = 3 WHERE dossier_code = :c AND seq = 4",
            "UPDATE dossier_events SET seq = 4 WHERE dossier_code = :c AND seq = -1",
            c=code,
        )
        problems = (await verify(records, [code])).problems
        assert {p.kind for p in problems} == {"reordered"}
        assert {p.seq for p in problems} >= {3, 4}

    async def test_other_dossiers_stay_intact(self, records):
        """Tampering with one dossier reports that dossier only."""
        tampered, clean = await five_event_dossier(records), await five_event_dossier(records)
        await tamper(records, "DELETE FROM dossier_events WHERE dossier_code = :c AND seq = 5", c=tampered)
        result = await verify(records, [tampered, clean])
        assert {p.dossier_code for p in result.problems} == {tampered}
        assert (result.dossiers, result.events) == (2, 9)

    async def test_dossier_without_events(self, records):
        """Every event of a dossier deleted: reported from its dossiers row."""
        code = await five_event_dossier(records)
        await tamper(records, "DELETE FROM dossier_events WHERE dossier_code = :c", c=code)
        assert [(p.kind, p.seq) for p in (await verify(records, [code])).problems] == [("deleted", 1)]


async def test_rows_store_instants_in_utc(records):
    """A Vietnam-time instant comes back the same instant, on SQLite as on PostgreSQL."""
    code = await five_event_dossier(records)
    async with records.sessions() as session:
        received = await session.scalar(select(DossierRow.received_at).where(DossierRow.code == code))
    assert received == T0 and received.tzinfo is not None
