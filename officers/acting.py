"""Doing a human action on a dossier as an authenticated officer: the entry points' one way.

The API and the command line both build the action's input with the officer as its actor,
check it against the dossier's view (`officers.policy`, and a closed dossier), and only then
send the Update, whose validator stays the last word. Each entry point reports a refusal in
its own terms (HTTP status, exit code) and logs it.
"""

from __future__ import annotations

import uuid
from typing import Any

from temporalio.client import Client

from officers.policy import ACTION_INPUTS, Refusal, may_act
from workflows.dossier import DossierWorkflow
from workflows.dossier_inputs import Actor, _Action
from workflows.dossier_state import TERMINAL
from workflows.dossier_view import DossierView
from workflows.errors import ErrorType

__all__ = ["ActionForbidden", "UPDATES", "act", "action_input"]

# Each human action's Update, by the same names as ACTION_INPUTS.
UPDATES = {action: getattr(DossierWorkflow, action) for action in ACTION_INPUTS}


class ActionForbidden(Exception):
    """The officer may not do this action on this dossier now; nothing was sent to it."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal


def action_input(officer: Actor, action: str, action_id: str | None, **fields: Any) -> _Action:
    """The input of `action` with `officer` as its actor; an action without an id gets a new one.

    Raises pydantic's ValidationError for fields that do not make the action's input.
    """
    return ACTION_INPUTS[action](actor=officer, action_id=action_id or str(uuid.uuid4()), **fields)


async def act(client: Client, code: str, action: str, request: _Action) -> DossierView:
    """Do `action` (its input `request`, from `action_input`) on dossier `code`; its new view.

    Raises ActionForbidden when the policy or the dossier's state refuses the request's actor,
    and what the Update raises (WorkflowUpdateFailedError carrying the validator's typed
    refusal) otherwise.
    """
    handle = client.get_workflow_handle_for(DossierWorkflow.run, code)
    view = await handle.query(DossierWorkflow.view)
    refusal = may_act(request.actor, action, view, getattr(request, "step_id", None))
    if refusal is None and view.status in TERMINAL:
        refusal = Refusal(ErrorType.WRONG_STATE, f"dossier {code} is closed ({view.status.value})")
    if refusal is not None:
        raise ActionForbidden(refusal)
    return await handle.execute_update(UPDATES[action], request)
