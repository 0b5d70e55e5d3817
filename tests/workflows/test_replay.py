"""Histories of finished dossiers replay against the current workflow code."""

from __future__ import annotations

from datetime import timedelta

import pytest
from temporalio.worker import Replayer

from model.dossier_inputs import (
    ApologyInput,
    CompleteStepInput,
    ConfirmPaymentInput,
    RequestPaymentInput,
    RequestSupplementInput,
    ReturnResultInput,
    SupplementInput,
)
from tests.builders import COUNTER, LEADER, SPECIALIST, action_id, request, settled
from workflows.dossier import DossierWorkflow

pytestmark = pytest.mark.usefixtures("worker")


class TestReplay:
    async def test_a_full_lifecycle_replays_deterministically(self, env, counter, data_converter):
        """Supplement, payment, overdue, apology and result: the recorded history replays cleanly."""
        if not env.supports_time_skipping:
            pytest.skip("needs the clock moved past a deadline")
        slip = await counter.receive(request("3.000333"))
        handle = counter.handle(slip.dossier_code)
        department = slip.handling_unit
        leader = LEADER.model_copy(update={"unit": department})
        specialist = SPECIALIST.model_copy(update={"unit": department})

        def step(actor, step_id):
            return CompleteStepInput(actor=actor, action_id=action_id(), step_id=step_id)

        await handle.execute_update(DossierWorkflow.complete_step, step(leader, "assign"))
        await handle.execute_update(
            DossierWorkflow.request_supplement,
            RequestSupplementInput(actor=specialist, action_id=action_id(), reason="r", documents=("x",)),
        )
        await env.sleep(timedelta(days=3))
        await handle.execute_update(
            DossierWorkflow.supplement,
            SupplementInput(actor=COUNTER, action_id=action_id(), documents=("x",)),
        )
        await handle.execute_update(
            DossierWorkflow.request_payment,
            RequestPaymentInput(actor=specialist, action_id=action_id(), amount_vnd=200000),
        )
        await handle.execute_update(
            DossierWorkflow.confirm_payment,
            ConfirmPaymentInput(
                actor=COUNTER, action_id=action_id(), amount_vnd=200000, receipt_number="BL-7"
            ),
        )
        view = await settled(handle)
        await env.sleep(view.due_at - await env.get_current_time() + timedelta(minutes=1))
        view = await settled(handle)
        assert view.apology_due
        await handle.execute_update(
            DossierWorkflow.issue_apology,
            ApologyInput(
                actor=leader,
                action_id=action_id(),
                reason="chờ xác minh",
                new_due_at=view.due_at + timedelta(days=7),
            ),
        )
        await handle.execute_update(DossierWorkflow.complete_step, step(specialist, "review"))
        await handle.execute_update(DossierWorkflow.complete_step, step(leader, "approve"))
        await handle.execute_update(
            DossierWorkflow.return_result, ReturnResultInput(actor=COUNTER, action_id=action_id())
        )
        await handle.result()

        history = await handle.fetch_history()
        # The session's converter: the history's payloads are encrypted.
        replayer = Replayer(workflows=[DossierWorkflow], data_converter=data_converter)
        result = await replayer.replay_workflow(history, raise_on_replay_failure=False)
        assert result.replay_failure is None
