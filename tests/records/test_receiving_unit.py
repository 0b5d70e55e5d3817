"""The current counter and the counter of receipt in the records store (issue 11).

A carryover may move a dossier's receiving side to the successor counter: `receiving_unit`
follows it (inbox, search, reports), `original_receiving_unit` keeps the counter of receipt.
The live carryover is tested in tests/carryover/test_carryover.py::TestTheSuccessorCounter.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from model.dossier_state import DossierStatus
from records import migrate
from records.database import create_engine
from records.tables import DossierRow
from tests.builders import BA_DINH_COUNTER
from tests.records.dataset import entry, new_code, received_entries, record, summary
from tests.records.test_migrations import fresh_url  # noqa: F401  (fixture)

SUCCESSOR_COUNTER = "000.00008.01.H01"
AT = datetime(2025, 6, 27, 3, tzinfo=UTC)


def carried_over(seq: int) -> object:
    return entry(
        seq,
        AT,
        "carried_over",
        DossierStatus.PROCESSING,
        actor_roles=("system",),
        action_id=f"t-{seq}",
        details={
            "from": "001.00.00.H01",
            "to": "000.00008.00.H01",
            "transfer_id": f"t-{seq}",
            "receiving_from": BA_DINH_COUNTER,
            "receiving_to": SUCCESSOR_COUNTER,
        },
    )


async def test_the_migration_moves_carried_over_dossiers_to_their_current_counter(fresh_url):  # noqa: F811
    """Upgrading a 0003 database: each row keeps its counter of receipt, and a dossier whose
    `carried_over` event moved its counter gets the new one as `receiving_unit`; downgrading
    gives the counter of receipt back."""
    engine = create_engine(fresh_url)
    try:
        await migrate.upgrade(engine, "0003")
        moved, stayed = new_code("MOVED"), new_code("STAYED")
        async with engine.begin() as connection:
            dossiers, events = await connection.run_sync(
                lambda c: (
                    sa.Table("dossiers", sa.MetaData(), autoload_with=c),
                    sa.Table("dossier_events", sa.MetaData(), autoload_with=c),
                )
            )
            for code in (moved, stayed):
                await connection.execute(
                    dossiers.insert().values(
                        code=code,
                        procedure_code="1.004873",
                        version_id="v",
                        receiving_unit=BA_DINH_COUNTER,
                        handling_unit="000.00008.00.H01",
                        status="processing",
                        received_at=AT,
                        due_at=AT,
                        overdue=False,
                        last_event_seq=3,
                    )
                )
            await connection.execute(
                events.insert().values(
                    dossier_code=moved,
                    seq=3,
                    action="carried_over",
                    actor_id="system",
                    actor_unit="",
                    at=AT,
                    status_after="processing",
                    payload=carried_over(3).model_dump_json(),
                    prev_hash="",
                    hash="",
                )
            )
        await migrate.upgrade(engine)
        async with engine.connect() as connection:
            rows = dict(
                (
                    (code, (current, original))
                    for code, current, original in await connection.execute(
                        sa.select(
                            DossierRow.code, DossierRow.receiving_unit, DossierRow.original_receiving_unit
                        )
                    )
                )
            )
        assert rows == {
            moved: (SUCCESSOR_COUNTER, BA_DINH_COUNTER),
            stayed: (BA_DINH_COUNTER, BA_DINH_COUNTER),
        }
        await migrate.downgrade(engine, "0003")
        async with engine.connect() as connection:
            current = dict(
                (await connection.execute(sa.text("SELECT code, receiving_unit FROM dossiers"))).all()
            )
        assert current == {moved: BA_DINH_COUNTER, stayed: BA_DINH_COUNTER}
    finally:
        await engine.dispose()


class TestProjection:
    async def test_the_row_follows_the_current_counter_and_keeps_the_one_of_receipt(self, records):
        """The workflow's summary names both: the row's `receiving_unit` moves, the original stays."""
        code = new_code()
        await record(records, summary(code, AT), received_entries(AT))
        moved = summary(code, AT, receiving_unit=SUCCESSOR_COUNTER, original_receiving_unit=BA_DINH_COUNTER)
        await record(records, moved, [carried_over(3)])
        async with records.sessions() as session:
            row = await session.get(DossierRow, code)
        assert (row.receiving_unit, row.original_receiving_unit) == (SUCCESSOR_COUNTER, BA_DINH_COUNTER)

    async def test_an_older_summary_still_moves_the_row_and_never_moves_it_back(self, records):
        """A summary from before this change names the counter of receipt as `receiving_unit`
        (retried activities of older code): the `carried_over` entry moves the row, and a later
        batch with such a summary leaves it at the successor counter."""
        code = new_code()
        await record(records, summary(code, AT), received_entries(AT))
        await record(records, summary(code, AT), [carried_over(3)])
        await record(records, summary(code, AT), [entry(4, AT, "step_completed", DossierStatus.PROCESSING)])
        async with records.sessions() as session:
            row = await session.get(DossierRow, code)
        assert (row.receiving_unit, row.original_receiving_unit, row.last_event_seq) == (
            SUCCESSOR_COUNTER,
            BA_DINH_COUNTER,
            4,
        )
