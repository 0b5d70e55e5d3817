"""Working-time arithmetic for running dossiers, as (local) activities.

The calendar reads `holidays` data and the overrides file, both of which change between
deployments. Asking through an activity records the answer in history, so a replay never
recomputes a deadline under a newer calendar.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import AwareDatetime, BaseModel
from temporalio import activity

from procedures.calendar import WorkingCalendar

__all__ = ["CalendarActivities", "ShiftDeadlineInput", "ShiftDeadlineResult"]


class ShiftDeadlineInput(BaseModel):
    due_at: AwareDatetime
    paused_from: AwareDatetime
    paused_until: AwareDatetime


class ShiftDeadlineResult(BaseModel):
    due_at: AwareDatetime
    paused_working_time: timedelta


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
