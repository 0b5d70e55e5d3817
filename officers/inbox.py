"""An officer's inbox: dossiers of their unit waiting for something their roles can do.

Candidates come from the records store (the projection knows each dossier's units, status,
due moment and overdue flag), because visibility listing is not available everywhere (the
time-skipping test server has none). Each candidate is then confirmed with the workflow's
`view` query: the projection may lag, and only the workflow knows the current step. Overdue
dossiers come first, then by due moment.
"""

from __future__ import annotations

import asyncio
import functools
from datetime import timedelta

import structlog
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    func,
    or_,
    select,
    union_all,
)
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
from records.tables import DossierRow, inline_value
from workflows.dossier import DossierWorkflow

__all__ = ["InboxItem", "OPEN_STATUSES", "inbox", "waiting_count", "waiting_rows"]

log = structlog.get_logger(__name__)

# Statuses in which someone still has to act (a processed dossier waits for its return).
OPEN_STATUSES = (
    DossierStatus.REGISTERED_ONLINE,
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
    # Submitted online: the counter checks it (docs/online.md: its three answers).
    DossierStatus.REGISTERED_ONLINE: ("receive_online", "request_online_completion", "refuse_online"),
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
    # Submitted online and not checked within the check time: late, listed with the overdue.
    check_late: bool = False


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
            check_late=view.check_late,
        )

    items: list[InboxItem] = []
    for offset in range(0, MAX_SCANNED, page):
        async with records.sessions() as session:
            codes = list(
                (await session.scalars(waiting_rows(officer, "code", offset=offset, limit=page))).all()
            )
        items += [item for item in await asyncio.gather(*(confirm(c) for c in codes)) if item is not None]
        if len(items) >= limit or len(codes) < page:
            break
    else:
        log.warning("inbox scan stopped", officer=officer.id, unit=officer.unit, scanned=MAX_SCANNED)
    # The workflow's overdue flag and due moment, not the projection's, which may lag.
    items.sort(key=lambda item: (not (item.overdue or item.check_late), item.due_at, item.code))
    return items[:limit]


_ORDER = ("overdue", "due_at", "code")


def waiting_rows(officer: Actor, *columns: str, offset: int = 0, limit: int | None = None) -> Select:
    """The projection's rows of dossiers that may wait for `officer`, in the inbox's order
    (overdue first, then by due moment), `columns` by name: the one rule of who sees what in
    a worklist. The API's and the CLI's inbox and the web worklist all read it.

    One branch per unit column (the dossiers the officer's unit handles, and those it received
    and another handles), each read in order from its index (`ix_dossiers_open_*`, open
    dossiers only) and stopped after `offset + limit` rows, then merged: a page costs its own
    rows, not a sort of every open dossier of the unit.
    """
    statement = _waiting_statement(_role_values(officer), columns, limit is not None)
    limits = {} if limit is None else {"limit": limit, "branch_limit": offset + limit}
    return statement.params(unit=officer.unit, offset=offset, **limits)


def waiting_count(officer: Actor, at_most: int | None = None) -> Select:
    """How many rows `waiting_rows` gives in all (read from the same indexes alone); with
    `at_most`, the count stops there, so it reads at most that many rows, not every open
    dossier of the unit."""
    statement = _count_statement(_role_values(officer), at_most is not None)
    bound = {} if at_most is None else {"at_most": at_most}
    return statement.params(unit=officer.unit, **bound)


# Built once per kind of officer and columns, the officer's unit and the page bound at each
# call: building these statements costs more than running them (about 2.5 ms a page).
@functools.cache
def _waiting_statement(roles: tuple[str, ...], columns: tuple[str, ...], paged: bool) -> Select:
    d = DossierRow
    wanted = [getattr(d, name) for name in dict.fromkeys((*columns, *_ORDER))]

    def branch(unit: ColumnElement[bool]) -> Select:
        rows = select(*wanted).where(unit, _is_open(), _waits_for(roles))
        rows = rows.order_by(d.overdue.desc(), d.due_at, d.code)
        return rows.limit(bindparam("branch_limit", type_=Integer)) if paged else rows

    merged = union_all(*(branch(unit).subquery().select() for unit in _units())).subquery()
    rows = select(*(merged.c[name] for name in columns))
    rows = rows.order_by(merged.c.overdue.desc(), merged.c.due_at, merged.c.code)
    rows = rows.offset(bindparam("offset", type_=Integer))
    return rows.limit(bindparam("limit", type_=Integer)) if paged else rows


@functools.cache
def _count_statement(roles: tuple[str, ...], bounded: bool) -> Select:
    d = DossierRow
    branches = [select(d.code).where(unit, _is_open(), _waits_for(roles)) for unit in _units()]
    rows = union_all(*branches).subquery()
    if bounded:
        rows = select(rows.c.code).limit(bindparam("at_most", type_=Integer)).subquery()
    return select(func.count()).select_from(rows)


def _role_values(officer: Actor) -> tuple[str, ...]:
    return tuple(sorted(role.value for role in officer.roles))


def _units() -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    """The dossiers the officer's unit handles, and those it received that another handles."""
    d, unit = DossierRow, bindparam("unit", type_=String)
    return d.handling_unit == unit, and_(d.receiving_unit == unit, d.handling_unit != unit)


def _is_open() -> ColumnElement[bool]:
    # Inline values (records.tables.inline_value): within the partial indexes' `status IN (...)`.
    return DossierRow.status.in_([inline_value(s.value) for s in OPEN_STATUSES])


def _waits_for(roles: tuple[str, ...]) -> ColumnElement[bool]:
    """Rows whose next action is one of the officer's roles, as the projection last saw it;
    rows projected before the column existed (empty) are confirmed like any other."""
    waiting: list[ColumnElement[bool] | InstrumentedAttribute[bool]] = [DossierRow.current_roles == ""]
    waiting += [DossierRow.current_roles.contains(role) for role in roles]
    if Role.LEADER.value in roles:
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
