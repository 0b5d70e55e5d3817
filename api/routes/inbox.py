"""The officer's inbox: dossiers of their unit waiting for something their roles can do, and
for counter officers the interlinked groups submitted online waiting for their check."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from api.deps import Services, current_officer, services
from model.dossier_inputs import Actor
from officers.group_checks import GroupWaiting, groups_waiting_check
from officers.inbox import InboxItem
from officers.inbox import inbox as officer_inbox

__all__ = ["router"]

router = APIRouter(tags=["inbox"])


@router.get(
    "/inbox",
    summary="dossiers waiting for me: overdue first, then by due moment",
    responses={
        502: {"description": "TemporalError: Temporal failed the request"},
        503: {"description": "TemporalUnavailable: Temporal unreachable"},
    },
)
async def inbox(
    limit: int = Query(50, ge=1, le=500),
    officer: Actor = Depends(current_officer),
    deps: Services = Depends(services),
) -> list[InboxItem]:
    return await officer_inbox(deps.client, deps.records, officer, limit=limit)


@router.get(
    "/inbox/groups",
    summary="interlinked groups submitted online waiting for my counter's check: late first",
    description=(
        "For a counter officer: the groups submitted online to the officer's unit that wait for"
        " its check (receive, form 02 or form 03 on `/groups/{code}/actions/...`), those past the"
        " check's deadline first (`check_late`), then by the deadline. Read from the records store"
        " (a fraction of a second behind the groups); empty for every other officer."
    ),
    responses={503: {"description": "RecordsUnavailable: the records store unreachable"}},
)
async def groups_waiting(
    limit: int = Query(50, ge=1, le=500),
    officer: Actor = Depends(current_officer),
    deps: Services = Depends(services),
) -> list[GroupWaiting]:
    return await groups_waiting_check(deps.records, officer, limit=limit, now=deps.intake.now())
