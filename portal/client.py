"""Sending one dossier sync message to the portal, and what its answer means for the outbox."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import httpx

__all__ = ["Answer", "Outcome", "PortalClient"]


class Outcome(StrEnum):
    DELIVERED = "delivered"  # accepted now or before (a duplicate)
    RETRY = "retry"  # unreachable, overloaded or failing: try again later
    REFUSED = "refused"  # the portal will never take this message as it is


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    detail: str = ""


class PortalClient:
    """POSTs a message with the configured credentials; never raises for the portal's answers."""

    def __init__(self, http: httpx.AsyncClient, url: str, api_key: str | None) -> None:
        self._http = http
        self._url = url
        self._headers = {"Content-Type": "application/json"}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"

    async def send(self, body: str, message_id: str) -> Answer:
        try:
            response = await self._http.post(
                self._url, content=body.encode(), headers={**self._headers, "Idempotency-Key": message_id}
            )
        except httpx.HTTPError as err:
            return Answer(Outcome.RETRY, f"{type(err).__name__}: {str(err)[:200]}")
        if response.is_success:
            return Answer(Outcome.DELIVERED)
        detail = f"HTTP {response.status_code}: {response.text[:300]}"
        # Credentials and rate limits are fixed outside the message: keep it and try again.
        if response.status_code in (401, 403, 408, 409, 425, 429) or response.status_code >= 500:
            return Answer(Outcome.RETRY, detail)
        return Answer(Outcome.REFUSED, detail)
