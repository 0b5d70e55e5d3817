"""Unauthenticated service routes: liveness and readiness for load balancers and start-up
checks, metrics for Prometheus."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response

from api.deps import Services, services
from runtime.health import readiness
from runtime.metrics import CONTENT_TYPE_LATEST, exposition, refresh_from_records

__all__ = ["router"]

router = APIRouter(tags=["service"])


@router.get("/health", summary="the API process is up (the same as /health/live)")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health/live", summary="liveness: the API process answers")
async def live() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/health/ready",
    summary="readiness: Temporal and the records store answer",
    responses={503: {"description": "Temporal or the records store does not answer; the body names which"}},
)
async def ready(deps: Services = Depends(services)) -> JSONResponse:
    state = await readiness(deps.client, deps.records)
    body: dict[str, Any] = {
        "status": "ready" if state.ready else "not ready",
        "temporal": state.temporal,
        "records": state.records,
    }
    if not state.ready:
        body["not_answering"] = state.failing
    return JSONResponse(body, status_code=200 if state.ready else 503)


@router.get(
    "/metrics",
    summary="the engine's metrics, Prometheus text format (scrape from inside the network)",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text exposition"}},
)
async def metrics(deps: Services = Depends(services)) -> Response:
    await refresh_from_records(deps.records)
    return Response(exposition(), media_type=CONTENT_TYPE_LATEST)
