"""The dossier row the projection keeps: facts learnt from entries survive later batches."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from audit.verify import verify
from model.dossier_state import DossierStatus
from records.tables import DossierRow, OfficerRow
from tests.records.dataset import entry, new_code, received_entries, record, summary

T0 = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)


async def row(records, code: str) -> DossierRow:
    async with records.sessions() as session:
        return await session.get(DossierRow, code)


async def test_carried_over_and_overdue_are_kept_from_their_entries(records):
    """A `carried_over` entry (details from/to) sets carried-over-from/at when the summary does
    not; the first `overdue` entry sets overdue_at; later batches keep both."""
    code = new_code("PROJ")
    await record(records, summary(code, T0), received_entries(T0))
    moved = T0 + timedelta(days=1)
    await record(
        records,
        summary(code, T0, handling_unit="new-unit"),
        [
            entry(
                3,
                moved,
                "carried_over",
                DossierStatus.PROCESSING,
                details={"from": "old-unit", "to": "new-unit", "transfer_id": "t1"},
            )
        ],
    )
    late = T0 + timedelta(days=6)
    await record(
        records,
        summary(code, T0, overdue=True, handling_unit="new-unit"),
        [entry(4, late, "overdue", DossierStatus.PROCESSING)],
    )
    await record(
        records,
        summary(
            code,
            T0,
            handling_unit="new-unit",
            status=DossierStatus.PROCESSED.value,
            overdue=True,
            resolved_at=late + timedelta(days=1),
            current_roles=("counter_officer",),
        ),
        [entry(5, late + timedelta(days=1), "processed", DossierStatus.PROCESSED)],
    )
    dossier = await row(records, code)
    assert (dossier.carried_over_from, dossier.carried_over_at) == ("old-unit", moved)
    assert (dossier.handling_unit, dossier.overdue_at, dossier.status) == ("new-unit", late, "processed")
    assert dossier.resolved_at == late + timedelta(days=1) and dossier.current_roles == "counter_officer"
    assert dossier.last_event_seq == 5


async def test_an_older_batch_never_moves_the_row_back(records):
    """A late retry of batch 1 after batch 2 was recorded leaves the row at batch 2."""
    code = new_code("PROJ")
    first = received_entries(T0)
    await record(records, summary(code, T0), first)
    await record(
        records,
        summary(code, T0, status=DossierStatus.REFUSED.value, closed_at=T0 + timedelta(hours=2)),
        [entry(3, T0 + timedelta(hours=2), "refused", DossierStatus.REFUSED)],
    )
    await record(records, summary(code, T0), first)
    dossier = await row(records, code)
    assert (dossier.status, dossier.last_event_seq, dossier.closed_at) == (
        "refused",
        3,
        T0 + timedelta(hours=2),
    )


async def test_officers_are_remembered_once(records):
    """The acting officer is recorded with unit and roles; the system actor is not an officer."""
    code = new_code("PROJ")
    await record(records, summary(code, T0), received_entries(T0, counter=f"counter-{code}"))
    async with records.sessions() as session:
        officer = await session.get(OfficerRow, f"counter-{code}")
        assert await session.get(OfficerRow, "system") is None
    assert (officer.roles, officer.first_seen_at) == ("counter_officer", T0)


async def test_concurrent_projections_of_many_dossiers(records):
    """Thirty dossiers projected at once, two batches each: every call succeeds and every
    chain is intact (the writers share one SQLite file or PostgreSQL's pool)."""
    codes = [new_code("CONC") for _ in range(30)]

    async def project(code: str) -> None:
        await record(records, summary(code, T0), received_entries(T0))
        await record(
            records,
            summary(code, T0),
            [entry(3, T0 + timedelta(hours=1), "step_completed", DossierStatus.PROCESSING)],
        )

    await asyncio.gather(*(project(code) for code in codes))
    result = await verify(records, codes)
    assert result.intact and result.events == 90
