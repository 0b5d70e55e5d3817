"""Working-time arithmetic for running dossiers, as (local) activities.

The calendar reads `holidays` data and the overrides file, both of which change between
deployments. Asking through an activity records the answer in history, so a replay never
recomputes a deadline under a newer calendar.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from pydantic import AwareDatetime, BaseModel
from temporalio import activity

from procedures.calendar import WorkingCalendar

__all__ = [
    "AppointmentInput",
    "CalendarActivities",
    "CheckDeadlineInput",
    "InstantResult",
    "ShiftDeadlineInput",
    "ShiftDeadlineResult",
]


class ShiftDeadlineInput(BaseModel):
    due_at: AwareDatetime
    paused_from: AwareDatetime
    paused_until: AwareDatetime


class ShiftDeadlineResult(BaseModel):
    due_at: AwareDatetime
    paused_working_time: timedelta


class AppointmentInput(BaseModel):
    """An online dossier received now: its appointment under the time limit pinned at submission."""

    received_at: AwareDatetime
    amount: float
    unit: str
    cutoff: time | None = None


class CheckDeadlineInput(BaseModel):
    """When the counter must have checked an online dossier: `working_hours` of office time on."""

    start: AwareDatetime
    working_hours: float


class InstantResult(BaseModel):
    at: AwareDatetime


class CalendarActivities:
    def __init__(self, calendar: WorkingCalendar) -> None:
        self._calendar = calendar

    @activity.defn(name="shift_deadline")
    async def shift_deadline(self, pause: ShiftDeadlineInput) -> ShiftDeadlineResult:
        """Move the due moment by the working time the dossier spent paused, in whole minutes.

        Whole minutes, because seconds of a pause must not carry a 17:00 deadline over to the
        next morning.
        """
        paused = self._calendar.working_time_between(pause.paused_from, pause.paused_until)
        paused -= paused % timedelta(minutes=1)
        return ShiftDeadlineResult(
            due_at=self._calendar.add_working_time(pause.due_at, paused),
            paused_working_time=paused,
        )

    @activity.defn(name="appointment")
    async def appointment(self, receipt: AppointmentInput) -> InstantResult:
        """The due moment of a dossier received at `received_at` (IntakeService computes the
        counter's the same way, with WorkingCalendar.due_at)."""
        return InstantResult(
            at=self._calendar.due_at(receipt.received_at, receipt.amount, receipt.unit, receipt.cutoff)
        )

    @activity.defn(name="check_deadline")
    async def check_deadline(self, check: CheckDeadlineInput) -> InstantResult:
        """The deadline of the counter's check of an online dossier (docs/online.md)."""
        return InstantResult(at=check_deadline(self._calendar, check.start, check.working_hours))


def check_deadline(calendar: WorkingCalendar, start: datetime, working_hours: float) -> datetime:
    """`working_hours` of office time from `start`: the intake's and the workflow's one rule."""
    return calendar.add_working_time(start, timedelta(hours=working_hours))
