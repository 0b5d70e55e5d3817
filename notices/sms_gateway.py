"""The SMS gateway adapter: one HTTP POST per message, to a configurable gateway.

The request is the common shape of Vietnamese SMS brand-name gateways (recipient, text,
a client reference the gateway dedups on), unverified against any one provider: a provider
with another shape gets its own adapter with the same `send`.
"""

from __future__ import annotations

import httpx

__all__ = ["SmsGateway", "SmsRefused"]


class SmsRefused(Exception):
    """The gateway refused the message for good (bad number, bad request): not retried."""


class SmsGateway:
    def __init__(self, http: httpx.AsyncClient, url: str, api_key: str | None) -> None:
        self._http = http
        self._url = url
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}

    async def send(self, notice_id: str, phone: str, text: str) -> None:
        """Raises SmsRefused for a 4xx other than 401/403/408/429, httpx errors for the rest."""
        response = await self._http.post(
            self._url,
            json={"to": phone, "text": text, "reference": notice_id},
            headers={**self._headers, "Idempotency-Key": notice_id},
        )
        if response.is_success:
            return
        if 400 <= response.status_code < 500 and response.status_code not in (401, 403, 408, 429):
            raise SmsRefused(f"HTTP {response.status_code}: {response.text[:200]}")
        response.raise_for_status()
