"""Operators: the carryover's plan (a dry run), its run, and the progress of each, through
`carryover.client` as `starter.py carryover plan|run|status` does."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse
from temporalio.client import WorkflowFailureError

from carryover.client import DEFAULT_CARRYOVER_ID, find_carryover, start_carryover
from carryover.models import CarryoverInput, CarryoverMode
from carryover.workflow import CarryoverWorkflow
from model.dossier_inputs import TransferActor
from web.pages import Staff, checked_form, log, render, require, services_of, staff_page

__all__ = ["router"]

router = APIRouter(prefix="/web/carryover", include_in_schema=False)


async def _state(client, mode: CarryoverMode) -> dict | None:
    """The latest carryover of this mode: its progress, and its report once finished."""
    try:
        handle = await find_carryover(client, DEFAULT_CARRYOVER_ID, mode)
        progress = await handle.query(CarryoverWorkflow.progress)
    except LookupError:
        return None
    report = None
    if progress.finished:
        try:
            report = await handle.result()
        except WorkflowFailureError:
            report = None
    return {"progress": progress, "report": report}


@router.get("")
async def carryover(request: Request, staff: Staff = Depends(staff_page)):
    require(staff, "operator")
    client = services_of(request).client
    plan, run = await _state(client, CarryoverMode.PLAN), await _state(client, CarryoverMode.RUN)
    running = any(s is not None and not s["progress"].finished for s in (plan, run))
    return render(request, "carryover.html", staff=staff, plan=plan, run=run, running=running)


@router.post("/{mode}")
async def start(request: Request, mode: CarryoverMode, staff: Staff = Depends(staff_page)):
    require(staff, "operator")
    await checked_form(request, staff)
    deps = services_of(request)
    carryover = CarryoverInput(
        carryover_id=DEFAULT_CARRYOVER_ID, mode=mode, actor=TransferActor.OPERATOR, actor_id=staff.officer.id
    )
    await start_carryover(deps.client, deps.settings.task_queue, carryover)
    log.info("carryover started from the web", officer=staff.officer.id, mode=mode.value)
    return RedirectResponse("/web/carryover", status_code=303)
