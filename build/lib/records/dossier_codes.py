"""Dossier codes: receiving agency code, receipt date YYMMDD, four-digit daily number.

A number is taken inside the same transaction that starts the dossier and only committed
when the start succeeded, so numbers have no gaps; the row lock on the daily counter (or
SQLite's write lock) serialises concurrent counters, so numbers never repeat.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TypeVar

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from records.database import insert_for
from records.tables import DossierSequenceRow, IntakeRequestRow

__all__ = ["CodeTaken", "DailyLimitReached", "DossierCodeAllocator", "format_code"]

T = TypeVar("T")
MAX_NUMBER = 9999


class CodeTaken(Exception):
    """The code is already the id of a dossier (the counter row was behind); take the next."""


class DailyLimitReached(RuntimeError):
    """The agency has used all four-digit numbers for that day."""


def format_code(agency_code: str, day: date, number: int) -> str:
    return f"{agency_code}-{day:%y%m%d}-{number:04d}"


class DossierCodeAllocator:
    def __init__(self, engine: AsyncEngine, sessions: async_sessionmaker) -> None:
        self._engine = engine
        self._sessions = sessions
        # SQLite has one write lock for the whole file: queue this process's allocations
        # here rather than in SQLite's sleep-and-retry busy loop, which starves them.
        self._local_queue = asyncio.Lock() if engine.dialect.name == "sqlite" else contextlib.nullcontext()

    async def allocate(
        self,
        agency_code: str,
        day: date,
        start: Callable[[str], Awaitable[T]],
        request_id: str | None = None,
    ) -> tuple[str, T | None]:
        """Take the next code and run `start(code)` before committing it.

        Returns (code, start's result), or (existing code, None) when `request_id` was
        already used: a resubmitted counter request never creates a second dossier.
        """
        # Closing the session without a commit rolls everything back (autobegin).
        async with self._local_queue, self._sessions() as session:
            # Writes come before any read so that SQLite takes its write lock first (a read
            # first risks a busy snapshot). Claiming the request id first makes a concurrent
            # submission of the same request wait here, then find its dossier.
            if request_id is not None and not await self._claim(session, request_id):
                existing = await session.scalar(
                    select(IntakeRequestRow.dossier_code).where(IntakeRequestRow.request_id == request_id)
                )
                return existing, None
            while True:
                number = await self._take_number(session, agency_code, day)
                code = format_code(agency_code, day, number)
                try:
                    result = await start(code)
                except CodeTaken:
                    continue  # the number belongs to an existing dossier: it stays used
                break
            if request_id is not None:
                await session.execute(
                    update(IntakeRequestRow)
                    .where(IntakeRequestRow.request_id == request_id)
                    .values(dossier_code=code)
                )
            await session.commit()
            return code, result

    async def _claim(self, session, request_id: str) -> bool:
        statement = (
            insert_for(self._engine, IntakeRequestRow)
            .values(request_id=request_id, dossier_code=None)
            .on_conflict_do_nothing(index_elements=["request_id"])
            .returning(IntakeRequestRow.request_id)
        )
        return (await session.execute(statement)).scalar_one_or_none() is not None

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
