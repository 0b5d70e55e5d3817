"""Failed attempts per client address: a credential that can be guessed is slowed down.

The citizens' lookup (code + the slip's secret, web/routes/citizen.py) and the applicant's
rating through the API (code + personal ID, api/routes/online.py) each keep one: after
`failures` failed attempts in `window` seconds from one address, the next are refused (429)
until the oldest failure leaves the window. In the serving process's memory: behind several
processes, a shared limit belongs in the proxy.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["FailureLimiter"]


@dataclass
class FailureLimiter:
    """At most `failures` failed attempts per client address in `window` seconds (then 429)."""

    failures: int = 10
    window: float = 600.0
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self) -> None:
        self._failed: dict[str, deque[float]] = {}

    def _recent(self, client: str) -> deque[float]:
        failed = self._failed.get(client, deque())
        while failed and failed[0] <= self.clock() - self.window:
            failed.popleft()
        if not failed:
            # Addresses that stopped failing are forgotten, so the map does not grow forever.
            self._failed.pop(client, None)
        return failed

    def blocked(self, client: str) -> bool:
        return len(self._recent(client)) >= self.failures

    def failed(self, client: str) -> None:
        self._failed[client] = self._recent(client)
        self._failed[client].append(self.clock())

    def retry_after(self, client: str) -> int:
        """Whole seconds until this client may try again (0 when it may now)."""
        failed = self._recent(client)
        if len(failed) < self.failures:
            return 0
        return max(1, math.ceil(failed[-self.failures] + self.window - self.clock()))
