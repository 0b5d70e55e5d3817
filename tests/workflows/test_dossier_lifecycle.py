"""Whole dossier lifecycles on the time-skipping server, from receipt to the returned result."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from temporalio.testing import WorkflowEnvironment

from adminunits import VN_TZ
from intake.forms import ReceiptSlip
from procedures.models import Channel
from records.tables import DossierEventRow, DossierRow, NotificationRow
from tests.builders import (
    BA_DINH_COMMITTEE,
    BA_DINH_COUNTER,
    COUNTER,
    LEADER,
    SPECIALIST,
    Counter,
    action_id,
    at,
    quiet_day,
    request,
    settled,
    travel_to,
)
from workflows.dossier import DossierWorkflow
from workflows.dossier_inputs import CompleteStepInput, ReturnResultInput
from workflows.dossier_state import DossierStatus

pytestmark = pytest.mark.usefixtures("worker")


@pytest.fixture
def counter(env, task_queue, records) -> Counter:
    return Counter(env, task_queue, records)


def needs_time_skipping(env: WorkflowEnvironment) -> None:
    if not env.supports_time_skipping:
        pytest.skip("moves the clock by days: time-skipping server only")


class TestHappyPath:
    async def test_receipt_to_returned_result_across_a_weekend(self, env, counter, records):
        """A 3-working-day dossier received on Thursday is due Tuesday 17:00 and runs to its end."""
        needs_time_skipping(env)
        thursday = quiet_day(await env.get_current_time(), weekday=3)
        await travel_to(env, at(thursday, 10))

        slip = await counter.receive(request("1.004873"))

        assert isinstance(slip, ReceiptSlip)
        assert re.fullmatch(rf"{re.escape(BA_DINH_COUNTER)}-{thursday:%y%m%d}-\d{{4}}", slip.dossier_code)
        assert slip.handling_unit == BA_DINH_COMMITTEE
        assert slip.due_at == at(thursday + timedelta(days=5), 17)  # Fri, Mon, Tue
        handle = counter.handle(slip.dossier_code)
        view = await settled(handle)
        assert view.status is DossierStatus.PROCESSING
        assert view.current_step.id == "review"

        await travel_to(env, at(thursday + timedelta(days=1), 9))
        view = await handle.execute_update(
            DossierWorkflow.complete_step,
            CompleteStepInput(actor=SPECIALIST, action_id=action_id(), step_id="review"),
        )
        assert view.current_step.id == "approve"
        view = await handle.execute_update(
            DossierWorkflow.complete_step,
            CompleteStepInput(actor=LEADER, action_id=action_id(), step_id="approve"),
        )
        assert view.status is DossierStatus.PROCESSED and view.status_code == 9
        view = await handle.execute_update(
            DossierWorkflow.return_result,
            ReturnResultInput(actor=COUNTER, action_id=action_id(), channel=Channel.COUNTER),
        )
        assert view.status is DossierStatus.RETURNED

        result = await handle.result()
        assert result.status is DossierStatus.RETURNED and not result.overdue
        assert [e.action for e in result.timeline] == [
            "received",
            "transferred",
            "step_completed",
            "step_completed",
            "processed",
            "result_returned",
        ]
        async with records.sessions() as session:
            events = await session.scalar(
                select(func.count()).where(DossierEventRow.dossier_code == slip.dossier_code)
            )
            row = await session.get(DossierRow, slip.dossier_code)
            notices = await session.scalar(
                select(func.count()).where(NotificationRow.dossier_code == slip.dossier_code)
            )
        assert events == 6
        assert row.status == "returned" and row.last_event_seq == 6
        assert notices == 2  # received, processed
