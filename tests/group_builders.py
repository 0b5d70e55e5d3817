"""Builders for interlinked groups: a counter that receives groups, and officers doing members."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import datetime

from temporalio.client import Client, WorkflowExecutionStatus, WorkflowHandle
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from adminunits import VN_TZ, AdminUnits, AgencyDirectory
from intake.group_forms import GroupReceipt, GroupRequest
from intake.groups import GroupIntake
from model.dossier_inputs import Actor, CompleteStepInput, SubmittedDocument
from model.queue_routing import QueueRouting
from procedures.calendar import WorkingCalendar
from procedures.catalogue import default_catalogue
from procedures.groups import default_groups
from procedures.models import Channel, Role, StepPlace
from records.database import RecordsStore
from records.dossier_codes import DossierCodeAllocator
from records.lookup_secrets import LookupSecrets
from runtime.partner_settings import PartnerSettings
from tests.builders import APPLICANT, BA_DINH_COUNTER, COUNTER
from workflows.dossier import DossierWorkflow
from workflows.group import GroupWorkflow
from workflows.group_models import GroupView

BA_DINH_POLICE = "000.00004.CA.H01"
HANOI_SOCIAL_INSURANCE = "000.BHXH.00.H01"
BIRTH_DOCUMENTS = {"birth": (SubmittedDocument(id="declaration"), SubmittedDocument(id="birth_certificate"))}
# An online service's identity (its token's unit is not the counter's) and a stored file's reference.
ONLINE_SERVICE = Actor(id="dvc-portal", roles=(Role.ONLINE_SERVICE,), unit="000.00.00.H01")
FILE = "sha256:" + "ab" * 32


async def closed_result(handle: WorkflowHandle, timeout: float = 30):
    """A group's result once it has closed, found by polling its description rather than by
    waiting on `result()`: on the time-skipping server, waiting on a result lets the server skip
    time, firing the group's due timer while the group's last tasks run, a race that server
    intermittently answers by refusing the group's task (then "No completion event found"). A
    group closing on its own needs no time to pass."""
    deadline = asyncio.get_running_loop().time() + timeout
    while (await handle.describe()).status is WorkflowExecutionStatus.RUNNING:
        if asyncio.get_running_loop().time() > deadline:
            history = await handle.fetch_history()
            tail = [
                f"{e.event_id} {e.WhichOneof('attributes')} "
                + (
                    e.workflow_task_failed_event_attributes.failure.message
                    if e.HasField("workflow_task_failed_event_attributes")
                    else ""
                )
                for e in history.events[-25:]
            ]
            raise AssertionError(
                f"{handle.id} still running after {timeout} s; its history ends:\n"
                + "\n".join(tail)
                + await _children_tails(handle, history)
            )
        await asyncio.sleep(0.05)
    return await handle.result()


async def _children_tails(handle: WorkflowHandle, history) -> str:
    """Each member started as a child: its status and its history's last events (where a hang
    stopped, on the member's side)."""
    lines = []
    for event in history.events:
        if not event.HasField("child_workflow_execution_started_event_attributes"):
            continue
        child_id = event.child_workflow_execution_started_event_attributes.workflow_execution.workflow_id
        child = handle._client.get_workflow_handle(child_id)
        status = (await child.describe()).status
        events = (await child.fetch_history()).events
        lines.append(
            f"\nmember {child_id}: {status.name if status else status}, {len(events)} events, ending:"
        )
        lines += [f"  {e.event_id} {e.WhichOneof('attributes')}" for e in events[-12:]]
    return "\n".join(lines)


class GroupDesk:
    """The counter and the officers of Phường Ba Đình, its police and Hà Nội's social insurance."""

    def __init__(
        self,
        env: WorkflowEnvironment,
        task_queue: str,
        records: RecordsStore,
        partners: PartnerSettings | None = None,
        routing: QueueRouting | None = None,
    ) -> None:
        """`routing`: the task queues by province (its default is `task_queue`, the group's)."""
        self.env = env
        self.client: Client = env.client
        self.task_queue = task_queue
        self._now = datetime.now(VN_TZ)
        self.received: list[GroupReceipt] = []
        self.intake = GroupIntake(
            env.client,
            routing or task_queue,
            DossierCodeAllocator(records.engine, records.sessions),
            secrets=LookupSecrets(records.engine, records.sessions),
            catalogue=default_catalogue(),
            groups=default_groups(),
            units=AdminUnits.load(),
            agencies=AgencyDirectory.load(),
            calendar=WorkingCalendar.default(),
            clock=lambda: self._now,
            partners=partners,
        )

    async def receive(self, group_code: str = "LT296.01", **changes) -> GroupReceipt:
        self._now = (await self.env.get_current_time()).astimezone(VN_TZ)
        fields = {
            "group_code": group_code,
            "applicant": APPLICANT,
            "receiving_unit": BA_DINH_COUNTER,
            "documents": BIRTH_DOCUMENTS,
            "received_by": COUNTER,
            "request_id": changes.pop("request_id", None) or str(uuid.uuid4()),
        }
        receipt = await self.intake.receive(GroupRequest(**(fields | changes)))
        assert isinstance(receipt, GroupReceipt), receipt
        self.received.append(receipt)
        return receipt

    async def submit_online(self, check_hours: float = 8.0, **changes) -> GroupReceipt:
        """A group registered online through the intake (the API adds the files' checks)."""
        self._now = (await self.env.get_current_time()).astimezone(VN_TZ)
        documents = {
            key: tuple(d.model_copy(update={"reference": FILE}) for d in docs)
            for key, docs in BIRTH_DOCUMENTS.items()
        }
        fields = {
            "group_code": "LT296.01",
            "applicant": APPLICANT,
            "receiving_unit": BA_DINH_COUNTER,
            "documents": documents,
            "channel": Channel.ONLINE,
            "received_by": ONLINE_SERVICE,
            "request_id": changes.pop("request_id", None) or str(uuid.uuid4()),
        }
        receipt = await self.intake.register_online(GroupRequest(**(fields | changes)), check_hours)
        assert isinstance(receipt, GroupReceipt), receipt
        self.received.append(receipt)
        return receipt

    async def close_open_groups(self, timeout: float = 10) -> None:
        """Terminate the groups this desk received that are still open, once neither they nor
        their members have a task in flight; run it while the worker is still up.

        A group left open keeps a due timer: when a later test's skip fires it, the task it
        schedules on a queue without a worker holds the test server's clock (tests/conftest.py).
        Terminating under a running activity would hold it too, hence the wait."""
        for receipt in self.received:
            group = self.group(receipt.group_dossier_code)
            if (await group.describe()).status is not WorkflowExecutionStatus.RUNNING:
                continue
            handles = [group, *(self.member(m.dossier_code) for m in receipt.members)]
            deadline = asyncio.get_running_loop().time() + timeout
            while not all([await idle(h) for h in handles]):
                if asyncio.get_running_loop().time() > deadline:
                    break  # terminated all the same: better than a group left running
                await asyncio.sleep(0.05)
            try:
                await group.terminate("test finished")  # its members follow (parent close policy)
            except RPCError:
                pass  # it closed meanwhile

    def group(self, code: str) -> WorkflowHandle:
        return self.client.get_workflow_handle_for(GroupWorkflow.run, code)

    def member(self, code: str) -> WorkflowHandle:
        return self.client.get_workflow_handle_for(DossierWorkflow.run, code)

    async def until(
        self, code: str, condition: Callable[[GroupView], bool], timeout: float = 15
    ) -> GroupView:
        deadline = asyncio.get_running_loop().time() + timeout
        view: GroupView | None = None
        while True:
            try:
                view = await self.group(code).query(GroupWorkflow.view)
            except RPCError:
                # A loaded test server can let one query time out ("Timeout expired") while the
                # workflow's task runs; the next poll asks again until the deadline.
                if asyncio.get_running_loop().time() > deadline:
                    raise
            else:
                if condition(view):
                    return view
            if asyncio.get_running_loop().time() > deadline:
                shown = view.model_dump_json(indent=1) if view is not None else "no answer"
                raise AssertionError(f"group never got there: {shown}")
            await asyncio.sleep(0.05)

    async def finished(self, code: str, timeout: float = 30) -> GroupView:
        return await closed_result(self.group(code), timeout)

    async def started(self, code: str, timeout: float = 15) -> None:
        """Wait until member `code` exists: the group shows a member `processing` from the task
        that asks for its start, a moment before the server has started it."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                await self.member(code).describe()
                return
            except RPCError as err:
                if err.status is not RPCStatusCode.NOT_FOUND or asyncio.get_running_loop().time() > deadline:
                    raise
            await asyncio.sleep(0.05)

    async def do_member(self, code: str, unit: str, action_ids: str | None = None) -> None:
        """Every step of a member dossier, each by an officer of the role and unit it needs."""
        handle = self.member(code)
        await self.started(code)
        while (view := await handle.query(DossierWorkflow.view)).current_step is not None:
            step = view.current_step
            where = unit if step.place is StepPlace.HANDLING else BA_DINH_COUNTER
            officer = Actor(id=f"{step.role.value}-1", roles=(step.role,), unit=where)
            await handle.execute_update(
                DossierWorkflow.complete_step,
                CompleteStepInput(
                    actor=officer, action_id=f"{action_ids or uuid.uuid4()}-{step.id}", step_id=step.id
                ),
                id=f"{action_ids}-{step.id}" if action_ids else None,
            )


async def skip_to(env: WorkflowEnvironment, instant: datetime, attempts: int = 5) -> None:
    """Move the time-skipping server's clock to `instant`; a skip that outlasts the call's
    timeout on a loaded machine (it waits for every workflow the skip wakes) is asked again."""
    for _ in range(attempts):
        now = await env.get_current_time()
        if now >= instant:
            return
        try:
            await env.sleep(instant - now)
            return
        except RPCError:
            await asyncio.sleep(0.5)
    raise AssertionError(f"the test server's clock did not reach {instant}")


async def idle(handle: WorkflowHandle) -> bool:
    """True when the workflow is closed, absent, or has neither an activity nor a task pending."""
    try:
        described = (await handle.describe()).raw_description
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            return True
        raise
    if described.workflow_execution_info.status != WorkflowExecutionStatus.RUNNING.value:
        return True
    return not described.pending_activities and not described.HasField("pending_workflow_task")


def member(view: GroupView, key: str):
    return next(m for m in view.members if m.key == key)


def leader(unit: str) -> Actor:
    return Actor(id="leader-1", roles=(Role.LEADER,), unit=unit)
