"""A stuck holder of a counter's daily number never freezes the counter (PostgreSQL).

The holder here is a transaction that locked the counter's row and then went silent, as an
intake process partitioned mid-transaction would: the server ends it after
idle_in_transaction_session_timeout and the next receipt goes through. A holder that is busy
instead (not idle) makes the next receipt fail with CounterBusy after lock_timeout, rather
than wait for it.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from datetime import date

import asyncpg
import pytest
import sqlalchemy
from sqlalchemy import text

from intake.forms import ReceiptSlip
from intake.service import IntakeService
from records.database import PostgresTimeouts, create_engine, open_records
from records.dossier_codes import CounterBusy, DossierCodeAllocator
from tests.intake.test_intake import commune_counter, request_at

URL = os.environ.get("DATABASE_URL", "")
pytestmark = [
    pytest.mark.skipif(
        not URL.startswith("postgresql"),
        reason="lock and session timeouts are PostgreSQL's: set DATABASE_URL=postgresql+asyncpg://…",
    ),
    pytest.mark.usefixtures("worker"),
]


async def lock_the_counter(connection, unit: str, day: date) -> None:
    await connection.execute(
        text("SELECT last_number FROM dossier_sequences WHERE agency_code = :unit AND day = :day FOR UPDATE"),
        {"unit": unit, "day": f"{day:%y%m%d}"},
    )


class TestStuckHolder:
    async def test_a_silent_holder_is_cut_off_and_the_counter_receives(
        self, env, counter, task_queue, monkeypatch
    ):
        """A transaction holding a counter's row goes silent: within about a second the server
        ends it, and a receipt at that counter waiting behind it is received."""
        monkeypatch.setenv("RECORDS_IDLE_IN_TRANSACTION_TIMEOUT", "1")
        monkeypatch.setenv("RECORDS_LOCK_TIMEOUT", "4")
        unit = commune_counter("00430")
        async with open_records(URL) as store:
            service = IntakeService.standard(env.client, task_queue, store, clock=lambda: counter._now)
            counter.service = service
            first = await counter.receive(request_at(unit, request_id=f"req-{uuid.uuid4()}"))
            assert isinstance(first, ReceiptSlip)
            day = first.received_at.date()

            holder = await store.engine.connect()
            transaction = await holder.begin()
            await lock_the_counter(holder, unit, day)
            loop = asyncio.get_running_loop()
            began = loop.time()
            slip = await asyncio.wait_for(
                counter.receive(request_at(unit, request_id=f"req-{uuid.uuid4()}")), 10
            )
            waited = loop.time() - began
            assert isinstance(slip, ReceiptSlip) and slip.dossier_code.endswith("-0002")
            assert waited < 3, f"the receipt waited {waited:.1f}s behind a silent holder"
            with pytest.raises(sqlalchemy.exc.DBAPIError):
                await holder.execute(text("SELECT 1"))  # the server ended the holder's session
            await transaction.close()
            await holder.close()

    async def test_a_busy_holder_makes_the_receipt_fail_fast_with_counter_busy(self, monkeypatch):
        """A holder that keeps working while holding the row: the receipt gives up after
        lock_timeout with CounterBusy (nothing received, send again) instead of freezing."""
        agency = f"test.{uuid.uuid4().hex[:12]}.H99"
        engine = create_engine(URL, PostgresTimeouts(lock_wait=1))
        allocator = DossierCodeAllocator(engine, sqlalchemy.ext.asyncio.async_sessionmaker(engine))
        day = date(2026, 3, 5)
        try:
            await allocator.reserve(agency, day, "first", "h", _at(day))
            dsn = sqlalchemy.make_url(URL).set(drivername="postgresql").render_as_string(hide_password=False)
            holder = await asyncpg.connect(dsn)
            try:
                transaction = holder.transaction()
                await transaction.start()
                await holder.execute(
                    "SELECT 1 FROM dossier_sequences WHERE agency_code = $1 AND day = $2 FOR UPDATE",
                    agency,
                    f"{day:%y%m%d}",
                )
                busy = asyncio.create_task(holder.execute("SELECT pg_sleep(8)"))
                loop = asyncio.get_running_loop()
                began = loop.time()
                with pytest.raises(CounterBusy, match=agency):
                    await allocator.reserve(agency, day, "second", "h", _at(day))
                assert loop.time() - began < 3
                # End the holder on the server (closing its socket would leave pg_sleep running).
                async with engine.connect() as admin:
                    await admin.execute(
                        text("SELECT pg_terminate_backend(:pid)"), {"pid": holder.get_server_pid()}
                    )
                await asyncio.gather(busy, return_exceptions=True)
            finally:
                if not holder.is_closed():
                    holder.terminate()
            # Nothing was used by the refused receipt: the next one gets number 2.
            claim = await allocator.reserve(agency, day, "third", "h", _at(day))
            assert claim.dossier_code.endswith("-0002")
        finally:
            await engine.dispose()


class TestSessionSettings:
    async def test_every_session_carries_the_configured_bounds(self, monkeypatch):
        """The engine's sessions run with the configured lock, idle, statement and keepalive settings."""
        monkeypatch.setenv("RECORDS_LOCK_TIMEOUT", "2.5")
        monkeypatch.setenv("RECORDS_TCP_KEEPALIVE_IDLE", "7")
        engine = create_engine(URL)
        try:
            async with engine.connect() as connection:
                shown = {
                    name: (await connection.execute(text(f"SHOW {name}"))).scalar_one()
                    for name in (
                        "lock_timeout",
                        "idle_in_transaction_session_timeout",
                        "statement_timeout",
                        "tcp_keepalives_idle",
                        "tcp_keepalives_interval",
                        "tcp_keepalives_count",
                    )
                }
        finally:
            await engine.dispose()
        assert shown == {
            "lock_timeout": "2500ms",
            "idle_in_transaction_session_timeout": "10s",
            "statement_timeout": "1min",
            "tcp_keepalives_idle": "7",
            "tcp_keepalives_interval": "5",
            "tcp_keepalives_count": "3",
        }


def _at(day: date):
    from datetime import datetime

    from adminunits import VN_TZ

    return datetime(day.year, day.month, day.day, 9, tzinfo=VN_TZ)
