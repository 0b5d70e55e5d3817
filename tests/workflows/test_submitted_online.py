"""Dossiers submitted online on the time-skipping server: status 1, the counter's check (receipt,
form 02 completed online, form 03), the late check, and the clock starting at the receipt.

The module sorts after the replay test, and its quiet days need only 10 clear days: it moves the
session's clock as little as it can (tests that compare it with the wall clock come earlier).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.testing import WorkflowEnvironment

from adminunits import VN_TZ
from intake.online import OnlineRegistration
from model.dossier_inputs import (
    Actor,
    CompleteOnlineInput,
    CompleteStepInput,
    ReceiveOnlineInput,
    RefuseOnlineInput,
    RequestOnlineCompletionInput,
    ReturnResultInput,
    SubmittedDocument,
)
from model.dossier_state import DossierStatus
from officers.inbox import inbox
from procedures.models import Channel, Role
from records.tables import DossierRow
from tests.builders import (
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

pytestmark = pytest.mark.usefixtures("worker")

# An online service's identity: its token's unit is not the dossier's, and need not be.
ONLINE = Actor(id="dvc-portal", roles=(Role.ONLINE_SERVICE,), unit="000.00.00.H01")
FILE = "sha256:" + "ab" * 32
CHECK_HOURS = 8.0


def minute(instant):
    """The instant to the minute: the test server's clock lands a few milliseconds after a jump."""
    return instant.replace(second=0, microsecond=0)


def needs_time_skipping(env: WorkflowEnvironment) -> None:
    if not env.supports_time_skipping:
        pytest.skip("moves the clock by days: time-skipping server only")


async def submit(counter: Counter, check_hours: float = CHECK_HOURS, **changes) -> OnlineRegistration:
    """Register a dossier online through the intake (the API adds the file checks)."""
    counter._now = (await counter.env.get_current_time()).astimezone(VN_TZ)
    online = request(
        documents=(SubmittedDocument(id="declaration", reference=FILE),),
        received_by=ONLINE,
        **changes,
    )
    outcome = await counter.service.register_online(
        online.model_copy(update={"channel": Channel.ONLINE}), check_hours
    )
    registration = OnlineRegistration.of(outcome)
    counter.started.append(registration.dossier_code)
    return registration


class TestOnlineLifecycle:
    async def test_registered_online_then_received_then_returned(self, env, counter):
        """Status 1 until the counter receives it; the appointment counts from that receipt."""
        needs_time_skipping(env)
        thursday = quiet_day(await env.get_current_time(), weekday=3, days_clear=10)
        await travel_to(env, at(thursday, 10))

        registration = await submit(counter)

        assert minute(registration.submitted_at) == at(thursday, 10)
        assert minute(registration.check_due_at) == at(thursday + timedelta(days=1), 10)  # 8 office hours
        handle = counter.handle(registration.dossier_code)
        view = await settled(handle)
        assert (view.status, view.status_code) == (DossierStatus.REGISTERED_ONLINE, 1)
        assert view.current_step.id == "review"  # the first step, waiting for the receipt
        assert [e.action for e in view.timeline] == ["registered_online"]

        # Received on Friday morning: three working days from Friday are Mon, Tue, Wed.
        await travel_to(env, at(thursday + timedelta(days=1), 9))
        view = await handle.execute_update(
            DossierWorkflow.receive_online, ReceiveOnlineInput(actor=COUNTER, action_id=action_id())
        )
        assert (view.status, view.status_code) == (DossierStatus.PROCESSING, 4)
        assert minute(view.received_at) == at(thursday + timedelta(days=1), 9)
        assert minute(view.submitted_online_at) == at(thursday, 10)
        assert minute(view.due_at) == at(thursday + timedelta(days=6), 17)
        assert [e.action for e in view.timeline][-2:] == ["received", "transferred"]

        for actor, step in ((SPECIALIST, "review"), (LEADER, "approve")):
            view = await handle.execute_update(
                DossierWorkflow.complete_step,
                CompleteStepInput(actor=actor, action_id=action_id(), step_id=step),
            )
        view = await handle.execute_update(
            DossierWorkflow.return_result, ReturnResultInput(actor=COUNTER, action_id=action_id())
        )
        assert view.status is DossierStatus.RETURNED
        assert (await handle.result()).status is DossierStatus.RETURNED

    async def test_unchecked_dossier_past_its_time_is_late_in_the_worklist(self, env, counter, records):
        """Nobody checked it within the check time: late in the records and first in the counter's inbox."""
        needs_time_skipping(env)
        thursday = quiet_day(await env.get_current_time(), weekday=3, days_clear=10)
        await travel_to(env, at(thursday, 10))
        on_time = await submit(counter, request_id=f"on-time-{action_id()}")
        await travel_to(env, at(thursday, 14))
        late = await submit(counter, request_id=f"late-{action_id()}")
        await travel_to(env, at(thursday + timedelta(days=1), 11, 30))  # past 10:00, not 14:00

        view = await settled(counter.handle(on_time.dossier_code))
        assert view.check_late and not view.overdue
        assert view.timeline[-1].action == "check_late"
        assert not (await settled(counter.handle(late.dossier_code))).check_late
        async with records.sessions() as session:
            row = await session.get(DossierRow, on_time.dossier_code)
        assert (row.status, row.overdue) == ("registered_online", True)

        items = await inbox(counter.env.client, records, COUNTER)
        mine = [i for i in items if i.code in (on_time.dossier_code, late.dossier_code)]
        assert [i.code for i in mine] == [on_time.dossier_code, late.dossier_code]
        assert mine[0].check_late and mine[0].actions == (
            "receive_online",
            "request_online_completion",
            "refuse_online",
        )

        # Received late, it starts a fresh clock: the lateness was the check's, not the handling's.
        view = await counter.handle(on_time.dossier_code).execute_update(
            DossierWorkflow.receive_online, ReceiveOnlineInput(actor=COUNTER, action_id=action_id())
        )
        assert view.status is DossierStatus.PROCESSING and not view.overdue
        await settled(counter.handle(on_time.dossier_code))
        async with records.sessions() as session:
            row = await session.get(DossierRow, on_time.dossier_code)
        assert (row.status, row.overdue) == ("processing", False)

    async def test_missing_documents_completed_online_then_received(self, env, counter):
        """Form 02 stops the check's clock; the online completion gives the counter a new check time."""
        needs_time_skipping(env)
        thursday = quiet_day(await env.get_current_time(), weekday=3, days_clear=10)
        await travel_to(env, at(thursday, 10))
        handle = counter.handle((await submit(counter)).dossier_code)

        view = await handle.execute_update(
            DossierWorkflow.request_online_completion,
            RequestOnlineCompletionInput(
                actor=COUNTER, action_id=action_id(), reason="scan unreadable", documents=("declaration",)
            ),
        )
        assert (view.status, view.status_code) == (DossierStatus.ONLINE_INCOMPLETE, 1)
        # Waiting for the applicant makes nothing late: Friday 14:00 is past the check's 10:00.
        await travel_to(env, at(thursday + timedelta(days=1), 14))
        view = await handle.query(DossierWorkflow.view)
        assert not view.check_late

        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                DossierWorkflow.complete_online,
                CompleteOnlineInput(
                    actor=ONLINE,
                    action_id=action_id(),
                    documents=(SubmittedDocument(id="photo", reference=FILE),),
                ),
            )
        assert refused.value.cause.type == "InvalidRequest"
        view = await handle.execute_update(
            DossierWorkflow.complete_online,
            CompleteOnlineInput(
                actor=ONLINE,
                action_id=action_id(),
                documents=(SubmittedDocument(id="declaration", reference="sha256:" + "cd" * 32),),
            ),
        )
        assert view.status is DossierStatus.REGISTERED_ONLINE
        # 8 office hours from Friday 14:00: Friday 14-17, Monday 8-12 and 13-14.
        assert minute(view.due_at) == at(thursday + timedelta(days=4), 14)
        assert view.timeline[-1].details["files"] == "sha256:" + "cd" * 32

        view = await handle.execute_update(
            DossierWorkflow.receive_online, ReceiveOnlineInput(actor=COUNTER, action_id=action_id())
        )
        assert view.status is DossierStatus.PROCESSING
        assert minute(view.received_at) == at(thursday + timedelta(days=1), 14)

    async def test_the_configured_check_time_holds_for_both_checks(self, env, counter):
        """A check time of 4 office hours: the first deadline and the one after the completion."""
        needs_time_skipping(env)
        thursday = quiet_day(await env.get_current_time(), weekday=3, days_clear=10)
        await travel_to(env, at(thursday, 9))
        registration = await submit(counter, check_hours=4.0)
        assert minute(registration.check_due_at) == at(thursday, 14)  # 9-12, 13-14
        handle = counter.handle(registration.dossier_code)
        await handle.execute_update(
            DossierWorkflow.request_online_completion,
            RequestOnlineCompletionInput(
                actor=COUNTER, action_id=action_id(), reason="unsigned", documents=("declaration",)
            ),
        )
        await travel_to(env, at(thursday, 10))
        view = await handle.execute_update(
            DossierWorkflow.complete_online,
            CompleteOnlineInput(
                actor=ONLINE,
                action_id=action_id(),
                documents=(SubmittedDocument(id="declaration", reference=FILE),),
            ),
        )
        assert minute(view.due_at) == at(thursday, 15)  # 10-12, 13-15

    async def test_refused_at_the_check_is_never_received(self, env, counter):
        """Form 03: status 3, closed, with no receipt in its timeline."""
        handle = counter.handle((await submit(counter)).dossier_code)
        view = await handle.execute_update(
            DossierWorkflow.refuse_online,
            RefuseOnlineInput(actor=COUNTER, action_id=action_id(), reason="not this authority's"),
        )
        assert (view.status, view.status_code) == (DossierStatus.NOT_RECEIVED, 3)
        assert view.closed_at is not None
        assert "received" not in [e.action for e in view.timeline]
        assert (await handle.result()).status is DossierStatus.NOT_RECEIVED

    async def test_only_the_counter_of_the_receiving_unit_checks(self, env, counter):
        """A specialist, another unit's counter and the online service are refused the receipt."""
        handle = counter.handle((await submit(counter)).dossier_code)
        other_counter = COUNTER.model_copy(update={"id": "counter-9", "unit": "000.00008.01.H01"})
        for actor, error in ((SPECIALIST, "WrongRole"), (other_counter, "WrongUnit"), (ONLINE, "WrongRole")):
            with pytest.raises(WorkflowUpdateFailedError) as refused:
                await handle.execute_update(
                    DossierWorkflow.receive_online, ReceiveOnlineInput(actor=actor, action_id=action_id())
                )
            assert refused.value.cause.type == error
        # And nothing of the handling starts before the receipt.
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                DossierWorkflow.complete_step,
                CompleteStepInput(actor=SPECIALIST, action_id=action_id(), step_id="review"),
            )
        assert refused.value.cause.type == "WrongState"
        assert BA_DINH_COUNTER == (await handle.query(DossierWorkflow.view)).receiving_unit

    async def test_resubmission_under_the_same_key_finds_the_same_dossier(self, env, counter, records):
        """The online service's retry (same idempotency key, same content) gets the same registration."""
        key = f"online-{action_id()}"
        first = await submit(counter, request_id=key)
        again = await submit(counter, request_id=key)
        assert again.dossier_code == first.dossier_code and again.resubmitted
        async with records.sessions() as session:
            rows = (
                await session.scalars(select(DossierRow.code).where(DossierRow.code == first.dossier_code))
            ).all()
        assert len(rows) <= 1
