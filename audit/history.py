"""A dossier's history for auditors: Temporal's event history, readable, beside the audit trail.

Temporal's history is the source of truth. It is fetched run by run (continue-as-new links
each run to the one before), decoded with the client's data converter (which decrypts the
payloads), and rendered as a timeline: who did what, when, in which unit, with which
outcome. The entries the workflow handed to the projection (the inputs of its completed
`record_dossier_events` activities) are then compared with the audit rows, and every
disagreement is reported. Updates refused by a validator never reach the history (that is
the point of validators), so only updates whose handler failed show as rejected. Personal
data of the applicant is left out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, computed_field
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.converter import DataConverter

from audit.verify import AuditEntry, audit_trail
from model.dossier_inputs import DossierInput
from model.dossier_state import TimelineEntry
from model.projection import RecordEventsInput
from records.database import RecordsStore

__all__ = [
    "AuditorHistory",
    "Disagreement",
    "HistoryItem",
    "dossier_history",
    "read_timeline",
    "render_history",
    "timeline_line",
]

RECORD_ACTIVITY = "record_dossier_events"
DisagreementKind = Literal["missing_in_audit", "missing_in_temporal", "differs", "action_not_recorded"]


class HistoryItem(BaseModel):
    """One line of the readable timeline."""

    run: int
    event_id: int
    at: AwareDatetime
    what: str  # received, an update's name, deadline timer, continued as new, closed...
    actor_id: str = ""
    actor_roles: tuple[str, ...] = ()
    actor_unit: str = ""
    outcome: str = ""  # accepted, rejected: why, repeated (no effect)...
    details: dict[str, str] = {}


class Disagreement(BaseModel):
    kind: DisagreementKind
    seq: int | None = None
    action_id: str | None = None
    detail: str


class AuditorHistory(BaseModel):
    code: str
    runs: int
    status: str  # of the latest run: RUNNING, COMPLETED, TERMINATED...
    items: list[HistoryItem]
    projected: int  # entries Temporal handed to the projection (completed activities)
    audit: list[AuditEntry]
    disagreements: list[Disagreement]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def agrees(self) -> bool:
        return not self.disagreements


async def dossier_history(client: Client, store: RecordsStore, code: str) -> AuditorHistory:
    """Fetch every run of dossier `code` from Temporal and compare it with its audit trail.

    Raises temporalio.service.RPCError (NOT_FOUND) if Temporal knows no such workflow.
    """
    runs = await _fetch_runs(client, code)
    reader = await _read(client.data_converter, runs)
    status = (await client.get_workflow_handle(code).describe()).status
    audit = await audit_trail(store, code)
    return AuditorHistory(
        code=code,
        runs=len(runs),
        status=status.name if status is not None else "UNKNOWN",
        items=reader.items,
        projected=len(reader.projected),
        audit=audit,
        disagreements=_compare(reader, audit),
    )


async def read_timeline(converter: DataConverter, runs: list[list[HistoryEvent]]) -> list[HistoryItem]:
    """The readable timeline of a dossier's runs (oldest first), e.g. of a recorded history."""
    return (await _read(converter, runs)).items


async def _read(converter: DataConverter, runs: list[list[HistoryEvent]]) -> _Reader:
    reader = _Reader(converter)
    for number, events in enumerate(runs, start=1):
        await reader.read(number, events)
    return reader


async def _fetch_runs(client: Client, code: str) -> list[list[HistoryEvent]]:
    """Every run's events, oldest run first."""
    runs: list[list[HistoryEvent]] = []
    run_id: str | None = None
    while True:
        history = await client.get_workflow_handle(code, run_id=run_id).fetch_history()
        events = list(history.events)
        runs.insert(0, events)
        previous = events[0].workflow_execution_started_event_attributes.continued_execution_run_id
        if not previous:
            return runs
        run_id = previous


def _at(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(tzinfo=UTC)


class _Reader:
    """Walks the events of each run, building the timeline and what was projected."""

    def __init__(self, converter: DataConverter) -> None:
        self._converter = converter
        self.items: list[HistoryItem] = []
        self.projected: dict[int, TimelineEntry] = {}  # seq -> entry, activity completed
        self.in_flight: dict[int, TimelineEntry] = {}  # scheduled, not (yet) completed
        self.accepted_actions: dict[str, HistoryItem] = {}  # action id -> first accepted update

    async def _decode(self, payloads, hint: type | None = None) -> Any:
        if not payloads.payloads:
            return None
        values = await self._converter.decode(list(payloads.payloads), [hint] if hint else None)
        return values[0]

    async def read(self, run: int, events: list[HistoryEvent]) -> None:
        scheduled: dict[int, list[TimelineEntry]] = {}
        # Update id -> item (the time-skipping server leaves accepted_event_id at 0).
        updates: dict[str, HistoryItem] = {}
        for event in events:
            kind = event.event_type
            if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                await self._started(run, event)
            elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                attrs = event.workflow_execution_update_accepted_event_attributes
                updates[attrs.accepted_request.meta.update_id] = await self._update_accepted(run, event)
            elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
                self._update_completed(event, updates)
            elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_REJECTED:
                rejected = event.workflow_execution_update_rejected_event_attributes
                self.items.append(
                    HistoryItem(
                        run=run,
                        event_id=event.event_id,
                        at=_at(event),
                        what=rejected.rejected_request.input.name,
                        outcome=f"rejected: {rejected.failure.message}",
                    )
                )
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                activity_task = event.activity_task_scheduled_event_attributes
                if activity_task.activity_type.name == RECORD_ACTIVITY:
                    batch = await self._decode(activity_task.input, RecordEventsInput)
                    scheduled[event.event_id] = batch.entries
                    for entry in batch.entries:
                        self.in_flight[entry.seq] = entry
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                for entry in scheduled.pop(
                    event.activity_task_completed_event_attributes.scheduled_event_id, []
                ):
                    self.projected[entry.seq] = entry
                    self.in_flight.pop(entry.seq, None)
            elif kind == EventType.EVENT_TYPE_TIMER_FIRED:
                self.items.append(
                    HistoryItem(run=run, event_id=event.event_id, at=_at(event), what="deadline timer fired")
                )
            elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW:
                self.items.append(
                    HistoryItem(
                        run=run,
                        event_id=event.event_id,
                        at=_at(event),
                        what="continued as new",
                        outcome=f"run {run + 1}",
                    )
                )
            elif kind in _CLOSINGS:
                self.items.append(
                    HistoryItem(run=run, event_id=event.event_id, at=_at(event), what=_CLOSINGS[kind])
                )

    async def _started(self, run: int, event: HistoryEvent) -> None:
        dossier: DossierInput = await self._decode(
            event.workflow_execution_started_event_attributes.input, DossierInput
        )
        if dossier.carried_state is not None:
            self.items.append(
                HistoryItem(
                    run=run,
                    event_id=event.event_id,
                    at=_at(event),
                    what="run started",
                    details={"carried_timeline_entries": str(len(dossier.carried_state.timeline))},
                )
            )
            return
        by = dossier.received_by
        self.items.append(
            HistoryItem(
                run=run,
                event_id=event.event_id,
                at=_at(event),
                # Submitted online: received only at the counter's check (an update, below).
                what="received" if dossier.online is None else "registered online",
                actor_id=by.id,
                actor_roles=tuple(r.value for r in by.roles),
                actor_unit=by.unit,
                outcome="accepted",
                details={
                    "procedure_version": dossier.procedure.version_id,
                    "channel": dossier.channel.value,
                    "receiving_unit": dossier.receiving_unit.code,
                    "handling_unit": dossier.handling_unit.code,
                    "received_at": dossier.received_at.isoformat(),
                    "due_at": dossier.due_at.isoformat(),
                },
            )
        )

    async def _update_accepted(self, run: int, event: HistoryEvent) -> HistoryItem:
        request = event.workflow_execution_update_accepted_event_attributes.accepted_request
        arguments = await self._decode(request.input.args)
        if not isinstance(arguments, dict):
            arguments = {}
        actor_id, roles, unit = _actor(arguments)
        item = HistoryItem(
            run=run,
            event_id=event.event_id,
            at=_at(event),
            what=request.input.name,
            actor_id=actor_id,
            actor_roles=roles,
            actor_unit=unit,
            outcome="pending",
            details={k: _text(v) for k, v in arguments.items()},
        )
        self.items.append(item)
        return item

    def _update_completed(self, event: HistoryEvent, updates: dict[str, HistoryItem]) -> None:
        attrs = event.workflow_execution_update_completed_event_attributes
        item = updates.get(attrs.meta.update_id)
        if item is None:
            return
        if attrs.outcome.HasField("failure"):
            item.outcome = f"rejected: {attrs.outcome.failure.message}"
            return
        action_id = item.details.get("action_id")
        if action_id and action_id in self.accepted_actions:
            item.outcome = "repeated (no effect)"
        else:
            item.outcome = "accepted"
            if action_id:
                self.accepted_actions[action_id] = item


_CLOSINGS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: "closed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: "terminated",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "failed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: "cancelled",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: "timed out",
}


def _actor(arguments: dict[str, Any]) -> tuple[str, tuple[str, ...], str]:
    """Who sent an update: (id, roles, unit), taken out of its arguments.

    An officer's action carries an `Actor` object; a transfer carries only its kind
    ("system" or "operator") with the id beside it, and no unit: the carryover or an
    operator acts for no unit. The kind stands in as the role, as on the timeline entry.
    """
    actor = arguments.pop("actor", None)
    if isinstance(actor, dict):
        return str(actor.get("id", "")), tuple(actor.get("roles", ())), str(actor.get("unit", ""))
    if isinstance(actor, str):
        return str(arguments.pop("actor_id", actor)), (actor,), ""
    return "", (), ""


def _text(value: Any) -> str:
    """An argument as one line: a unit by its code, a mapping as `key: value` pairs."""
    if value is None:
        return ""
    if isinstance(value, dict):
        if "code" in value:
            return str(value["code"])
        return ", ".join(f"{k}: {_text(v)}" for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return ", ".join(map(_text, value))
    return str(value)


def _compare(reader: _Reader, audit: list[AuditEntry]) -> list[Disagreement]:
    found: list[Disagreement] = []
    rows = {row.seq: row for row in audit}
    for seq, entry in sorted(reader.projected.items()):
        row = rows.get(seq)
        if row is None:
            found.append(
                Disagreement(
                    kind="missing_in_audit",
                    seq=seq,
                    action_id=entry.action_id,
                    detail=f"Temporal recorded {entry.action} (seq {seq}); the audit trail has no row",
                )
            )
        elif (stored := row.entry()) is None or stored.as_recorded() != entry.as_recorded():
            found.append(
                Disagreement(
                    kind="differs",
                    seq=seq,
                    action_id=entry.action_id,
                    detail=f"the audit row of seq {seq} is not the entry Temporal recorded ({entry.action})",
                )
            )
    for seq, row in sorted(rows.items()):
        if seq not in reader.projected and seq not in reader.in_flight:
            found.append(
                Disagreement(
                    kind="missing_in_temporal",
                    seq=seq,
                    action_id=row.action_id,
                    detail=f"audit row {row.action} (seq {seq}) matches nothing Temporal recorded",
                )
            )
    audited = {row.action_id for row in audit if row.action_id}
    pending = {e.action_id for e in reader.in_flight.values() if e.action_id}
    for action_id, item in reader.accepted_actions.items():
        if action_id not in audited and action_id not in pending:
            found.append(
                Disagreement(
                    kind="action_not_recorded",
                    action_id=action_id,
                    detail=f"{item.what} by {item.actor_id} at {item.at.isoformat()} was accepted"
                    " in Temporal; no audit row has its action id",
                )
            )
    return found


def timeline_line(item: Any, what: str, tz=None) -> str:
    """One item of a timeline read from Temporal (a dossier's or a group's) as a line of text:
    the moment, `what`, who sent it and from where, its outcome and its details."""
    at = item.at.astimezone(tz) if tz else item.at
    who = item.actor_id or "system"
    if item.actor_roles and item.actor_roles != (item.actor_id,):
        who += f" ({', '.join(item.actor_roles)})"
    if item.actor_unit:
        who += f" at {item.actor_unit}"
    details = ", ".join(f"{k}={v}" for k, v in item.details.items() if k != "action_id" and v)
    line = f"{at:%Y-%m-%d %H:%M:%S%z}  {what} {who}"
    if item.outcome:
        line += f"  -> {item.outcome}"
    if details:
        line += f"  [{details}]"
    return line


def render_history(history: AuditorHistory, tz=None) -> str:
    """The timeline as text, one line per item, then the comparison with the audit trail."""
    lines = [f"dossier {history.code}: {history.runs} run(s), {history.status}"]
    for item in history.items:
        lines.append(timeline_line(item, f"run {item.run}  {item.what:<20}", tz))
    lines.append(
        f"audit trail: {len(history.audit)} row(s); Temporal handed {history.projected} to the projection"
    )
    if history.agrees:
        lines.append("the audit trail agrees with Temporal's history")
    for d in history.disagreements:
        lines.append(f"DISAGREEMENT {d.kind}: {d.detail}")
    return "\n".join(lines)
