"""Side effects of the carryover: finding open dossiers, choosing successors, sending transfers.

Open dossiers are found in the records store (`dossiers`: handling unit and status), which
works on every Temporal server, including the time-skipping one that has no visibility
listing; then in Temporal visibility (the `HandlingUnit` and `ReceivedAt` search attributes),
for the open dossiers the records store has no row of (a projection that never landed). The
applicant's address is not in the records store (personal data stays in the
encrypted workflow): each dossier's `transfer_facts` query returns the address as unit codes
only, and the successor is chosen here from `adminunits.succession`.

A batch sends its transfers with bounded concurrency and heartbeats the outcomes it has, so a
retried batch (worker killed) resumes where the last heartbeat was; a transfer sent twice
anyway has one effect, because its id is derived from the carryover id and the dossier code.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from enum import StrEnum

import structlog
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy import func, select
from temporalio import activity
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from activities.heartbeat import heartbeating
from adminunits.succession import AuthoritySuccession, SuccessorUnit
from model import search_attributes
from model.dossier_inputs import TransferActor, TransferInput, Unit
from model.dossier_state import TERMINAL
from model.dossier_view import DossierView, TransferFacts
from records.database import RecordsStore
from records.tables import DossierRow

__all__ = [
    "BatchInput",
    "BatchResult",
    "Candidate",
    "CandidatePage",
    "CarryoverActivities",
    "ListCandidatesInput",
    "Outcome",
    "OutcomeKind",
    "transfer_id_for",
]

log = structlog.get_logger(__name__)
_CLOSED = tuple(s.value for s in TERMINAL)
DOSSIER_WORKFLOW = "DossierWorkflow"
# The listing cursor of the second phase (visibility) starts with this; dossier codes never do.
VISIBILITY_CURSOR = "visibility:"


def transfer_id_for(carryover_id: str, dossier_code: str) -> str:
    """The transfer id of one dossier in one carryover: the same on every retry and restart."""
    return f"carryover-{carryover_id}-{dossier_code}"


class ListCandidatesInput(BaseModel):
    received_before: AwareDatetime
    # Keyset cursor: the last dossier code already handed out, first from the records store,
    # then (prefixed with VISIBILITY_CURSOR) from Temporal visibility.
    after: str | None = None
    limit: int = Field(default=200, ge=1, le=5000)


class Candidate(BaseModel):
    code: str
    handling_unit: str  # as the records store last saw it; the transfer checks it (from_unit)
    receiving_unit: str = ""  # the counter of receipt; moved too if it was abolished


class CandidatePage(BaseModel):
    dossiers: list[Candidate]
    next_after: str | None  # None when the listing is exhausted


class CountCandidatesInput(BaseModel):
    received_before: AwareDatetime


class OutcomeKind(StrEnum):
    PLANNED = "planned"  # dry run: would be transferred
    TRANSFERRED = "transferred"
    UNCHANGED = "unchanged"  # already at an authority that exists (e.g. carried over before)
    MANUAL = "manual"  # no successor could be resolved: needs manual assignment
    SKIPPED = "skipped"  # closed meanwhile
    FAILED = "failed"


class Outcome(BaseModel):
    code: str
    kind: OutcomeKind
    old_unit: str = ""
    province_code: str = ""  # old authority's province, for the manual lists
    new_unit: str | None = None
    alternatives: tuple[str, ...] = ()
    error: str = ""


class BatchInput(BaseModel):
    carryover_id: str
    dossiers: list[Candidate]
    dry_run: bool = False
    concurrency: int = Field(default=16, ge=1, le=200)
    reason: str = ""
    actor: TransferActor = TransferActor.SYSTEM
    actor_id: str = "system"
    # When this carryover began (across its continue-as-new runs): a transfer carrying this
    # carryover's id but dated before it was made by an earlier execution of the same id.
    started_at: AwareDatetime | None = None


class BatchResult(BaseModel):
    outcomes: list[Outcome]


class CarryoverActivities:
    def __init__(self, client: Client, records: RecordsStore, succession: AuthoritySuccession | None = None):
        self._client = client
        self._sessions = records.sessions
        self._succession = succession

    @property
    def succession(self) -> AuthoritySuccession:
        # Loaded on first use (about a second): a worker that never carries over never pays it.
        if self._succession is None:
            self._succession = AuthoritySuccession()
        return self._succession

    def _open_before(self, received_before: datetime):
        return (DossierRow.status.not_in(_CLOSED), DossierRow.received_at < received_before)

    @activity.defn(name="count_carryover_candidates")
    async def count_candidates(self, request: CountCandidatesInput) -> int:
        """Open dossiers received before the boundary at an abolished or merged authority."""
        async with heartbeating():
            return await self._count(request)

    async def _count(self, request: CountCandidatesInput) -> int:
        async with self._sessions() as session:
            rows = await session.execute(
                select(DossierRow.handling_unit, func.count())
                .where(*self._open_before(request.received_before))
                .group_by(DossierRow.handling_unit)
            )
            projected = sum(n for unit, n in rows if self.succession.is_abolished(unit))
        return projected + len(await self._unprojected(request.received_before))

    @activity.defn(name="list_carryover_candidates")
    async def list_candidates(self, request: ListCandidatesInput) -> CandidatePage:
        """Up to `limit` candidate codes after the cursor, in code order: those of the records
        store first, then those only Temporal visibility knows of."""
        async with heartbeating():
            return await self._list(request)

    async def _list(self, request: ListCandidatesInput) -> CandidatePage:
        if request.after is not None and request.after.startswith(VISIBILITY_CURSOR):
            after = request.after.removeprefix(VISIBILITY_CURSOR)
            missing = [c for c in await self._unprojected(request.received_before) if c.code > after]
            dossiers = missing[: request.limit]
            more = len(missing) > request.limit
            return CandidatePage(
                dossiers=dossiers, next_after=VISIBILITY_CURSOR + dossiers[-1].code if more else None
            )
        page = await self._projected(request)
        if page.next_after is None:
            # The records store is done: visibility's turn, from its first code.
            page.next_after = VISIBILITY_CURSOR
        return page

    async def _unprojected(self, received_before: datetime) -> list[Candidate]:
        """Open dossiers at an abolished authority that visibility lists and the records store
        has no row of, in code order (few: projections that never landed).

        A server without a visibility listing (the time-skipping test server) has none to add.
        """
        query = (
            f"WorkflowType = '{DOSSIER_WORKFLOW}' AND ExecutionStatus = 'Running'"
            f" AND {search_attributes.RECEIVED_AT.name} < '{received_before.isoformat()}' AND {search_attributes.CARRIED_OVER_FROM.name} IS NULL"
        )
        listed: dict[str, Candidate] = {}
        try:
            async for execution in self._client.list_workflows(query):
                attributes = execution.typed_search_attributes
                unit = attributes.get(search_attributes.HANDLING_UNIT)
                if unit and self.succession.is_abolished(unit):
                    listed[execution.id] = Candidate(
                        code=execution.id,
                        handling_unit=unit,
                        receiving_unit=attributes.get(search_attributes.RECEIVING_UNIT) or "",
                    )
        except RPCError as err:
            if err.status is RPCStatusCode.UNIMPLEMENTED:
                log.warning(
                    "carryover: no visibility listing on this server; records store only", error=err.message
                )
                return []
            raise ApplicationError(f"visibility listing failed: {err.message}") from err
        known: set[str] = set()
        codes = sorted(listed)
        async with self._sessions() as session:
            for start in range(0, len(codes), 500):
                chunk = codes[start : start + 500]
                known.update(
                    (await session.scalars(select(DossierRow.code).where(DossierRow.code.in_(chunk)))).all()
                )
        missing = [listed[code] for code in codes if code not in known]
        if missing:
            log.warning(
                "carryover: open dossiers missing from the records store, listed from visibility",
                dossiers=len(missing),
                codes=[c.code for c in missing[:20]],
            )
        return missing

    async def _projected(self, request: ListCandidatesInput) -> CandidatePage:
        found: list[Candidate] = []
        after = request.after
        async with self._sessions() as session:
            while len(found) < request.limit:
                query = select(DossierRow.code, DossierRow.handling_unit, DossierRow.receiving_unit).where(
                    *self._open_before(request.received_before)
                )
                if after is not None:
                    query = query.where(DossierRow.code > after)
                rows = (await session.execute(query.order_by(DossierRow.code).limit(request.limit))).all()
                if not rows:
                    return CandidatePage(dossiers=found, next_after=None)
                for code, unit, counter in rows:
                    after = code
                    if self.succession.is_abolished(unit):
                        found.append(Candidate(code=code, handling_unit=unit, receiving_unit=counter))
                        if len(found) == request.limit:
                            break
        return CandidatePage(dossiers=found, next_after=after)

    @activity.defn(name="carry_over_batch")
    async def carry_over_batch(self, batch: BatchInput) -> BatchResult:
        info = activity.info()
        # Outcomes heartbeated by an earlier attempt of this batch are not sent again.
        done: dict[str, Outcome] = {}
        if info.heartbeat_details:
            for raw in info.heartbeat_details[0]:
                outcome = Outcome.model_validate(raw)
                done[outcome.code] = outcome
        limit = asyncio.Semaphore(batch.concurrency)

        carry = self._plan if batch.dry_run else self._transfer

        def progress() -> tuple[list[dict], ...]:
            return ([o.model_dump(mode="json") for o in done.values()],)

        async def one(candidate: Candidate) -> None:
            async with limit:
                done[candidate.code] = await carry(batch, candidate)
                activity.heartbeat(*progress())

        # The beat also runs while one slow transfer is the only thing in flight.
        async with heartbeating(progress):
            await asyncio.gather(*(one(c) for c in batch.dossiers if c.code not in done))
        outcomes = [done[c.code] for c in batch.dossiers]
        log.info(
            "carryover batch done",
            workflow_id=info.workflow_id,
            dossiers=len(outcomes),
            dry_run=batch.dry_run,
            attempt=info.attempt,
        )
        return BatchResult(outcomes=outcomes)

    async def _plan(self, batch: BatchInput, candidate: Candidate) -> Outcome:
        """Dry run: the dossier's own facts (address as unit codes, by query), its successor."""
        code = candidate.code
        handle = self._client.get_workflow_handle(code)
        try:
            facts = await handle.query("transfer_facts", result_type=TransferFacts)
        except WorkflowQueryFailedError as err:
            return Outcome(code=code, kind=OutcomeKind.FAILED, error=f"query failed: {err}")
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                return Outcome(code=code, kind=OutcomeKind.FAILED, error=f"no such dossier: {err.message}")
            # Transient server trouble: fail the attempt; the retry skips what was heartbeated.
            raise ApplicationError(f"query of {code} failed: {err.message}") from err
        old = facts.handling_unit
        province = self.succession.province_of(old) or facts.address_province_code
        if facts.status in _CLOSED:
            return Outcome(code=code, kind=OutcomeKind.SKIPPED, old_unit=old, province_code=province)
        if not self.succession.is_abolished(old):
            return Outcome(code=code, kind=OutcomeKind.UNCHANGED, old_unit=old, province_code=province)
        successor = self.succession.table(old).for_commune(facts.address_commune_code)
        if successor is None:
            return Outcome(code=code, kind=OutcomeKind.MANUAL, old_unit=old, province_code=province)
        return Outcome(
            code=code,
            kind=OutcomeKind.PLANNED,
            old_unit=old,
            province_code=province,
            new_unit=successor.code,
            alternatives=successor.alternatives,
        )

    async def _transfer(self, batch: BatchInput, candidate: Candidate) -> Outcome:
        """One update per dossier, no query: the successor table of its authority goes along
        and the workflow picks the successor of its applicant's commune itself."""
        code, old = candidate.code, candidate.handling_unit
        province = self.succession.province_of(old) or ""
        outcome = Outcome(code=code, kind=OutcomeKind.TRANSFERRED, old_unit=old, province_code=province)
        table = self.succession.table(old)
        if table.default is None and not table.by_commune:
            log.warning("no successor: manual assignment", dossier_code=code, workflow_id=code, unit=old)
            return outcome.model_copy(update={"kind": OutcomeKind.MANUAL})
        # The counter of receipt moves too if it was abolished (a district's counter): else
        # nobody could do the receiving-side steps (supplement, payment, return) any more.
        counters = None
        if candidate.receiving_unit and self.succession.is_abolished(candidate.receiving_unit):
            counters = self.succession.counter_table(candidate.receiving_unit)
        transfer = TransferInput(
            transfer_id=transfer_id_for(batch.carryover_id, code),
            from_unit=old,
            to_unit=_unit(table.default) if table.default else None,
            to_unit_by_commune={} if table.default else {c: _unit(u) for c, u in table.by_commune.items()},
            to_receiving_unit=_unit(counters.default) if counters and counters.default else None,
            to_receiving_unit_by_commune=(
                {c: _unit(u) for c, u in counters.by_commune.items()}
                if counters and not counters.default
                else {}
            ),
            reason=batch.reason,
            actor=batch.actor,
            actor_id=batch.actor_id,
        )
        handle = self._client.get_workflow_handle(code)
        try:
            # The update id is the transfer id too: Temporal itself answers a repeat with the
            # first outcome, and the workflow's own check covers repeats across runs.
            view = await handle.execute_update(
                "transfer", transfer, id=transfer.transfer_id, result_type=DossierView
            )
        except WorkflowUpdateFailedError as err:
            cause = err.cause
            kind_by_type = {"WrongState": OutcomeKind.SKIPPED, "NoSuccessor": OutcomeKind.MANUAL}
            if isinstance(cause, ApplicationError) and cause.type:
                kind, reason = (
                    kind_by_type.get(cause.type, OutcomeKind.FAILED),
                    f"{cause.type}: {cause.message}",
                )
            else:
                kind, reason = OutcomeKind.FAILED, str(cause)
            return outcome.model_copy(update={"kind": kind, "error": reason})
        except RPCError as err:
            if err.status is RPCStatusCode.NOT_FOUND:
                return outcome.model_copy(
                    update={"kind": OutcomeKind.FAILED, "error": f"no such dossier: {err.message}"}
                )
            # Transient server trouble: fail the attempt so the batch is retried (idempotent).
            raise ApplicationError(f"transfer of {code} not acknowledged: {err.message}") from err
        entry = next((e for e in view.timeline if e.action_id == transfer.transfer_id), None)
        if entry is None:
            # Moved meanwhile (by another carryover or an operator): nothing was done here.
            return outcome.model_copy(update={"kind": OutcomeKind.UNCHANGED})
        if batch.started_at is not None and entry.at < batch.started_at:
            # The same carryover run again, listed before the projection caught up with the
            # first execution's transfer: the workflow answered its first outcome.
            return outcome.model_copy(update={"kind": OutcomeKind.UNCHANGED})
        chosen = table.default or next(
            (u for u in table.by_commune.values() if u.code == view.handling_unit), None
        )
        return outcome.model_copy(
            update={"new_unit": view.handling_unit, "alternatives": chosen.alternatives if chosen else ()}
        )


def _unit(successor: SuccessorUnit) -> Unit:
    return Unit(
        code=successor.code,
        name=successor.name,
        province_code=successor.province_code,
        commune_code=successor.commune_code,
    )
