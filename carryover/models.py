"""Messages and state of the carryover: its input, checkpointed state, progress and report.

A module of its own, passed through the workflow sandbox, so the classes are the same
objects in the workflow, its activities, the CLI and the tests.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, Field

from adminunits.registry import REFORM_INSTANT
from model.dossier_inputs import TransferActor

__all__ = [
    "AuthorityReport",
    "CarryoverInput",
    "CarryoverMode",
    "CarryoverProgress",
    "CarryoverReport",
    "CarryoverState",
    "DEFAULT_REASON",
    "OutcomeCounts",
]

DEFAULT_REASON = "Nghị quyết 190/2025/QH15, Điều 5: cơ quan tiếp nhận chức năng tiếp tục giải quyết"


class CarryoverMode(StrEnum):
    PLAN = "plan"  # dry run: count and resolve, transfer nothing
    RUN = "run"


class OutcomeCounts(BaseModel):
    """How many dossiers had each outcome; one field per `OutcomeKind`, by its value."""

    transferred: int = 0
    planned: int = 0
    unchanged: int = 0
    skipped: int = 0
    manual: int = 0
    failed: int = 0

    def count(self, kind: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)


class AuthorityReport(OutcomeCounts):
    """One old authority: how many open dossiers and where they went."""

    old_unit: str
    province_code: str = ""
    open: int = 0
    successors: dict[str, int] = Field(default_factory=dict)
    # Split communes: dossiers sent to the default successor although others were possible.
    with_alternatives: int = 0


class CarryoverState(OutcomeCounts):
    cursor: str | None = None
    listing_done: bool = False
    total: int = 0
    done: int = 0
    authorities: dict[str, AuthorityReport] = Field(default_factory=dict)
    # Needs manual assignment, per (old) province: never dropped.
    manual_by_province: dict[str, list[str]] = Field(default_factory=dict)
    failures: dict[str, str] = Field(default_factory=dict)
    started_at: AwareDatetime | None = None
    runs: int = 1


class CarryoverInput(BaseModel):
    carryover_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")
    mode: CarryoverMode = CarryoverMode.RUN
    received_before: AwareDatetime = REFORM_INSTANT
    batch_size: int = Field(default=50, ge=1, le=1000)
    parallel_batches: int = Field(default=4, ge=1, le=32)
    concurrency: int = Field(default=16, ge=1, le=200, description="transfers in flight per batch")
    # Continue-as-new after this many batches, so the history stays small.
    checkpoint_every: int = Field(default=40, ge=1)
    reason: str = DEFAULT_REASON
    actor: TransferActor = TransferActor.SYSTEM
    actor_id: str = "system"
    state: CarryoverState | None = None


class CarryoverProgress(BaseModel):
    carryover_id: str
    mode: CarryoverMode
    total: int
    done: int
    transferred: int
    planned: int
    manual: int
    failed: int
    finished: bool
    runs: int


class CarryoverReport(BaseModel):
    progress: CarryoverProgress
    authorities: list[AuthorityReport]
    manual_by_province: dict[str, list[str]]
    failures: dict[str, str]
