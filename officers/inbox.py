"""An officer's inbox: dossiers of their unit waiting for something their roles can do.

Candidates come from the records store (the projection knows each dossier's units, status,
due moment and overdue flag), because visibility listing is not available everywhere (the
time-skipping test server has none). Each candidate is then confirmed with the workflow's
`view` query: the projection may lag, and only the workflow knows the current step. Overdue
dossiers come first, then by due moment.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import structlog
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import InstrumentedAttribute
from temporalio.client import Client, WorkflowQueryFailedError, WorkflowQueryRejectedError
from temporalio.common import QueryRejectCondition
from temporalio.service import RPCError, RPCStatusCode

from model.dossier_inputs import Actor
from model.dossier_state import DossierStatus
from model.dossier_view import DossierView
from officers.policy import may_act
from procedures.models import Role, Step
from records.database import RecordsStore
from records.tables import DossierRow
from workflows.dossier import DossierWorkflow

__all__ = ["InboxItem", "OPEN_STATUSES", "inbox"]

log = structlog.get_logger(__name__)

# Statuses in which someone still has to act (a processed dossier waits for its return).
OPEN_STATUSES = (
    DossierStatus.RECEIVED,
    DossierStatus.PROCESSING,
    DossierStatus.SUPPLEMENT_REQUESTED,
    DossierStatus.PAYMENT_REQUESTED,
    DossierStatus.PROCESSED,
)
# What may be waiting in each status, before the officer's roles and unit are considered.
_WAITING = {
    DossierStatus.PROCESSING: ("complete_step",),
    DossierStatus.SUPPLEMENT_REQUESTED: ("supplement",),
    DossierStatus.PAYMENT_REQUESTED: ("confirm_payment",),
    DossierStatus.PROCESSED: ("return_result",),
}
QUERY_TIMEOUT = timedelta(seconds=5)
CONCURRENT_QUERIES = 8
# Candidates read at most per inbox; beyond, the unit needs visibility-backed lists.
MAX_SCANNED = 5000


class InboxItem(BaseModel):
    """A dossier waiting for the officer, and what they can do to it now."""

    code: str
    procedure_code: str
    status: DossierStatus
    actions: tuple[str, ...]
    step: Step | None
    receiving_unit: str
    handling_unit: str
    received_at: AwareDatetime
    due_at: AwareDatetime
    overdue: bool
    apology_due: bool


def actions_for(officer: Actor, view: DossierView) -> tuple[str, ...]:
    """The actions waiting on this dossier that this officer may do now."""
    waiting = list(_WAITING.get(view.status, ()))
    if view.apology_due:
        waiting.append("issue_apology")
    step_id = view.current_step.id if view.current_step else None
    return tuple(a for a in waiting if may_act(officer, a, view, step_id) is None)


async def inbox(client: Client, records: RecordsStore, officer: Actor, limit: int = 50) -> list[InboxItem]:
    """Up to `limit` dossiers waiting for `officer`: overdue first, then by due moment.

    Candidates are read in pages in the projection's order until `limit` are confirmed:
    some wait for someone else, and a few rows may be stale (a dossier terminated by an
    operator keeps its last projected status).
    """
    candidates = (
        select(DossierRow.code)
        .where(or_(DossierRow.handling_unit == officer.unit, DossierRow.receiving_unit == officer.unit))
        .where(DossierRow.status.in_([s.value for s in OPEN_STATUSES]))
        .where(_waits_for(officer))
        .order_by(DossierRow.overdue.desc(), DossierRow.due_at, DossierRow.code)
    )
    page = max(limit * 2, 100)
    gate = asyncio.Semaphore(CONCURRENT_QUERIES)

    async def confirm(code: str) -> InboxItem | None:
        async with gate:
            view = await _view(client, code)
        if view is None:
            return None
        actions = actions_for(officer, view)
        if not actions:
            return None
        return InboxItem(
            code=view.code,
            procedure_code=view.procedure_code,
            status=view.status,
            actions=actions,
            step=view.current_step,
            receiving_unit=view.receiving_unit,
            handling_unit=view.handling_unit,
            received_at=view.received_at,
            due_at=view.due_at,
            overdue=view.overdue,
            apology_due=view.apology_due,
        )

    items: list[InboxItem] = []
    for offset in range(0, MAX_SCANNED, page):
        async with records.sessions() as session:
            codes = list((await session.scalars(candidates.offset(offset).limit(page))).all())
        items += [item for item in await asyncio.gather(*(confirm(c) for c in codes)) if item is not None]
        if len(items) >= limit or len(codes) < page:
            break
    else:
        log.warning("inbox scan stopped", officer=officer.id, unit=officer.unit, scanned=MAX_SCANNED)
    # The workflow's overdue flag and due moment, not the projection's, which may lag.
    items.sort(key=lambda item: (not item.overdue, item.due_at, item.code))
    return items[:limit]


def _waits_for(officer: Actor) -> ColumnElement[bool]:
    """Rows whose next action is one of the officer's roles, as the projection last saw it;
    rows projected before the column existed (empty) are confirmed like any other."""
    waiting: list[ColumnElement[bool] | InstrumentedAttribute[bool]] = [DossierRow.current_roles == ""]
    waiting += [DossierRow.current_roles.contains(role.value) for role in officer.roles]
    if Role.LEADER in officer.roles:
        waiting.append(DossierRow.overdue)  # an apology may be due, whatever the step
    return or_(*waiting)


async def _view(client: Client, code: str) -> DossierView | None:
    """The open dossier's view; None when it closed, is unknown here, or does not answer in time."""
    handle = client.get_workflow_handle_for(DossierWorkflow.run, code)
    try:
        # Closed dossiers are rejected at once by the server, without replaying them.
        return await handle.query(
            DossierWorkflow.view,
            reject_condition=QueryRejectCondition.NOT_OPEN,
            rpc_timeout=QUERY_TIMEOUT,
        )
    except WorkflowQueryRejectedError:
        return None
    except RPCError as err:
        if err.status is RPCStatusCode.UNAVAILABLE:
            raise  # Temporal itself is unreachable: the caller says so, not an empty inbox
        log.warning("inbox candidate skipped", dossier_code=code, error=str(err), status=err.status.name)
        return None
    except WorkflowQueryFailedError as err:
        log.warning("inbox candidate skipped", dossier_code=code, error=str(err))
        return None
