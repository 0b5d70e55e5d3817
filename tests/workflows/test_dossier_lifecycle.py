"""Whole dossier lifecycles on the time-skipping server, from receipt to the returned result."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from intake.forms import ReceiptSlip
from model import search_attributes
from model.dossier_inputs import (
    ApologyInput,
    CompleteStepInput,
    ConfirmPaymentInput,
    RefuseInput,
    RequestPaymentInput,
    RequestSupplementInput,
    ReturnResultInput,
    SupplementInput,
    WithdrawInput,
)
from model.dossier_state import DossierStatus
from procedures.models import Channel
from records.tables import DossierEventRow, DossierRow, NotificationRow
from tests.builders import (
    BA_DINH_COMMITTEE,
    BA_DINH_COUNTER,
    COUNTER,
    LEADER,
    OTHER_SPECIALIST,
    SPECIALIST,
    action_id,
    at,
    quiet_day,
    request,
    settled,
    travel_to,
)
from workflows.dossier import DossierWorkflow

pytestmark = pytest.mark.usefixtures("worker")


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


async def received_on(env, counter, weekday: int, hour: int = 10, procedure: str = "1.004873"):
    """Receive a dossier on the next quiet `weekday` at `hour`; its handle and the day."""
    day = quiet_day(await env.get_current_time(), weekday=weekday)
    await travel_to(env, at(day, hour))
    slip = await counter.receive(request(procedure))
    assert isinstance(slip, ReceiptSlip), slip
    handle = counter.handle(slip.dossier_code)
    await settled(handle)
    return handle, day


def step(actor, step_id: str, aid: str | None = None) -> CompleteStepInput:
    return CompleteStepInput(actor=actor, action_id=aid or action_id(), step_id=step_id)


class TestSupplementation:
    async def test_waiting_for_the_applicant_moves_the_due_moment_by_the_paused_working_time(
        self, env, counter
    ):
        """A pause from Tuesday 10:00 to next Monday 10:00 (32 working hours) moves Thursday 17:00 to next Wednesday 17:00."""
        needs_time_skipping(env)
        handle, monday = await received_on(env, counter, weekday=0)
        view = await handle.query(DossierWorkflow.view)
        assert view.due_at == at(monday + timedelta(days=3), 17)  # Tue, Wed, Thu

        await travel_to(env, at(monday + timedelta(days=1), 10))
        view = await handle.execute_update(
            DossierWorkflow.request_supplement,
            RequestSupplementInput(
                actor=SPECIALIST,
                action_id=action_id(),
                reason="thiếu bản án ly hôn",
                documents=("divorce_judgment",),
            ),
        )
        assert view.status is DossierStatus.SUPPLEMENT_REQUESTED and view.status_code == 5

        # The original due moment passes while the applicant has the dossier: not overdue.
        await travel_to(env, at(monday + timedelta(days=7), 10))
        view = await handle.query(DossierWorkflow.view)
        assert not view.overdue

        view = await handle.execute_update(
            DossierWorkflow.supplement,
            SupplementInput(actor=COUNTER, action_id=action_id(), documents=("divorce_judgment",)),
        )
        assert view.status is DossierStatus.PROCESSING
        assert view.paused_working_time == timedelta(hours=32)
        assert view.due_at == at(monday + timedelta(days=9), 17)

        # The moved deadline is the one the timer now waits for.
        await travel_to(env, at(monday + timedelta(days=9), 16, 59))
        assert not (await handle.query(DossierWorkflow.view)).overdue
        await travel_to(env, at(monday + timedelta(days=9), 17, 1))
        assert (await handle.query(DossierWorkflow.view)).overdue

    async def test_a_supplement_lacking_a_requested_document_is_refused(self, env, counter):
        """The counter must bring every document asked for; otherwise nothing changes."""
        slip = await counter.receive(request("1.004873"))
        handle = counter.handle(slip.dossier_code)
        await handle.execute_update(
            DossierWorkflow.request_supplement,
            RequestSupplementInput(
                actor=SPECIALIST, action_id=action_id(), reason="thiếu giấy tờ", documents=("a", "b")
            ),
        )
        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await handle.execute_update(
                DossierWorkflow.supplement,
                SupplementInput(actor=COUNTER, action_id=action_id(), documents=("a",)),
            )
        assert failure.value.cause.type == "InvalidRequest"
        assert "b" in failure.value.cause.message
        view = await handle.query(DossierWorkflow.view)
        assert view.status is DossierStatus.SUPPLEMENT_REQUESTED


class TestClosing:
    async def test_refusal_ends_the_dossier_with_its_reason(self, counter):
        """A leader of the handling unit refuses: status refused (portal code 8), workflow complete."""
        slip = await counter.receive(request("1.004873"))
        handle = counter.handle(slip.dossier_code)
        await handle.execute_update(DossierWorkflow.complete_step, step(SPECIALIST, "review"))
        view = await handle.execute_update(
            DossierWorkflow.refuse,
            RefuseInput(actor=LEADER, action_id=action_id(), reason="không đủ điều kiện"),
        )
        assert view.status is DossierStatus.REFUSED and view.status_code == 8
        result = await handle.result()
        assert result.outcome_reason == "không đủ điều kiện"
        assert result.timeline[-1].action == "refused" and result.timeline[-1].actor_id == LEADER.id

    async def test_withdrawal_at_the_counter_ends_the_dossier(self, counter):
        """The applicant withdraws through the receiving counter: status withdrawn (7)."""
        slip = await counter.receive(request("1.004873"))
        handle = counter.handle(slip.dossier_code)
        view = await handle.execute_update(
            DossierWorkflow.withdraw, WithdrawInput(actor=COUNTER, action_id=action_id())
        )
        assert view.status is DossierStatus.WITHDRAWN and view.status_code == 7
        assert (await handle.result()).status is DossierStatus.WITHDRAWN


class TestOverdue:
    async def test_overdue_dossier_needs_an_apology_with_a_new_appointment(self, env, counter, client):
        """Past its due moment a dossier is overdue and searchable as such; the apology sets a new timer."""
        needs_time_skipping(env)
        handle, monday = await received_on(env, counter, weekday=0)
        due = at(monday + timedelta(days=3), 17)
        await travel_to(env, due + timedelta(minutes=1))
        view = await settled(handle)
        assert view.overdue and view.apology_due
        assert view.timeline[-1].action == "overdue"
        attributes = (await handle.describe()).typed_search_attributes
        assert attributes.get(search_attributes.OVERDUE) is True

        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await handle.execute_update(
                DossierWorkflow.issue_apology,
                ApologyInput(actor=LEADER, action_id=action_id(), reason="x", new_due_at=due),
            )
        assert failure.value.cause.type == "InvalidRequest"  # the new appointment is in the past

        new_due = at(monday + timedelta(days=8), 17)
        view = await handle.execute_update(
            DossierWorkflow.issue_apology,
            ApologyInput(actor=LEADER, action_id=action_id(), reason="cần xác minh thêm", new_due_at=new_due),
        )
        assert view.due_at == new_due and not view.apology_due and view.overdue
        apology = view.timeline[-1]
        assert apology.action == "apology_issued" and apology.details["new_due_at"] == new_due.isoformat()

        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await handle.execute_update(
                DossierWorkflow.issue_apology,
                ApologyInput(actor=LEADER, action_id=action_id(), reason="again", new_due_at=new_due),
            )
        assert failure.value.cause.type == "WrongState"  # no apology is due any more

        await travel_to(env, new_due + timedelta(minutes=1))
        assert (await handle.query(DossierWorkflow.view)).apology_due


class TestRefusedActions:
    @pytest.mark.parametrize(
        "action, error_type",
        [
            (lambda: step(LEADER, "review"), "WrongRole"),
            (lambda: step(OTHER_SPECIALIST, "review"), "WrongUnit"),
            (lambda: step(SPECIALIST, "approve"), "WrongState"),
            (lambda: step(SPECIALIST, "sign_everything"), "UnknownStep"),
        ],
        ids=["wrong-role", "wrong-unit", "wrong-state", "unknown-step"],
    )
    async def test_validator_refuses_before_anything_is_written(self, counter, action, error_type):
        """Wrong role, unit, state or step: a typed error, and no update or timeline entry in history."""
        slip = await counter.receive(request("1.004873"))
        handle = counter.handle(slip.dossier_code)
        before = await settled(handle)
        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await handle.execute_update(DossierWorkflow.complete_step, action())
        assert failure.value.cause.type == error_type
        after = await handle.query(DossierWorkflow.view)
        assert after.timeline == before.timeline
        history = await handle.fetch_history()
        assert not [
            e for e in history.events if e.HasField("workflow_execution_update_accepted_event_attributes")
        ]

    async def test_counter_actions_are_refused_to_officers_of_the_handling_unit(self, counter):
        """Withdrawal happens at the receiving counter, not at the handling authority."""
        slip = await counter.receive(request("1.004873"))
        handle = counter.handle(slip.dossier_code)
        clerk = COUNTER.model_copy(update={"unit": BA_DINH_COMMITTEE})
        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await handle.execute_update(
                DossierWorkflow.withdraw, WithdrawInput(actor=clerk, action_id=action_id())
            )
        assert failure.value.cause.type == "WrongUnit"


class TestIdempotency:
    async def test_the_same_action_id_twice_has_one_effect(self, counter):
        """A retried click returns the state without completing a second step."""
        slip = await counter.receive(request("1.004873"))
        handle = counter.handle(slip.dossier_code)
        aid = action_id()
        first = await handle.execute_update(DossierWorkflow.complete_step, step(SPECIALIST, "review", aid))
        second = await handle.execute_update(DossierWorkflow.complete_step, step(SPECIALIST, "review", aid))
        assert first.current_step.id == second.current_step.id == "approve"
        assert len(second.timeline) == len(first.timeline)

    async def test_an_action_id_cannot_be_reused_for_another_action(self, counter):
        """Reusing an action id for a different action is refused with ActionIdReused."""
        slip = await counter.receive(request("1.004873"))
        handle = counter.handle(slip.dossier_code)
        aid = action_id()
        await handle.execute_update(DossierWorkflow.complete_step, step(SPECIALIST, "review", aid))
        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await handle.execute_update(DossierWorkflow.withdraw, WithdrawInput(actor=COUNTER, action_id=aid))
        assert failure.value.cause.type == "ActionIdReused"


class TestPayment:
    async def test_fees_are_requested_and_confirmed_at_the_counter(self, counter):
        """A province-department procedure with fees: payment requested (6), confirmed, back to processing."""
        slip = await counter.receive(request("3.000333"))
        handle = counter.handle(slip.dossier_code)
        department = slip.handling_unit
        leader = LEADER.model_copy(update={"unit": department})
        specialist = SPECIALIST.model_copy(update={"unit": department})
        await handle.execute_update(DossierWorkflow.complete_step, step(leader, "assign"))
        view = await handle.execute_update(
            DossierWorkflow.request_payment,
            RequestPaymentInput(actor=specialist, action_id=action_id(), amount_vnd=200000),
        )
        assert view.status is DossierStatus.PAYMENT_REQUESTED and view.status_code == 6
        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await handle.execute_update(
                DossierWorkflow.confirm_payment,
                ConfirmPaymentInput(
                    actor=COUNTER, action_id=action_id(), amount_vnd=100000, receipt_number="BL-1"
                ),
            )
        assert failure.value.cause.type == "InvalidRequest"
        view = await handle.execute_update(
            DossierWorkflow.confirm_payment,
            ConfirmPaymentInput(
                actor=COUNTER, action_id=action_id(), amount_vnd=200000, receipt_number="BL-1"
            ),
        )
        assert view.status is DossierStatus.PROCESSING and view.payment.receipt_number == "BL-1"

    async def test_payment_cannot_be_requested_for_a_free_procedure(self, counter):
        """A procedure without fees refuses a payment request."""
        slip = await counter.receive(request("1.004873"))
        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await counter.handle(slip.dossier_code).execute_update(
                DossierWorkflow.request_payment,
                RequestPaymentInput(actor=SPECIALIST, action_id=action_id(), amount_vnd=1000),
            )
        assert failure.value.cause.type == "InvalidRequest"


class TestContinueAsNew:
    async def test_timeline_and_records_survive_continue_as_new(
        self, env, counter, client, task_queue, records
    ):
        """Many actions push the dossier through several runs; no timeline entry or record is lost."""
        if env.supports_time_skipping:
            pytest.skip(
                "the Java test server's continue-as-new is not atomic with updates"
                " (sdk-java#1537, sdk-python#826): runs on the local dev server"
            )
        # The lowest threshold allowed, so that a dozen actions need several runs.
        handle = await counter.start(continue_as_new_after_events=50)
        for round_ in range(6):
            await handle.execute_update(
                DossierWorkflow.request_supplement,
                RequestSupplementInput(
                    actor=SPECIALIST, action_id=f"rs-{round_}", reason="r", documents=("x",)
                ),
            )
            await handle.execute_update(
                DossierWorkflow.supplement,
                SupplementInput(actor=COUNTER, action_id=f"s-{round_}", documents=("x",)),
            )
        view = await settled(handle)
        assert view.runs > 1
        assert [e.seq for e in view.timeline] == list(range(1, 15))
        # Action ids applied in an earlier run still have one effect.
        again = await handle.execute_update(
            DossierWorkflow.request_supplement,
            RequestSupplementInput(actor=SPECIALIST, action_id="rs-0", reason="r", documents=("x",)),
        )
        assert len(again.timeline) == 14 and again.status is DossierStatus.PROCESSING
        async with records.sessions() as session:
            seqs = (
                await session.scalars(
                    select(DossierEventRow.seq)
                    .where(DossierEventRow.dossier_code == handle.id)
                    .order_by(DossierEventRow.seq)
                )
            ).all()
        assert seqs == list(range(1, 15))
