"""Who may act on a whole group, and when: pure checks shared by the validators and handlers."""

from __future__ import annotations

from model.dossier_state import AppliedAction
from model.errors import ActionRefused, ErrorType
from procedures.models import Role
from workflows.dossier_rules import check_action_id
from workflows.group_models import GroupInput, GroupReturnInput, GroupState, GroupStatus, GroupWithdrawInput

__all__ = ["ALLOWED_STATUSES", "check_group_action", "dependents"]

ALLOWED_STATUSES: dict[type[GroupWithdrawInput | GroupReturnInput], frozenset[GroupStatus]] = {
    GroupWithdrawInput: frozenset({GroupStatus.PROCESSING, GroupStatus.PAUSED}),
    GroupReturnInput: frozenset({GroupStatus.PROCESSED}),
}
_NAMES: dict[type[GroupWithdrawInput | GroupReturnInput], str] = {
    GroupWithdrawInput: "withdraw",
    GroupReturnInput: "return_result",
}


def check_group_action(
    group: GroupInput, state: GroupState, action: GroupWithdrawInput | GroupReturnInput
) -> bool:
    """Raise ActionRefused if `action` may not be applied now; False if it already was.

    Both are the applicant's business at the counter that received the group.
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
