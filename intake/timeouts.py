"""How long a receipt waits for Temporal, and how far back a receipt may be dated."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import ClassVar

from records.database import positive_numbers

__all__ = ["IntakeTimeouts"]


@dataclass(frozen=True)
class IntakeTimeouts:
    """How long a receipt waits for Temporal, and how far back a receipt may be dated.

    `rpc` bounds each call; `settle` bounds the retries of a start whose outcome is unknown
    before the counter is told to send the request again; `backfill_tolerance` is how far in
    the past a receipt may be dated without an operator's backfill permission.
    """

    rpc: timedelta = timedelta(seconds=5)
    settle: timedelta = timedelta(seconds=20)
    backfill_tolerance: timedelta = timedelta(minutes=5)

    VARIABLES: ClassVar[dict[str, str]] = {
        "rpc": "INTAKE_RPC_TIMEOUT",
        "settle": "INTAKE_START_SETTLE_TIMEOUT",
        "backfill_tolerance": "INTAKE_BACKFILL_TOLERANCE",
    }

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> IntakeTimeouts:
        """From INTAKE_RPC_TIMEOUT, INTAKE_START_SETTLE_TIMEOUT, INTAKE_BACKFILL_TOLERANCE (seconds)."""
        seconds = positive_numbers(cls.VARIABLES, env)
        return cls(**{name: timedelta(seconds=value) for name, value in seconds.items()})
