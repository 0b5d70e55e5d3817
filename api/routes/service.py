"""Unauthenticated service routes: health, for load balancers and start-up checks."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(tags=["service"])


@router.get("/health", summary="the API process is up")
async def health() -> dict[str, str]:
    return {"status": "ok"}
