"""The actions an officer may take on a dossier now: what a screen offers, and nothing more.

Written from the same facts the API and the workflow check (`RULES` for the statuses,
`officers.policy.may_act` for unit and role, the current step for `complete_step`), so a page
never offers an action those would refuse, and no rule is written a second time.
"""

from __future__ import annotations

from model.dossier_inputs import ACTION_INPUTS, Actor, ApologyInput, CompleteStepInput
from model.dossier_state import DossierStatus
from model.dossier_view import DossierView
from officers.policy import may_act
from workflows.dossier_rules import RULES

__all__ = ["available_actions"]


def available_actions(officer: Actor, view: DossierView) -> tuple[str, ...]:
    """The names of the actions `officer` may do on the dossier of `view`, in ACTION_INPUTS' order."""
    step_id = view.current_step.id if view.current_step else None
    found = []
    for action, input_model in ACTION_INPUTS.items():
        if input_model is CompleteStepInput:
            if view.status is not DossierStatus.PROCESSING or step_id is None:
                continue
        elif view.status not in RULES[input_model].statuses:
            continue
        if input_model is ApologyInput and not view.apology_due:
            continue  # an apology answers an overdue dossier
        if may_act(officer, action, view, step_id) is None:
            found.append(action)
    return tuple(found)
