"""CarryoverWorkflow: every open dossier at an abolished or merged authority to its successor."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from carryover.activities import (
        BatchInput,
        Candidate,
        CarryoverActivities,
        CountCandidatesInput,
        ListCandidatesInput,
        Outcome,
        OutcomeKind,
    )
    from carryover.models import (
        AuthorityReport,
        CarryoverInput,
        CarryoverMode,
        CarryoverProgress,
        CarryoverReport,
        CarryoverState,
    )

__all__ = ["CarryoverWorkflow"]

# The records store or the server being away only delays the carryover: retry without end.
RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
# The listing activities heartbeat every second while their query runs: a dead worker is
# noticed after LISTING_HEARTBEAT, not after the two minutes a large listing may take.
LISTING_HEARTBEAT = timedelta(seconds=10)


@workflow.defn
class CarryoverWorkflow:
    """Carries every open dossier received before the boundary at an abolished or merged
    authority to its successor.

    Guarantees: each dossier gets one transfer id (carryover id + dossier code), so a retried
    batch, a restarted worker or the same carryover started again transfers nothing twice;
    the listing cursor and the tallies travel through continue-as-new, so no dossier is
    missed or counted twice; a dossier without a successor lands on its province's
    manual-assignment list.
    """

    @workflow.init
    def __init__(self, request: CarryoverInput) -> None:
        self._request = request.model_copy(update={"state": None})
        self._state = request.state or CarryoverState()
        self._finished = False
        self._batches_this_run = 0

    @workflow.run
    async def run(self, request: CarryoverInput) -> CarryoverReport:
        state = self._state
        if state.started_at is None:
            state.started_at = workflow.now()
            state.total = await workflow.execute_activity_method(
                CarryoverActivities.count_candidates,
                CountCandidatesInput(received_before=request.received_before),
                start_to_close_timeout=timedelta(minutes=2),
                heartbeat_timeout=LISTING_HEARTBEAT,
                retry_policy=RETRY,
            )
        while not state.listing_done:
            if self._batches_this_run >= request.checkpoint_every:
                state.runs += 1
                workflow.continue_as_new(self._request.model_copy(update={"state": state}))
            page = await workflow.execute_activity_method(
                CarryoverActivities.list_candidates,
                ListCandidatesInput(
                    received_before=request.received_before,
                    after=state.cursor,
                    limit=request.batch_size * request.parallel_batches,
                ),
                start_to_close_timeout=timedelta(minutes=2),
                heartbeat_timeout=LISTING_HEARTBEAT,
                retry_policy=RETRY,
            )
            found = page.dossiers
            batches = [found[i : i + request.batch_size] for i in range(0, len(found), request.batch_size)]
            results = await asyncio.gather(*(self._carry_over(batch) for batch in batches))
            for result in results:
                for outcome in result:
                    self._tally(outcome)
            # The cursor moves only once the page's batches are all done and tallied.
            state.cursor = page.next_after
            state.listing_done = page.next_after is None
            self._batches_this_run += len(batches)
        # A listing that found more than the first count (dossiers projected late) still adds up.
        state.total = max(state.total, state.done)
        self._finished = True
        report = self.report()
        workflow.logger.info(
            "carryover finished",
            extra={"carryover_id": request.carryover_id, "done": state.done, "manual": state.manual},
        )
        return report

    async def _carry_over(self, dossiers: list[Candidate]) -> list[Outcome]:
        request = self._request
        result = await workflow.execute_activity_method(
            CarryoverActivities.carry_over_batch,
            BatchInput(
                carryover_id=request.carryover_id,
                dossiers=dossiers,
                dry_run=request.mode is CarryoverMode.PLAN,
                concurrency=request.concurrency,
                reason=request.reason,
                actor=request.actor,
                actor_id=request.actor_id,
                started_at=self._state.started_at,
            ),
            start_to_close_timeout=timedelta(minutes=10),
            heartbeat_timeout=timedelta(seconds=10),
            retry_policy=RETRY,
        )
        return result.outcomes

    def _tally(self, outcome: Outcome) -> None:
        state = self._state
        state.done += 1
        report = state.authorities.get(outcome.old_unit)
        if report is None:
            report = state.authorities[outcome.old_unit] = AuthorityReport(
                old_unit=outcome.old_unit, province_code=outcome.province_code
            )
        report.open += 1
        kind = outcome.kind
        report.count(kind.value)
        state.count(kind.value)
        if outcome.new_unit and kind in (OutcomeKind.TRANSFERRED, OutcomeKind.PLANNED):
            report.successors[outcome.new_unit] = report.successors.get(outcome.new_unit, 0) + 1
            if outcome.alternatives:
                report.with_alternatives += 1
        if kind is OutcomeKind.MANUAL:
            state.manual_by_province.setdefault(outcome.province_code, []).append(outcome.code)
        if kind is OutcomeKind.FAILED:
            state.failures[outcome.code] = outcome.error

    @workflow.query
    def progress(self) -> CarryoverProgress:
        state, request = self._state, self._request
        return CarryoverProgress(
            carryover_id=request.carryover_id,
            mode=request.mode,
            total=max(state.total, state.done),
            done=state.done,
            transferred=state.transferred,
            planned=state.planned,
            manual=state.manual,
            failed=state.failed,
            finished=self._finished,
            runs=state.runs,
        )

    @workflow.query
    def report(self) -> CarryoverReport:
        state = self._state
        return CarryoverReport(
            progress=self.progress(),
            authorities=sorted(state.authorities.values(), key=lambda a: a.old_unit),
            manual_by_province=state.manual_by_province,
            failures=state.failures,
        )
