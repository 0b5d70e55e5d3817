"""The service report beside Decision 766's indicators: online dossiers not yet received stay
out of the received counts, the online share, and the satisfaction ratings per unit."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from adminunits import VN_TZ
from audit.reports import ReportQuery, report
from model.dossier_state import DossierStatus
from records.ratings import AlreadyRated, RatedDossier, RatingInput, rate
from tests.records.dataset import entry, new_code, received_entries, record, summary

S = DossierStatus
DAY = datetime(2026, 3, 2, 9, tzinfo=VN_TZ)  # a Monday
PERIOD = ReportQuery(start=DAY - timedelta(days=1), end=DAY + timedelta(days=30), group_by=("handling_unit",))


def unit() -> str:
    """A handling unit of this test only, so that the session's other rows do not count."""
    return f"TEST.{uuid.uuid4().hex[:8]}.H99"


async def row_of(records, handling_unit: str):
    result = await report(
        records, PERIOD.model_copy(update={"handling_unit": handling_unit}), now=DAY + timedelta(days=1)
    )
    [row] = result.rows
    return row


async def online(records, handling_unit: str, status: DossierStatus, **changes) -> str:
    code = new_code("ONL")
    first = entry(1, DAY, "registered_online", S.REGISTERED_ONLINE, actor_id="dvc-portal")
    entries = [first]
    if status is S.NOT_RECEIVED:
        entries.append(entry(2, DAY, "not_received", S.NOT_RECEIVED, status_before=S.REGISTERED_ONLINE))
    fields = {"handling_unit": handling_unit, "status": status.value, "channel": "online", **changes}
    await record(records, summary(code, DAY, **fields), entries)
    return code


class TestOnlineInTheReport:
    async def test_not_yet_received_dossiers_are_not_received_ones(self, records):
        """Status 1 counts as awaiting check, form 03 online as not received; neither is received
        nor pending; the online share is over the received ones."""
        handling = unit()
        await online(records, handling, S.REGISTERED_ONLINE)
        await online(records, handling, S.NOT_RECEIVED, closed_at=DAY + timedelta(hours=1))
        await online(records, handling, S.PROCESSING)  # received after an online submission
        counter = new_code()
        await record(records, summary(counter, DAY, handling_unit=handling), received_entries(DAY))

        row = await row_of(records, handling)

        counts = row.counts
        assert (counts.received, counts.received_online) == (2, 1)
        assert (counts.awaiting_online_check, counts.not_received) == (1, 1)
        assert counts.pending_within_deadline == 2
        assert row.online_share == pytest.approx(0.5)

    async def test_ratings_per_unit_with_their_average(self, records):
        """Two ratings of one unit's dossiers: count 2, average 3.5; a second rating of a dossier is refused."""
        handling = unit()
        codes = [await online(records, handling, S.PROCESSING) for _ in range(2)]
        for code, score in zip(codes, (3, 4)):
            dossier = RatedDossier(code, handling, "000.00004.01.H01", "1.004873", "online")
            await rate(records, dossier, RatingInput(score=score), None, DAY + timedelta(days=3))
        with pytest.raises(AlreadyRated):
            await rate(records, dossier, RatingInput(score=5), None, DAY + timedelta(days=3))
        again = await rate(records, dossier, RatingInput(score=4), None, DAY + timedelta(days=4))
        assert again.repeated and again.rated_at == DAY + timedelta(days=3)

        row = await row_of(records, handling)

        assert (row.counts.ratings, row.rating_average) == (2, 3.5)
