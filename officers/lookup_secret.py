"""A new lookup secret for a citizen who lost the receipt slip: the entry points' one way.

The API (`POST /dossiers/{code}/lookup-secret`), the command line (`starter.py counter
new-lookup-secret`) and the web counter's dossier page all call `reissue_lookup_secret`: the
permission is the counter's (`officers.policy.may_receive` at the dossier's current receiving
unit, as for receiving there), the reason is required, and the secret is replaced and the
reissue recorded (`records.lookup_secrets.LookupSecrets.replace`: who, unit, when, why, never
the secret) in one transaction. A closed dossier (returned, refused, withdrawn) still gets one:
its citizen can still look it up. The caller prints the new secret once, on the reprinted slip
(`IntakeService.reprinted_slip`).
"""

from __future__ import annotations

from typing import Annotated

import structlog
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints
from temporalio.client import Client

from model.dossier_inputs import Actor
from model.dossier_view import DossierView
from officers.acting import ActionForbidden
from officers.policy import may_receive
from records.lookup_secrets import LookupSecrets, Reissue
from workflows.dossier import DossierWorkflow

__all__ = ["REASON", "LookupSecretReissued", "ReissueLookupSecretInput", "reissue_lookup_secret"]

log = structlog.get_logger("officers")

# Why the secret is issued again, e.g. "mất phiếu hẹn, đã kiểm tra CCCD": required, kept for auditors.
REASON = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class ReissueLookupSecretInput(BaseModel):
    """Who asks for a new secret, with which idempotency key, and why."""

    model_config = ConfigDict(frozen=True)

    actor: Actor
    action_id: str = Field(min_length=1, max_length=100)
    reason: REASON


class LookupSecretReissued(BaseModel):
    """The new secret (shown once), the dossier's view, when the reissue was recorded, and
    whether the same key was sent again (a new secret, no second record)."""

    view: DossierView
    secret: str
    reissued_at: AwareDatetime
    resent: bool


async def reissue_lookup_secret(
    client: Client, secrets: LookupSecrets, code: str, request: ReissueLookupSecretInput
) -> LookupSecretReissued:
    """Replace dossier `code`'s lookup secret for `request.actor`, recorded with its reason.

    Raises temporalio's RPCError (NOT_FOUND) for an unknown dossier, ActionForbidden when the
    officer is not a counter officer of the dossier's current receiving unit, and
    records.lookup_secrets.ReissueKeyUsed for a key used for this dossier long ago.
    """
    view = await client.get_workflow_handle_for(DossierWorkflow.run, code).query(DossierWorkflow.view)
    refusal = may_receive(request.actor, view.receiving_unit)
    if refusal is not None:
        raise ActionForbidden(refusal)
    officer = request.actor
    replaced = await secrets.replace(
        code,
        Reissue(
            action_id=request.action_id,
            officer_id=officer.id,
            officer_unit=officer.unit,
            reason=request.reason,
        ),
    )
    log.info(
        "lookup secret reissued",
        dossier_code=code,
        officer=officer.id,
        unit=officer.unit,
        reason=request.reason,
        resent=replaced.resent,
    )
    return LookupSecretReissued(
        view=view, secret=replaced.secret, reissued_at=replaced.reissued_at, resent=replaced.resent
    )
