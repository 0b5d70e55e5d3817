"""The officer's inbox: dossiers of their unit waiting for something their roles can do."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from api.deps import Services, current_officer, services
from model.dossier_inputs import Actor
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
