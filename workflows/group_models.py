"""Messages into and out of a GroupWorkflow, its state, and what members tell their group.

A module of its own, passed through the sandbox, so the models are built once per process.
New fields get defaults so recorded histories still decode.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from model.dossier_inputs import (
    ActionInput,
    Actor,
    Applicant,
    OnlineSubmission,
    ReturnResultInput,
    SubmittedDocument,
    Unit,
    WithdrawInput,
)
from model.dossier_state import DossierStatus, TimelineEntry
from model.input_bounds import MAX_LIST_ITEMS
from model.queue_routing import QueueRouting
from procedures.models import Channel, ProcedureVersion

__all__ = [
    "GROUP_NOT_YET_RECEIVED",
    "GroupCompleteOnlineInput",
    "GroupEntry",
    "GroupInput",
    "GroupMemberCommand",
    "GroupReturnInput",
    "GroupState",
    "GroupStatus",
    "GroupView",
    "GroupWithdrawInput",
    "MemberPlan",
    "MemberReport",
    "MemberState",
    "MemberStatus",
    "PartnerHandover",
]


class _Message(BaseModel):
    # Errors never quote the input: it may be an applicant's personal data (and it is logged).
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class PartnerHandover(_Message):
    """A member whose agency runs a system of its own: handed to that system (through the
    activities of activities/partners.py), not started as a dossier here. Pinned at receipt."""

    agency: str  # the agency kind whose system it is (the worker's PartnerDirectory key)
    system: str  # where that system is (its base URL): the partner named in view and timeline
    # The first wait between two questions to the system, doubling up to poll_max.
    poll_every: timedelta = timedelta(minutes=1)
    poll_max: timedelta = timedelta(hours=1)


class MemberPlan(_Message):
    """One member as the group will start it: its own code, pinned version and handling unit."""

    key: str
    code: str = Field(min_length=1, max_length=100)
    procedure: ProcedureVersion
    agency: str
    handling_unit: Unit
    depends_on: tuple[str, ...] = ()
    documents: tuple[SubmittedDocument, ...] = ()
    channel: Channel = Channel.COUNTER
    # Set when the member's agency runs its own system (runtime.partner_settings): the group
    # hands the member to it instead of starting a child dossier.
    partner: PartnerHandover | None = None


class GroupInput(_Message):
    code: str = Field(min_length=1, max_length=100)
    group_code: str
    group_name: str
    version_id: str
    decision: str = ""
    applicant: Applicant
    receiving_unit: Unit
    received_by: Actor
    received_at: AwareDatetime
    due_at: AwareDatetime
    channel: Channel = Channel.COUNTER
    request_id: str | None = None
    members: tuple[MemberPlan, ...] = Field(min_length=1)
    # Set for a group submitted online: it waits in status 1 for the counter's check, `received_at`
    # is the submission and `due_at` the check's deadline; the group's limit travels here.
    online: OnlineSubmission | None = None
    # The queue intake started the group on (None: started before queues were recorded, on the
    # shared one), and the task queues by province its members' dossiers go to (None: every
    # member on the group's queue). The workflow reads both from here, never from settings.
    task_queue: str | None = None
    task_queues: QueueRouting | None = None


class GroupStatus(StrEnum):
    PROCESSING = "processing"
    PAUSED = "supplement_requested"  # a member waits for the applicant: the group's clock stops
    PROCESSED = "processed"  # every member settled, at least one with a result
    RETURNED = "returned"
    REFUSED = "refused"  # every member settled, none with a result
    WITHDRAWN = "withdrawn"
    # Submitted online, as a single dossier is (DossierStatus): no member starts before receipt.
    REGISTERED_ONLINE = "registered_online"
    ONLINE_INCOMPLETE = "online_incomplete"  # form 02: the applicant completes it online
    NOT_RECEIVED = "not_received"  # form 03 at the counter's check


GROUP_TERMINAL = frozenset(
    {GroupStatus.RETURNED, GroupStatus.REFUSED, GroupStatus.WITHDRAWN, GroupStatus.NOT_RECEIVED}
)
GROUP_NOT_YET_RECEIVED = frozenset({GroupStatus.REGISTERED_ONLINE, GroupStatus.ONLINE_INCOMPLETE})


class MemberStatus(StrEnum):
    """A member's place in the group: waiting for the results it needs, or its dossier's status."""

    WAITING = "waiting"
    STOPPED = "stopped"  # never started: a member it needs was refused, or the group withdrawn


class MemberState(BaseModel):
    key: str
    code: str
    procedure_code: str
    handling_unit: str
    handling_unit_name: str = ""
    # MemberStatus while not started, else the dossier's own status.
    status: str = MemberStatus.WAITING.value
    started_at: AwareDatetime | None = None
    due_at: AwareDatetime | None = None
    overdue: bool = False
    resolved_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    outcome_reason: str = ""
    paused_since: AwareDatetime | None = None
    # Timeline entries of the member's dossier the group has seen (by seq).
    seen_seq: int = 0
    apologised: bool = False
    told: bool = False  # the group asked it to withdraw or return its result
    finished: bool = False  # its workflow has completed (a partner's member: it was decided)
    # A member handed to a partner's system: the system (its base URL), the member's reference
    # there, and the reference of its result (passed to the members that need it).
    partner: str = ""
    partner_reference: str = ""
    result_reference: str = ""

    @property
    def settled(self) -> bool:
        """Nothing more will come of it for the group's answer: a result, a refusal, a stop."""
        return self.status in {
            DossierStatus.PROCESSED.value,
            DossierStatus.RETURNED.value,
            DossierStatus.REFUSED.value,
            DossierStatus.WITHDRAWN.value,
            MemberStatus.STOPPED.value,
        }

    @property
    def open(self) -> bool:
        return self.started_at is not None and not self.settled


class GroupEntry(BaseModel):
    """One line of the group's timeline: what the applicant and the auditors see of the group."""

    seq: int
    at: AwareDatetime
    action: str
    actor_id: str = "system"
    member: str | None = None
    unit: str | None = None
    note: str = ""
    details: dict[str, str] = Field(default_factory=dict)


class GroupState(BaseModel):
    status: GroupStatus = GroupStatus.PROCESSING
    due_at: AwareDatetime
    overdue: bool = False
    apology_due: bool = False
    overdue_due_at: AwareDatetime | None = None  # the due moment last found passed
    late_members: list[str] = Field(default_factory=list)
    paused_since: AwareDatetime | None = None
    paused_working_time: timedelta = timedelta(0)
    members: dict[str, MemberState] = Field(default_factory=dict)
    timeline: list[GroupEntry] = Field(default_factory=list)
    applied_actions: dict[str, str] = Field(default_factory=dict)
    resolved_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    # An online group: its counter's receipt (None: received at the start), whether nobody
    # checked it in time, and the documents the applicant completed online, by member.
    received_at: AwareDatetime | None = None
    check_late: bool = False
    online_asked: tuple[str, ...] = ()  # the documents form 02 asked for
    completed_documents: dict[str, tuple[SubmittedDocument, ...]] = Field(default_factory=dict)

    def add(self, at: datetime, action: str, **fields: Any) -> GroupEntry:
        entry = GroupEntry(seq=len(self.timeline) + 1, at=at, action=action, **fields)
        self.timeline.append(entry)
        return entry


class MemberReport(_Message):
    """What a member dossier tells its group after it changed: its state and its new entries."""

    code: str
    status: DossierStatus
    due_at: AwareDatetime
    overdue: bool
    paused_since: AwareDatetime | None = None
    resolved_at: AwareDatetime | None = None
    closed_at: AwareDatetime | None = None
    outcome_reason: str = ""
    handling_unit: str
    entries: tuple[TimelineEntry, ...] = ()


class GroupMemberCommand(_Message):
    """What a group asks of a member dossier: withdraw it, or return its result, with the
    officer who asked the group (the member is received at the group's counter)."""

    withdraw: WithdrawInput | None = None
    return_result: ReturnResultInput | None = None


class GroupWithdrawInput(ActionInput):
    reason: str = Field(default="applicant's request", max_length=2000)


class GroupReturnInput(ActionInput):
    channel: Channel = Channel.COUNTER


class GroupCompleteOnlineInput(ActionInput):
    """The applicant's online completion of a group (form 02 answered), by member key, each
    document with its uploaded file's reference (`sha256:<hex>`)."""

    documents: dict[str, tuple[SubmittedDocument, ...]] = Field(min_length=1, max_length=10)

    @field_validator("documents")
    @classmethod
    def _bounded(
        cls, documents: dict[str, tuple[SubmittedDocument, ...]]
    ) -> dict[str, tuple[SubmittedDocument, ...]]:
        if any(not 1 <= len(docs) <= MAX_LIST_ITEMS for docs in documents.values()):
            raise ValueError(f"each member lists 1 to {MAX_LIST_ITEMS} documents")
        return documents


class GroupView(BaseModel):
    code: str
    group_code: str
    group_name: str
    version_id: str
    request_id: str | None = None
    status: GroupStatus
    receiving_unit: str
    received_at: AwareDatetime
    due_at: AwareDatetime
    overdue: bool
    apology_due: bool
    late_members: list[str]
    paused_since: AwareDatetime | None
    paused_working_time: timedelta
    resolved_at: AwareDatetime | None
    closed_at: AwareDatetime | None
    members: list[MemberState]
    timeline: list[GroupEntry]
    check_late: bool = False
