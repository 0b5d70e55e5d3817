"""The apology's new appointment (form 04): which instants an overdue dossier may be promised for.

An appointment is the end of office hours of a working day (like every deadline the calendar
gives), after now, and at most a bound of working days away. The bound is pinned in the
dossier's input (`DossierInput.apology_max_working_days`) so it never changes under a running
dossier. One rule for the entry points (before sending) and the workflow's update validator.

The calendar (holidays, announced overrides) may change between deployments, so only the
validator asks it, never the update handler: validators do not run on replay, so a newer
calendar can refuse a new apology but never change the replay of one already applied.
"""

from __future__ import annotations

from datetime import datetime

from procedures.calendar import VN_TZ, WorkingCalendar

__all__ = ["appointment_refusal"]


def appointment_refusal(
    calendar: WorkingCalendar, new_due_at: datetime, now: datetime, max_working_days: int
) -> str | None:
    """Why `new_due_at` cannot be the new appointment at `now`, or None if it can."""
    when = new_due_at.isoformat()
    if new_due_at <= now:
        return f"new appointment {when} is not in the future"
    latest = calendar.add_working_days(now, max_working_days)
    # Compared before any conversion: an instant near year 9999 cannot be moved to Vietnam
    # time (OverflowError), and must be refused here rather than break the projection later.
    if new_due_at > latest:
        return f"new appointment {when} is more than {max_working_days} working days away (latest {latest.isoformat()})"
    # Safe to convert now: the bound above keeps it within a few months of `now`.
    day = new_due_at.astimezone(VN_TZ).date()
    end_of_day = calendar.close_of(day if calendar.is_working_day(day) else calendar.next_working_day(day))
    if new_due_at != end_of_day:
        return (
            f"new appointment {when} is not the end of office hours of a working day"
            f" (such as {end_of_day.isoformat()})"
        )
    return None
