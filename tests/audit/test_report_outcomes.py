"""The report's outcome definitions (docs/records.md) on a hand-counted dataset: a paused dossier
is not overdue, a refusal or withdrawal after the deadline is late, carried-over dossiers count
at their current unit."""

from __future__ import annotations

import io

import pytest

from audit.reports import ReportQuery, report
from cli.tables import REPORT_COLUMNS, print_tables, report_table
from tests.records.march import MARCH, NOW, vn
from tests.records.outcomes import Outcomes


@pytest.fixture
async def outcomes(records) -> Outcomes:
    data = Outcomes()
    async with records.sessions() as session:
        session.add_all(data.rows())
        session.add_all(data.events())
        await session.commit()
    return data


def counts(row) -> dict:
    return {k: v for k, v in row.counts.model_dump().items() if v}


async def by_unit(records, outcomes: Outcomes, now=NOW) -> dict:
    result = await report(
        records,
        ReportQuery(
            start=MARCH[0], end=MARCH[1], group_by=("handling_unit",), receiving_unit=outcomes.counter
        ),
        now=now,
    )
    return {r.group["handling_unit"]: r for r in result.rows}


class TestOutcomeDefinitions:
    async def test_unit_b_paused_and_refused(self, records, outcomes):
        """B at the end of March. Pending: O1 (paused, unshifted due passed: within), O2 (overdue
        before its pause), O9 (supplemented, shifted due 03-25 passed: overdue). Refused: O3 late
        (after its overdue entry), O4 within, O5 while paused (clock stopped: within). Supplement
        requests in March: O1, O2, O5, O9. Total = 3 pending + 1 refused late; on time: O1."""
        rows = await by_unit(records, outcomes)
        assert counts(rows[outcomes.B]) == {
            "received": 6,
            "pending_within_deadline": 1,
            "pending_overdue": 2,
            "pending_paused": 2,
            "supplement_requested": 4,
            "refused": 3,
            "refused_late": 1,
        }
        assert (rows[outcomes.B].total, rows[outcomes.B].on_time_rate) == (4, pytest.approx(1 / 4))

    async def test_unit_a_carried_over(self, records, outcomes):
        """A, which took over OLD's dossiers: O7 resolved on time, O8 pending in time, O6 withdrawn
        after its due moment (late, though it was received in February elsewhere). Received in
        March: O7, O8. OLD only shows the three carried out."""
        rows = await by_unit(records, outcomes)
        assert counts(rows[outcomes.A]) == {
            "received": 2,
            "resolved_on_time": 1,
            "pending_within_deadline": 1,
            "withdrawn": 1,
            "withdrawn_late": 1,
            "carried_over_in": 3,
        }
        assert (rows[outcomes.A].total, rows[outcomes.A].on_time_rate) == (3, pytest.approx(2 / 3))
        assert counts(rows[outcomes.OLD]) == {"carried_over_out": 3}

    async def test_pending_in_the_middle_of_a_pause(self, records, outcomes):
        """On 03-09 at noon in B: O2 overdue since 03-08 17:00; O1, O5, O9 waiting for the
        applicant; O3 and O4 (refused later) still held, in time."""
        rows = await by_unit(records, outcomes, now=vn("03-09", "12:00"))
        b = rows[outcomes.B].counts
        assert (b.pending_within_deadline, b.pending_overdue, b.pending_paused) == (5, 1, 3)

    async def test_refusing_an_overdue_dossier_cannot_raise_the_rate(self, records, outcomes):
        """O3 counted late once refused: B's rate with it (1/4) is below the rate without it (1/3)."""
        rows = await by_unit(records, outcomes)
        b = rows[outcomes.B].counts
        without_o3 = (b.pending_within_deadline) / (b.total - b.refused_late)
        assert rows[outcomes.B].on_time_rate < without_o3


# What became of a received dossier: resolved (early, on time, late), still held (within the
# deadline or overdue), withdrawn or refused; one of these and no other.
OUTCOME_COLUMNS = (
    "resolved_early",
    "resolved_on_time",
    "resolved_late",
    "pending_within_deadline",
    "pending_overdue",
    "withdrawn",
    "refused",
)


class TestTheColumnsAddUp:
    async def test_over_every_receipt_received_is_the_sum_of_the_outcomes(self, records, outcomes):
        """February and March (every receipt of the dataset), counted on 1 April: received =
        early + on time + late + pending + overdue + withdrawn + refused, for each unit, the
        total, and the table `starter.py report --table` draws."""
        result = await report(
            records,
            ReportQuery(
                start=vn("02-01"), end=MARCH[1], group_by=("handling_unit",), receiving_unit=outcomes.counter
            ),
            now=NOW,
        )
        for row in [*result.rows, result.totals]:
            counts = row.counts.model_dump()
            assert counts["received"] == sum(counts[c] for c in OUTCOME_COLUMNS), (row.group, counts)
        assert result.totals.counts.received == 9

        drawn = io.StringIO()
        print_tables(drawn, report_table(result))
        [total] = [line for line in drawn.getvalue().splitlines() if line.startswith("│ all ")]
        cells = dict(zip(REPORT_COLUMNS, (c.strip() for c in total.split("│")[2:]), strict=False))
        assert int(cells["received"]) == sum(int(cells[c]) for c in OUTCOME_COLUMNS) == 9, total

    async def test_a_period_that_cuts_through_the_dossiers_need_not_add_up(self, records, outcomes):
        """March alone: A's O6, received in February, is withdrawn in March but not received in
        it; the columns add up only over a period holding every receipt (docs/records.md)."""
        rows = await by_unit(records, outcomes)
        a = rows[outcomes.A].counts.model_dump()
        assert (a["received"], sum(a[c] for c in OUTCOME_COLUMNS)) == (2, 3)
