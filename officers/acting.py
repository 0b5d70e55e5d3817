"""Doing a human action on a dossier as an authenticated officer: the entry points' one way.

The API and the command line both build the action's input with the officer as its actor and
the caller's idempotency key as its action id (required: a retry must never apply an action
twice), check it against the dossier's view (`officers.policy`), and only then send the Update,
whose validator stays the last word. A closed dossier can no longer take an Update, so here it
answers for the workflow: the same action id again gets the dossier's recorded outcome, a new
one `WrongState`, an id used for something else `ActionIdReused`. Each entry point reports a
refusal in its own terms (HTTP status, exit code) and logs it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from model.dossier_inputs import ACTION_INPUTS, ActionInput, Actor, ApologyInput
from model.dossier_state import TERMINAL
from model.dossier_view import DossierView
from model.errors import ActionRefused, ErrorType
from officers.policy import Refusal, may_act, may_read
from procedures.calendar import WorkingCalendar
from runtime.metrics import ACTIONS
from workflows.dossier import DossierWorkflow
from workflows.dossier_apology import appointment_refusal
from workflows.dossier_rules import check_action_id

__all__ = [
    "ActionForbidden",
    "MISSING_ACTION_ID",
    "MissingActionId",
    "UPDATES",
    "act",
    "action_input",
    "read",
]

# Each human action's Update, by the same names as ACTION_INPUTS.
UPDATES = {action: getattr(DossierWorkflow, action) for action in ACTION_INPUTS}
# The refusal type of a state-changing call without an idempotency key.
MISSING_ACTION_ID = "MissingActionId"


class ActionForbidden(Exception):
    """The officer may not do this action on this dossier now (or read it); nothing was applied."""

    def __init__(self, refusal: Refusal) -> None:
        super().__init__(refusal.reason)
        self.refusal = refusal


class MissingActionId(ValueError):
    """A state-changing call came without an idempotency key; nothing was sent."""


def action_input(officer: Actor, action: str, action_id: str | None, **fields: Any) -> ActionInput:
    """The input of `action` with `officer` as its actor and `action_id` as its idempotency key.

    Raises MissingActionId without a key: an id made up here would differ on every retry, so
    a retry after a lost answer would apply the action a second time. Raises pydantic's
    ValidationError for fields that do not make the action's input.
    """
    if not action_id:
        raise MissingActionId(
            f"{action} needs an idempotency key (action id): the same key sent again has one effect"
        )
    return ACTION_INPUTS[action](actor=officer, action_id=action_id, **fields)


async def read(client: Client, officer: Actor, code: str) -> DossierView:
    """Dossier `code`'s view for `officer`; ActionForbidden when the policy (`may_read`) says no.

    The API answers that refusal as an unknown code, the command line with exit 4; both log it.
    """
    view = await client.get_workflow_handle_for(DossierWorkflow.run, code).query(DossierWorkflow.view)
    refusal = may_read(officer, view)
    if refusal is not None:
        raise ActionForbidden(refusal)
    return view


async def act(client: Client, code: str, action: str, request: ActionInput) -> DossierView:
    """Do `action` (its input `request`, from `action_input`) on dossier `code`; its new view.

    Raises ActionForbidden when the policy, the apology's appointment rule or the closed
    dossier refuses the request, and what the Update raises (WorkflowUpdateFailedError
    carrying the validator's typed refusal) otherwise.
    """
    try:
        view = await _act(client, code, action, request)
    except (ActionForbidden, WorkflowUpdateFailedError):
        ACTIONS.labels(action=action, outcome="refused").inc()
        raise
    except BaseException:
        ACTIONS.labels(action=action, outcome="failed").inc()
        raise
    ACTIONS.labels(action=action, outcome="done").inc()
    return view


async def _act(client: Client, code: str, action: str, request: ActionInput) -> DossierView:
    handle = client.get_workflow_handle_for(DossierWorkflow.run, code)
    view = await handle.query(DossierWorkflow.view)
    refusal = may_act(request.actor, action, view, getattr(request, "step_id", None))
    if refusal is not None:
        raise ActionForbidden(refusal)
    if view.status in TERMINAL:
        return await _closed(handle, view, request)
    if (
        isinstance(request, ApologyInput)
        and await handle.query(DossierWorkflow.applied_action, request.action_id) is None
    ):
        reason = appointment_refusal(
            WorkingCalendar.default(),
            request.new_due_at,
            datetime.now(timezone.utc),
            view.apology_max_working_days,
        )
        if reason is not None:
            raise ActionForbidden(Refusal(ErrorType.INVALID_REQUEST, reason))
    try:
        return await handle.execute_update(UPDATES[action], request)
    except WorkflowUpdateRPCTimeoutOrCancelledError as err:
        # Seen on the dev server when the dossier closed under an update already on its way:
        # the wait for its result is cancelled. Closed: answer for it; open: the error stands.
        return await _closed_since(handle, request, err)
    except RPCError as err:
        # The dossier closed while the update was on its way (another officer's action): the
        # server no longer takes updates for it (NOT_FOUND, or the wait cancelled), but it is
        # not unknown.
        if err.status not in _CLOSED_UNDER_UPDATE:
            raise
        return await _closed_since(handle, request, err)


_CLOSED_UNDER_UPDATE = frozenset(
    {RPCStatusCode.NOT_FOUND, RPCStatusCode.CANCELLED, RPCStatusCode.DEADLINE_EXCEEDED}
)


async def _closed_since(handle: WorkflowHandle, request: ActionInput, err: Exception) -> DossierView:
    """Answer for a dossier the update could not reach; re-raise `err` if it is not closed."""
    view = await handle.query(DossierWorkflow.view)  # NOT_FOUND again if the dossier is unknown
    if view.status not in TERMINAL:
        raise err
    return await _closed(handle, view, request)


async def _closed(handle: WorkflowHandle, view: DossierView, request: ActionInput) -> DossierView:
    """What the workflow would answer `request` with, were it still open to updates."""
    applied = await handle.query(DossierWorkflow.applied_action, request.action_id)
    try:
        repeated = not check_action_id(applied, request)
    except ActionRefused as err:
        raise ActionForbidden(Refusal(ErrorType.ACTION_ID_REUSED, err.message)) from err
    if repeated:
        return view
    raise ActionForbidden(
        Refusal(ErrorType.WRONG_STATE, f"dossier {view.code} is closed ({view.status.value})")
    )
