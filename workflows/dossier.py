"""DossierWorkflow: one administrative dossier from receipt to the returned result."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, FailureError

with workflow.unsafe.imports_passed_through():
    from activities.calendar import (
        AppointmentInput,
        CalendarActivities,
        CheckDeadlineInput,
        ShiftDeadlineInput,
    )
    from activities.records import RecordActivities
    from model import search_attributes
    from model.dossier_inputs import (
        ActionInput,
        Actor,
        ApologyInput,
        CompleteOnlineInput,
        CompleteStepInput,
        ConfirmPaymentInput,
        DossierInput,
        ReceiveOnlineInput,
        RefuseInput,
        RefuseOnlineInput,
        RequestOnlineCompletionInput,
        RequestPaymentInput,
        RequestSupplementInput,
        ReturnResultInput,
        SupplementInput,
        TransferInput,
        WithdrawInput,
    )
    from model.dossier_state import (
        CLOCK_RUNNING,
        NOT_YET_RECEIVED,
        TERMINAL,
        AppliedAction,
        DossierState,
        DossierStatus,
        PaymentRequest,
        SupplementRequest,
    )
    from model.dossier_view import DossierView, TransferFacts
    from model.errors import ActionRefused, ErrorType
    from model.projection import (
        PROJECTION_DATA_ERROR,
        ApplicantContact,
        ApplicantNotice,
        DossierSummary,
        RecordEventsInput,
    )
    from procedures.calendar import WorkingCalendar
    from workflows.dossier_apology import appointment_refusal
    from workflows.dossier_rules import applied_action, check_action, current_step, fingerprint, next_roles
    from workflows.dossier_transfer import (
        appointment_after_transfer,
        check_transfer,
        current_handling_unit,
        current_receiving_unit,
        receiving_target,
        transfer_facts,
        transfer_target,
    )
    from workflows.group_models import GroupMemberCommand, MemberReport

__all__ = ["DossierWorkflow", "SYSTEM_ACTOR"]

A = TypeVar("A", bound=ActionInput)
SYSTEM_ACTOR = "system"
# From this patch on, each applied action's content fingerprint is kept with its id, so the id
# sent again with other content is refused (ActionIdReused) instead of answered.
ACTION_FINGERPRINT_PATCH = "action-id-content-fingerprint"

# A records-store outage must only delay the projection: retry for as long as it takes. Data the
# store can never take fails at once (ProjectionDataError, raised non-retryable by the activity).
PROJECTION_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    maximum_interval=timedelta(minutes=1),
    non_retryable_error_types=[PROJECTION_DATA_ERROR],
)
# Since this patch the deadline timer and the projection run side by side: before it, the loop
# armed the timer only once the projection had landed, so a records outage held the deadline.
DEADLINE_APART_PATCH = "deadline-timer-apart-from-projection"
# One batch is one transaction of at most RECORD_BATCH entries: milliseconds when the store
# answers; a store that hangs is cut off by PROJECTION_TIMEOUT and the retry policy takes over.
# The activity heartbeats every second while it waits (activities.heartbeat), so a worker that
# dies mid-batch is noticed after PROJECTION_HEARTBEAT and the batch retried elsewhere, not
# after the whole timeout. Timeouts are not part of a command's identity: no patch needed.
PROJECTION_TIMEOUT = timedelta(seconds=30)
PROJECTION_HEARTBEAT = timedelta(seconds=5)
# workflow.patched id: a transfer that moves the counter also upserts `ReceivingUnit`.
TRANSFER_MOVES_RECEIVING_UNIT = "transfer-upserts-receiving-unit"
# workflow.patched id: the online path (status 1, the counter's check with its deadline timer,
# the receipt's appointment asked of the calendar). Only dossiers started with
# DossierInput.online take it, so no earlier history meets it; the marker says which code ran.
ONLINE_SUBMISSION_PATCH = "online-submission"
# workflow.patched id: a transfer that names the task queues by province moves the dossier to its
# new province's queue: activities are scheduled there, and the run continues as new there (a
# run's own task queue is fixed; continue-as-new is how a workflow changes queues).
PROVINCE_QUEUE_PATCH = "transfer-moves-to-province-queue"
# Since this patch a dossier started by an interlinked group (a child workflow) tells its group
# every change (signal `member_changed`). Asked only by children, so no other dossier's history
# gains a marker.
GROUP_MEMBER_PATCH = "group-member-reports"
RECORD_BATCH = 50  # entries per projection call: a few KB each, far below payload limits
# What the applicant is told about; the message text is the gateway's job to localise.
NOTIFIED_ACTIONS = {
    "received": "Hồ sơ đã được tiếp nhận",
    "supplement_requested": "Đề nghị bổ sung hồ sơ",
    "payment_requested": "Đề nghị thực hiện nghĩa vụ tài chính",
    "processed": "Đã có kết quả giải quyết",
    "refused": "Hồ sơ bị từ chối giải quyết",
    "apology_issued": "Thư xin lỗi và hẹn lại ngày trả kết quả",
    "online_completion_requested": "Đề nghị bổ sung hồ sơ nộp trực tuyến",
    "not_received": "Hồ sơ nộp trực tuyến không được tiếp nhận",
}


@workflow.defn
class DossierWorkflow:
    """Runs any pinned procedure version for one dossier.

    Guarantees: human actions are Updates whose validators refuse the wrong role, unit,
    state or step before anything is written; an action id has one effect however often it
    is sent; the due moment is a durable timer that skips the time spent waiting for the
    applicant and never waits on the records store; every timeline entry reaches the records
    store exactly once, in order, across retries and continue-as-new. Entries the store refuses
    for good (a data error) stay queued, the dossier is flagged `ProjectionFailed` for operators
    and the entries are sent again on `retry_projection`; the dossier completes only once all
    its entries are recorded.
    """

    @workflow.init
    def __init__(self, dossier: DossierInput) -> None:
        self._dossier = dossier.model_copy(update={"carried_state": None})
        self._state = dossier.carried_state or DossierState(due_at=dossier.due_at)
        self._lock = asyncio.Lock()
        self._changes = 0
        self._projector: asyncio.Task[None] | None = None
        self._reported = 0  # timeline entries told to the group (the group ignores repeats)
        # Here, not in run(): an update that arrives with the start is handled before run()
        # begins, and must find the dossier already at its handling unit.
        if dossier.carried_state is None:
            if dossier.online is not None:
                self._register_online()
            else:
                self._receive()

    @workflow.run
    async def run(self, dossier: DossierInput) -> DossierView:
        # Search attributes come with the start (intake sets them) and carry over through
        # continue-as-new; they change only when the state does.
        if not workflow.patched(DEADLINE_APART_PATCH):
            return await self._run_projection_first()
        self._projector = asyncio.create_task(self._project())
        while self._state.status not in TERMINAL:
            await self._report_to_group()
            if self._history_is_long() or self._queue_moved():
                await self._continue_as_new()
            await self._wait_for_change_or_deadline()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._report_to_group()
        # A closed dossier still waits for its records: an operator's retry_projection after
        # a data error lets it finish.
        await workflow.wait_condition(lambda: not self._state.unrecorded)
        self._projector.cancel()
        return self.view()

    async def _run_projection_first(self) -> DossierView:
        """Dossiers started before DEADLINE_APART_PATCH: each change projected before waiting on."""
        while True:
            await self._record_pending()
            if self._state.status in TERMINAL:
                break
            if self._history_is_long() or self._queue_moved():
                await self._continue_as_new()
            await self._wait_for_change_or_deadline()
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._record_pending()
        return self.view()

    @workflow.signal
    def retry_projection(self) -> None:
        """An operator fixed what the records store refused: send the waiting entries again."""
        if self._state.projection_failure is None:
            return
        self._log("dossier projection retried", failure=self._state.projection_failure)
        self._state.projection_failure = None
        workflow.upsert_search_attributes([search_attributes.PROJECTION_FAILED.value_set(False)])

    @workflow.signal
    async def group_action(self, command: GroupMemberCommand) -> None:
        """The dossier's interlinked group withdraws it or returns its result, for the officer
        who asked the group. The same rules and action ids apply as to the update; a refusal
        (a dossier closed meanwhile, say) is logged, as a signal cannot answer."""
        try:
            if command.withdraw is not None:
                await self._act(command.withdraw, self._close(DossierStatus.WITHDRAWN, "withdrawn"))
            if command.return_result is not None:
                await self._act(command.return_result, self._return_result)
        except ActionRefused as err:
            self._log("group action refused", reason=err.message, error_type=err.type)

    async def _report_to_group(self) -> None:
        """Tell the group (if this dossier is a member of one) every entry it has not been told.

        Until none is left: an action applied while a signal is in flight must not wait for
        the next change to be told (the loop's wait counts changes from after this returns).
        """
        parent = workflow.info().parent
        state = self._state
        if parent is None or self._reported == len(state.timeline):
            return
        if not workflow.patched(GROUP_MEMBER_PATCH):
            return
        group = workflow.get_external_workflow_handle(parent.workflow_id)
        while self._reported < len(state.timeline):
            entries = tuple(state.timeline[self._reported :])
            self._reported = len(state.timeline)
            report = MemberReport(
                code=self._dossier.code,
                status=state.status,
                due_at=state.due_at,
                overdue=state.overdue,
                paused_since=state.paused_since,
                resolved_at=state.resolved_at,
                closed_at=state.closed_at,
                outcome_reason=state.outcome_reason,
                handling_unit=current_handling_unit(self._dossier, state).code,
                entries=entries,
            )
            try:
                await group.signal("member_changed", report)
            except FailureError as err:
                # The group is gone (terminated by an operator): the dossier goes on alone.
                self._log("group not told", group=parent.workflow_id, error=str(err))
                return

    @workflow.query
    def view(self) -> DossierView:
        state, dossier = self._state, self._dossier
        return DossierView(
            code=dossier.code,
            request_id=dossier.request_id,
            procedure_code=dossier.procedure.procedure_code,
            version_id=dossier.procedure.version_id,
            internal_process=dossier.procedure.internal_process or "curated",
            case=dossier.case,
            status=state.status,
            status_code=state.status.portal_code,
            current_step=current_step(dossier, state) if state.status not in TERMINAL else None,
            receiving_unit=current_receiving_unit(dossier, state).code,
            handling_unit=current_handling_unit(dossier, state).code,
            received_at=state.received_at or dossier.received_at,
            due_at=state.due_at,
            overdue=state.overdue,
            submitted_online_at=dossier.received_at if dossier.online is not None else None,
            check_late=state.check_late,
            apology_due=state.apology_due,
            paused_since=state.paused_since,
            paused_working_time=state.paused_working_time,
            supplement_request=state.supplement_request,
            payment=state.payment,
            resolved_at=state.resolved_at,
            closed_at=state.closed_at,
            outcome_reason=state.outcome_reason,
            timeline=state.timeline,
            unrecorded_events=len(state.unrecorded),
            projection_failure=state.projection_failure,
            runs=state.runs,
            original_handling_unit=dossier.handling_unit.code,
            original_receiving_unit=dossier.receiving_unit.code,
            carried_over_from=state.carried_over_from,
            carried_over_at=state.carried_over_at,
            apology_max_working_days=dossier.apology_max_working_days,
        )

    @workflow.query
    def applied_action(self, action_id: str) -> AppliedAction | None:
        """What this dossier applied under `action_id`, if anything; also once it is closed,
        when no update can reach it any more (the entry points answer a retry from this)."""
        return applied_action(self._state, action_id)

    @workflow.query
    def is_applicant(self, personal_id: str) -> bool:
        """Whether `personal_id` is the applicant's: the lookup credential with the dossier's code,
        for the applicant's own calls (a satisfaction rating). Compared in constant time."""
        return hmac.compare_digest(personal_id.encode(), self._dossier.applicant.personal_id.encode())

    @workflow.query
    def transfer_facts(self) -> TransferFacts:
        """What a carryover needs to pick the successor (address as unit codes only)."""
        return transfer_facts(self._dossier, self._state)

    # Human steps: each an Update with a validator that refuses before history is written.

    @workflow.update
    async def complete_step(self, action: CompleteStepInput) -> DossierView:
        return await self._act(action, self._complete_step)

    @complete_step.validator
    def _validate_complete_step(self, action: CompleteStepInput) -> None:
        self._validate(action)

    @workflow.update
    async def request_supplement(self, action: RequestSupplementInput) -> DossierView:
        return await self._act(action, self._request_supplement)

    @request_supplement.validator
    def _validate_request_supplement(self, action: RequestSupplementInput) -> None:
        self._validate(action)

    @workflow.update
    async def supplement(self, action: SupplementInput) -> DossierView:
        return await self._act(action, self._supplement)

    @supplement.validator
    def _validate_supplement(self, action: SupplementInput) -> None:
        self._validate(action)

    @workflow.update
    async def request_payment(self, action: RequestPaymentInput) -> DossierView:
        return await self._act(action, self._request_payment)

    @request_payment.validator
    def _validate_request_payment(self, action: RequestPaymentInput) -> None:
        self._validate(action)

    @workflow.update
    async def confirm_payment(self, action: ConfirmPaymentInput) -> DossierView:
        return await self._act(action, self._confirm_payment)

    @confirm_payment.validator
    def _validate_confirm_payment(self, action: ConfirmPaymentInput) -> None:
        self._validate(action)

    @workflow.update
    async def refuse(self, action: RefuseInput) -> DossierView:
        return await self._act(action, self._close(DossierStatus.REFUSED, "refused"))

    @refuse.validator
    def _validate_refuse(self, action: RefuseInput) -> None:
        self._validate(action)

    @workflow.update
    async def withdraw(self, action: WithdrawInput) -> DossierView:
        return await self._act(action, self._close(DossierStatus.WITHDRAWN, "withdrawn"))

    @withdraw.validator
    def _validate_withdraw(self, action: WithdrawInput) -> None:
        self._validate(action)

    @workflow.update
    async def issue_apology(self, action: ApologyInput) -> DossierView:
        return await self._act(action, self._issue_apology)

    @issue_apology.validator
    def _validate_issue_apology(self, action: ApologyInput) -> None:
        # The appointment rule asks the calendar, so it is checked here only (see
        # workflows.dossier_apology), and not for a repeated action id, which gets its answer.
        if self._validate(action):
            # `holidays` builds a year on first use, reading locale and time-zone settings the
            # sandbox refuses; the result depends on the date alone.
            with workflow.unsafe.sandbox_unrestricted():
                refusal = appointment_refusal(
                    WorkingCalendar.default(),
                    action.new_due_at,
                    workflow.now(),
                    self._dossier.apology_max_working_days,
                )
            if refusal is not None:
                raise ActionRefused(ErrorType.INVALID_REQUEST, refusal)

    @workflow.update
    async def return_result(self, action: ReturnResultInput) -> DossierView:
        return await self._act(action, self._return_result)

    @return_result.validator
    def _validate_return_result(self, action: ReturnResultInput) -> None:
        self._validate(action)

    # The counter's check of a dossier submitted online (status 1).

    @workflow.update
    async def receive_online(self, action: ReceiveOnlineInput) -> DossierView:
        return await self._act(action, self._receive_online)

    @receive_online.validator
    def _validate_receive_online(self, action: ReceiveOnlineInput) -> None:
        self._validate(action)

    @workflow.update
    async def request_online_completion(self, action: RequestOnlineCompletionInput) -> DossierView:
        return await self._act(action, self._request_online_completion)

    @request_online_completion.validator
    def _validate_request_online_completion(self, action: RequestOnlineCompletionInput) -> None:
        self._validate(action)

    @workflow.update
    async def complete_online(self, action: CompleteOnlineInput) -> DossierView:
        return await self._act(action, self._complete_online)

    @complete_online.validator
    def _validate_complete_online(self, action: CompleteOnlineInput) -> None:
        self._validate(action)

    @workflow.update
    async def refuse_online(self, action: RefuseOnlineInput) -> DossierView:
        return await self._act(action, self._refuse_online)

    @refuse_online.validator
    def _validate_refuse_online(self, action: RefuseOnlineInput) -> None:
        self._validate(action)

    # Carrying the dossier over to a successor authority (2025 reform).

    @workflow.update
    async def transfer(self, transfer: TransferInput) -> DossierView:
        async with self._lock:
            if check_transfer(self._dossier, self._state, transfer):
                self._transfer(transfer)
            return self.view()

    @transfer.validator
    def _validate_transfer(self, transfer: TransferInput) -> None:
        check_transfer(self._dossier, self._state, transfer)

    def _transfer(self, transfer: TransferInput) -> None:
        state, now = self._state, workflow.now()
        old = current_handling_unit(self._dossier, state)
        new = transfer_target(self._dossier, transfer)
        assert new is not None  # check_transfer refused otherwise
        state.handling_unit = new
        state.carried_over_from = old.code
        state.carried_over_at = now
        # The appointment stays unless the policy says otherwise; completed steps, the pinned
        # version and the clock are untouched: the successor continues where the old unit was.
        state.due_at = appointment_after_transfer(state.due_at)
        counter = receiving_target(self._dossier, transfer)
        moved_counter = {}
        if counter is not None:
            moved_counter = {
                "receiving_from": current_receiving_unit(self._dossier, state).code,
                "receiving_to": counter.code,
            }
            state.receiving_unit = counter
        state.applied_actions[transfer.transfer_id] = "TransferInput"
        if transfer.task_queues is not None:
            # None: stay on this run's queue (a dossier started before queues were recorded ran
            # on the shared one).
            wanted = transfer.task_queues.elsewhere(new.province_code, self._dossier.task_queue)
            if wanted != state.task_queue and workflow.patched(PROVINCE_QUEUE_PATCH):
                state.task_queue = wanted
        state.add_entry(
            now,
            "carried_over",
            state.status,
            actor_id=transfer.actor_id,
            actor_roles=(transfer.actor.value,),
            action_id=transfer.transfer_id,
            note=transfer.reason,
            details={
                "from": old.code,
                "to": new.code,
                "to_name": new.name,
                "transfer_id": transfer.transfer_id,
                **moved_counter,
            },
        )
        workflow.upsert_search_attributes(
            [
                search_attributes.HANDLING_UNIT.value_set(new.code),
                search_attributes.CARRIED_OVER_FROM.value_set(old.code),
            ]
        )
        # Lists of a counter's dossiers in visibility follow the move, as its inbox does.
        if counter is not None and workflow.patched(TRANSFER_MOVES_RECEIVING_UNIT):
            workflow.upsert_search_attributes([search_attributes.RECEIVING_UNIT.value_set(counter.code)])
        self._changes += 1
        self._log(
            "dossier carried over",
            unit=new.code,
            from_unit=old.code,
            transfer_id=transfer.transfer_id,
            task_queue=state.task_queue,
        )

    # Applying actions.

    def _validate(self, action: ActionInput) -> bool:
        return check_action(self._dossier, self._state, action, workflow.now())

    async def _act(self, action: A, apply: Callable[[A], Awaitable[None]]) -> DossierView:
        # One action at a time: an action may await the calendar, and the next one must
        # see its result. The check is repeated because another action may have run
        # between this one's validation and now.
        async with self._lock:
            if check_action(self._dossier, self._state, action, workflow.now()):
                await apply(action)
                self._state.applied_actions[action.action_id] = type(action).__name__
                if workflow.patched(ACTION_FINGERPRINT_PATCH):
                    self._state.applied_fingerprints[action.action_id] = fingerprint(action)
                self._changes += 1
                self._publish()
                self._log(
                    "dossier action applied",
                    action=self._state.timeline[-1].action,
                    actor=action.actor.id,
                    unit=action.actor.unit,
                )
            return self.view()

    def _log(self, message: str, **fields: object) -> None:
        # workflow.logger is replay-safe: a replayed task does not log again.
        workflow.logger.info(
            message,
            extra={"dossier_code": self._dossier.code, "status": self._state.status.value, **fields},
        )

    def _entry(self, action: ActionInput, name: str, status: DossierStatus, **fields: Any) -> None:
        self._state.add_entry(
            workflow.now(), name, status, **_actor_fields(action.actor), action_id=action.action_id, **fields
        )

    async def _complete_step(self, action: CompleteStepInput) -> None:
        state = self._state
        state.step_index += 1
        done = state.step_index >= len(self._dossier.procedure.steps)
        if done:
            state.resolved_at = workflow.now()
        late = "yes" if workflow.now() > state.due_at else "no"
        self._entry(
            action,
            "step_completed",
            DossierStatus.PROCESSED if done else DossierStatus.PROCESSING,
            step_id=action.step_id,
            note=action.note,
            details={"late": late},
        )
        if done:
            self._system_entry("processed", DossierStatus.PROCESSED, details={"late": late})

    async def _request_supplement(self, action: RequestSupplementInput) -> None:
        now = workflow.now()
        self._state.paused_since = now
        self._state.supplement_request = SupplementRequest(
            reason=action.reason, documents=action.documents, requested_at=now, requested_by=action.actor.id
        )
        self._entry(
            action,
            "supplement_requested",
            DossierStatus.SUPPLEMENT_REQUESTED,
            note=action.reason,
            details={"documents": ", ".join(action.documents)},
        )

    async def _supplement(self, action: SupplementInput) -> None:
        state = self._state
        assert state.paused_since is not None
        shifted = await workflow.execute_local_activity_method(
            CalendarActivities.shift_deadline,
            ShiftDeadlineInput(
                due_at=state.due_at, paused_from=state.paused_since, paused_until=workflow.now()
            ),
            start_to_close_timeout=timedelta(seconds=10),
        )
        old_due = state.due_at
        state.due_at = shifted.due_at
        state.paused_working_time += shifted.paused_working_time
        state.paused_since = None
        state.supplement_request = None
        self._entry(
            action,
            "supplemented",
            DossierStatus.PROCESSING,
            details={
                "documents": ", ".join(action.documents),
                "paused_working_time": str(shifted.paused_working_time),
                "old_due_at": old_due.isoformat(),
                "new_due_at": shifted.due_at.isoformat(),
            },
        )

    async def _request_payment(self, action: RequestPaymentInput) -> None:
        self._state.payment = PaymentRequest(
            amount_vnd=action.amount_vnd, reason=action.reason, requested_at=workflow.now()
        )
        self._entry(
            action,
            "payment_requested",
            DossierStatus.PAYMENT_REQUESTED,
            note=action.reason,
            details={"amount_vnd": str(action.amount_vnd)},
        )

    async def _confirm_payment(self, action: ConfirmPaymentInput) -> None:
        payment = self._state.payment
        assert payment is not None
        payment.paid_at = workflow.now()
        payment.receipt_number = action.receipt_number
        self._entry(
            action,
            "payment_confirmed",
            DossierStatus.PROCESSING,
            details={"amount_vnd": str(action.amount_vnd), "receipt_number": action.receipt_number},
        )

    def _close(
        self, status: DossierStatus, name: str
    ) -> Callable[[RefuseInput | WithdrawInput], Awaitable[None]]:
        async def close(action: RefuseInput | WithdrawInput) -> None:
            self._state.closed_at = workflow.now()
            self._state.outcome_reason = action.reason
            self._state.paused_since = None
            self._entry(action, name, status, note=action.reason)

        return close

    async def _issue_apology(self, action: ApologyInput) -> None:
        state = self._state
        old_due = state.due_at
        state.due_at = action.new_due_at
        state.apology_due = False
        # Form 04: the apology with its reason and the new appointment.
        self._entry(
            action,
            "apology_issued",
            state.status,
            note=action.reason,
            details={"old_due_at": old_due.isoformat(), "new_due_at": action.new_due_at.isoformat()},
        )

    async def _return_result(self, action: ReturnResultInput) -> None:
        self._state.closed_at = workflow.now()
        self._entry(
            action, "result_returned", DossierStatus.RETURNED, details={"channel": action.channel.value}
        )

    async def _receive_online(self, action: ReceiveOnlineInput) -> None:
        # The working-day clock starts at this receipt, under the limit pinned at submission.
        dossier, state, now = self._dossier, self._state, workflow.now()
        assert dossier.online is not None
        limit = dossier.online.time_limit
        appointment = await workflow.execute_local_activity_method(
            CalendarActivities.appointment,
            AppointmentInput(
                received_at=now,
                amount=limit.amount,
                unit=limit.unit.value,
                cutoff=dossier.procedure.afternoon_cutoff,
            ),
            start_to_close_timeout=timedelta(seconds=10),
        )
        state.received_at, state.due_at = now, appointment.at
        self._receive(now, action.actor, action.action_id, note=action.note)
        workflow.upsert_search_attributes([search_attributes.RECEIVED_AT.value_set(now)])

    async def _request_online_completion(self, action: RequestOnlineCompletionInput) -> None:
        # Form 02: the check's deadline waits for the applicant (no timer in ONLINE_INCOMPLETE).
        now = workflow.now()
        self._state.supplement_request = SupplementRequest(
            reason=action.reason, documents=action.documents, requested_at=now, requested_by=action.actor.id
        )
        self._entry(
            action,
            "online_completion_requested",
            DossierStatus.ONLINE_INCOMPLETE,
            note=action.reason,
            details={"documents": ", ".join(action.documents)},
        )

    async def _complete_online(self, action: CompleteOnlineInput) -> None:
        # The completed dossier goes back to the counter with a check deadline of its own, as
        # long as the first one (the check time pinned at submission).
        state, online = self._state, self._dossier.online
        assert online is not None
        deadline = await workflow.execute_local_activity_method(
            CalendarActivities.check_deadline,
            CheckDeadlineInput(start=workflow.now(), working_hours=online.check_hours),
            start_to_close_timeout=timedelta(seconds=10),
        )
        state.supplement_request = None
        state.due_at, state.check_late = deadline.at, False
        self._entry(
            action,
            "completed_online",
            DossierStatus.REGISTERED_ONLINE,
            details={
                "documents": ", ".join(d.id for d in action.documents),
                "files": ", ".join(d.reference or "" for d in action.documents),
                "check_due_at": deadline.at.isoformat(),
            },
        )

    async def _refuse_online(self, action: RefuseOnlineInput) -> None:
        # Form 03: never received, so no working-day clock was ever counted.
        self._state.closed_at = workflow.now()
        self._state.outcome_reason = action.reason
        self._state.supplement_request = None
        self._entry(action, "not_received", DossierStatus.NOT_RECEIVED, note=action.reason)

    # Receipt, deadline and housekeeping.

    def _register_online(self) -> None:
        """Status 1: the dossier waits for the counter's check until its check deadline (due_at)."""
        dossier = self._dossier
        self._state.status = DossierStatus.REGISTERED_ONLINE
        self._state.add_entry(
            dossier.received_at,
            "registered_online",
            DossierStatus.REGISTERED_ONLINE,
            **_actor_fields(dossier.received_by),
            details={
                "channel": dossier.channel.value,
                "version_id": dossier.procedure.version_id,
                "check_due_at": dossier.due_at.isoformat(),
                "documents": ", ".join(d.id for d in dossier.documents),
                "files": ", ".join(d.reference or "" for d in dossier.documents),
            },
        )

    def _receive(
        self,
        received_at: datetime | None = None,
        actor: Actor | None = None,
        action_id: str | None = None,
        note: str = "",
    ) -> None:
        """Received: at the start for a counter's dossier, at the counter's check for an online one."""
        dossier, state = self._dossier, self._state
        self._state.add_entry(
            received_at or dossier.received_at,
            "received",
            DossierStatus.RECEIVED,
            **_actor_fields(actor or dossier.received_by),
            **({"action_id": action_id, "note": note} if action_id else {}),
            details={
                "channel": dossier.channel.value,
                "version_id": dossier.procedure.version_id,
                "due_at": state.due_at.isoformat(),
                "documents": ", ".join(d.id for d in dossier.documents),
                # A past receipt entered now: the operator's reason and when it was entered.
                **(
                    {"backfill_reason": dossier.backfill_reason, "entered_at": workflow.now().isoformat()}
                    if dossier.backfill_reason
                    else {}
                ),
            },
        )
        # Form 05's first hand-over: from the receiving counter to the handling authority.
        self._system_entry(
            "transferred",
            DossierStatus.PROCESSING,
            details={"from": dossier.receiving_unit.code, "to": dossier.handling_unit.code},
        )

    def _system_entry(self, name: str, status: DossierStatus, **fields: Any) -> None:
        self._state.add_entry(workflow.now(), name, status, actor_id=SYSTEM_ACTOR, **fields)

    async def _wait_for_change_or_deadline(self) -> None:
        state = self._state
        seen = self._changes
        timeout = None
        if state.status is DossierStatus.REGISTERED_ONLINE and not state.check_late:
            if workflow.patched(ONLINE_SUBMISSION_PATCH):
                timeout = state.due_at - workflow.now()
                if timeout <= timedelta(0):
                    self._mark_check_late()
                    return
            try:
                await workflow.wait_condition(lambda: self._changes != seen, timeout=timeout)
            except asyncio.TimeoutError:
                if workflow.now() >= state.due_at:
                    self._mark_check_late()
            return
        if state.status in CLOCK_RUNNING and not state.apology_due:
            timeout = state.due_at - workflow.now()
            if timeout <= timedelta(0):
                self._mark_overdue()
                return
        try:
            await workflow.wait_condition(lambda: self._changes != seen, timeout=timeout)
        except asyncio.TimeoutError:
            # Overdue only once this workflow's clock has reached the due moment: a timer that
            # comes back earlier (seen once across an abrupt dev-server restart) is waited out.
            if workflow.now() >= state.due_at:
                self._mark_overdue()

    def _mark_check_late(self) -> None:
        """Nobody checked the online dossier in time: it shows as late in the unit's worklist."""
        state = self._state
        state.check_late = True
        self._system_entry("check_late", state.status, details={"check_due_at": state.due_at.isoformat()})
        self._changes += 1
        self._log("online dossier check late", unit=current_receiving_unit(self._dossier, state).code)

    def _mark_overdue(self) -> None:
        state = self._state
        state.overdue = True
        state.apology_due = True
        self._system_entry("overdue", state.status, details={"due_at": state.due_at.isoformat()})
        self._changes += 1
        self._publish()
        self._log(
            "dossier overdue",
            due_at=state.due_at.isoformat(),
            unit=current_handling_unit(self._dossier, state).code,
        )

    async def _record_pending(self) -> None:
        """Dossiers started before DEADLINE_APART_PATCH: oldest first, in batches, so the store
        sees each dossier's events in order. A batch refused for good waits here for the
        operator's retry_projection instead of failing the workflow (their deadline waits with
        it, as it always did for them)."""
        while self._state.unrecorded:
            try:
                await self._record_batch()
            except ActivityError as err:
                self._projection_failed(err)
                await workflow.wait_condition(lambda: self._state.projection_failure is None)

    async def _project(self) -> None:
        """The projection beside the deadline: one batch at a time, oldest first, for ever.

        Only a non-retryable failure comes back as an error (the retry policy has no limit);
        then the entries stay queued until `retry_projection`.
        """
        state = self._state
        while True:
            await workflow.wait_condition(lambda: bool(state.unrecorded) and state.projection_failure is None)
            try:
                await self._record_batch()
            except ActivityError as err:
                self._projection_failed(err)

    def _projection_failed(self, err: ActivityError) -> None:
        cause = err.cause
        kind = cause.type if isinstance(cause, ApplicationError) and cause.type else type(cause).__name__
        # An activity's cause is one of temporalio's FailureErrors, which all carry a message.
        message = cast(FailureError, cause).message if cause else err.message
        self._state.projection_failure = f"{kind}: {message}"
        workflow.upsert_search_attributes([search_attributes.PROJECTION_FAILED.value_set(True)])
        workflow.logger.error(
            "dossier projection failed",
            extra={
                "dossier_code": self._dossier.code,
                "status": self._state.status.value,
                "failure": self._state.projection_failure,
                "unrecorded_events": len(self._state.unrecorded),
            },
        )

    async def _record_batch(self) -> None:
        state = self._state
        seqs = state.unrecorded[:RECORD_BATCH]
        entries = [state.timeline[seq - 1] for seq in seqs]
        # A member of an interlinked group: the group alone speaks to the applicant (one set
        # of notices per group, workflows/group.py). Only the activity's input changes: no patch.
        member_of_group = workflow.info().parent is not None
        notices = [
            ApplicantNotice(event_seq=e.seq, kind=e.action, message=NOTIFIED_ACTIONS[e.action])
            for e in entries
            if e.action in NOTIFIED_ACTIONS and not member_of_group
        ]
        await workflow.execute_activity_method(
            RecordActivities.record_events,
            RecordEventsInput(
                dossier=self._summary(),
                entries=entries,
                notices=notices,
                # Only the activity's (encrypted) input changes, never the commands: no patch.
                contact=self._contact() if notices else None,
            ),
            start_to_close_timeout=PROJECTION_TIMEOUT,
            heartbeat_timeout=PROJECTION_HEARTBEAT,
            retry_policy=PROJECTION_RETRY,
            # None: the run's own queue. After a move, the new province's workers record it,
            # also the entries drained before the run continues there.
            task_queue=state.task_queue,
        )
        # Entries added while the batch was in flight sit after it: drop only the batch.
        del state.unrecorded[: len(seqs)]

    def _contact(self) -> ApplicantContact | None:
        applicant = self._dossier.applicant
        if not applicant.email and not applicant.phone:
            return None
        return ApplicantContact(email=applicant.email, phone=applicant.phone)

    def _summary(self) -> DossierSummary:
        dossier, state = self._dossier, self._state
        step = current_step(dossier, state)
        return DossierSummary(
            code=dossier.code,
            procedure_code=dossier.procedure.procedure_code,
            version_id=dossier.procedure.version_id,
            receiving_unit=current_receiving_unit(dossier, state).code,
            original_receiving_unit=dossier.receiving_unit.code,
            handling_unit=current_handling_unit(dossier, state).code,
            received_at=state.received_at or dossier.received_at,
            due_at=state.due_at,
            status=state.status.value,
            # The worklist's "late": overdue, or an online dossier still unchecked past its time.
            overdue=state.overdue or (state.check_late and state.status in NOT_YET_RECEIVED),
            channel=dossier.channel.value,
            current_step=step.id if step is not None and state.status not in TERMINAL else None,
            current_roles=tuple(role.value for role in next_roles(dossier, state)),
            resolved_at=state.resolved_at,
            closed_at=state.closed_at,
            carried_over_from=state.carried_over_from,
            carried_over_at=state.carried_over_at,
        )

    def _publish(self) -> None:
        state = self._state
        workflow.upsert_search_attributes(
            [
                search_attributes.STATUS.value_set(state.status.value),
                search_attributes.DUE_AT.value_set(state.due_at),
                search_attributes.OVERDUE.value_set(state.overdue),
            ]
        )

    def _queue_moved(self) -> bool:
        """Whether a transfer moved the dossier to a province queue this run was not started on."""
        target = self._state.task_queue
        return target is not None and target != self._dossier.task_queue

    def _history_is_long(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._dossier.continue_as_new_after_events
        )

    async def _continue_as_new(self) -> None:
        # The last check and continue_as_new happen with no await between them, so no
        # update can start in the old run after its state was handed over.
        state = self._state
        if self._projector is None:
            while True:
                await workflow.wait_condition(workflow.all_handlers_finished)
                if not state.unrecorded:
                    break
                await self._record_pending()
        else:
            # The projector drains what is queued; entries the store refused travel in the state.
            await workflow.wait_condition(
                lambda: (
                    workflow.all_handlers_finished()
                    and (not state.unrecorded or state.projection_failure is not None)
                )
            )
            self._projector.cancel()
        self._state.runs += 1
        # After a move, onto the new province's queue; else the same queue (None).
        target = self._state.task_queue
        workflow.continue_as_new(
            self._dossier.model_copy(
                update={"carried_state": self._state, **({"task_queue": target} if target else {})}
            ),
            task_queue=target,
        )


def _actor_fields(actor: Actor) -> dict[str, Any]:
    """Who did it, as a timeline entry records it (forms 05 and 06)."""
    return {
        "actor_id": actor.id,
        "actor_roles": tuple(r.value for r in actor.roles),
        "actor_unit": actor.unit,
    }
