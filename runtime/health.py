"""Readiness: whether the two things a process depends on answer, Temporal and the records store.

One home for the check: the API's `/health/ready` calls it, and so can any other entry point.
Each probe is bounded, so a partitioned peer makes the answer "not ready" within seconds
instead of holding the load balancer's probe.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import text
from temporalio.client import Client

from records.database import RecordsStore

__all__ = ["PROBE_TIMEOUT", "Readiness", "readiness"]

PROBE_TIMEOUT = 2.0  # seconds per dependency; the probes run side by side


@dataclass(frozen=True)
class Readiness:
    """Per dependency, "ok" or why it does not answer."""

    temporal: str
    records: str

    @property
    def ready(self) -> bool:
        return self.temporal == "ok" and self.records == "ok"

    @property
    def failing(self) -> list[str]:
        return [name for name in ("temporal", "records") if getattr(self, name) != "ok"]


async def _probe(check, timeout: float) -> str:
    try:
        await asyncio.wait_for(check(), timeout)
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except Exception as exc:  # any failure means "does not answer"; the reason is reported
        reason = str(exc).splitlines()[0] if str(exc) else ""
        return f"{type(exc).__name__}: {reason}"[:300]
    return "ok"


async def readiness(client: Client, records: RecordsStore, timeout: float = PROBE_TIMEOUT) -> Readiness:
    """Ask Temporal's frontend for its health and the records store for `SELECT 1`."""

    async def temporal() -> None:
        if not await client.service_client.check_health():
            raise RuntimeError("the frontend reports itself not serving")

    async def store() -> None:
        async with records.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))

    t, r = await asyncio.gather(_probe(temporal, timeout), _probe(store, timeout))
    return Readiness(temporal=t, records=r)
