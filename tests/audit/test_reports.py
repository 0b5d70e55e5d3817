"""Reports on a known dataset, every count computed by hand, and one dossier end to end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from adminunits import VN_TZ
from audit.reports import ReportQuery, report
from model.dossier_inputs import CompleteStepInput
from tests.builders import BA_DINH_COMMITTEE, LEADER, SPECIALIST, action_id, request, settled
from tests.records.march import MARCH, NOW, vn
from workflows.dossier import DossierWorkflow


def counts(row) -> dict:
    return {k: v for k, v in row.counts.model_dump().items() if v}


class TestReportOnKnownDataset:
    async def test_per_handling_unit(self, records, dataset):
        """March per handling unit: every count as computed by hand in the dataset's comments."""
        result = await report(
            records, ReportQuery(start=MARCH[0], end=MARCH[1], group_by=("handling_unit",)), now=NOW
        )
        assert result.as_of == MARCH[1]
        rows = {r.group["handling_unit"]: r for r in result.rows if dataset.tag in r.group["handling_unit"]}
        assert counts(rows[dataset.A]) == {
            "received": 6,
            "received_online": 2,
            "resolved_early": 2,
            "resolved_on_time": 2,
            "resolved_late": 2,
            "pending_within_deadline": 1,
        }
        assert (rows[dataset.A].total, rows[dataset.A].on_time_rate) == (7, pytest.approx(5 / 7))
        assert counts(rows[dataset.B]) == {
            "received": 5,
            "received_online": 1,
            "pending_within_deadline": 2,
            "pending_overdue": 2,
            "pending_paused": 1,
            "supplement_requested": 2,
            "withdrawn": 1,
            "refused": 1,
            "carried_over_in": 1,
        }
        assert (rows[dataset.B].total, rows[dataset.B].on_time_rate) == (4, 0.5)
        assert counts(rows[dataset.OLD]) == {"carried_over_out": 1}
        assert rows[dataset.OLD].on_time_rate is None

    async def test_per_procedure_for_one_unit(self, records, dataset):
        """Unit A per procedure. P1: D1 (online, early), D2 (on time) received; D9 early;
        D10 and D13 outside. P2: D3, D4 (online) late, D16 on time, D12 pending in time."""
        result = await report(
            records,
            ReportQuery(start=MARCH[0], end=MARCH[1], group_by=("procedure",), handling_unit=dataset.A),
            now=NOW,
        )
        assert {r.group["procedure"]: counts(r) for r in result.rows} == {
            dataset.P1: {"received": 2, "received_online": 1, "resolved_early": 2, "resolved_on_time": 1},
            dataset.P2: {
                "received": 4,
                "received_online": 1,
                "resolved_on_time": 1,
                "resolved_late": 2,
                "pending_within_deadline": 1,
            },
        }

    async def test_per_procedure_all_units(self, records, dataset):
        """Per procedure over both units: P1 and P2 as computed by hand."""
        result = await report(
            records, ReportQuery(start=MARCH[0], end=MARCH[1], group_by=("procedure",)), now=NOW
        )
        rows = {
            r.group["procedure"]: r for r in result.rows if r.group["procedure"] in (dataset.P1, dataset.P2)
        }
        assert counts(rows[dataset.P1]) == {
            "received": 4,
            "received_online": 1,
            "resolved_early": 2,
            "resolved_on_time": 1,
            "pending_within_deadline": 2,
            "pending_overdue": 1,
            "pending_paused": 1,
            "supplement_requested": 1,
            "carried_over_in": 1,
            "carried_over_out": 1,
        }
        assert rows[dataset.P1].on_time_rate == pytest.approx(5 / 6)
        assert counts(rows[dataset.P2]) == {
            "received": 7,
            "received_online": 2,
            "resolved_on_time": 1,
            "resolved_late": 2,
            "pending_within_deadline": 1,
            "pending_overdue": 1,
            "supplement_requested": 1,
            "withdrawn": 1,
            "refused": 1,
        }
        assert rows[dataset.P2].on_time_rate == pytest.approx(2 / 5)

    async def test_totals_of_the_dataset(self, records, dataset):
        """Totals over the dataset's units: the sums, and the rate recomputed from them."""
        result = await report(
            records,
            ReportQuery(start=MARCH[0], end=MARCH[1], receiving_unit=f"counter-{dataset.tag}"),
            now=NOW,
        )
        assert counts(result.totals) == {
            "received": 11,
            "received_online": 3,
            "resolved_early": 2,
            "resolved_on_time": 2,
            "resolved_late": 2,
            "pending_within_deadline": 3,
            "pending_overdue": 2,
            "pending_paused": 1,
            "supplement_requested": 2,
            "withdrawn": 1,
            "refused": 1,
            "carried_over_in": 1,
            "carried_over_out": 1,
        }
        assert result.totals.on_time_rate == pytest.approx(7 / 11)

    async def test_as_of_inside_the_period(self, records, dataset):
        """Before the period ends, pending is counted at `now`: on 03-20 D6 is still in time."""
        now = vn("03-20", "12:00")
        result = await report(
            records, ReportQuery(start=MARCH[0], end=MARCH[1], handling_unit=dataset.B), now=now
        )
        assert result.as_of == now
        # Held on 03-20 noon: D5 (received 09:00 that day), D6, D8 (refused 09:00: no), D11, D14.
        assert (result.totals.counts.pending_within_deadline, result.totals.counts.pending_overdue) == (4, 0)

    def test_a_period_that_ends_before_it_starts_is_refused(self):
        with pytest.raises(ValidationError, match="must start before it ends"):
            ReportQuery(start=MARCH[1], end=MARCH[0])


async def test_end_to_end_dossier_counts_as_resolved(env, records, counter):
    """A dossier received at the counter and approved through the workflow is counted as
    received and resolved (early or on time) at its handling unit."""
    now = (await env.get_current_time()).astimezone(VN_TZ)
    query = ReportQuery(
        start=now - timedelta(days=1),
        end=now + timedelta(days=30),
        handling_unit=BA_DINH_COMMITTEE,
        procedure_code="1.004873",
    )
    before = (await report(records, query, now=now + timedelta(days=30))).totals.counts
    slip = await counter.receive(request("1.004873"))
    handle = counter.handle(slip.dossier_code)
    await settled(handle)
    for actor, step_id in ((SPECIALIST, "review"), (LEADER, "approve")):
        await handle.execute_update(
            DossierWorkflow.complete_step,
            CompleteStepInput(actor=actor, action_id=action_id(), step_id=step_id),
        )
    await settled(handle)
    after = (await report(records, query, now=now + timedelta(days=30))).totals.counts
    assert after.received == before.received + 1
    assert (
        after.resolved_early + after.resolved_on_time == before.resolved_early + before.resolved_on_time + 1
    )
    assert after.resolved_late == before.resolved_late
