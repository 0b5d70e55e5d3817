"""Interlinked groups on real processes: SIGKILL the worker while groups start their members,
restart it, and every member is started exactly once (counted from the groups' histories)."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowUpdateFailedError, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

from intake.group_forms import GroupReceipt, GroupRequest
from intake.groups import GroupIntake
from model.dossier_inputs import Actor, CompleteStepInput
from procedures.models import StepPlace
from tests.builders import APPLICANT, BA_DINH_COMMITTEE, BA_DINH_COUNTER, COUNTER
from tests.faults.harness import eventually
from tests.faults.test_faults import Deployment
from tests.group_builders import BA_DINH_POLICE, BIRTH_DOCUMENTS, HANOI_SOCIAL_INSURANCE
from workflows.dossier import DossierWorkflow
from workflows.group import GroupWorkflow
from workflows.group_models import GroupReturnInput, GroupStatus

N = 8
UNITS = {"birth": BA_DINH_COMMITTEE, "residence": BA_DINH_POLICE, "insurance": HANOI_SOCIAL_INSURANCE}
_TRANSIENT = (RPCError, TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError)


async def finish_member(deployment: Deployment, code: str, key: str) -> None:
    """Every step of a member, each with a fixed action id, retried while the worker is away."""
    handle = deployment.client.get_workflow_handle_for(DossierWorkflow.run, code)
    while True:
        try:
            view = await asyncio.wait_for(handle.query(DossierWorkflow.view), 10)
            step = view.current_step
            if step is None:
                return
            unit = UNITS[key] if step.place is StepPlace.HANDLING else BA_DINH_COUNTER
            officer = Actor(id=f"{step.role.value}-1", roles=(step.role,), unit=unit)
            action = CompleteStepInput(actor=officer, action_id=f"{code}-{step.id}", step_id=step.id)
            await asyncio.wait_for(
                handle.execute_update(DossierWorkflow.complete_step, action, id=action.action_id), 20
            )
        except _TRANSIENT:
            await asyncio.sleep(0.3)


async def member_started(deployment: Deployment, code: str, key: str) -> bool:
    view = await deployment.client.get_workflow_handle_for(GroupWorkflow.run, code).query(GroupWorkflow.view)
    return next(m for m in view.members if m.key == key).started_at is not None


async def children_started(deployment: Deployment, code: str) -> list[str]:
    """The member ids the group's history started, one per StartChildWorkflowExecutionInitiated."""
    ids = []
    async for event in deployment.client.get_workflow_handle(code).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
            ids.append(event.start_child_workflow_execution_initiated_event_attributes.workflow_id)
    return ids


class TestGroupFaults:
    @pytest.mark.timeout(300)
    async def test_sigkill_while_groups_start_members_then_each_member_started_once(
        self, deployment: Deployment
    ):
        """Killed while births complete and residences start, restarted: every group ends with its
        three members, each started once, and returns its result."""
        intake = GroupIntake.standard(deployment.client, deployment.task_queue, deployment.records)
        prefix = uuid.uuid4().hex[:6]
        receipts: list[GroupReceipt] = []
        for i in range(N):
            request = GroupRequest(
                group_code="LT296.01",
                applicant=APPLICANT,
                receiving_unit=BA_DINH_COUNTER,
                documents=BIRTH_DOCUMENTS,
                received_by=COUNTER,
                request_id=f"{prefix}-{i}",
            )
            receipt = await intake.receive(request)
            assert isinstance(receipt, GroupReceipt), receipt
            receipts.append(receipt)

        async def births_one_after_another() -> None:
            for r in receipts:
                await finish_member(deployment, r.members[0].dossier_code, "birth")

        # One after another, so that the kill falls while some groups have started their next
        # member, some are between the birth's steps and some have not begun.
        births = [asyncio.create_task(births_one_after_another())]

        async def residences_started() -> int:
            return sum(
                [await member_started(deployment, r.group_dossier_code, "residence") for r in receipts]
            )

        started = await eventually(residences_started, lambda n: n >= 2, 120, "two residences started")
        deployment.worker.kill()
        assert started < N, "every group had started its residence before the kill: make it slower"
        await asyncio.sleep(1)
        await deployment.start_worker()
        await asyncio.wait_for(asyncio.gather(*births), 120)

        for receipt in receipts:
            code = receipt.group_dossier_code
            for member in receipt.members[1:]:
                await eventually(
                    lambda code=code, key=member.key: member_started(deployment, code, key),
                    bool,
                    60,
                    f"{code} {member.key} started",
                )
                await asyncio.wait_for(finish_member(deployment, member.dossier_code, member.key), 120)
            group = deployment.client.get_workflow_handle_for(GroupWorkflow.run, code)
            await eventually(
                lambda group=group: group.query(GroupWorkflow.view),
                lambda v: v.status is GroupStatus.PROCESSED,
                60,
                f"{code} processed",
            )
            try:
                await group.execute_update(
                    GroupWorkflow.return_result, GroupReturnInput(actor=COUNTER, action_id=f"{code}-return")
                )
            except WorkflowUpdateFailedError as err:  # pragma: no cover - says why in the failure
                raise AssertionError(err.cause) from err
            result = await asyncio.wait_for(group.result(), 60)
            assert result.status is GroupStatus.RETURNED
            assert sorted(await children_started(deployment, code)) == sorted(
                m.dossier_code for m in receipt.members
            )
            assert [e.action for e in result.timeline].count("member_started") == 3
