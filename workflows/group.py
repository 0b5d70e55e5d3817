"""GroupWorkflow: one interlinked application (liên thông), its members as child dossiers."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributePair, TypedSearchAttributes, WorkflowIDReusePolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.calendar import (
        AppointmentInput,
        CalendarActivities,
        CheckDeadlineInput,
        ShiftDeadlineInput,
    )
    from activities.group_records import (
        GroupMemberRecord,
        GroupNotice,
        GroupRecordActivities,
        RecordGroupInput,
    )
    from activities.partners import (
        PARTNER_REJECTED,
        PartnerActivities,
        PartnerOutcome,
        PartnerOutcomeInput,
        PartnerState,
        PartnerSubmission,
        SubmitToPartnerInput,
        rejection_details,
    )
    from model import search_attributes
    from model.dossier_inputs import (
        DossierInput,
        ReceiveOnlineInput,
        RefuseOnlineInput,
        RequestOnlineCompletionInput,
        ReturnResultInput,
        SubmittedDocument,
        WithdrawInput,
    )
    from model.dossier_state import DossierStatus, TimelineEntry
    from model.projection import ApplicantContact
    from workflows.dossier import DossierWorkflow
    from workflows.group_models import (
        GROUP_NOT_YET_RECEIVED,
        GROUP_TERMINAL,
        GroupCompleteOnlineInput,
        GroupEntry,
        GroupInput,
        GroupMemberCommand,
        GroupReturnInput,
        GroupState,
        GroupStatus,
        GroupView,
        GroupWithdrawInput,
        MemberPlan,
        MemberReport,
        MemberState,
        MemberStatus,
        PartnerHandover,
    )
    from workflows.group_rules import GroupAction, check_group_action, dependents

__all__ = [
    "GROUP_NOTICES",
    "GROUP_NOTICES_PATCH",
    "GROUP_ONLINE_NOTICES",
    "GROUP_ONLINE_NOTICES_PATCH",
    "GROUP_ONLINE_PATCH",
    "GROUP_PARTNER_PATCH",
    "GROUP_PARTNER_REJECTION_PATCH",
    "GROUP_PROVINCE_QUEUES_PATCH",
    "GroupWorkflow",
]

# A records-store outage only delays the group's projection: retry for as long as it takes.
PROJECTION_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=1))
G = GroupStatus
D = DossierStatus
# Member entries the group's timeline repeats, under the group's own name for them.
_MEMBER_EVENTS = {
    "supplement_requested": "member_supplement_requested",
    "supplemented": "member_supplemented",
    "processed": "member_processed",
    "refused": "member_refused",
    "withdrawn": "member_withdrawn",
    "result_returned": "member_returned",
}
# Since this patch the group sends the applicant its one set of notices (its members send none),
# and a member's refusal or a late agency's apology is projected when it happens, to be told.
GROUP_NOTICES_PATCH = "group-notices"
# Since this patch a due timer whose moment has passed is left to fire instead of cancelled.
KEEP_PASSED_TIMER_PATCH = "group-keep-passed-timer"
# Since this patch a group submitted online waits in status 1 for the counter's check (with the
# check's deadline timer) before any member starts. Asked only by groups started with
# GroupInput.online, so a counter's group gains no marker and replays as it ran.
GROUP_ONLINE_PATCH = "group-online-submission"
# Since this patch a member whose plan names a partner's system is handed to it (activities)
# instead of started as a child dossier. Asked only for such members, so other groups replay as
# they ran.
GROUP_PARTNER_PATCH = "group-partner-systems"
# Since this patch a partner's system rejecting a member's submission or outcome read for good
# (activities.partners.PartnerRejected, an HTTP 4xx) settles the member as refused by that
# agency. Asked only when such a rejection reaches the group, so every other group replays as it
# ran (before it, no rejection was ever non-retryable: none reached a group).
GROUP_PARTNER_REJECTION_PATCH = "group-partner-rejection"
# Since this patch a member whose handling unit's province has a task queue other than the
# group's own (GroupInput.task_queues) is started on that queue, as intake starts a single
# dossier. Asked only for such a member, so a group without a routing, or whose members all stay
# on its queue, replays as it ran.
GROUP_PROVINCE_QUEUES_PATCH = "group-members-province-queues"
# The group's entries the applicant is told of: the notice's kind (notices/templates/) and label.
GROUP_NOTICES = {
    "received": ("group_received", "Nhóm hồ sơ liên thông đã được tiếp nhận"),
    "member_supplement_requested": ("group_supplement_requested", "Đề nghị bổ sung hồ sơ liên thông"),
    "member_refused": ("group_member_refused", "Một thủ tục trong nhóm bị từ chối giải quyết"),
    "processed": ("group_processed", "Nhóm hồ sơ liên thông đã có kết quả"),
    "apology_issued": ("group_apology_issued", "Thư xin lỗi và hẹn lại ngày trả kết quả nhóm hồ sơ"),
}
# Since this patch the counter's check of a group submitted online tells the applicant when it
# asks for more (form 02) or refuses the group (form 03), once per group as a single online
# dossier's check does. Asked only by online groups that notify (GROUP_NOTICES_PATCH), before
# their first wait, so every other group (and every online group recorded before it) replays
# as it ran.
GROUP_ONLINE_NOTICES_PATCH = "group-online-notices"
GROUP_ONLINE_NOTICES = {
    "online_completion_requested": (
        "group_online_completion_requested",
        "Đề nghị bổ sung nhóm hồ sơ liên thông nộp trực tuyến",
    ),
    "not_received": ("group_not_received", "Nhóm hồ sơ liên thông nộp trực tuyến không được tiếp nhận"),
}


@workflow.defn
class GroupWorkflow:
    """Runs one interlinked group: one receipt, one deadline, one answer.

    Guarantees: each member is started once, as a child `DossierWorkflow` under its own code,
    only when the members it depends on are processed, and receives their results' references;
    a refused member stops every member that needs it while members already done stay done; a
    supplementation asked by any member stops the group's clock until the applicant answers,
    and the due moment moves by the working time paused; at the due moment the group becomes
    overdue naming the late members' agencies, and each late agency's apology (form 04, issued
    on its member) is the group's apology with the group's new appointment; a withdrawal
    withdraws every open member. Members report every change by signal; the group completes
    once every member it closed has completed.
    """

    @workflow.init
    def __init__(self, group: GroupInput) -> None:
        self._group = group
        self._plans = {plan.key: plan for plan in group.members}
        self._state = GroupState(
            due_at=group.due_at,
            members={
                plan.key: MemberState(
                    key=plan.key,
                    code=plan.code,
                    procedure_code=plan.procedure.procedure_code,
                    handling_unit=plan.handling_unit.code,
                    handling_unit_name=plan.handling_unit.name,
                )
                for plan in group.members
            },
        )
        if group.online is not None:
            # Status 1: no member starts before the counter's check; due_at is its deadline.
            self._state.status = G.REGISTERED_ONLINE
            self._state.add(
                group.received_at,
                "registered_online",
                actor_id=group.received_by.id,
                unit=group.receiving_unit.code,
                details={"version_id": group.version_id, "check_due_at": group.due_at.isoformat()},
            )
        else:
            self._state.add(
                group.received_at,
                "received",
                actor_id=group.received_by.id,
                unit=group.receiving_unit.code,
                details={"version_id": group.version_id, "due_at": group.due_at.isoformat()},
            )
        self._changes = 0
        self._lock = asyncio.Lock()
        self._waiting_children: list[asyncio.Task[None]] = []
        self._partner_tasks: dict[str, asyncio.Task[None]] = {}
        self._timer: asyncio.Task[None] | None = None
        self._projected: tuple[object, ...] | None = None
        self._timer_due = group.due_at
        self._notify = False  # set in run(): GROUP_NOTICES_PATCH
        self._notified_actions = GROUP_NOTICES  # and GROUP_ONLINE_NOTICES since its patch
        self._noticed = 0  # the last timeline seq whose notice the store has

    @workflow.run
    async def run(self, group: GroupInput) -> GroupView:
        # Asked before the first command, so a group started before the patch replays as it ran.
        self._notify = workflow.patched(GROUP_NOTICES_PATCH)
        projector = asyncio.create_task(self._project())
        if group.online is not None and workflow.patched(GROUP_ONLINE_PATCH):
            if self._notify and workflow.patched(GROUP_ONLINE_NOTICES_PATCH):
                self._notified_actions = GROUP_NOTICES | GROUP_ONLINE_NOTICES
            await self._await_check()
        while self._state.status not in GROUP_TERMINAL:
            # Counted before the awaits below: a member's report that arrives during them
            # wakes the wait at once instead of waiting for the next one.
            seen = self._changes
            await self._resume_clock_if_answered()
            await self._start_ready_members()
            self._settle()
            if self._state.status in GROUP_TERMINAL:
                break
            await self._wait_for_change_or_deadline(seen)
        # Closed: the members it closed finish their own records first.
        await workflow.wait_condition(
            lambda: (
                workflow.all_handlers_finished()
                and all(m.finished for m in self._state.members.values() if _closing(m))
                and self._projected == self._projection_key()
            )
        )
        projector.cancel()
        return self.view()

    # Queries, signals and updates.

    @workflow.query
    def view(self) -> GroupView:
        state, group = self._state, self._group
        return GroupView(
            code=group.code,
            group_code=group.group_code,
            group_name=group.group_name,
            version_id=group.version_id,
            request_id=group.request_id,
            status=state.status,
            receiving_unit=group.receiving_unit.code,
            received_at=self._received_at(),
            due_at=state.due_at,
            overdue=state.overdue,
            apology_due=state.apology_due,
            late_members=state.late_members,
            paused_since=state.paused_since,
            paused_working_time=state.paused_working_time,
            resolved_at=state.resolved_at,
            closed_at=state.closed_at,
            members=list(state.members.values()),
            timeline=state.timeline,
            check_late=state.check_late,
        )

    @workflow.signal
    def member_changed(self, report: MemberReport) -> None:
        member = next((m for m in self._state.members.values() if m.code == report.code), None)
        if member is None:
            return
        member.status = report.status.value
        member.due_at = report.due_at
        member.overdue = report.overdue
        member.paused_since = report.paused_since
        member.resolved_at = report.resolved_at
        member.closed_at = report.closed_at
        member.outcome_reason = report.outcome_reason
        member.handling_unit = report.handling_unit
        for entry in report.entries:
            if entry.seq <= member.seen_seq:
                continue  # told again (a retried task, a continued run)
            member.seen_seq = entry.seq
            self._on_member_entry(member, entry)
        self._changes += 1

    @workflow.update
    async def withdraw(self, action: GroupWithdrawInput) -> GroupView:
        async with self._lock:
            if check_group_action(self._group, self._state, action):
                await self._withdraw(action)
            return self.view()

    @withdraw.validator
    def _validate_withdraw(self, action: GroupWithdrawInput) -> None:
        check_group_action(self._group, self._state, action)

    @workflow.update
    async def return_result(self, action: GroupReturnInput) -> GroupView:
        async with self._lock:
            if check_group_action(self._group, self._state, action):
                await self._return(action)
            return self.view()

    @return_result.validator
    def _validate_return_result(self, action: GroupReturnInput) -> None:
        check_group_action(self._group, self._state, action)

    # The counter's check of a group submitted online (status 1), as of a single dossier's.

    @workflow.update
    async def receive_online(self, action: ReceiveOnlineInput) -> GroupView:
        return await self._act(action)

    @receive_online.validator
    def _validate_receive_online(self, action: ReceiveOnlineInput) -> None:
        check_group_action(self._group, self._state, action)

    @workflow.update
    async def request_online_completion(self, action: RequestOnlineCompletionInput) -> GroupView:
        return await self._act(action)

    @request_online_completion.validator
    def _validate_request_online_completion(self, action: RequestOnlineCompletionInput) -> None:
        check_group_action(self._group, self._state, action)

    @workflow.update
    async def complete_online(self, action: GroupCompleteOnlineInput) -> GroupView:
        return await self._act(action)

    @complete_online.validator
    def _validate_complete_online(self, action: GroupCompleteOnlineInput) -> None:
        check_group_action(self._group, self._state, action)

    @workflow.update
    async def refuse_online(self, action: RefuseOnlineInput) -> GroupView:
        return await self._act(action)

    @refuse_online.validator
    def _validate_refuse_online(self, action: RefuseOnlineInput) -> None:
        check_group_action(self._group, self._state, action)

    async def _act(self, action: GroupAction) -> GroupView:
        async with self._lock:
            if check_group_action(self._group, self._state, action):
                self._state.applied_actions[action.action_id] = type(action).__name__
                if isinstance(action, ReceiveOnlineInput):
                    await self._receive_online(action)
                elif isinstance(action, RequestOnlineCompletionInput):
                    self._request_online_completion(action)
                elif isinstance(action, GroupCompleteOnlineInput):
                    await self._complete_online(action)
                elif isinstance(action, RefuseOnlineInput):
                    self._refuse_online(action)
                self._changes += 1
            return self.view()

    async def _await_check(self) -> None:
        """Status 1 until the counter receives, refuses or the applicant withdraws the group; past
        the check's deadline it is marked late once (the applicant's completion gives a new one)."""
        state = self._state
        while state.status in GROUP_NOT_YET_RECEIVED:
            seen = self._changes
            timeout = None
            if state.status is G.REGISTERED_ONLINE and not state.check_late:
                timeout = state.due_at - workflow.now()
                if timeout <= timedelta(0):
                    self._mark_check_late()
                    continue
            try:
                await workflow.wait_condition(
                    lambda: self._changes != seen or state.status not in GROUP_NOT_YET_RECEIVED,
                    timeout=timeout,
                )
            except asyncio.TimeoutError:
                if workflow.now() >= state.due_at:
                    self._mark_check_late()

    def _mark_check_late(self) -> None:
        state = self._state
        state.check_late = True
        state.add(workflow.now(), "check_late", details={"check_due_at": state.due_at.isoformat()})
        workflow.logger.info("online group check late", extra={"group_code": self._group.code})

    async def _receive_online(self, action: ReceiveOnlineInput) -> None:
        # The group's working-day clock starts at this receipt, under the limit pinned at
        # submission, with the first member's afternoon cut-off as at the counter.
        group, state, now = self._group, self._state, workflow.now()
        assert group.online is not None
        limit = group.online.time_limit
        appointment = await workflow.execute_local_activity_method(
            CalendarActivities.appointment,
            AppointmentInput(
                received_at=now,
                amount=limit.amount,
                unit=limit.unit.value,
                cutoff=group.members[0].procedure.afternoon_cutoff,
            ),
            start_to_close_timeout=timedelta(seconds=10),
        )
        state.received_at, state.due_at = now, appointment.at
        state.status = G.PROCESSING
        state.add(
            now,
            "received",
            actor_id=action.actor.id,
            unit=action.actor.unit,
            note=action.note,
            details={"version_id": group.version_id, "due_at": appointment.at.isoformat()},
        )

    def _request_online_completion(self, action: RequestOnlineCompletionInput) -> None:
        # Form 02: the check's deadline waits for the applicant.
        state = self._state
        state.status = G.ONLINE_INCOMPLETE
        state.online_asked = tuple(action.documents)
        state.add(
            workflow.now(),
            "online_completion_requested",
            actor_id=action.actor.id,
            unit=action.actor.unit,
            note=action.reason,
            details={"documents": ", ".join(action.documents)},
        )

    async def _complete_online(self, action: GroupCompleteOnlineInput) -> None:
        # Back to the counter with a check deadline of its own, as long as the first one.
        group, state = self._group, self._state
        assert group.online is not None
        deadline = await workflow.execute_local_activity_method(
            CalendarActivities.check_deadline,
            CheckDeadlineInput(start=workflow.now(), working_hours=group.online.check_hours),
            start_to_close_timeout=timedelta(seconds=10),
        )
        for key, documents in action.documents.items():
            state.completed_documents[key] = state.completed_documents.get(key, ()) + documents
        state.status, state.due_at, state.check_late = G.REGISTERED_ONLINE, deadline.at, False
        state.online_asked = ()
        state.add(
            workflow.now(),
            "completed_online",
            actor_id=action.actor.id,
            details={
                "documents": ", ".join(
                    f"{key}.{d.id}" for key, docs in action.documents.items() for d in docs
                ),
                "check_due_at": deadline.at.isoformat(),
            },
        )

    def _refuse_online(self, action: RefuseOnlineInput) -> None:
        # Form 03: never received, so no member ever starts and no working-day clock ran.
        state, now = self._state, workflow.now()
        for member in state.members.values():
            member.status = MemberStatus.STOPPED.value
            member.outcome_reason = "the group was not received"
        state.status = G.NOT_RECEIVED
        state.closed_at = now
        state.add(now, "not_received", actor_id=action.actor.id, unit=action.actor.unit, note=action.reason)

    def _received_at(self) -> datetime:
        return self._state.received_at or self._group.received_at

    # Members.

    async def _start_ready_members(self) -> None:
        for plan in self._group.members:
            member = self._state.members[plan.key]
            if member.status != MemberStatus.WAITING.value:
                continue
            needed = [self._state.members[key] for key in plan.depends_on]
            if all(m.status in (D.PROCESSED.value, D.RETURNED.value) for m in needed):
                await self._start_member(plan, member)

    async def _start_member(self, plan: MemberPlan, member: MemberState) -> None:
        group, now = self._group, workflow.now()
        if plan.partner is not None and workflow.patched(GROUP_PARTNER_PATCH):
            self._hand_to_partner(plan, plan.partner, member)
            return
        # The first members are received with the group; the others when their inputs are ready.
        received_at = self._received_at() if not plan.depends_on else now
        elsewhere = self._province_queue(plan)
        moved = elsewhere is not None and workflow.patched(GROUP_PROVINCE_QUEUES_PATCH)
        results = tuple(
            SubmittedDocument(id=f"result_{key}", reference=self._result_reference(key))
            for key in plan.depends_on
        )
        dossier = DossierInput(
            code=plan.code,
            procedure=plan.procedure,
            applicant=group.applicant,
            receiving_unit=group.receiving_unit,
            handling_unit=plan.handling_unit,
            documents=plan.documents + self._state.completed_documents.get(plan.key, ()) + results,
            channel=plan.channel,
            received_by=group.received_by,
            received_at=received_at,
            # Every member is due by the group's appointment: the group's limit is shared.
            due_at=self._state.due_at,
            request_id=f"{group.code}/{plan.key}",
            # The queue the member runs on, as a single dossier's input records it (a transfer
            # compares against it); None for groups started before queues were recorded.
            task_queue=elsewhere if moved else group.task_queue,
        )
        member.status = D.PROCESSING.value
        member.started_at = now
        member.due_at = self._state.due_at
        self._state.add(
            now,
            "member_started",
            member=plan.key,
            unit=plan.handling_unit.code,
            details={"code": plan.code, "procedure_code": plan.procedure.procedure_code}
            | {f"result_{key}": self._result_reference(key) for key in plan.depends_on},
        )
        handle = await workflow.start_child_workflow(
            DossierWorkflow.run,
            dossier,
            id=plan.code,
            task_queue=elsewhere if moved else workflow.info().task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            search_attributes=TypedSearchAttributes(
                [
                    SearchAttributePair(search_attributes.PROCEDURE_CODE, plan.procedure.procedure_code),
                    SearchAttributePair(search_attributes.HANDLING_UNIT, plan.handling_unit.code),
                    SearchAttributePair(search_attributes.RECEIVING_UNIT, group.receiving_unit.code),
                    SearchAttributePair(search_attributes.STATUS, D.PROCESSING.value),
                    SearchAttributePair(search_attributes.RECEIVED_AT, received_at),
                    SearchAttributePair(search_attributes.DUE_AT, self._state.due_at),
                    SearchAttributePair(search_attributes.OVERDUE, False),
                ]
            ),
        )
        self._waiting_children.append(asyncio.create_task(self._await_member(member, handle)))

    def _province_queue(self, plan: MemberPlan) -> str | None:
        """The task queue of the member's handling unit's province when the group's routing
        sends it elsewhere than the group's own queue; None: the member runs on the group's.
        The group's queue is read from its input, never from workflow.info() (a Replayer's)."""
        routing = self._group.task_queues
        if routing is None:
            return None
        return routing.elsewhere(plan.handling_unit.province_code, self._group.task_queue)

    def _result_reference(self, key: str) -> str:
        """What a member's result is known by: its code, or the partner's reference for it."""
        member = self._state.members[key]
        return member.result_reference or member.code

    # Members done by a partner's system: submitted once, then its decision polled.

    def _hand_to_partner(self, plan: MemberPlan, handover: PartnerHandover, member: MemberState) -> None:
        now = workflow.now()
        results = {key: self._result_reference(key) for key in plan.depends_on}
        member.status = D.PROCESSING.value
        member.started_at = now
        member.due_at = self._state.due_at
        member.partner = handover.system
        self._state.add(
            now,
            "member_started",
            member=plan.key,
            unit=plan.handling_unit.code,
            details={
                "code": plan.code,
                "procedure_code": plan.procedure.procedure_code,
                "partner": handover.system,
            }
            | {f"result_{key}": reference for key, reference in results.items()},
        )
        documents = plan.documents + self._state.completed_documents.get(plan.key, ())
        submission = PartnerSubmission(
            member_code=plan.code,
            group_code=self._group.code,
            procedure_code=plan.procedure.procedure_code,
            handling_unit=plan.handling_unit.code,
            results=results,
            documents=tuple(d.id for d in documents),
        )
        self._partner_tasks[plan.key] = asyncio.create_task(
            self._await_partner(plan, handover, member, submission)
        )

    async def _await_partner(
        self, plan: MemberPlan, handover: PartnerHandover, member: MemberState, submission: PartnerSubmission
    ) -> None:
        # Temporal's retries are the schedule: a system down delays the submission, an answer
        # not decided yet (PartnerPending) the next question; neither adds to the history.
        schedule = RetryPolicy(
            initial_interval=handover.poll_every, backoff_coefficient=2.0, maximum_interval=handover.poll_max
        )
        try:
            submitted = await workflow.execute_activity_method(
                PartnerActivities.submit_to_partner,
                SubmitToPartnerInput(agency=handover.agency, submission=submission),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=schedule,
            )
            member.partner_reference = submitted.reference
            self._state.add(
                workflow.now(),
                "member_submitted_to_partner",
                actor_id=f"partner:{handover.agency}",
                member=plan.key,
                unit=member.handling_unit,
                details={"partner": handover.system, "reference": submitted.reference},
            )
            self._changes += 1
            outcome = await workflow.execute_activity_method(
                PartnerActivities.partner_outcome,
                PartnerOutcomeInput(
                    agency=handover.agency, member_code=plan.code, reference=submitted.reference
                ),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=schedule,
            )
        except asyncio.CancelledError:
            return  # the group was withdrawn: the member is settled by the withdrawal
        except ActivityError as err:
            rejected = err.cause
            if not (
                isinstance(rejected, ApplicationError)
                and rejected.type == PARTNER_REJECTED
                and workflow.patched(GROUP_PARTNER_REJECTION_PATCH)
            ):
                raise
            # Rejected for good: the member is refused by that agency, as the partner's refusal.
            outcome = self._partner_rejection(member, err.activity_type or "", rejected)
        self._partner_decided(member, handover, outcome)

    def _partner_rejection(
        self, member: MemberState, call: str, rejected: ApplicationError
    ) -> PartnerOutcome:
        """The partner's refusal that a rejection of the call (its HTTP status, its reason) means."""
        status, reason = rejection_details(rejected.details)
        asked = "khi hỏi kết quả" if call == "partner_outcome" else "tiếp nhận hồ sơ"
        why = (
            f"hệ thống của {member.handling_unit_name or member.handling_unit} từ chối {asked}: HTTP {status}"
        )
        return PartnerOutcome(
            reference=member.partner_reference,
            state=PartnerState.REFUSED,
            reason=f"{why} – {reason}" if reason else why,
        )

    def _partner_decided(
        self, member: MemberState, handover: PartnerHandover, outcome: PartnerOutcome
    ) -> None:
        """The partner's decision enters the group as a member dossier's outcome does."""
        state, now = self._state, workflow.now()
        if member.status != D.PROCESSING.value:
            return  # settled meanwhile (withdrawn)
        processed = outcome.state is PartnerState.PROCESSED
        member.status = D.PROCESSED.value if processed else D.REFUSED.value
        member.resolved_at = now
        member.outcome_reason = outcome.reason
        member.result_reference = (outcome.result_reference or "") if processed else ""
        member.finished = True  # no workflow of its own to wait for
        details = {"partner": handover.system, "reference": outcome.reference}
        if processed:
            details["result_reference"] = self._result_reference(member.key)
            details["late"] = "yes" if now > state.due_at else "no"
        state.add(
            now,
            "member_processed" if processed else "member_refused",
            actor_id=f"partner:{handover.agency}",
            member=member.key,
            unit=member.handling_unit,
            note=outcome.reason,
            details=details,
        )
        if not processed:
            self._stop_dependents(member, now)
        self._changes += 1

    async def _await_member(
        self, member: MemberState, handle: workflow.ChildWorkflowHandle[Any, Any]
    ) -> None:
        try:
            await handle
        except FailureError as err:
            workflow.logger.error("group member failed", extra={"member": member.code, "error": str(err)})
        member.finished = True
        self._changes += 1

    def _on_member_entry(self, member: MemberState, entry: TimelineEntry) -> None:
        state = self._state
        name = _MEMBER_EVENTS.get(entry.action)
        if entry.action == "apology_issued":
            self._member_apologised(member, entry)
            return
        if name is None:
            return
        state.add(
            entry.at,
            name,
            actor_id=entry.actor_id,
            member=member.key,
            unit=member.handling_unit,
            note=entry.note,
            details=dict(entry.details),
        )
        if entry.action == "supplement_requested" and state.paused_since is None:
            # The applicant owes one member something: the whole group's clock stops.
            state.paused_since = entry.at
            if state.status is G.PROCESSING:
                state.status = G.PAUSED
        elif entry.action == "refused":
            self._stop_dependents(member, entry.at)

    def _stop_dependents(self, refused: MemberState, at: datetime) -> None:
        for key in dependents(self._group, refused.key):
            member = self._state.members[key]
            if member.status != MemberStatus.WAITING.value:
                continue
            member.status = MemberStatus.STOPPED.value
            member.outcome_reason = f"{refused.key} ({refused.code}) was refused: {refused.outcome_reason}"
            self._state.add(
                at,
                "member_stopped",
                member=key,
                unit=member.handling_unit,
                note=member.outcome_reason,
                details={"because_of": refused.key},
            )

    def _member_apologised(self, member: MemberState, entry: TimelineEntry) -> None:
        state = self._state
        member.apologised = True
        new_due = entry.details.get("new_due_at", "")
        # Form 04 of the group: the late agency named, its reason, the new appointment.
        state.add(
            entry.at,
            "apology_issued",
            actor_id=entry.actor_id,
            member=member.key,
            unit=member.handling_unit,
            note=entry.note,
            details={
                "late_agency": member.handling_unit,
                "late_agency_name": member.handling_unit_name,
                "old_due_at": state.due_at.isoformat(),
                "new_due_at": new_due,
            },
        )
        if member.due_at is not None and member.due_at > state.due_at:
            state.due_at = member.due_at
        if all(state.members[key].apologised for key in state.late_members):
            state.apology_due = False

    # The records store: the members' rows for the groups' report, on each change of the
    # group's status or lateness (not on every member's step: each projection is an action).

    def _projection_key(self) -> tuple[object, ...]:
        state = self._state
        key: tuple[object, ...] = (state.status, state.overdue, tuple(state.late_members), state.resolved_at)
        if self._notify:
            key += (self._last_notice_seq(),)
        return key

    def _last_notice_seq(self) -> int:
        notified = self._notified_actions
        return next((e.seq for e in reversed(self._state.timeline) if e.action in notified), 0)

    def _notices(self) -> tuple[GroupNotice, ...]:
        if not self._notify:
            return ()
        notified = self._notified_actions
        return tuple(
            GroupNotice(
                event_seq=entry.seq,
                kind=notified[entry.action][0],
                message=notified[entry.action][1],
                facts=self._notice_facts(entry),
            )
            for entry in self._state.timeline
            if entry.seq > self._noticed and entry.action in notified
        )

    def _notice_facts(self, entry: GroupEntry) -> dict[str, str]:
        """What the notice may say: the group's and the member's codes, the agency by name, the
        appointment, a refusal's reason and the members it stops; never the applicant's data."""
        group, state = self._group, self._state
        details = entry.details
        facts = {
            "group_code": group.code,
            "group_kind": group.group_code,
            "group_name": group.group_name,
            "appointment": details.get("new_due_at") or details.get("due_at") or state.due_at.isoformat(),
        }
        member = state.members.get(entry.member or "")
        if member is not None:
            facts |= {
                "member_code": member.code,
                "procedure_code": member.procedure_code,
                "agency_name": member.handling_unit_name or member.handling_unit,
            }
        if "old_due_at" in details:
            facts["old_appointment"] = details["old_due_at"]
        if "documents" in details:
            facts["documents"] = details["documents"]
        if entry.action in ("online_completion_requested", "not_received"):
            facts["reason"] = entry.note  # the counter's, sealed in the store as a refusal's
        if entry.action == "member_refused":
            facts["reason"] = entry.note
            facts["stopped"] = ", ".join(
                state.members[e.member].procedure_code
                for e in state.timeline
                if e.action == "member_stopped" and e.member and e.details.get("because_of") == entry.member
            )
        return facts

    def _contact(self) -> ApplicantContact | None:
        applicant = self._group.applicant
        if not applicant.email and not applicant.phone:
            return None
        return ApplicantContact(email=applicant.email, phone=applicant.phone)

    async def _project(self) -> None:
        while True:
            await workflow.wait_condition(lambda: self._projected != self._projection_key())
            key, state, group = self._projection_key(), self._state, self._group
            notices = self._notices()
            await workflow.execute_activity_method(
                GroupRecordActivities.record_group,
                RecordGroupInput(
                    group_code=group.code,
                    group_kind=group.group_code,
                    received_at=self._received_at(),
                    due_at=state.due_at,
                    status=state.status.value,
                    resolved_at=state.resolved_at,
                    members=tuple(
                        GroupMemberRecord(
                            key=m.key,
                            dossier_code=m.code,
                            handling_unit=m.handling_unit,
                            status=m.status,
                            late=m.key in state.late_members,
                        )
                        for m in state.members.values()
                    ),
                    notices=notices,
                    contact=self._contact() if notices else None,
                    receiving_unit=group.receiving_unit.code,
                ),
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=PROJECTION_RETRY,
            )
            self._projected = key
            if notices:
                self._noticed = notices[-1].event_seq

    # The group's clock.

    async def _wait_for_change_or_deadline(self, seen: int) -> None:
        state = self._state
        if self._clock_running() and state.due_at <= workflow.now():
            self._mark_overdue()
            return
        timer = self._deadline_timer()
        await workflow.wait_condition(lambda: self._changes != seen or (timer is not None and timer.done()))
        # Overdue only once this workflow's clock has reached the due moment.
        if timer is not None and timer.done() and workflow.now() >= state.due_at:
            self._mark_overdue()

    def _clock_running(self) -> bool:
        state = self._state
        return state.status is G.PROCESSING and not state.apology_due and state.overdue_due_at != state.due_at

    def _deadline_timer(self) -> asyncio.Task[None] | None:
        """One durable timer per due moment, kept across the members' reports (a timer re-armed
        on every report would cost an action each): it runs while the group is processing, no
        apology is owed and this due moment has not been found passed yet."""
        state = self._state
        running = (
            state.status is G.PROCESSING and not state.apology_due and state.overdue_due_at != state.due_at
        )
        if self._timer is not None and (not running or self._timer_due != state.due_at):
            if workflow.now() >= self._timer_due and workflow.patched(KEEP_PASSED_TIMER_PATCH):
                # Its moment has passed: the server fires it (perhaps already has, while this task
                # ran); a cancel racing that firing is refused by the time-skipping test server
                # ("invalid history builder state for action"). Left to fire, it wakes nobody.
                pass
            else:
                self._timer.cancel()
            self._timer = None
        if running and self._timer is None and state.due_at > workflow.now():
            self._timer = asyncio.create_task(workflow.sleep(state.due_at - workflow.now()))
            self._timer_due = state.due_at
        return self._timer if running else None

    def _mark_overdue(self) -> None:
        state = self._state
        late = [m for m in state.members.values() if m.open]
        state.overdue = True
        state.overdue_due_at = state.due_at
        state.apology_due = bool(late)
        state.late_members = [m.key for m in late]
        for member in late:
            member.apologised = False
        state.add(
            workflow.now(),
            "overdue",
            details={
                "due_at": state.due_at.isoformat(),
                "late_members": ", ".join(m.key for m in late),
                "late_agencies": ", ".join(m.handling_unit for m in late),
            },
        )
        workflow.logger.info(
            "group overdue", extra={"group_code": self._group.code, "late": state.late_members}
        )

    async def _resume_clock_if_answered(self) -> None:
        state = self._state
        if state.paused_since is None or any(m.paused_since for m in state.members.values() if m.open):
            return
        shifted = await workflow.execute_local_activity_method(
            CalendarActivities.shift_deadline,
            ShiftDeadlineInput(
                due_at=state.due_at, paused_from=state.paused_since, paused_until=workflow.now()
            ),
            start_to_close_timeout=timedelta(seconds=10),
        )
        state.add(
            workflow.now(),
            "clock_resumed",
            details={
                "paused_working_time": str(shifted.paused_working_time),
                "old_due_at": state.due_at.isoformat(),
                "new_due_at": shifted.due_at.isoformat(),
            },
        )
        state.due_at = shifted.due_at
        state.paused_working_time += shifted.paused_working_time
        state.paused_since = None
        if state.status is G.PAUSED:
            state.status = G.PROCESSING

    # The group's answer.

    def _settle(self) -> None:
        """Once every member is settled, the group has its one answer."""
        state = self._state
        if state.status not in (G.PROCESSING, G.PAUSED) or state.paused_since is not None:
            return
        members = list(state.members.values())
        if not all(m.settled for m in members):
            return
        now = workflow.now()
        if any(m.status == D.PROCESSED.value for m in members):
            state.status = G.PROCESSED
            state.resolved_at = now
            late = "yes" if now > state.due_at else "no"
            state.add(now, "processed", details={"late": late})
        else:
            state.status = G.REFUSED
            state.resolved_at = state.closed_at = now
            reasons = "; ".join(f"{m.key}: {m.outcome_reason}" for m in members if m.outcome_reason)
            state.add(now, "refused", note=reasons)

    async def _withdraw(self, action: GroupWithdrawInput) -> None:
        state, now = self._state, workflow.now()
        state.applied_actions[action.action_id] = type(action).__name__
        for key, member in state.members.items():
            if member.status == MemberStatus.WAITING.value:
                member.status = MemberStatus.STOPPED.value
                member.outcome_reason = "the group was withdrawn"
            elif member.open and member.partner:
                # The interface has no withdrawal: the engine stops asking the partner's system.
                self._partner_tasks[key].cancel()
                member.status = D.WITHDRAWN.value
                member.closed_at = now
                member.finished = True
                member.outcome_reason = "the group was withdrawn; the partner's system was not told"
                state.add(
                    now,
                    "member_withdrawn",
                    member=key,
                    unit=member.handling_unit,
                    note=member.outcome_reason,
                    details={"partner": member.partner},
                )
                self._changes += 1  # no report will come: the group's loop looks now
            elif member.open:
                command = WithdrawInput(
                    actor=action.actor, action_id=f"{action.action_id}/{key}", reason=action.reason
                )
                await self._tell(member, GroupMemberCommand(withdraw=command))
        state.status = G.WITHDRAWN
        state.closed_at = now
        state.paused_since = None
        state.add(now, "withdrawn", actor_id=action.actor.id, unit=action.actor.unit, note=action.reason)

    async def _return(self, action: GroupReturnInput) -> None:
        state, now = self._state, workflow.now()
        state.applied_actions[action.action_id] = type(action).__name__
        for key, member in state.members.items():
            if member.status == D.PROCESSED.value and member.partner:
                # The partner's result is handed over with the group's, by the group's counter.
                member.status = D.RETURNED.value
                member.closed_at = now
                state.add(
                    now,
                    "member_returned",
                    member=key,
                    unit=member.handling_unit,
                    details={"channel": action.channel.value, "partner": member.partner},
                )
            elif member.status == D.PROCESSED.value:
                command = ReturnResultInput(
                    actor=action.actor, action_id=f"{action.action_id}/{key}", channel=action.channel
                )
                await self._tell(member, GroupMemberCommand(return_result=command))
        state.status = G.RETURNED
        state.closed_at = now
        state.add(
            now,
            "result_returned",
            actor_id=action.actor.id,
            unit=action.actor.unit,
            details={"channel": action.channel.value},
        )

    async def _tell(self, member: MemberState, command: GroupMemberCommand) -> None:
        member.told = True
        await workflow.get_external_workflow_handle(member.code).signal(DossierWorkflow.group_action, command)


def _closing(member: MemberState) -> bool:
    """A started member the group closed or saw closed: its workflow will complete."""
    return (
        member.started_at is not None
        and member.told
        or member.status
        in {
            D.RETURNED.value,
            D.REFUSED.value,
            D.WITHDRAWN.value,
        }
    )
