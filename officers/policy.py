"""Who may read a dossier and who may act on it: the entry points' check before the workflow's.

The same facts as the workflow's validator (`workflows.dossier_rules.RULES` and the current
step's role and place), checked against the caller's authenticated identity and the dossier's
view, so a refusal costs no update and every refusal can be logged with its reason. The
validator stays the last word: it also checks the state, the step and the request itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from model import dossier_inputs as inputs
from model.dossier_view import DossierView
from model.errors import ErrorType
from procedures.models import Role, StepPlace
from workflows.dossier_rules import RULES

__all__ = ["Refusal", "log_refusal", "may_act", "may_read", "may_receive"]

log = structlog.get_logger("officers")


@dataclass(frozen=True)
class Refusal:
    """Why an officer may not do something: an error type a caller can act on, and a sentence."""

    type: ErrorType
    reason: str


def may_receive(officer: inputs.Actor, receiving_unit: str) -> Refusal | None:
    """Counter officers receive at their own unit's counter only (the unit is checked first, as in may_act)."""
    if receiving_unit != officer.unit:
        return Refusal(
            ErrorType.WRONG_UNIT,
            f"officer {officer.id} belongs to {officer.unit}, not to the receiving unit {receiving_unit}",
        )
    if Role.COUNTER_OFFICER not in officer.roles:
        return Refusal(ErrorType.WRONG_ROLE, f"officer {officer.id} is not a counter officer")
    return None


def may_read(officer: inputs.Actor, view: DossierView) -> Refusal | None:
    """Auditors read every dossier; other officers those received or handled by their unit."""
    if Role.AUDITOR in officer.roles or officer.unit in (view.receiving_unit, view.handling_unit):
        return None
    return Refusal(
        ErrorType.WRONG_UNIT,
        f"officer {officer.id} of {officer.unit} may not read dossier {view.code}"
        f" (received at {view.receiving_unit}, handled at {view.handling_unit})",
    )


def may_act(
    officer: inputs.Actor, action: str, view: DossierView, step_id: str | None = None
) -> Refusal | None:
    """The unit, then the role, that `action` needs on this dossier now.

    For `complete_step` the role and place are the current step's; a step that is not the
    current one is left to the validator, which names the step that is.
    """
    if not set(officer.roles) - {Role.AUDITOR}:
        # Whatever the unit: telling an auditor "wrong unit" would suggest another unit could act.
        return Refusal(
            ErrorType.WRONG_ROLE,
            f"officer {officer.id} is an auditor: auditors read dossiers and change nothing ({action} is refused)",
        )
    model = inputs.ACTION_INPUTS[action]
    if model is inputs.CompleteStepInput:
        step = view.current_step
        if step is None or step.id != step_id:
            # Not the current step: only the unit is checked here (handling unit by default).
            roles, place = frozenset(Role) - {Role.AUDITOR}, step.place if step else StepPlace.HANDLING
        else:
            roles, place = frozenset({step.role}), step.place
    else:
        rule = RULES[model]
        roles, place = rule.roles, rule.place
    unit = view.handling_unit if place is StepPlace.HANDLING else view.receiving_unit
    if officer.unit != unit:
        return Refusal(
            ErrorType.WRONG_UNIT,
            f"officer {officer.id} belongs to {officer.unit}; {action} on {view.code}"
            f" is done at the {place.value} unit {unit}",
        )
    if not roles.intersection(officer.roles):
        return Refusal(
            ErrorType.WRONG_ROLE,
            f"officer {officer.id} has roles {', '.join(r.value for r in officer.roles)};"
            f" {action} needs {' or '.join(sorted(r.value for r in roles))}",
        )
    return None


def log_refusal(
    officer: inputs.Actor | None,
    action: str,
    error_type: str,
    reason: str,
    dossier_code: str | None = None,
    **more: object,
) -> None:
    """One line per refusal, the same from the API and the command line: who, what, which
    dossier, why (`more`: what only one entry point knows, such as the HTTP status)."""
    log.warning(
        "request refused",
        officer=officer.id if officer else None,
        unit=officer.unit if officer else None,
        roles=[r.value for r in officer.roles] if officer else None,
        action=action,
        dossier_code=dossier_code,
        error_type=error_type,
        reason=reason,
        **more,
    )
