"""Heartbeating an activity while it waits on the records store or on Temporal.

An activity that heartbeats tells the server within its `heartbeat_timeout` that its worker
died, so another worker retries it after seconds instead of after the whole
`start_to_close_timeout`. The beat runs beside the work (the work may sit in one database
call for seconds) and stops with it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from typing import Any

from temporalio import activity

__all__ = ["BEAT_EVERY", "heartbeating"]

# The SDK sends at most one heartbeat per 0.8 x heartbeat_timeout; beating more often than
# that only keeps the latest details fresh. Every timeout the workflows set is above this.
BEAT_EVERY = 1.0


@asynccontextmanager
async def heartbeating(
    details: Callable[[], tuple[Any, ...]] = tuple, every: float = BEAT_EVERY
) -> AsyncIterator[None]:
    """Heartbeat every `every` seconds while the block runs, with `details()` as the details
    (an activity that resumes from its details must not have them replaced by nothing)."""

    async def beat() -> None:
        while True:
            # Sleep first: a call done within a second (the usual projection) sends no
            # heartbeat at all, so heartbeating costs nothing when the store answers.
            await asyncio.sleep(every)
            activity.heartbeat(*details())

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task
