"""Dossier codes: receiving agency code, receipt date YYMMDD, four-digit daily number.

A counter's request id is claimed together with the code reserved for its dossier, in one
short transaction that is committed before the dossier is started: no transaction is open
while Temporal is called, so a counter's daily row lock is never held across the network.
The row lock (or SQLite's write lock) serialises concurrent counters, so numbers never
repeat; a number is used once claimed, so the claim of a request whose start fails keeps
it, and a resend of that request starts (or finds) the dossier under that very code.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from records.database import insert_for
from records.tables import DossierSequenceRow, IntakeRequestRow

__all__ = [
    "Claim",
    "CounterBusy",
    "DailyLimitReached",
    "DossierCodeAllocator",
    "format_code",
]

MAX_NUMBER = 9999
# PostgreSQL's SQLSTATEs for a lock wait or statement cut off by lock_timeout/statement_timeout.
_LOCK_NOT_AVAILABLE, _QUERY_CANCELED = "55P03", "57014"


class DailyLimitReached(RuntimeError):
    """The agency has used all four-digit numbers for that day."""


class CounterBusy(RuntimeError):
    """The counter's daily number stayed locked longer than the store's lock timeout."""


@dataclass(frozen=True)
class Claim:
    """A request id at a counter and the code reserved for its dossier."""

    receiving_unit: str
    request_id: str
    dossier_code: str
    content_hash: str  # "" for claims made before request contents were hashed
    received_at: datetime | None  # None for claims made before receipt instants were kept
    started: bool  # False: the dossier's start is not confirmed yet
    claimed_now: bool = False  # made by this call (False: the request id was claimed before)


def format_code(agency_code: str, day: date, number: int) -> str:
    return f"{agency_code}-{day:%y%m%d}-{number:04d}"


class DossierCodeAllocator:
    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker) -> None:
        self._engine = engine
        self._sessions = sessions
        # SQLite has one write lock for the whole file: queue this process's allocations
        # here rather than in SQLite's sleep-and-retry busy loop, which starves them.
        self._local_queue = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    def _queue(self) -> contextlib.AbstractAsyncContextManager:
        return self._local_queue or contextlib.nullcontext()

    async def find(self, agency_code: str, request_id: str) -> Claim | None:
        """The claim of `request_id` at counter `agency_code`, if there is one."""
        async with self._sessions() as session:
            row = await session.get(IntakeRequestRow, (agency_code, request_id))
            return _claim_of(row) if row is not None else None

    async def reserve(
        self, agency_code: str, day: date, request_id: str, content_hash: str, received_at: datetime
    ) -> Claim:
        """Claim `request_id` at the counter with the next code of `day`, committed at once.

        When the id was claimed before (by a concurrent submission), that claim is returned
        with `claimed_now=False` and no number is used.
        """
        async with self._queue(), _lock_waits_bounded(agency_code), self._sessions() as session:
            # Closing the session without a commit gives the number back (autobegin).
            number = await self._take_number(session, agency_code, day)
            code = format_code(agency_code, day, number)
            statement = (
                insert_for(self._engine, IntakeRequestRow)
                .values(
                    receiving_unit=agency_code,
                    request_id=request_id,
                    dossier_code=code,
                    content_hash=content_hash,
                    received_at=received_at,
                    started=False,
                )
                .on_conflict_do_nothing(index_elements=["receiving_unit", "request_id"])
                .returning(IntakeRequestRow.request_id)
            )
            if (await session.execute(statement)).scalar_one_or_none() is not None:
                await session.commit()
                return Claim(
                    agency_code, request_id, code, content_hash, received_at, False, claimed_now=True
                )
        existing = await self.find(agency_code, request_id)
        assert existing is not None, "a claim that conflicted is never deleted"
        return existing

    async def renumber(self, claim: Claim, day: date) -> Claim:
        """Move the claim to the next code: its code turned out to be another dossier's id.

        The taken number stays used (it is that dossier's).
        """
        async with self._queue(), _lock_waits_bounded(claim.receiving_unit), self._sessions() as session:
            number = await self._take_number(session, claim.receiving_unit, day)
            code = format_code(claim.receiving_unit, day, number)
            moved = await session.execute(
                update(IntakeRequestRow)
                .where(
                    IntakeRequestRow.receiving_unit == claim.receiving_unit,
                    IntakeRequestRow.request_id == claim.request_id,
                    IntakeRequestRow.dossier_code == claim.dossier_code,
                    IntakeRequestRow.started.is_(False),
                )
                .values(dossier_code=code)
            )
            if moved.rowcount == 1:
                await session.commit()
                return Claim(
                    claim.receiving_unit,
                    claim.request_id,
                    code,
                    claim.content_hash,
                    claim.received_at,
                    False,
                    claim.claimed_now,
                )
        # A concurrent resend moved (or started) it first: follow that claim.
        current = await self.find(claim.receiving_unit, claim.request_id)
        assert current is not None
        return current

    async def mark_started(self, claim: Claim) -> None:
        """The dossier under the claim's code is confirmed started."""
        async with self._sessions() as session:
            await session.execute(
                update(IntakeRequestRow)
                .where(
                    IntakeRequestRow.receiving_unit == claim.receiving_unit,
                    IntakeRequestRow.request_id == claim.request_id,
                    IntakeRequestRow.dossier_code == claim.dossier_code,
                )
                .values(started=True)
            )
            await session.commit()

    async def unsettled(self) -> list[Claim]:
        """Claims whose dossier's start was never confirmed, for operators to look at."""
        async with self._sessions() as session:
            rows = await session.scalars(
                select(IntakeRequestRow)
                .where(IntakeRequestRow.started.is_(False))
                .order_by(IntakeRequestRow.dossier_code)
            )
            return [_claim_of(row) for row in rows]

    async def _take_number(self, session, agency_code: str, day: date) -> int:
        statement = insert_for(self._engine, DossierSequenceRow).values(
            agency_code=agency_code, day=f"{day:%y%m%d}", last_number=1
        )
        statement = statement.on_conflict_do_update(
            index_elements=["agency_code", "day"],
            set_={"last_number": DossierSequenceRow.last_number + 1},
        ).returning(DossierSequenceRow.last_number)
        number = (await session.execute(statement)).scalar_one()
        if number > MAX_NUMBER:
            raise DailyLimitReached(f"{agency_code} has used all {MAX_NUMBER} numbers of {day}")
        return number


def _claim_of(row: IntakeRequestRow) -> Claim:
    return Claim(
        row.receiving_unit, row.request_id, row.dossier_code, row.content_hash, row.received_at, row.started
    )


@contextlib.asynccontextmanager
async def _lock_waits_bounded(agency_code: str):
    """Turn PostgreSQL's lock_timeout (or statement_timeout) into CounterBusy."""
    try:
        yield
    except DBAPIError as err:
        state = getattr(err.orig, "sqlstate", None) or getattr(
            getattr(err.orig, "__cause__", None), "sqlstate", None
        )
        if state in (_LOCK_NOT_AVAILABLE, _QUERY_CANCELED):
            raise CounterBusy(
                f"the daily number of counter {agency_code} is locked by another transaction;"
                " nothing was received, send the request again"
            ) from err
        raise
