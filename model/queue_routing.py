"""Which task queue serves a dossier: its handling unit's province's own queue, or the shared one.

Pure and deterministic: intake reads it to start a dossier, the carryover hands it to a
transfer, and the workflow follows it (a carried-over dossier continues on its new province's
queue). Configured by `PROVINCE_TASK_QUEUES` (runtime.settings).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["QueueRouting", "parse_province_queues"]

_QUEUE_NAME = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._:/-]+$")


class QueueRouting(BaseModel):
    """Province code (two digits, the handling unit's) to task queue; `default` for the others."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default: str = _QUEUE_NAME
    by_province: dict[str, str] = Field(default_factory=dict)

    def queue_for(self, province_code: str) -> str:
        return self.by_province.get(province_code, self.default)

    def elsewhere(self, province_code: str, current: str | None) -> str | None:
        """The province's queue when it is not `current` (the queue the work runs on; None: a run
        started before queues were recorded, on the shared one), else None: stay."""
        target = self.queue_for(province_code)
        return target if target != (current or self.default) else None

    @property
    def queues(self) -> tuple[str, ...]:
        """Every queue this routing sends work to, the shared one first."""
        return tuple(dict.fromkeys([self.default, *self.by_province.values()]))


def parse_province_queues(text: str, variable: str = "PROVINCE_TASK_QUEUES") -> dict[str, str]:
    """`24=dossiers-h24,01=dossiers-h01` as a mapping; a malformed pair raises ValueError naming
    `variable` and the pair (a province's dossiers must never go to a queue nobody meant)."""
    routes: dict[str, str] = {}
    for pair in (p.strip() for p in text.split(",")):
        if not pair:
            continue
        province, sep, queue = (part.strip() for part in pair.partition("="))
        if not sep or not (len(province) == 2 and province.isascii() and province.isdigit()):
            raise ValueError(
                f"{variable}: {pair[:40]!r} is not PROVINCE=QUEUE with a two-digit province code"
            )
        if not queue or not all(c.isascii() and (c.isalnum() or c in "._:/-") for c in queue):
            raise ValueError(f"{variable}: the queue of province {province} is empty or not a plain name")
        if province in routes and routes[province] != queue:
            raise ValueError(f"{variable}: province {province} is given two queues")
        routes[province] = queue
    return routes
