"""Who may do what to a dossier, and when: pure checks shared by update validators and handlers.

Each check raises `ActionRefused` with a type a caller can act on (wrong role, wrong unit,
wrong state, unknown step, invalid request) before anything is written to history.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from model.dossier_inputs import (
    ACTION_NAMES,
    ActionInput,
    ApologyInput,
    CompleteStepInput,
    ConfirmPaymentInput,
    DossierInput,
    RefuseInput,
    RequestPaymentInput,
    RequestSupplementInput,
    ReturnResultInput,
    SupplementInput,
    WithdrawInput,
)
from model.dossier_state import AppliedAction, DossierState, DossierStatus
from model.errors import ActionRefused, ErrorType
from procedures.models import Role, Step, StepPlace
from workflows.dossier_transfer import current_handling_unit, current_receiving_unit

__all__ = [
    "ActionRule",
    "RULES",
    "applied_action",
    "check_action",
    "check_action_id",
    "current_step",
    "fingerprint",
    "next_roles",
]

_OPEN = frozenset(
    {DossierStatus.PROCESSING, DossierStatus.SUPPLEMENT_REQUESTED, DossierStatus.PAYMENT_REQUESTED}
)


@dataclass(frozen=True)
class ActionRule:
    """The roles, the place and the statuses in which an action is allowed."""

    roles: frozenset[Role]
    place: StepPlace
    statuses: frozenset[DossierStatus]


RULES: dict[type[ActionInput], ActionRule] = {
    RequestSupplementInput: ActionRule(
        frozenset({Role.SPECIALIST, Role.LEADER}), StepPlace.HANDLING, frozenset({DossierStatus.PROCESSING})
    ),
    SupplementInput: ActionRule(
        frozenset({Role.COUNTER_OFFICER}),
        StepPlace.RECEIVING,
        frozenset({DossierStatus.SUPPLEMENT_REQUESTED}),
    ),
    RequestPaymentInput: ActionRule(
        frozenset({Role.SPECIALIST, Role.LEADER}), StepPlace.HANDLING, frozenset({DossierStatus.PROCESSING})
    ),
    ConfirmPaymentInput: ActionRule(
        frozenset({Role.COUNTER_OFFICER}), StepPlace.RECEIVING, frozenset({DossierStatus.PAYMENT_REQUESTED})
    ),
    RefuseInput: ActionRule(frozenset({Role.LEADER}), StepPlace.HANDLING, _OPEN),
    WithdrawInput: ActionRule(frozenset({Role.COUNTER_OFFICER}), StepPlace.RECEIVING, _OPEN),
    ApologyInput: ActionRule(frozenset({Role.LEADER}), StepPlace.HANDLING, _OPEN | {DossierStatus.PROCESSED}),
    ReturnResultInput: ActionRule(
        frozenset({Role.COUNTER_OFFICER}), StepPlace.RECEIVING, frozenset({DossierStatus.PROCESSED})
    ),
}


_NAMES_BY_CLASS_NAME = {model.__name__: name for model, name in ACTION_NAMES.items()}


def current_step(dossier: DossierInput, state: DossierState) -> Step | None:
    steps = dossier.procedure.steps
    return steps[state.step_index] if state.step_index < len(steps) else None


# What moves a dossier forward in each waiting status (refusal, withdrawal and apology are
# always possible too, but they are not what the dossier waits for).
_FORWARD: dict[DossierStatus, type[ActionInput]] = {
    DossierStatus.SUPPLEMENT_REQUESTED: SupplementInput,
    DossierStatus.PAYMENT_REQUESTED: ConfirmPaymentInput,
    DossierStatus.PROCESSED: ReturnResultInput,
}


def next_roles(dossier: DossierInput, state: DossierState) -> tuple[Role, ...]:
    """The roles that can do the next thing the dossier waits for (none once it is closed)."""
    if state.status in (DossierStatus.RECEIVED, DossierStatus.PROCESSING):
        step = current_step(dossier, state)
        return (step.role,) if step is not None else ()
    action = _FORWARD.get(state.status)
    return tuple(sorted(RULES[action].roles)) if action else ()


def check_action(dossier: DossierInput, state: DossierState, action: ActionInput, now: datetime) -> bool:
    """Raise ActionRefused if `action` may not be applied now; False if it already was."""
    name = type(action).__name__
    if not check_action_id(applied_action(state, action.action_id), action):
        return False
    if isinstance(action, CompleteStepInput):
        rule = _step_rule(dossier, state, action)
    else:
        rule = RULES[type(action)]
    _check_state(state, name, rule.statuses)
    _check_actor(dossier, state, action, rule)
    _check_specifics(dossier, state, action, now)
    return True


def fingerprint(action: ActionInput) -> str:
    """What makes two sends of an action id the same action: its model, its content and who
    sent it (not their display name, which a renewed token may spell differently).

    Fields left at their defaults are not part of it, so a field added to an input model later
    (with a default, as every new field gets) leaves the fingerprints already kept unchanged.
    """
    content = action.model_dump(mode="json", exclude={"actor", "action_id"}, exclude_defaults=True)
    content = {"action": type(action).__name__, "actor": action.actor.id, **content}
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def applied_action(state: DossierState, action_id: str) -> AppliedAction | None:
    """What the dossier applied under `action_id`, if anything."""
    name = state.applied_actions.get(action_id)
    if name is None:
        return None
    return AppliedAction(action=name, fingerprint=state.applied_fingerprints.get(action_id))


def check_action_id(applied: AppliedAction | None, action: ActionInput) -> bool:
    """True if `action`'s id is new; False if it is this very action again (answer, apply nothing).

    Raises ActionRefused(ActionIdReused) if the id was used for another action, or for the same
    action with other content: answering the first one's result would hide that the second
    was never applied.
    """
    if applied is None:
        return True
    name = type(action).__name__
    if applied.action != name:
        raise ActionRefused(
            ErrorType.ACTION_ID_REUSED,
            f"action id {action.action_id!r} was already used for another action ({applied.action});"
            f" give this {name} an id of its own",
        )
    if applied.fingerprint is not None and applied.fingerprint != fingerprint(action):
        raise ActionRefused(
            ErrorType.ACTION_ID_REUSED,
            f"action id {action.action_id!r} was already used for a {name} with other content;"
            " give this one an id of its own",
        )
    return False


def _step_rule(dossier: DossierInput, state: DossierState, action: CompleteStepInput) -> ActionRule:
    step = dossier.procedure.step(action.step_id)
    if step is None:
        known = ", ".join(s.id for s in dossier.procedure.steps)
        raise ActionRefused(
            ErrorType.UNKNOWN_STEP,
            f"procedure {dossier.procedure.version_id} has no step {action.step_id!r} (steps: {known})",
        )
    _check_state(state, "CompleteStepInput", frozenset({DossierStatus.PROCESSING}))
    expected = current_step(dossier, state)
    if expected is None or expected.id != step.id:
        raise ActionRefused(
            ErrorType.WRONG_STATE,
            f"step {step.id!r} is not the current step (current: {expected.id if expected else 'none'})",
        )
    return ActionRule(frozenset({step.role}), step.place, frozenset({DossierStatus.PROCESSING}))


def _check_state(state: DossierState, name: str, allowed: frozenset[DossierStatus]) -> None:
    if state.status not in allowed:
        raise ActionRefused(
            ErrorType.WRONG_STATE,
            f"{_NAMES_BY_CLASS_NAME.get(name, name)} is not allowed while the dossier is {state.status.value}"
            f" (allowed: {', '.join(sorted(s.value for s in allowed))})",
        )


def _check_actor(dossier: DossierInput, state: DossierState, action: ActionInput, rule: ActionRule) -> None:
    actor = action.actor
    if not rule.roles.intersection(actor.roles):
        raise ActionRefused(
            ErrorType.WRONG_ROLE,
            f"officer {actor.id} has roles {', '.join(r.value for r in actor.roles)};"
            f" this needs {' or '.join(sorted(r.value for r in rule.roles))}",
        )
    # The current handling unit: after a carryover the successor's officers act, the old
    # unit's are refused.
    handling = current_handling_unit(dossier, state)
    unit = handling if rule.place is StepPlace.HANDLING else current_receiving_unit(dossier, state)
    if actor.unit != unit.code:
        raise ActionRefused(
            ErrorType.WRONG_UNIT,
            f"officer {actor.id} belongs to {actor.unit}; this is done at the"
            f" {rule.place.value} unit {unit.code}",
        )


def _check_specifics(dossier: DossierInput, state: DossierState, action: ActionInput, now: datetime) -> None:
    if isinstance(action, SupplementInput):
        asked = set(state.supplement_request.documents) if state.supplement_request else set()
        missing = sorted(asked - set(action.documents))
        if missing:
            raise ActionRefused(
                ErrorType.INVALID_REQUEST, f"supplement lacks requested documents: {', '.join(missing)}"
            )
    elif isinstance(action, RequestPaymentInput) and not dossier.procedure.has_fees:
        raise ActionRefused(
            ErrorType.INVALID_REQUEST,
            f"procedure {dossier.procedure.version_id} has no fees to request",
        )
    elif isinstance(action, ConfirmPaymentInput):
        assert state.payment is not None
        if action.amount_vnd != state.payment.amount_vnd:
            raise ActionRefused(
                ErrorType.INVALID_REQUEST,
                f"paid {action.amount_vnd} VND but {state.payment.amount_vnd} VND was requested",
            )
    elif isinstance(action, ApologyInput):
        if not state.apology_due:
            raise ActionRefused(ErrorType.WRONG_STATE, "no apology is due: the dossier is not overdue")
        if action.new_due_at <= now:
            raise ActionRefused(
                ErrorType.INVALID_REQUEST,
                f"new appointment {action.new_due_at.isoformat()} is not in the future",
            )
