"""Working-day calendar for one-stop time limits.

Time limits for administrative procedures run in *working days* counted from
the receipt of a dossier (Civil Code 2015, Arts. 147-148): the day of receipt
is not counted and a deadline never falls on a weekend or public holiday.
Holidays and swap days come from the ``holidays`` package; official
announcements it does not know yet go in ``calendar_overrides.toml``.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
from dateutil.relativedelta import relativedelta

__all__ = ["VN_TZ", "WorkingCalendar", "CalendarConfigError"]

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
DEFAULT_OFFICE_HOURS = ((time(8), time(12)), (time(13), time(17)))
OVERRIDES_FILE = "calendar_overrides.toml"
# A year with no working day at all can only be a misconfiguration; stop
# instead of looping forever.
_MAX_SEARCH_DAYS = 366
_ENTRY_FIELDS = {"date", "name", "source"}


class CalendarConfigError(ValueError):
    """The calendar configuration (overrides file or options) is invalid."""


def _local(value: datetime, arg: str) -> datetime:
    # Naive datetimes are ambiguous (server clock? Hanoi?), and a deadline off
    # by seven hours can cross a day boundary, so they are refused outright.
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{arg} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(VN_TZ)


def _non_negative(value: float, arg: str) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{arg} must be a number, got {value!r}")
    if value < 0:
        raise ValueError(f"{arg} must not be negative, got {value!r}")


class WorkingCalendar:
    """Vietnamese working days and office hours, with announced overrides."""

    def __init__(
        self,
        *,
        days_off: Mapping[date, str] = {},
        working_days: Iterable[date] = (),
        saturday_is_working: bool = False,
        office_hours: Sequence[tuple[time, time]] = DEFAULT_OFFICE_HOURS,
    ) -> None:
        self._days_off = dict(days_off)
        self._working_days = frozenset(working_days)
        clash = sorted(self._working_days & self._days_off.keys())
        if clash:
            raise CalendarConfigError(f"dates both off and working: {clash}")
        self._saturday_is_working = saturday_is_working
        self._periods = tuple((s, e) for s, e in office_hours)
        if not self._periods:
            raise CalendarConfigError("office_hours must contain at least one period")
        prev_end = time.min
        for s, e in self._periods:
            # Overlapping or unordered periods would double-count office time
            # and break the add/between inverse.
            if s.tzinfo or e.tzinfo or not (prev_end <= s < e):
                raise CalendarConfigError(f"office_hours must be ordered, disjoint, naive: {office_hours!r}")
            prev_end = e
        self._years: dict[int, holidays.HolidayBase] = {}

    @classmethod
    def from_file(cls, path: Path, **options: Any) -> WorkingCalendar:
        """Build a calendar from an overrides TOML file.

        Official announcements (swap days, extra days off) win over the
        ``holidays`` package, which can lag behind the government.  Any problem
        raises CalendarConfigError naming the file and the entry, because a
        silently ignored override would shift every deadline around it.
        """
        path = Path(path)
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise CalendarConfigError(f"{path}: cannot read overrides: {exc}") from exc
        unknown = set(data) - {"day_off", "working_day"}
        if unknown:
            raise CalendarConfigError(f"{path}: unknown keys {sorted(unknown)}")
        days_off = {e["date"]: e["name"] for e in _entries(path, data, "day_off")}
        working = [e["date"] for e in _entries(path, data, "working_day")]
        days_off.update(options.pop("days_off", {}))
        working.extend(options.pop("working_days", ()))
        try:
            return cls(days_off=days_off, working_days=working, **options)
        except CalendarConfigError as exc:
            raise CalendarConfigError(f"{path}: {exc}") from exc

    @classmethod
    @functools.cache
    def default(cls) -> WorkingCalendar:
        """The calendar with the overrides shipped next to this module (cached)."""
        return cls.from_file(Path(__file__).with_name(OVERRIDES_FILE))

    # -- days ---------------------------------------------------------------

    def _holidays(self, year: int) -> holidays.HolidayBase:
        # Built lazily per year: dossiers span only a few years, and building
        # all of them up front is slow.
        cal = self._years.get(year)
        if cal is None:
            cal = self._years[year] = holidays.VN(years=year, expand=False)
        return cal

    def is_working_day(self, d: date) -> bool:
        """Mon-Fri minus public holidays plus announced swap Saturdays; overrides win."""
        if isinstance(d, datetime):
            raise ValueError(f"d must be a date, not a datetime: {d!r}")
        if d in self._days_off:
            return False
        if d in self._working_days:
            return True
        cal = self._holidays(d.year)
        if d.weekday() == 5 and self._saturday_is_working:
            return d not in cal
        return cal.is_working_day(d)

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after ``d``."""
        for _ in range(_MAX_SEARCH_DAYS):
            d += timedelta(days=1)
            if self.is_working_day(d):
                return d
        raise CalendarConfigError(f"no working day within {_MAX_SEARCH_DAYS} days after {d}")

    def effective_receipt_date(self, received_at: datetime, cutoff: time | None) -> date:
        """The working day the dossier counts as received on.

        The local date of receipt if it is a working day and the receipt came before
        ``cutoff``; otherwise the next working day. A receipt on a day off counts exactly
        like one after the cut-off of the working day before it: both are first handled on
        the next working day, so a later receipt is never due earlier.
        """
        local = _local(received_at, "received_at")
        d = local.date()
        if not self.is_working_day(d) or (cutoff is not None and local.time() >= cutoff):
            return self.next_working_day(d)
        return d

    def add_working_days(self, received_at: datetime, days: int, cutoff: time | None = None) -> datetime:
        """End of office hours on the ``days``-th working day after the effective receipt date.

        The day of receipt is not counted (Civil Code Art. 147). ``days == 0`` means the end
        of the effective receipt day, or of the next working day when the dossier arrived at
        or after the close of office on it: a deadline never falls before its receipt.
        """
        _non_negative(days, "days")
        if days != int(days):
            raise ValueError(f"days must be a whole number, got {days!r}")
        d = self.effective_receipt_date(received_at, cutoff)
        if days == 0 and self.close_of(d) <= received_at:
            d = self.next_working_day(d)
        for _ in range(int(days)):
            d = self.next_working_day(d)
        return self.close_of(d)

    def close_of(self, d: date) -> datetime:
        """The end of the last office period of ``d``: where deadlines in days fall."""
        return datetime.combine(d, self._periods[-1][1], tzinfo=VN_TZ)

    # -- office time ---------------------------------------------------------

    def _periods_from(self, start: datetime) -> Iterable[tuple[datetime, datetime]]:
        """Office periods (clipped to start) from the local day of ``start`` on."""
        d = start.date()
        if not self.is_working_day(d):
            d = self.next_working_day(d)
        while True:  # callers stop consuming; next_working_day bounds each step
            for s, e in self._periods:
                pe = datetime.combine(d, e, tzinfo=VN_TZ)
                if pe > start:
                    yield max(datetime.combine(d, s, tzinfo=VN_TZ), start), pe
            d = self.next_working_day(d)

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """Consume ``duration`` of office time from ``start``.

        Outside office hours the clock waits for the next period.  A duration
        that ends exactly at a period end returns that end (17:00, not the next
        morning), and a zero duration returns ``start`` unchanged, so a paused
        deadline shifted by zero stays put.  Inverse of working_time_between.
        """
        local = _local(start, "start")
        if duration < timedelta(0):
            raise ValueError(f"duration must not be negative, got {duration!r}")
        remaining = duration
        if not remaining:
            return local
        for s, e in self._periods_from(local):
            if remaining <= e - s:
                return s + remaining
            remaining -= e - s
        raise AssertionError("unreachable: _periods_from is endless")

    def add_working_hours(self, received_at: datetime, hours: float, cutoff: time | None = None) -> datetime:
        """Deadline for same-day procedures counted in office hours.

        A receipt at/after ``cutoff`` on a working day starts counting at the
        first office period of the next working day; a receipt outside office
        hours starts at the next office period.
        """
        _non_negative(hours, "hours")
        local = _local(received_at, "received_at")
        d = self.effective_receipt_date(local, cutoff)
        if d != local.date():
            local = datetime.combine(d, self._periods[0][0], tzinfo=VN_TZ)
        start = next(iter(self._periods_from(local)))[0]
        return self.add_working_time(start, timedelta(hours=hours))

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Office time in ``[start, end)``; zero if ``end <= start``.

        Used to extend a deadline by exactly the working time a dossier spent
        paused (e.g. waiting for the applicant to supplement it).
        """
        a, b = _local(start, "start"), _local(end, "end")
        total = timedelta(0)
        if b <= a:
            return total
        for s, e in self._periods_from(a):
            if s >= b:
                break
            total += min(e, b) - s
        return total

    def add_calendar_days(self, received_at: datetime, days: int, cutoff: time | None = None) -> datetime:
        """End of office hours on the ``days``-th calendar day after receipt.

        Weekends and holidays count (the portal's DAY unit), but the day of receipt does not
        (Civil Code Art. 147) and a deadline falling on a day off moves to the end of the next
        working day (Art. 148). ``days == 0`` means the receipt day itself.
        """
        _non_negative(days, "days")
        if days != int(days):
            raise ValueError(f"days must be a whole number, got {days!r}")
        d = self.effective_receipt_date(received_at, cutoff) + timedelta(days=int(days))
        if not self.is_working_day(d):
            d = self.next_working_day(d)
        return datetime.combine(d, self._periods[-1][1], tzinfo=VN_TZ)

    def add_months(self, received_at: datetime, months: int, cutoff: time | None = None) -> datetime:
        """End of office hours on the day of the ``months``-th month after receipt that
        bears the receipt day's number, or the month's last day when it has none
        (Civil Code Art. 147); moved to the next working day when that day is off (Art. 148)."""
        _non_negative(months, "months")
        if months != int(months):
            raise ValueError(f"months must be a whole number, got {months!r}")
        d = self.effective_receipt_date(received_at, cutoff)
        d = d + relativedelta(months=int(months))  # clamps 31 January + 1 month to 28/29 February
        if not self.is_working_day(d):
            d = self.next_working_day(d)
        return datetime.combine(d, self._periods[-1][1], tzinfo=VN_TZ)

    def due_at(
        self, received_at: datetime, amount: int | float, unit: str, cutoff: time | None = None
    ) -> datetime:
        """Deadline for a time limit of ``amount`` ``unit``: "working_days", "working_hours",
        "calendar_days" or "months"."""
        _non_negative(amount, "amount")
        if unit in ("working_days", "calendar_days", "months"):
            if amount != int(amount):
                raise ValueError(f"amount must be a whole number of {unit.replace('_', ' ')}, got {amount!r}")
            add = {
                "working_days": self.add_working_days,
                "calendar_days": self.add_calendar_days,
                "months": self.add_months,
            }[unit]
            return add(received_at, int(amount), cutoff)
        if unit == "working_hours":
            return self.add_working_hours(received_at, amount, cutoff)
        raise ValueError(
            f"unknown unit {unit!r}; expected 'working_days', 'working_hours', 'calendar_days' or 'months'"
        )


def _entries(path: Path, data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """Validate one array of tables of the overrides file."""
    raw = data.get(key, [])
    if not isinstance(raw, list):
        raise CalendarConfigError(f"{path}: {key} must be an array of tables ([[{key}]])")
    out, seen = [], set()
    for i, entry in enumerate(raw):
        where = f"{path}: {key}[{i}]"
        if not isinstance(entry, dict):
            raise CalendarConfigError(f"{where}: must be a table")
        missing, extra = _ENTRY_FIELDS - entry.keys(), entry.keys() - _ENTRY_FIELDS
        if missing or extra:
            raise CalendarConfigError(
                f"{where}: missing fields {sorted(missing)}, unknown fields {sorted(extra)}"
            )
        d = entry["date"]
        if isinstance(d, str):
            try:
                d = date.fromisoformat(d)
            except ValueError:
                d = None
        if not isinstance(d, date) or isinstance(d, datetime):
            raise CalendarConfigError(f"{where}.date: expected a date like 2026-01-02, got {entry['date']!r}")
        for field in ("name", "source"):
            if not isinstance(entry[field], str) or not entry[field].strip():
                raise CalendarConfigError(f"{where}.{field}: expected a non-empty string")
        if d in seen:
            raise CalendarConfigError(f"{where}.date: {d} listed twice")
        seen.add(d)
        out.append({**entry, "date": d})
    return out
