"""The dossier's own last word on action ids and on the apology's new appointment."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError, create_model
from sqlalchemy import select
from temporalio.client import WorkflowUpdateFailedError

from model.dossier_inputs import APOLOGY_MAX_WORKING_DAYS, ApologyInput, RequestSupplementInput, WithdrawInput
from procedures.calendar import VN_TZ, WorkingCalendar
from records.tables import DossierRow
from tests.builders import COUNTER, LEADER, SPECIALIST, settled
from workflows.dossier import DossierWorkflow
from workflows.dossier_apology import appointment_refusal
from workflows.dossier_rules import fingerprint

pytestmark = pytest.mark.usefixtures("worker")

CALENDAR = WorkingCalendar.default()


def ask(action_id: str, reason: str) -> RequestSupplementInput:
    return RequestSupplementInput(actor=SPECIALIST, action_id=action_id, reason=reason, documents=("photo",))


class TestActionIds:
    async def test_an_id_sent_again_with_other_content_is_refused(self, counter):
        """The same id and content is one effect; the same id with another reason is ActionIdReused."""
        handle = await counter.start()
        first = await handle.execute_update(DossierWorkflow.request_supplement, ask("ask-1", "bản chụp mờ"))
        again = await handle.execute_update(DossierWorkflow.request_supplement, ask("ask-1", "bản chụp mờ"))
        assert again.timeline == first.timeline
        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await handle.execute_update(DossierWorkflow.request_supplement, ask("ask-1", "thiếu trang 2"))
        assert failure.value.cause.type == "ActionIdReused"
        assert "'ask-1'" in failure.value.cause.message and "other content" in failure.value.cause.message
        view = await settled(handle)
        assert view.supplement_request.reason == "bản chụp mờ"
        assert sum(1 for e in view.timeline if e.action == "supplement_requested") == 1

    async def test_a_closed_dossier_still_says_what_it_applied_under_an_id(self, counter):
        """applied_action answers after the workflow completed, with the action and its fingerprint."""
        handle = await counter.start()
        withdraw = WithdrawInput(actor=COUNTER, action_id="w-1", reason="the applicant asks")
        await handle.execute_update(DossierWorkflow.withdraw, withdraw)
        await handle.result()
        applied = await handle.query(DossierWorkflow.applied_action, "w-1")
        assert (applied.action, applied.fingerprint) == ("WithdrawInput", fingerprint(withdraw))
        assert await handle.query(DossierWorkflow.applied_action, "w-2") is None


class TestFingerprint:
    def test_a_field_added_later_with_its_default_keeps_fingerprints(self):
        """Fingerprints kept before an input model gains a defaulted field still match after."""
        before = WithdrawInput(actor=COUNTER, action_id="w", reason="moved abroad")
        later_model = create_model("WithdrawInput", __base__=WithdrawInput, channel_note=(str, ""))
        later = later_model(actor=COUNTER, action_id="w", reason="moved abroad")
        assert fingerprint(later) == fingerprint(before)
        assert fingerprint(
            later_model(actor=COUNTER, action_id="w", reason="moved abroad", channel_note="x")
        ) != (fingerprint(before))

    def test_content_and_sender_count_but_not_the_display_name(self):
        """Another reason or another officer is other content; a renamed token is not."""
        base = WithdrawInput(actor=COUNTER, action_id="w", reason="a")
        assert fingerprint(
            base.model_copy(update={"actor": COUNTER.model_copy(update={"name": "Chị Lan"})})
        ) == (fingerprint(base))
        assert fingerprint(base.model_copy(update={"reason": "b"})) != fingerprint(base)
        assert fingerprint(base.model_copy(update={"actor": COUNTER.model_copy(update={"id": "c-2"})})) != (
            fingerprint(base)
        )


async def overdue(env, counter, **changes):
    """A dossier whose due moment has passed: an apology is due."""
    now = await env.get_current_time()
    handle = await counter.start(received_at=now, due_at=now + timedelta(seconds=2), **changes)
    for _ in range(100):
        if (await handle.query(DossierWorkflow.view)).apology_due:
            return handle
        await env.sleep(timedelta(seconds=1))
    raise AssertionError("the dossier never became overdue")


def apology(new_due_at: datetime, action_id: str = "sorry") -> ApologyInput:
    return ApologyInput(actor=LEADER, action_id=action_id, reason="cần xác minh thêm", new_due_at=new_due_at)


def next_sunday(now: datetime) -> datetime:
    day = now.astimezone(VN_TZ).date() + timedelta(days=1)
    while day.weekday() != 6:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, 3, tzinfo=VN_TZ)


class TestApologyAppointment:
    async def test_the_validator_refuses_appointments_that_are_not_a_working_day_end_near_enough(
        self, env, counter, records
    ):
        """A Sunday 03:00 or ten years away: InvalidRequest, nothing applied; year 9999 is refused by
        the input's bounds before any update;
        the end of a working day five working days on is accepted and projected."""
        handle = await overdue(env, counter)
        now = await env.get_current_time()
        ten_years = CALENDAR.add_working_days(now + timedelta(days=3652), 0)
        for bad, why in (
            (next_sunday(now), "end of office hours of a working day"),
            (ten_years, f"more than {APOLOGY_MAX_WORKING_DAYS} working days"),
        ):
            with pytest.raises(WorkflowUpdateFailedError) as failure:
                await handle.execute_update(DossierWorkflow.issue_apology, apology(bad, f"bad-{bad.year}"))
            assert failure.value.cause.type == "InvalidRequest", bad
            assert why in failure.value.cause.message
        assert (await handle.query(DossierWorkflow.view)).apology_due
        # Year 9999 never reaches the validator: the input's bounds refuse it (issue 12).
        with pytest.raises(ValidationError, match="must lie from 1990-01-01"):
            apology(datetime.fromisoformat("9999-12-31T23:59:59-12:00"), "bad-9999")

        good = CALENDAR.add_working_days(now, 5)
        view = await handle.execute_update(DossierWorkflow.issue_apology, apology(good))
        assert view.due_at == good and not view.apology_due
        await settled(handle)
        async with records.sessions() as session:
            row = await session.scalar(select(DossierRow).where(DossierRow.code == handle.id))
        assert row.due_at.replace(tzinfo=row.due_at.tzinfo or timezone.utc) == good

    async def test_the_bound_is_the_one_pinned_in_the_dossier(self, env, counter):
        """A dossier started with apology_max_working_days=3 refuses 5 working days and takes 3."""
        handle = await overdue(env, counter, apology_max_working_days=3)
        now = await env.get_current_time()
        with pytest.raises(WorkflowUpdateFailedError) as failure:
            await handle.execute_update(
                DossierWorkflow.issue_apology, apology(CALENDAR.add_working_days(now, 5), "far")
            )
        assert (
            failure.value.cause.type == "InvalidRequest"
            and "more than 3 working days" in failure.value.cause.message
        )
        view = await handle.execute_update(
            DossierWorkflow.issue_apology, apology(CALENDAR.add_working_days(now, 3))
        )
        assert not view.apology_due
        await settled(handle)


OFFSETS = st.timedeltas(
    min_value=timedelta(hours=-23, minutes=-59), max_value=timedelta(hours=23, minutes=59)
)
INSTANTS = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.builds(timezone, OFFSETS)
)
NOWS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(timezone.utc)
)


class TestAppointmentRule:
    @settings(max_examples=300, deadline=None)
    @given(new_due_at=INSTANTS, now=NOWS)
    def test_whatever_the_rule_accepts_the_projection_can_store(self, new_due_at, now):
        """Any instant the rule accepts converts to UTC and Vietnam time (no OverflowError) and is
        the end of office hours of a working day, after now, within the bound."""
        if appointment_refusal(CALENDAR, new_due_at, now, APOLOGY_MAX_WORKING_DAYS) is not None:
            return
        assert (
            now
            < new_due_at.astimezone(timezone.utc)
            <= CALENDAR.add_working_days(now, APOLOGY_MAX_WORKING_DAYS)
        )
        local = new_due_at.astimezone(VN_TZ)
        assert CALENDAR.is_working_day(local.date()) and local.time().hour == 17

    @settings(max_examples=100, deadline=None)
    @given(now=NOWS, days=st.integers(min_value=1, max_value=APOLOGY_MAX_WORKING_DAYS))
    def test_every_working_day_end_within_the_bound_is_accepted(self, now, days):
        """The rule does not refuse what it promises to take."""
        assert (
            appointment_refusal(CALENDAR, CALENDAR.add_working_days(now, days), now, APOLOGY_MAX_WORKING_DAYS)
            is None
        )
