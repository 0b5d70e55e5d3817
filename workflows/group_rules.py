"""Who may act on a whole group, and when: pure checks shared by the validators and handlers."""

from __future__ import annotations

from model.dossier_inputs import ReceiveOnlineInput, RefuseOnlineInput, RequestOnlineCompletionInput
from model.dossier_state import AppliedAction
from model.errors import ActionRefused, ErrorType
from procedures.models import Role
from workflows.dossier_rules import check_action_id
from workflows.group_models import (
    GroupCompleteOnlineInput,
    GroupInput,
    GroupReturnInput,
    GroupState,
    GroupStatus,
    GroupWithdrawInput,
)

__all__ = ["ALLOWED_STATUSES", "GroupAction", "check_group_action", "dependents"]

# The counter's check of an online group takes the single dossier's inputs (forms 01-03).
GroupAction = (
    GroupWithdrawInput
    | GroupReturnInput
    | ReceiveOnlineInput
    | RequestOnlineCompletionInput
    | RefuseOnlineInput
    | GroupCompleteOnlineInput
)
G = GroupStatus
ALLOWED_STATUSES: dict[type[GroupAction], frozenset[GroupStatus]] = {
    GroupWithdrawInput: frozenset({G.PROCESSING, G.PAUSED, G.REGISTERED_ONLINE, G.ONLINE_INCOMPLETE}),
    GroupReturnInput: frozenset({G.PROCESSED}),
    ReceiveOnlineInput: frozenset({G.REGISTERED_ONLINE}),
    RequestOnlineCompletionInput: frozenset({G.REGISTERED_ONLINE}),
    RefuseOnlineInput: frozenset({G.REGISTERED_ONLINE, G.ONLINE_INCOMPLETE}),
    GroupCompleteOnlineInput: frozenset({G.ONLINE_INCOMPLETE}),
}
_NAMES: dict[type[GroupAction], str] = {
    GroupWithdrawInput: "withdraw",
    GroupReturnInput: "return_result",
    ReceiveOnlineInput: "receive_online",
    RequestOnlineCompletionInput: "request_online_completion",
    RefuseOnlineInput: "refuse_online",
    GroupCompleteOnlineInput: "complete_online",
}


def check_group_action(group: GroupInput, state: GroupState, action: GroupAction) -> bool:
    """Raise ActionRefused if `action` may not be applied now; False if it already was.

    All but the online completion are the business of the counter that received the group; the
    completion is the online service's, as for a single dossier.
    """
    applied = state.applied_actions.get(action.action_id)
    if not check_action_id(AppliedAction(action=applied) if applied else None, action):
        return False
    name = _NAMES[type(action)]
    if state.status not in ALLOWED_STATUSES[type(action)]:
        allowed = ", ".join(sorted(s.value for s in ALLOWED_STATUSES[type(action)]))
        raise ActionRefused(
            ErrorType.WRONG_STATE,
            f"{name} is not allowed while the group is {state.status.value} (allowed: {allowed})",
        )
    actor = action.actor
    if isinstance(action, GroupCompleteOnlineInput):
        if Role.ONLINE_SERVICE not in actor.roles:
            raise ActionRefused(
                ErrorType.WRONG_ROLE, f"{actor.id} is not an online service; {name} needs one"
            )
        unknown = sorted(set(action.documents) - {plan.key for plan in group.members})
        if unknown:
            raise ActionRefused(
                ErrorType.INVALID_REQUEST,
                f"documents: {', '.join(unknown)} not a member of the group"
                f" (members: {', '.join(plan.key for plan in group.members)})",
            )
        # As a dossier's completion: every document form 02 asked for, under any member.
        missing = sorted(set(state.online_asked) - {d.id for docs in action.documents.values() for d in docs})
        if missing:
            raise ActionRefused(
                ErrorType.INVALID_REQUEST, f"completion lacks requested documents: {', '.join(missing)}"
            )
        return True
    if Role.COUNTER_OFFICER not in actor.roles:
        raise ActionRefused(
            ErrorType.WRONG_ROLE, f"officer {actor.id} is not a counter officer; {name} needs one"
        )
    if actor.unit != group.receiving_unit.code:
        raise ActionRefused(
            ErrorType.WRONG_UNIT,
            f"officer {actor.id} belongs to {actor.unit}; the group was received at {group.receiving_unit.code}",
        )
    return True


def dependents(group: GroupInput, key: str) -> tuple[str, ...]:
    """Every member that needs `key`'s result, directly or through another member, in plan order."""
    found: set[str] = set()
    frontier = [key]
    while frontier:
        current = frontier.pop()
        for plan in group.members:
            if current in plan.depends_on and plan.key not in found:
                found.add(plan.key)
                frontier.append(plan.key)
    return tuple(plan.key for plan in group.members if plan.key in found)
