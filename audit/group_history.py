"""An interlinked group's history for auditors: its GroupWorkflow's Temporal history, readable.

The group's history is the source of truth for the group as a dossier's is for the dossier:
it is read as a timeline (received, each member started and finished, each change a member
reported, pauses, withdrawal, return, the deadline timer, apologies; a member handed to a
partner's system: its submission and the partner's decision, or its rejection) decoded with the client's data
converter, and each member is summed up with where its own history is read
(`starter.py history MEMBER`, `GET /audit/dossiers/MEMBER/history`). A group has no
hash-chained audit trail of its own (its members have theirs): nothing is compared here.
Personal data of the applicant is left out.
"""

from __future__ import annotations

from typing import Any

from pydantic import AwareDatetime, BaseModel
from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent
from temporalio.client import Client
from temporalio.converter import DataConverter

from activities.partners import PARTNER_REJECTED, rejection_details
from audit.history import (
    _CLOSINGS,
    AuditorHistory,
    HistoryItem,
    _at,
    _fetch_runs,
    _Reader,
    dossier_history,
    timeline_line,
)
from records.database import RecordsStore
from workflows.group_models import GroupInput, MemberReport

__all__ = [
    "GROUP_WORKFLOW",
    "GroupHistory",
    "MemberSummary",
    "history_of",
    "read_group_history",
    "render_group_history",
]

GROUP_WORKFLOW = "GroupWorkflow"
# Member entries the group's timeline names in words of their own (the rest keep the member's).
_REPORTED = {
    "supplement_requested": "paused: member asked for supplementation",
    "supplemented": "member supplemented",
    "processed": "member processed",
    "refused": "member refused",
    "withdrawn": "member withdrawn",
    "apology_issued": "apology (form 04)",
    "result_returned": "member returned",
}


class MemberSummary(BaseModel):
    key: str
    code: str
    procedure_code: str
    agency: str
    handling_unit: str
    started_at: AwareDatetime | None = None
    status: str = "waiting"  # the last status it reported; waiting if never started
    finished_at: AwareDatetime | None = None  # its workflow completed (a partner's: decided)
    history: str  # where its own history is read
    partner: str = ""  # the partner's system that did it (no history of its own here)


class GroupHistory(BaseModel):
    code: str
    kind: str = "group"
    group_code: str
    version_id: str
    status: str  # Temporal's: RUNNING, COMPLETED, TERMINATED...
    items: list[HistoryItem]
    members: list[MemberSummary]


async def history_of(client: Client, store: RecordsStore, code: str) -> AuditorHistory | GroupHistory:
    """The history of `code`: a group's when it names a GroupWorkflow, else a dossier's.

    Raises temporalio.service.RPCError (NOT_FOUND) if Temporal knows no such workflow.
    """
    description = await client.get_workflow_handle(code).describe()
    if description.workflow_type != GROUP_WORKFLOW:
        return await dossier_history(client, store, code)
    [events] = await _fetch_runs(client, code)  # a group never continues as new
    history = await read_group_history(client.data_converter, events)
    status = description.status
    return history.model_copy(update={"status": status.name if status is not None else "UNKNOWN"})


async def read_group_history(converter: DataConverter, events: list[HistoryEvent]) -> GroupHistory:
    """The readable history of a GroupWorkflow's run, e.g. of a recorded history."""
    reader = _GroupReader(converter)
    await reader.read(1, events)
    assert reader.group is not None, "a group's history starts with its input"
    return GroupHistory(
        code=reader.group.code,
        group_code=reader.group.group_code,
        version_id=reader.group.version_id,
        status="COMPLETED" if reader.closed else "RUNNING",
        items=reader.items,
        members=list(reader.members.values()),
    )


class _GroupReader(_Reader):
    """Walks a group's events; updates (withdraw, return_result) read as a dossier's do."""

    def __init__(self, converter: DataConverter) -> None:
        super().__init__(converter)
        self.group: GroupInput | None = None
        self.members: dict[str, MemberSummary] = {}  # by member code
        self.closed = False

    async def read(self, run: int, events: list[HistoryEvent]) -> None:
        updates: dict[str, HistoryItem] = {}
        children: dict[int, str] = {}  # initiated event id -> member code
        partner_calls: dict[int, tuple[str, str]] = {}  # scheduled event id -> (activity, member code)
        for event in events:
            kind = event.event_type
            if kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
                await self._group_started(event)
            elif kind == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
                code = event.start_child_workflow_execution_initiated_event_attributes.workflow_id
                children[event.event_id] = code
                self._member_item(event, code, "member started", status="processing")
                self.members[code].started_at = _at(event)
            elif kind == EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED:
                completed = event.child_workflow_execution_completed_event_attributes
                code = children.get(completed.initiated_event_id, "")
                result = await self._decode(completed.result)
                status = str(result.get("status", "")) if isinstance(result, dict) else ""
                self._member_item(event, code, "member finished", outcome=status)
                if code in self.members:
                    self.members[code].finished_at = _at(event)
            elif kind in _CHILD_ENDINGS:
                code = _child_code(event, kind)
                self._member_item(event, code, f"member {_CHILD_ENDINGS[kind]}")
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
                await self._partner_called(event, partner_calls)
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
                await self._partner_answered(event, partner_calls)
            elif kind == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
                await self._partner_rejected(event, partner_calls)
            elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
                await self._signalled(event)
            elif kind == EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
                signal = event.signal_external_workflow_execution_initiated_event_attributes
                command = await self._decode(signal.input)
                asked = next((k for k, v in command.items() if v), "") if isinstance(command, dict) else ""
                self._member_item(event, signal.workflow_execution.workflow_id, f"group asks member: {asked}")
            elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
                accepted = event.workflow_execution_update_accepted_event_attributes
                updates[accepted.accepted_request.meta.update_id] = await self._update_accepted(run, event)
            elif kind == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED:
                self._update_completed(event, updates)
            elif kind == EventType.EVENT_TYPE_TIMER_FIRED:
                self.items.append(
                    HistoryItem(run=run, event_id=event.event_id, at=_at(event), what="deadline timer fired")
                )
            elif kind in _CLOSINGS:
                self.closed = True
                self.items.append(
                    HistoryItem(run=run, event_id=event.event_id, at=_at(event), what=_CLOSINGS[kind])
                )

    async def _group_started(self, event: HistoryEvent) -> None:
        group: GroupInput = await self._decode(
            event.workflow_execution_started_event_attributes.input, GroupInput
        )
        self.group = group
        for plan in group.members:
            self.members[plan.code] = MemberSummary(
                key=plan.key,
                code=plan.code,
                procedure_code=plan.procedure.procedure_code,
                agency=plan.agency,
                handling_unit=plan.handling_unit.code,
                history=f"/audit/dossiers/{plan.code}/history",
            )
        by = group.received_by
        self.items.append(
            HistoryItem(
                run=1,
                event_id=event.event_id,
                at=_at(event),
                # Submitted online: received only at the counter's check (an update, below).
                what="received" if group.online is None else "registered online",
                actor_id=by.id,
                actor_roles=tuple(r.value for r in by.roles),
                actor_unit=by.unit,
                outcome="accepted",
                details={
                    "group": group.group_code,
                    "version": group.version_id,
                    "receiving_unit": group.receiving_unit.code,
                    "received_at": group.received_at.isoformat(),
                    "due_at": group.due_at.isoformat(),
                    "members": ", ".join(f"{m.key} {m.code} @{m.handling_unit.code}" for m in group.members),
                },
            )
        )

    async def _partner_called(self, event: HistoryEvent, calls: dict[int, tuple[str, str]]) -> None:
        """A member handed to its partner's system: the submission is its start."""
        attrs = event.activity_task_scheduled_event_attributes
        name = attrs.activity_type.name
        if name not in _PARTNER_ACTIVITIES:
            return
        request = await self._decode(attrs.input)
        request = request if isinstance(request, dict) else {}
        code = str(request.get("member_code") or request.get("submission", {}).get("member_code", ""))
        calls[event.event_id] = (name, code)
        summary = self.members.get(code)
        if name == "submit_to_partner" and summary is not None and self.group is not None:
            plan = next(p for p in self.group.members if p.code == code)
            summary.partner = plan.partner.system if plan.partner else str(request.get("agency", ""))
            summary.started_at = _at(event)
            summary.history = f"the partner's system at {summary.partner}"
            self._member_item(
                event, code, "member started", status="processing", details={"partner": summary.partner}
            )

    async def _partner_answered(self, event: HistoryEvent, calls: dict[int, tuple[str, str]]) -> None:
        completed = event.activity_task_completed_event_attributes
        name, code = calls.get(completed.scheduled_event_id, ("", ""))
        if not name:
            return
        answer = await self._decode(completed.result)
        answer = answer if isinstance(answer, dict) else {}
        summary = self.members.get(code)
        actor = self._partner_actor(code)
        if name == "submit_to_partner":
            details = {"reference": str(answer.get("reference", ""))}
            self._member_item(event, code, "member submitted to partner", actor_id=actor, details=details)
            return
        state = str(answer.get("state", ""))
        what = {"processed": "member processed", "refused": "member refused"}.get(state, f"member {state}")
        self._member_item(event, code, what, actor_id=actor, status=state)
        self._member_item(event, code, "member finished", outcome=state)
        if summary is not None:
            summary.finished_at = _at(event)

    async def _partner_rejected(self, event: HistoryEvent, calls: dict[int, tuple[str, str]]) -> None:
        """The partner's system rejected the call for good (PartnerRejected): the member refused.
        Other failures of these activities are retried attempts, never events."""
        failed = event.activity_task_failed_event_attributes
        name, code = calls.get(failed.scheduled_event_id, ("", ""))
        if not name or failed.failure.application_failure_info.type != PARTNER_REJECTED:
            return
        error = await self._converter.decode_failure(failed.failure)
        status, reason = rejection_details(getattr(error, "details", ()))
        http_status = "" if status is None else str(status)
        details = {"call": name, "http_status": http_status} | ({"reason": str(reason)} if reason else {})
        self._member_item(
            event,
            code,
            "member refused",
            actor_id=self._partner_actor(code),
            status="refused",
            details=details,
        )
        self._member_item(event, code, "member finished", outcome="refused")
        if code in self.members:
            self.members[code].finished_at = _at(event)

    def _partner_actor(self, code: str) -> str:
        """As the group's own timeline names the partner: by its agency kind."""
        plan = next((p for p in self.group.members if p.code == code), None) if self.group else None
        return f"partner:{plan.partner.agency}" if plan and plan.partner else "partner"

    async def _signalled(self, event: HistoryEvent) -> None:
        attrs = event.workflow_execution_signaled_event_attributes
        if attrs.signal_name != "member_changed":
            self.items.append(
                HistoryItem(run=1, event_id=event.event_id, at=_at(event), what=f"signal {attrs.signal_name}")
            )
            return
        report: MemberReport = await self._decode(attrs.input, MemberReport)
        summary = self.members.get(report.code)
        if summary is not None:
            summary.status = report.status.value
        for entry in report.entries:
            self._member_item(
                event,
                report.code,
                _REPORTED.get(entry.action, f"member {entry.action}"),
                actor_id=entry.actor_id,
                actor_roles=entry.actor_roles,
                actor_unit=entry.actor_unit,
                details={"member_seq": str(entry.seq), "status": entry.status_after.value}
                | ({"step": entry.step_id} if entry.step_id else {})
                | ({k: v for k, v in entry.details.items() if k in ("new_due_at", "documents")}),
            )

    def _member_item(self, event: HistoryEvent, code: str, what: str, **fields: Any) -> None:
        status = fields.pop("status", None)
        summary = self.members.get(code)
        if summary is not None and status:
            summary.status = status
        details = {"member": summary.key if summary else "", "code": code} | fields.pop("details", {})
        self.items.append(
            HistoryItem(
                run=1,
                event_id=event.event_id,
                at=_at(event),
                what=what,
                actor_unit=fields.pop("actor_unit", summary.handling_unit if summary else ""),
                details=details,
                **fields,
            )
        )


_PARTNER_ACTIVITIES = frozenset({"submit_to_partner", "partner_outcome"})
_CHILD_ENDINGS = {
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED: "failed",
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED: "terminated",
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_CANCELED: "cancelled",
    EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TIMED_OUT: "timed out",
    EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED: "not started",
}


def _child_code(event: HistoryEvent, kind: Any) -> str:
    for name in (
        "child_workflow_execution_failed_event_attributes",
        "child_workflow_execution_terminated_event_attributes",
        "child_workflow_execution_canceled_event_attributes",
        "child_workflow_execution_timed_out_event_attributes",
    ):
        if event.HasField(name):
            return getattr(event, name).workflow_execution.workflow_id
    if event.HasField("start_child_workflow_execution_failed_event_attributes"):
        return event.start_child_workflow_execution_failed_event_attributes.workflow_id
    return ""


def render_group_history(history: GroupHistory, tz=None) -> str:
    """The group's timeline as text, one line per item, then each member and its own history."""
    lines = [f"group {history.code} ({history.group_code}, {history.version_id}): {history.status}"]
    for item in history.items:
        lines.append(timeline_line(item, f"{item.what:<38}", tz))
    lines.append("members (each one's own history: starter.py history CODE):")
    for m in history.members:
        finished = f", finished {m.finished_at.astimezone(tz):%Y-%m-%d %H:%M}" if m.finished_at else ""
        lines.append(f"  {m.key:<18} {m.code}  {m.procedure_code}  {m.handling_unit}  {m.status}{finished}")
    return "\n".join(lines)
