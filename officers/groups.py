"""Interlinked groups as the entry points see them: who may read a group, reading and acting.

One home for the API's and the CLI's group commands: both call these.
"""

from __future__ import annotations

from typing import Any

from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from model.dossier_inputs import Actor, ReceiveOnlineInput, RefuseOnlineInput, RequestOnlineCompletionInput
from model.errors import ErrorType
from officers.acting import ActionForbidden
from officers.policy import Refusal, may_receive
from procedures.models import Role
from workflows.group import GroupWorkflow
from workflows.group_models import GroupCompleteOnlineInput, GroupReturnInput, GroupView, GroupWithdrawInput
from workflows.group_rules import ALLOWED_STATUSES, GroupAction

__all__ = [
    "GROUP_ACTIONS",
    "NotAGroup",
    "act_on_group",
    "available_group_actions",
    "may_read_group",
    "read_group",
]

# The counter's actions on a group (the online completion is the online service's own route).
GROUP_ACTIONS: dict[str, type[GroupAction]] = {
    "withdraw": GroupWithdrawInput,
    "return_result": GroupReturnInput,
    "receive_online": ReceiveOnlineInput,
    "request_online_completion": RequestOnlineCompletionInput,
    "refuse_online": RefuseOnlineInput,
}
_UPDATES = {
    GroupWithdrawInput: GroupWorkflow.withdraw,
    GroupReturnInput: GroupWorkflow.return_result,
    ReceiveOnlineInput: GroupWorkflow.receive_online,
    RequestOnlineCompletionInput: GroupWorkflow.request_online_completion,
    RefuseOnlineInput: GroupWorkflow.refuse_online,
    GroupCompleteOnlineInput: GroupWorkflow.complete_online,
}


def may_read_group(officer: Actor, view: GroupView) -> Refusal | None:
    """Auditors read every group; the receiving counter's officers and those of every member's
    agency read it too (each agency still acts only on its own member)."""
    units = {view.receiving_unit, *(m.handling_unit for m in view.members)}
    if Role.AUDITOR in officer.roles or officer.unit in units:
        return None
    return Refusal(
        ErrorType.WRONG_UNIT, f"officer {officer.id} of {officer.unit} may not read group {view.code}"
    )


def available_group_actions(officer: Actor, view: GroupView) -> list[str]:
    """The group actions this officer may take now, by the workflow's own rule table: a counter
    officer of the receiving counter, in the statuses each action is allowed in (the workflow's
    validator still has the last word)."""
    if may_receive(officer, view.receiving_unit) is not None:
        return []
    return [name for name, model in GROUP_ACTIONS.items() if view.status in ALLOWED_STATUSES[model]]


class NotAGroup(LookupError):
    """The code names no interlinked group (perhaps a single dossier, or nothing)."""


async def _group_handle(client: Client, code: str):
    """The group's handle, once Temporal says `code` is a GroupWorkflow: a dossier's updates
    share names with the group's (withdraw, return_result), and must never be reached here."""
    handle = client.get_workflow_handle_for(GroupWorkflow.run, code)
    try:
        description = await handle.describe()
    except RPCError as err:
        if err.status is RPCStatusCode.NOT_FOUND:
            raise NotAGroup(f"no group {code}") from err
        raise
    if description.workflow_type != "GroupWorkflow":
        raise NotAGroup(f"no group {code}")
    return handle


async def read_group(client: Client, code: str) -> GroupView:
    return await (await _group_handle(client, code)).query(GroupWorkflow.view)


async def act_on_group(client: Client, code: str, action: GroupAction) -> GroupView:
    """One of the group's actions; ActionForbidden with the validator's reason."""
    handle = await _group_handle(client, code)
    update: Any = _UPDATES[type(action)]
    try:
        return await handle.execute_update(update, action, id=action.action_id)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        if isinstance(cause, ApplicationError) and cause.type in set(ErrorType):
            raise ActionForbidden(Refusal(ErrorType(cause.type), cause.message)) from err
        raise
