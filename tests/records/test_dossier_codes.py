"""Dossier codes: never repeated, reserved for a request id before its dossier is started."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime

import pytest
from sqlalchemy import select, update

from adminunits import VN_TZ
from records.dossier_codes import (
    MAX_NUMBER,
    DailyLimitReached,
    DossierCodeAllocator,
    format_code,
)
from records.tables import DossierSequenceRow

DAY = date(2026, 3, 5)


@pytest.fixture
def allocator(records) -> DossierCodeAllocator:
    return DossierCodeAllocator(records.engine, records.sessions)


@pytest.fixture
def agency() -> str:
    """A fake agency code of its own, so that no other test touches its counter."""
    return f"test.{uuid.uuid4().hex[:12]}.H99"


AT = datetime(2026, 3, 5, 9, tzinfo=VN_TZ)


async def reserve(allocator, agency: str, day: date = DAY, request_id: str | None = None, content: str = "h"):
    return await allocator.reserve(agency, day, request_id or f"req-{uuid.uuid4()}", content, AT)


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


class TestReserve:
    async def test_first_number_of_a_day_is_one(self, allocator, records, agency):
        """A fresh agency/day starts at 0001; the claim is committed, not yet started."""
        claim = await reserve(allocator, agency)
        assert claim.dossier_code == f"{agency}-260305-0001"
        assert claim.claimed_now and not claim.started
        assert await allocator.find(agency, claim.request_id) == claim.__class__(
            agency, claim.request_id, claim.dossier_code, "h", AT, False
        )

    async def test_days_and_agencies_count_separately(self, allocator, agency):
        """Each (agency, day) pair has its own sequence."""
        other = agency.replace("test.", "test2.")
        codes = [
            (await reserve(allocator, a, d)).dossier_code
            for a, d in [(agency, DAY), (agency, DAY), (agency, date(2026, 3, 6)), (other, DAY)]
        ]
        assert codes == [
            f"{agency}-260305-0001",
            f"{agency}-260305-0002",
            f"{agency}-260306-0001",
            f"{other}-260305-0001",
        ]

    async def test_thirty_concurrent_reservations_get_one_to_thirty(self, allocator, records, agency):
        """30 concurrent reservations on a fresh agency/day get exactly the numbers 1..30."""
        claims = await asyncio.gather(*(reserve(allocator, agency) for _ in range(30)))
        assert sorted(number(c.dossier_code) for c in claims) == list(range(1, 31))
        assert await last_number(records, agency) == 30

    async def test_renumber_moves_the_claim_and_keeps_the_taken_number_used(self, allocator, records, agency):
        """A claim whose code is another dossier's moves to the next code; the number stays used."""
        claim = await reserve(allocator, agency)
        moved = await allocator.renumber(claim, DAY)
        assert moved.dossier_code == f"{agency}-260305-0002" and moved.request_id == claim.request_id
        assert (await allocator.find(agency, claim.request_id)).dossier_code == moved.dossier_code
        assert number((await reserve(allocator, agency)).dossier_code) == 3

    async def test_started_claims_leave_the_unsettled_list(self, allocator, agency):
        """A claim is unsettled until its start is confirmed."""
        claim = await reserve(allocator, agency)
        assert claim.request_id in {c.request_id for c in await allocator.unsettled()}
        await allocator.mark_started(claim)
        assert claim.request_id not in {c.request_id for c in await allocator.unsettled()}
        assert (await allocator.find(agency, claim.request_id)).started


class TestRequestId:
    async def test_a_claimed_request_id_returns_its_claim_and_uses_no_number(
        self, allocator, records, agency
    ):
        """Reserving a request id claimed before returns that claim (claimed_now False), no new number."""
        request_id = f"req-{uuid.uuid4()}"
        first = await reserve(allocator, agency, request_id=request_id)
        again = await reserve(allocator, agency, request_id=request_id, content="other")
        assert again.dossier_code == first.dossier_code and not again.claimed_now
        assert again.content_hash == "h"  # the first request's: the caller compares
        assert await last_number(records, agency) == 1
        assert number((await reserve(allocator, agency)).dossier_code) == 2

    async def test_request_ids_are_per_counter(self, allocator, records, agency):
        """The same request id at another counter is a claim of its own there."""
        request_id = f"req-{uuid.uuid4()}"
        here = await reserve(allocator, agency, request_id=request_id)
        other = agency.replace("test.", "test3.")
        there = await reserve(allocator, other, request_id=request_id)
        assert there.claimed_now and there.dossier_code == f"{other}-260305-0001" != here.dossier_code

    async def test_concurrent_same_request_id_claims_once(self, allocator, records, agency):
        """Five concurrent reservations of one request id: one claim, one number, all see its code."""
        request_id = f"req-{uuid.uuid4()}"
        claims = await asyncio.gather(*(reserve(allocator, agency, request_id=request_id) for _ in range(5)))
        assert {c.dossier_code for c in claims} == {f"{agency}-260305-0001"}
        assert sum(c.claimed_now for c in claims) == 1
        assert await last_number(records, agency) == 1


class TestDailyLimit:
    async def test_no_number_after_9999(self, allocator, records, agency):
        """After number 9999 the reservation raises DailyLimitReached and keeps 9999."""
        await reserve(allocator, agency)
        async with records.sessions() as session:
            await session.execute(
                update(DossierSequenceRow)
                .where(DossierSequenceRow.agency_code == agency, DossierSequenceRow.day == "260305")
                .values(last_number=MAX_NUMBER - 1)
            )
            await session.commit()
        assert (await reserve(allocator, agency)).dossier_code == f"{agency}-260305-9999"
        with pytest.raises(DailyLimitReached, match=agency):
            await reserve(allocator, agency)
        assert await last_number(records, agency) == MAX_NUMBER
        # The next day is unaffected.
        assert number((await reserve(allocator, agency, date(2026, 3, 6))).dossier_code) == 1
