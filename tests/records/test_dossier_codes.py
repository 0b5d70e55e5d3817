"""Dossier codes: gap-free, never repeated, committed only with a started dossier."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import pytest
from sqlalchemy import select, update

from records.dossier_codes import (
    MAX_NUMBER,
    CodeTaken,
    DailyLimitReached,
    DossierCodeAllocator,
    format_code,
)
from records.tables import DossierSequenceRow, IntakeRequestRow

DAY = date(2026, 3, 5)


@pytest.fixture
def allocator(records) -> DossierCodeAllocator:
    return DossierCodeAllocator(records.engine, records.sessions)


@pytest.fixture
def agency() -> str:
    """A fake agency code of its own, so that no other test touches its counter."""
    return f"test.{uuid.uuid4().hex[:12]}.H99"


class FakeStart:
    """A `start` that records the codes it was asked to start and can fail on chosen ones."""

    def __init__(self, fail: dict[str, BaseException] | None = None, delay: float = 0) -> None:
        self.calls: list[str] = []
        self.fail = dict(fail or {})
        self.delay = delay

    async def __call__(self, code: str) -> str:
        self.calls.append(code)
        await asyncio.sleep(self.delay)
        error = self.fail.pop(code, None)
        if error is not None:
            raise error
        return f"handle:{code}"


def number(code: str) -> int:
    return int(code.rsplit("-", 1)[1])


async def last_number(records, agency: str, day: date = DAY) -> int | None:
    async with records.sessions() as session:
        return await session.scalar(
            select(DossierSequenceRow.last_number).where(
                DossierSequenceRow.agency_code == agency, DossierSequenceRow.day == f"{day:%y%m%d}"
            )
        )


class TestFormatCode:
    def test_agency_date_and_four_digit_number(self):
        """A code is the agency code, the receipt date as YYMMDD and the number on four digits."""
        assert format_code("000.00004.01.H01", date(2026, 2, 13), 7) == "000.00004.01.H01-260213-0007"
        assert format_code("000.00.01.H01", date(2025, 6, 30), 42) == "000.00.01.H01-250630-0042"
        assert format_code("001.00.00.H01", date(2030, 12, 1), 9999) == "001.00.00.H01-301201-9999"


class TestAllocate:
    async def test_first_number_of_a_day_is_one(self, allocator, records, agency):
        """A fresh agency/day starts at 0001 and returns start's result with the code."""
        start = FakeStart()
        code, result = await allocator.allocate(agency, DAY, start)
        assert code == f"{agency}-260305-0001"
        assert result == f"handle:{code}"
        assert start.calls == [code]
        assert await last_number(records, agency) == 1

    async def test_days_and_agencies_count_separately(self, allocator, agency):
        """Each (agency, day) pair has its own sequence."""
        other = agency.replace("test.", "test2.")
        codes = [
            (await allocator.allocate(a, d, FakeStart()))[0]
            for a, d in [(agency, DAY), (agency, DAY), (agency, date(2026, 3, 6)), (other, DAY)]
        ]
        assert codes == [
            f"{agency}-260305-0001",
            f"{agency}-260305-0002",
            f"{agency}-260306-0001",
            f"{other}-260305-0001",
        ]

    async def test_thirty_concurrent_allocations_get_one_to_thirty(self, allocator, records, agency):
        """30 concurrent allocations on a fresh agency/day get exactly the numbers 1..30."""
        start = FakeStart(delay=0.001)
        results = await asyncio.gather(*(allocator.allocate(agency, DAY, start) for _ in range(30)))
        codes = [code for code, _ in results]
        assert sorted(number(c) for c in codes) == list(range(1, 31))
        assert all(result == f"handle:{code}" for code, result in results)
        assert sorted(start.calls) == sorted(codes)  # each code started exactly once
        assert await last_number(records, agency) == 30

    async def test_failed_start_gives_the_number_back(self, allocator, records, agency):
        """A start that raises propagates the error and its number goes to the next allocation."""
        first, _ = await allocator.allocate(agency, DAY, FakeStart())
        failing = FakeStart(fail={f"{agency}-260305-0002": RuntimeError("Temporal is down")})
        with pytest.raises(RuntimeError, match="Temporal is down"):
            await allocator.allocate(agency, DAY, failing)
        assert failing.calls == [f"{agency}-260305-0002"]
        assert await last_number(records, agency) == 1

        again, _ = await allocator.allocate(agency, DAY, FakeStart())
        assert (number(first), number(again)) == (1, 2)

    async def test_failed_start_keeps_no_request_id(self, allocator, records, agency):
        """A failed start records nothing for its request id: the request can be sent again."""
        request_id = f"req-{uuid.uuid4()}"
        with pytest.raises(RuntimeError):
            await allocator.allocate(
                agency, DAY, FakeStart(fail={f"{agency}-260305-0001": RuntimeError("boom")}), request_id
            )
        async with records.sessions() as session:
            assert await session.get(IntakeRequestRow, request_id) is None
        code, result = await allocator.allocate(agency, DAY, FakeStart(), request_id)
        assert (code, result) == (f"{agency}-260305-0001", f"handle:{agency}-260305-0001")

    async def test_code_taken_skips_that_number(self, allocator, records, agency):
        """A start raising CodeTaken keeps that number used and returns the next code."""
        taken = f"{agency}-260305-0001"
        start = FakeStart(fail={taken: CodeTaken(taken)})
        code, result = await allocator.allocate(agency, DAY, start)
        assert start.calls == [taken, f"{agency}-260305-0002"]
        assert code == f"{agency}-260305-0002" and result == f"handle:{code}"
        assert await last_number(records, agency) == 2
        nxt, _ = await allocator.allocate(agency, DAY, FakeStart())
        assert number(nxt) == 3


class TestRequestId:
    async def test_reused_request_id_returns_existing_code(self, allocator, records, agency):
        """The same request id returns (existing code, None) without starting or numbering anything."""
        request_id = f"req-{uuid.uuid4()}"
        code, result = await allocator.allocate(agency, DAY, FakeStart(), request_id=request_id)
        assert code == f"{agency}-260305-0001" and result is not None

        again = FakeStart()
        assert await allocator.allocate(agency, DAY, again, request_id=request_id) == (code, None)
        assert again.calls == []
        assert await last_number(records, agency) == 1
        async with records.sessions() as session:
            row = await session.get(IntakeRequestRow, request_id)
        assert row.dossier_code == code

        following, _ = await allocator.allocate(agency, DAY, FakeStart())
        assert number(following) == 2

    async def test_reused_request_id_at_another_agency_consumes_nothing_there(
        self, allocator, records, agency
    ):
        """A request id already used elsewhere returns that code and leaves no number taken here."""
        request_id = f"req-{uuid.uuid4()}"
        code, _ = await allocator.allocate(agency, DAY, FakeStart(), request_id=request_id)
        other = agency.replace("test.", "test3.")
        assert await allocator.allocate(other, DAY, FakeStart(), request_id=request_id) == (code, None)
        assert await last_number(records, other) is None
        fresh, _ = await allocator.allocate(other, DAY, FakeStart())
        assert number(fresh) == 1

    async def test_concurrent_same_request_id_starts_once(self, allocator, records, agency):
        """Five concurrent allocations with one request id start one dossier and all get its code."""
        request_id = f"req-{uuid.uuid4()}"
        start = FakeStart(delay=0.01)
        results = await asyncio.gather(
            *(allocator.allocate(agency, DAY, start, request_id=request_id) for _ in range(5))
        )
        assert start.calls == [f"{agency}-260305-0001"]
        assert {code for code, _ in results} == {f"{agency}-260305-0001"}
        assert sum(result is not None for _, result in results) == 1
        assert await last_number(records, agency) == 1


class TestDailyLimit:
    async def test_no_number_after_9999(self, allocator, records, agency):
        """After number 9999 the allocation raises DailyLimitReached, starts nothing and keeps 9999."""
        await allocator.allocate(agency, DAY, FakeStart())
        async with records.sessions() as session:
            await session.execute(
                update(DossierSequenceRow)
                .where(DossierSequenceRow.agency_code == agency, DossierSequenceRow.day == "260305")
                .values(last_number=MAX_NUMBER - 1)
            )
            await session.commit()
        code, _ = await allocator.allocate(agency, DAY, FakeStart())
        assert code == f"{agency}-260305-9999"

        start = FakeStart()
        with pytest.raises(DailyLimitReached, match=agency):
            await allocator.allocate(agency, DAY, start)
        assert start.calls == []
        assert await last_number(records, agency) == MAX_NUMBER
        # The next day is unaffected.
        tomorrow, _ = await allocator.allocate(agency, date(2026, 3, 6), FakeStart())
        assert number(tomorrow) == 1
