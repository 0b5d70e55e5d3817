"""GroupWorkflow on its own time-skipping server: Decision 296's groups from receipt to answer.

The group tests travel more than a year ahead (to a Friday before New Year 2028), so they run
on a server of their own and leave the session's clock alone.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta

import pytest
import pytest_asyncio
from sqlalchemy import delete, select, update
from temporalio.client import WorkflowExecutionStatus, WorkflowUpdateFailedError
from temporalio.service import RPCError
from temporalio.testing import WorkflowEnvironment

from activities.outbox_rows import REASON_PURPOSE
from adminunits import VN_TZ
from assembly.workers import build_worker
from audit.group_reports import groups_by_agency
from intake.forms import ReceiptSlip
from intake.service import IntakeService
from model.dossier_inputs import (
    Actor,
    ApologyInput,
    ReceiveOnlineInput,
    RefuseInput,
    RefuseOnlineInput,
    RequestOnlineCompletionInput,
    RequestSupplementInput,
    SubmittedDocument,
    SupplementInput,
)
from procedures.models import Role
from records.database import RecordsStore
from records.outbox_tables import NoticeDeliveryRow
from records.tables import DossierSequenceRow, IntakeRequestRow, NotificationRow
from runtime.temporal import binary, register_search_attributes
from tests.builders import BA_DINH_COMMITTEE, BA_DINH_COUNTER, COUNTER, at, request
from tests.group_builders import (
    BA_DINH_POLICE,
    FILE,
    HANOI_SOCIAL_INSURANCE,
    ONLINE_SERVICE,
    GroupDesk,
    leader,
    member,
    skip_to,
)
from workflows.dossier import DossierWorkflow
from workflows.group import GroupWorkflow
from workflows.group_models import GroupCompleteOnlineInput, GroupReturnInput, GroupStatus, GroupWithdrawInput

# Friday 31 December 2027, after the birth registration's 15:00 cut-off; Saturday 1 January
# is New Year's Day, observed on Monday 3 January: the count starts on Tuesday 4 January.
FRIDAY_BEFORE_NEW_YEAR = date(2027, 12, 31)


async def notices_of(records: RecordsStore, codes: list[str]) -> list[NotificationRow]:
    async with records.sessions() as session:
        return list(
            (
                await session.scalars(
                    select(NotificationRow)
                    .where(NotificationRow.dossier_code.in_(codes))
                    .order_by(NotificationRow.event_seq)
                )
            ).all()
        )


@pytest_asyncio.fixture(scope="module")
async def group_env(data_converter) -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter, test_server_existing_path=binary("temporal-test-server")
    )
    await register_search_attributes(environment.client)
    yield environment
    await environment.shutdown()


@pytest_asyncio.fixture
async def desk(group_env: WorkflowEnvironment, records: RecordsStore) -> AsyncIterator[GroupDesk]:
    task_queue = f"groups-{uuid.uuid4()}"
    async with build_worker(group_env.client, task_queue, records):
        desk = GroupDesk(group_env, task_queue, records)
        yield desk
        await desk.close_open_groups()


class TestBirthGroup:
    """Birth registration, permanent residence and the insurance card: one receipt, one answer."""

    async def test_received_friday_before_new_year_each_agency_its_part_answered_in_3_working_days(
        self, desk: GroupDesk, records: RecordsStore
    ) -> None:
        """Received on Friday 31 December 2027 at 16:00 (after the cut-off, before the New Year
        holiday), the group is due on Friday 7 January 17:00; the residence member waits on the
        birth registration and the insurance member on both; each agency's officers do their part
        and the answer comes before the due moment."""
        await skip_to(desk.env, at(FRIDAY_BEFORE_NEW_YEAR, 16))
        receipt = await desk.receive()
        assert receipt.due_at == at(date(2028, 1, 7), 17)
        units = {m.key: m.handling_unit for m in receipt.members}
        assert units == {
            "birth": BA_DINH_COMMITTEE,
            "residence": BA_DINH_POLICE,
            "insurance": HANOI_SOCIAL_INSURANCE,
        }
        codes = {m.key: m.dossier_code for m in receipt.members}
        code = receipt.group_dossier_code

        view = await desk.until(code, lambda v: member(v, "birth").status == "processing")
        assert member(view, "residence").status == member(view, "insurance").status == "waiting"

        await skip_to(desk.env, at(date(2028, 1, 4), 9))
        await desk.do_member(codes["birth"], BA_DINH_COMMITTEE)
        view = await desk.until(code, lambda v: member(v, "residence").status == "processing")
        assert member(view, "insurance").status == "waiting"  # it needs the residence too
        residence = await desk.member(codes["residence"]).query(DossierWorkflow.view)
        assert residence.handling_unit == BA_DINH_POLICE and residence.due_at == receipt.due_at
        received = residence.timeline[0]
        assert received.action == "received" and "result_birth" in received.details["documents"]

        await desk.do_member(codes["residence"], BA_DINH_POLICE)
        await desk.until(code, lambda v: member(v, "insurance").status == "processing")
        await skip_to(desk.env, at(date(2028, 1, 6), 10))
        await desk.do_member(codes["insurance"], HANOI_SOCIAL_INSURANCE)
        view = await desk.until(code, lambda v: v.status is GroupStatus.PROCESSED)
        assert not view.overdue and view.resolved_at <= receipt.due_at
        assert view.timeline[-1].action == "processed" and view.timeline[-1].details["late"] == "no"

        await desk.group(code).execute_update(
            GroupWorkflow.return_result, GroupReturnInput(actor=COUNTER, action_id="return-1")
        )
        result = await desk.finished(code)
        assert result.status is GroupStatus.RETURNED
        for key in codes:
            assert (await desk.member(codes[key]).result()).status.value == "returned"
        # One set of notices: the group's receipt with its appointment and its one answer;
        # none from the members (each would have sent its own receipt and result).
        notices = await notices_of(records, [code, *codes.values()])
        assert [(n.dossier_code, n.kind) for n in notices] == [
            (code, "group_received"),
            (code, "group_processed"),
        ]
        assert json.loads(notices[0].facts)["appointment"] == receipt.due_at.isoformat()
        async with records.sessions() as session:
            deliveries = (
                await session.execute(
                    select(NoticeDeliveryRow.dossier_code, NoticeDeliveryRow.kind, NoticeDeliveryRow.channel)
                    .where(NoticeDeliveryRow.dossier_code.in_([code, *codes.values()]))
                    .order_by(NoticeDeliveryRow.event_seq)
                )
            ).all()
        assert [tuple(d) for d in deliveries] == [
            (code, "group_received", "sms"),  # the applicant gave a phone, no e-mail
            (code, "group_processed", "sms"),
        ]
        # The groups' report: each agency's part of the group, answered on time.
        counts = await groups_by_agency(records, at(FRIDAY_BEFORE_NEW_YEAR, 0), at(date(2028, 1, 1), 0))
        assert [(c.handling_unit, c.groups, c.on_time, c.late) for c in counts] == [
            (BA_DINH_COMMITTEE, 1, 1, 0),
            (BA_DINH_POLICE, 1, 1, 0),
            (HANOI_SOCIAL_INSURANCE, 1, 1, 0),
        ]

    async def test_refused_birth_registration_stops_the_dependents(
        self, desk: GroupDesk, records: RecordsStore
    ) -> None:
        """The commune's leader refuses the birth registration: residence and insurance are never
        started, the group is refused and says why."""
        receipt = await desk.receive()
        code, birth = receipt.group_dossier_code, receipt.members[0].dossier_code
        await desk.until(code, lambda v: member(v, "birth").status == "processing")
        await desk.member(birth).execute_update(
            DossierWorkflow.refuse,
            RefuseInput(
                actor=leader(BA_DINH_COMMITTEE), action_id="refuse-1", reason="giấy chứng sinh không hợp lệ"
            ),
        )
        result = await desk.finished(code)
        assert result.status is GroupStatus.REFUSED
        assert [member(result, k).status for k in ("birth", "residence", "insurance")] == [
            "refused",
            "stopped",
            "stopped",
        ]
        assert "giấy chứng sinh không hợp lệ" in member(result, "residence").outcome_reason
        # The applicant is told once, by the group: which member, which agency, why, what stops.
        notices = await notices_of(records, [code, *(m.dossier_code for m in receipt.members)])
        assert [(n.dossier_code, n.kind) for n in notices] == [
            (code, "group_received"),
            (code, "group_member_refused"),
        ]
        facts = json.loads(notices[1].facts)
        assert facts["member_code"] == birth
        # The officer's reason is kept only sealed (it may name the applicant), opened to send.
        assert "reason" not in facts and "giấy chứng sinh" not in notices[1].facts
        codec = desk.client.data_converter.payload_codec
        assert codec.open_text(facts["reason_sealed"], REASON_PURPOSE) == "giấy chứng sinh không hợp lệ"
        assert facts["procedure_code"] == "1.001193" and facts["stopped"] == "1.004222, 1.014137"
        assert [e.action for e in result.timeline if e.member] == [
            "member_started",
            "member_refused",
            "member_stopped",
            "member_stopped",
        ]
        assert all(m.started_at is None for m in result.members if m.key != "birth")

    async def test_supplementation_asked_by_a_member_pauses_the_group(self, desk: GroupDesk) -> None:
        """The police ask for a document: the group's clock stops with the member's, and its due
        moment moves by the working time the applicant took."""
        await skip_to(desk.env, at(date(2028, 3, 6), 9))  # a Monday
        receipt = await desk.receive()
        code = receipt.group_dossier_code
        codes = {m.key: m.dossier_code for m in receipt.members}
        await desk.until(code, lambda v: member(v, "birth").status == "processing")
        await desk.do_member(codes["birth"], BA_DINH_COMMITTEE)
        await desk.until(code, lambda v: member(v, "residence").status == "processing")
        police = Actor(id="police-1", roles=(Role.SPECIALIST,), unit=BA_DINH_POLICE)
        await desk.member(codes["residence"]).execute_update(
            DossierWorkflow.request_supplement,
            RequestSupplementInput(
                actor=police, action_id="ask-1", reason="thiếu tờ khai CT01", documents=("ct01",)
            ),
        )
        view = await desk.until(code, lambda v: v.status is GroupStatus.PAUSED)
        assert view.paused_since is not None

        await desk.env.sleep(timedelta(days=1))  # Monday 9:00+ to Tuesday: one working day paused
        await desk.member(codes["residence"]).execute_update(
            DossierWorkflow.supplement,
            SupplementInput(actor=COUNTER, action_id="give-1", documents=("ct01",)),
        )
        view = await desk.until(code, lambda v: v.status is GroupStatus.PROCESSING and v.paused_since is None)
        assert view.paused_working_time == timedelta(hours=8)
        assert view.due_at == receipt.due_at + timedelta(days=1)  # Thursday 17:00 -> Friday 17:00
        assert [e.action for e in view.timeline][-3:] == [
            "member_supplement_requested",
            "member_supplemented",
            "clock_resumed",
        ]
        await desk.group(code).execute_update(
            GroupWorkflow.withdraw, GroupWithdrawInput(actor=COUNTER, action_id="withdraw-1")
        )
        await desk.finished(code)

    async def test_overdue_group_gets_the_late_agency_s_apology(
        self, desk: GroupDesk, records: RecordsStore
    ) -> None:
        """The birth registration is done on time, the police are late: at the due moment the
        group is overdue naming the police, and the police's apology (form 04) is the group's,
        with the new appointment."""
        await skip_to(desk.env, at(date(2028, 3, 13), 9))  # Monday; due Thursday 16 March 17:00
        receipt = await desk.receive()
        code = receipt.group_dossier_code
        codes = {m.key: m.dossier_code for m in receipt.members}
        await desk.until(code, lambda v: member(v, "birth").status == "processing")
        await desk.do_member(codes["birth"], BA_DINH_COMMITTEE)
        await desk.until(code, lambda v: member(v, "residence").status == "processing")
        await skip_to(desk.env, receipt.due_at + timedelta(hours=1))
        view = await desk.until(code, lambda v: v.overdue)
        assert view.apology_due and view.late_members == ["residence"]
        overdue = next(e for e in view.timeline if e.action == "overdue")
        assert overdue.details["late_agencies"] == BA_DINH_POLICE

        new_due = at(date(2028, 3, 20), 17)  # the next Monday
        await desk.member(codes["residence"]).execute_update(
            DossierWorkflow.issue_apology,
            ApologyInput(
                actor=leader(BA_DINH_POLICE), action_id="sorry-1", reason="quá tải", new_due_at=new_due
            ),
        )
        view = await desk.until(code, lambda v: not v.apology_due)
        apology = next(e for e in view.timeline if e.action == "apology_issued")
        assert apology.details["late_agency"] == BA_DINH_POLICE
        assert apology.details["late_agency_name"].startswith("Công an")
        assert apology.note == "quá tải" and view.due_at == new_due
        await desk.group(code).execute_update(
            GroupWorkflow.withdraw, GroupWithdrawInput(actor=COUNTER, action_id="withdraw-1")
        )
        await desk.finished(code)
        # The groups' report counts the police late; the commune's part was on time, but the
        # group was withdrawn (never answered); the card's agency never got its part.
        counts = await groups_by_agency(records, at(date(2028, 3, 13), 0), at(date(2028, 3, 14), 0))
        assert [(c.handling_unit, c.late, c.not_answered) for c in counts] == [
            (BA_DINH_COMMITTEE, 0, 1),
            (BA_DINH_POLICE, 1, 0),
            (HANOI_SOCIAL_INSURANCE, 0, 1),
        ]
        # The applicant's form 04 comes from the group, naming the late agency; the police's
        # member sends none of its own.
        notices = await notices_of(records, [code, *codes.values()])
        assert [(n.dossier_code, n.kind) for n in notices] == [
            (code, "group_received"),
            (code, "group_apology_issued"),
        ]
        facts = json.loads(notices[1].facts)
        assert facts["agency_name"].startswith("Công an") and facts["appointment"] == new_due.isoformat()
        assert facts["old_appointment"] == receipt.due_at.isoformat()


class TestDeathGroup:
    """Death registration, removal of permanent residence and the funeral allowance."""

    async def test_both_later_members_start_together_and_a_refused_allowance_leaves_the_removal_done(
        self, desk: GroupDesk
    ) -> None:
        """Once the death is registered, the police and social insurance start at once (both need
        only the death); social insurance refuses: the removal, done, stays done, and the group's
        answer returns the two results."""
        receipt = await desk.receive(
            "LT296.02",
            documents={"death": (SubmittedDocument(id="declaration"), SubmittedDocument(id="death_notice"))},
        )
        code = receipt.group_dossier_code
        codes = {m.key: m.dossier_code for m in receipt.members}
        await desk.until(code, lambda v: member(v, "death").status == "processing")
        await desk.do_member(codes["death"], BA_DINH_COMMITTEE)
        view = await desk.until(
            code,
            lambda v: (
                member(v, "residence_removal").status == member(v, "funeral_allowance").status == "processing"
            ),
        )
        removal = await desk.member(codes["residence_removal"]).query(DossierWorkflow.view)
        assert (
            removal.handling_unit == BA_DINH_POLICE
            and "result_death" in removal.timeline[0].details["documents"]
        )
        await desk.member(codes["funeral_allowance"]).execute_update(
            DossierWorkflow.refuse,
            RefuseInput(actor=leader(HANOI_SOCIAL_INSURANCE), action_id="no", reason="không đủ điều kiện"),
        )
        await desk.do_member(codes["residence_removal"], BA_DINH_POLICE)
        view = await desk.until(code, lambda v: v.status is GroupStatus.PROCESSED)
        assert [m.status for m in view.members] == ["processed", "processed", "refused"]
        await desk.group(code).execute_update(
            GroupWorkflow.return_result, GroupReturnInput(actor=COUNTER, action_id="return-1")
        )
        result = await desk.finished(code)
        assert [m.status for m in result.members] == ["returned", "returned", "refused"]


class TestWithdrawal:
    """The applicant withdraws the whole group at the counter."""

    async def test_withdrawal_withdraws_open_members_and_stops_the_waiting_ones(
        self, desk: GroupDesk
    ) -> None:
        receipt = await desk.receive()
        code = receipt.group_dossier_code
        await desk.until(code, lambda v: member(v, "birth").status == "processing")
        await desk.group(code).execute_update(
            GroupWorkflow.withdraw, GroupWithdrawInput(actor=COUNTER, action_id="withdraw-1")
        )
        result = await desk.finished(code)
        assert result.status is GroupStatus.WITHDRAWN
        assert (await desk.member(receipt.members[0].dossier_code).result()).status.value == "withdrawn"
        assert [m.status for m in result.members[1:]] == ["stopped", "stopped"]

    async def test_only_the_receiving_counter_may_withdraw(self, desk: GroupDesk) -> None:
        receipt = await desk.receive()
        other = Actor(id="counter-9", roles=(Role.COUNTER_OFFICER,), unit="000.00008.01.H01")
        from temporalio.client import WorkflowUpdateFailedError

        with pytest.raises(WorkflowUpdateFailedError) as failed:
            await desk.group(receipt.group_dossier_code).execute_update(
                GroupWorkflow.withdraw, GroupWithdrawInput(actor=other, action_id="w")
            )
        assert failed.value.cause.type == "WrongUnit"
        await desk.group(receipt.group_dossier_code).execute_update(
            GroupWorkflow.withdraw, GroupWithdrawInput(actor=COUNTER, action_id="w")
        )
        await desk.finished(receipt.group_dossier_code)


class TestSubmittedOnline:
    """A group submitted online: status 1, then the counter's check, as for a single dossier."""

    async def test_received_by_the_counter_the_members_start_from_that_receipt(self, desk: GroupDesk) -> None:
        registration = await desk.submit_online()
        code = registration.group_dossier_code
        view = await desk.until(code, lambda v: v.timeline[-1].action == "registered_online")
        assert view.status is GroupStatus.REGISTERED_ONLINE
        assert view.due_at == registration.due_at > registration.received_at  # the check's deadline
        assert all(m.status == "waiting" and m.started_at is None for m in view.members)
        codes = {m.key: m.dossier_code for m in registration.members}

        await skip_to(desk.env, registration.received_at + timedelta(minutes=30))
        view = await desk.group(code).execute_update(
            GroupWorkflow.receive_online, ReceiveOnlineInput(actor=COUNTER, action_id="check-1")
        )
        assert view.status is GroupStatus.PROCESSING
        assert view.received_at > registration.received_at and view.due_at > view.received_at
        assert view.timeline[-1].action == "received" and view.timeline[-1].actor_id == COUNTER.id
        await desk.until(code, lambda v: member(v, "birth").status == "processing")
        await desk.started(codes["birth"])
        birth = await desk.member(codes["birth"]).query(DossierWorkflow.view)
        assert birth.timeline[0].action == "received" and birth.timeline[0].at == view.received_at
        assert birth.timeline[0].details["channel"] == "online" and birth.due_at == view.due_at

        await desk.do_member(codes["birth"], BA_DINH_COMMITTEE)
        await desk.do_member(codes["residence"], BA_DINH_POLICE)
        await desk.do_member(codes["insurance"], HANOI_SOCIAL_INSURANCE)
        await desk.until(code, lambda v: v.status is GroupStatus.PROCESSED)
        await desk.group(code).execute_update(
            GroupWorkflow.return_result, GroupReturnInput(actor=COUNTER, action_id="return-1")
        )
        result = await desk.finished(code)
        assert result.status is GroupStatus.RETURNED
        assert [e.action for e in result.timeline[:2]] == ["registered_online", "received"]

    async def test_refused_at_the_check_no_member_ever_starts(self, desk: GroupDesk) -> None:
        registration = await desk.submit_online()
        code = registration.group_dossier_code
        view = await desk.group(code).execute_update(
            GroupWorkflow.request_online_completion,
            RequestOnlineCompletionInput(
                actor=COUNTER, action_id="form-02", reason="ảnh chụp mờ", documents=("birth_certificate",)
            ),
        )
        assert view.status is GroupStatus.ONLINE_INCOMPLETE
        await desk.group(code).execute_update(
            GroupWorkflow.refuse_online,
            RefuseOnlineInput(actor=COUNTER, action_id="form-03", reason="không bổ sung"),
        )
        result = await desk.finished(code)
        assert result.status is GroupStatus.NOT_RECEIVED and result.closed_at is not None
        assert [m.status for m in result.members] == ["stopped", "stopped", "stopped"]
        assert all(m.started_at is None for m in result.members)
        assert [e.action for e in result.timeline] == [
            "registered_online",
            "online_completion_requested",
            "not_received",
        ]
        for m in registration.members:  # no member dossier was ever started
            with pytest.raises(RPCError):
                await desk.member(m.dossier_code).describe()

    async def test_completed_online_then_received_the_member_gets_the_new_document(
        self, desk: GroupDesk
    ) -> None:
        registration = await desk.submit_online()
        code = registration.group_dossier_code
        group = desk.group(code)
        await group.execute_update(
            GroupWorkflow.request_online_completion,
            RequestOnlineCompletionInput(
                actor=COUNTER, action_id="f02", reason="thiếu", documents=("photo",)
            ),
        )
        completion = GroupCompleteOnlineInput(
            actor=ONLINE_SERVICE,
            action_id="c-1",
            documents={"birth": (SubmittedDocument(id="photo", reference=FILE),)},
        )
        with pytest.raises(WorkflowUpdateFailedError) as failed:  # the counter does not complete it
            await group.execute_update(
                GroupWorkflow.complete_online, completion.model_copy(update={"actor": COUNTER})
            )
        assert failed.value.cause.type == "WrongRole"
        lacking = completion.model_copy(
            update={"documents": {"birth": (SubmittedDocument(id="other", reference=FILE),)}}
        )
        with pytest.raises(WorkflowUpdateFailedError) as failed:  # not what form 02 asked for
            await group.execute_update(GroupWorkflow.complete_online, lacking)
        assert failed.value.cause.type == "InvalidRequest" and "photo" in failed.value.cause.message
        view = await group.execute_update(GroupWorkflow.complete_online, completion)
        assert view.status is GroupStatus.REGISTERED_ONLINE and view.timeline[-1].action == "completed_online"
        await group.execute_update(
            GroupWorkflow.receive_online, ReceiveOnlineInput(actor=COUNTER, action_id="r")
        )
        birth_code = registration.members[0].dossier_code
        await desk.started(birth_code)
        birth = await desk.member(birth_code).query(DossierWorkflow.view)
        assert "photo" in birth.timeline[0].details["documents"]
        await group.execute_update(GroupWorkflow.withdraw, GroupWithdrawInput(actor=COUNTER, action_id="w"))
        assert (await desk.finished(code)).status is GroupStatus.WITHDRAWN

    async def test_unchecked_past_its_deadline_shows_as_late(self, desk: GroupDesk) -> None:
        registration = await desk.submit_online(check_hours=1.0)
        code = registration.group_dossier_code
        await skip_to(desk.env, registration.due_at + timedelta(minutes=1))
        view = await desk.until(code, lambda v: v.check_late)
        assert view.status is GroupStatus.REGISTERED_ONLINE
        assert view.timeline[-1].action == "check_late"
        # Late, it may still be received.
        await desk.group(code).execute_update(
            GroupWorkflow.receive_online, ReceiveOnlineInput(actor=COUNTER, action_id="late-receipt")
        )
        await desk.until(code, lambda v: member(v, "birth").status == "processing")
        await desk.started(registration.members[0].dossier_code)
        await desk.group(code).execute_update(
            GroupWorkflow.withdraw, GroupWithdrawInput(actor=COUNTER, action_id="w")
        )
        await desk.finished(code)

    async def test_the_same_key_gives_one_group_open_in_the_report_until_refused(
        self, desk: GroupDesk, records: RecordsStore
    ) -> None:
        async def commune() -> tuple[int, int]:
            counts = await groups_by_agency(records, at(date(2000, 1, 1), 0), at(date(2100, 1, 1), 0))
            row = next((c for c in counts if c.handling_unit == BA_DINH_COMMITTEE), None)
            return (row.open, row.not_answered) if row else (0, 0)

        async def counted(expected: tuple[int, int]) -> None:
            for _ in range(200):  # the group's projection is written a moment after its change
                if await commune() == expected:
                    return
                await asyncio.sleep(0.05)
            assert await commune() == expected

        open_, not_answered = await commune()
        first = await desk.submit_online(request_id="portal-key-1")
        again = await desk.submit_online(request_id="portal-key-1")
        assert again.group_dossier_code == first.group_dossier_code
        assert again.resubmitted and not first.resubmitted
        assert again.due_at == first.due_at
        await counted((open_ + 1, not_answered))  # waiting for the counter's check: open
        await desk.group(first.group_dossier_code).execute_update(
            GroupWorkflow.refuse_online, RefuseOnlineInput(actor=COUNTER, action_id="r", reason="trùng")
        )
        await desk.finished(first.group_dossier_code)
        await counted((open_, not_answered + 1))

    async def test_only_the_receiving_counter_checks_it(self, desk: GroupDesk) -> None:
        registration = await desk.submit_online()
        group = desk.group(registration.group_dossier_code)
        other = Actor(id="counter-9", roles=(Role.COUNTER_OFFICER,), unit="000.00008.01.H01")
        for actor, refusal in ((ONLINE_SERVICE, "WrongRole"), (other, "WrongUnit")):
            with pytest.raises(WorkflowUpdateFailedError) as failed:
                await group.execute_update(
                    GroupWorkflow.receive_online, ReceiveOnlineInput(actor=actor, action_id=f"r-{actor.id}")
                )
            assert failed.value.cause.type == refusal
        with pytest.raises(WorkflowUpdateFailedError) as failed:  # not yet received: nothing to return
            await group.execute_update(
                GroupWorkflow.return_result, GroupReturnInput(actor=COUNTER, action_id="x")
            )
        assert failed.value.cause.type == "WrongState"
        await group.execute_update(GroupWorkflow.withdraw, GroupWithdrawInput(actor=COUNTER, action_id="w"))
        result = await desk.finished(registration.group_dossier_code)
        assert result.status is GroupStatus.WITHDRAWN
        assert all(m.status == "stopped" and m.started_at is None for m in result.members)


async def forget_claim(records: RecordsStore, code: str) -> None:
    """The records store as restored from a backup taken before `code` was received: neither
    its claim nor its number are there, while Temporal still runs it."""
    unit, day, _ = code.split("-")
    async with records.sessions() as session, session.begin():
        await session.execute(delete(IntakeRequestRow).where(IntakeRequestRow.dossier_code == code))
        # That day's sequence only: the store is the session's, other tests count other days.
        await session.execute(
            update(DossierSequenceRow)
            .where(DossierSequenceRow.agency_code == unit, DossierSequenceRow.day == day)
            .values(last_number=DossierSequenceRow.last_number - 1)
        )


def next_code(code: str) -> str:
    prefix, number = code.rsplit("-", 1)
    return f"{prefix}-{int(number) + 1:04d}"


class TestCodeTaken:
    """Groups and single dossiers take their codes from the same counter's sequence."""

    async def test_a_dossier_code_a_group_holds_is_renumbered(
        self, desk: GroupDesk, records: RecordsStore
    ) -> None:
        """A single dossier's code found held by a group (read as the group's input, not a
        dossier's, which failed to decode) is renumbered like one another dossier holds."""
        group = await desk.receive()
        await forget_claim(records, group.group_dossier_code)
        now = (await desk.env.get_current_time()).astimezone(VN_TZ)
        service = IntakeService.standard(desk.client, desk.task_queue, records, clock=lambda: now)
        slip = await service.receive(request(receiving_unit=BA_DINH_COUNTER))
        assert isinstance(slip, ReceiptSlip), slip
        try:
            assert slip.dossier_code == next_code(group.group_dossier_code)
        finally:
            await desk.client.get_workflow_handle(slip.dossier_code).terminate("test: done")

    async def test_a_group_code_a_dossier_holds_is_renumbered(
        self, desk: GroupDesk, records: RecordsStore
    ) -> None:
        """The other way round: the group's code found held by a single dossier (its input read
        as a dossier's, not a group's, which failed to decode) is renumbered."""
        now = (await desk.env.get_current_time()).astimezone(VN_TZ)
        service = IntakeService.standard(desk.client, desk.task_queue, records, clock=lambda: now)
        slip = await service.receive(request(receiving_unit=BA_DINH_COUNTER))
        assert isinstance(slip, ReceiptSlip), slip
        try:
            await forget_claim(records, slip.dossier_code)
            group = await desk.receive()
            assert group.group_dossier_code == next_code(slip.dossier_code) and not group.resubmitted
        finally:
            await desk.client.get_workflow_handle(slip.dossier_code).terminate("test: done")

    async def test_a_group_s_unsettled_claim_is_settled_from_its_input(
        self, desk: GroupDesk, records: RecordsStore
    ) -> None:
        """`counter unsettled`: a group's claim whose start went unconfirmed is found started
        for its request (the group's input read as a group's) and marked so."""
        group = await desk.receive()
        async with records.sessions() as session, session.begin():
            await session.execute(
                update(IntakeRequestRow)
                .where(IntakeRequestRow.dossier_code == group.group_dossier_code)
                .values(started=False)
            )
        receipts = await IntakeService.standard(desk.client, desk.task_queue, records).settle()
        assert [
            (r.dossier_code, r.state) for r in receipts if r.dossier_code == group.group_dossier_code
        ] == [(group.group_dossier_code, "started")]
        assert not any(
            r.dossier_code == group.group_dossier_code
            for r in await IntakeService.standard(desk.client, desk.task_queue, records).settle()
        )

    async def test_a_code_another_group_holds_is_renumbered_never_answered_with_that_group(
        self, desk: GroupDesk, records: RecordsStore
    ) -> None:
        """The counter's sequence behind Temporal (a records store restored from an earlier
        backup): the next group's code is already another applicant's group. The receipt takes
        the next number, as a single dossier's does, instead of answering that other group as
        a resubmission (its members' codes, its applicant's slip)."""
        first = await desk.receive()
        await forget_claim(records, first.group_dossier_code)
        second = await desk.receive()
        assert second.group_dossier_code == next_code(first.group_dossier_code)
        assert not second.resubmitted
        assert [m.dossier_code for m in second.members] == [
            f"{second.group_dossier_code}-{i}" for i in range(1, len(second.members) + 1)
        ]
        stored = await desk.group(second.group_dossier_code).describe()
        assert stored.id == second.group_dossier_code
        # The first group is untouched: still its own request's.
        assert (
            await desk.group(first.group_dossier_code).describe()
        ).status is WorkflowExecutionStatus.RUNNING
