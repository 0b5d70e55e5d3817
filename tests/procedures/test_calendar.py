"""Tests for procedures.calendar (working days, office hours, overrides)."""

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from procedures.calendar import VN_TZ, CalendarConfigError, WorkingCalendar

CAL = WorkingCalendar()
FIFTEEN = time(15)


def vn(y, m, d, hh=0, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=VN_TZ)


class TestWorkingDays:
    """Counting whole working days from receipt."""

    def test_tet_2026_skipped(self):
        """Fri 13 Feb 2026 + 5 skips the weekend and Tết 16-20 Feb."""
        assert CAL.add_working_days(vn(2026, 2, 13, 10), 5) == vn(2026, 2, 27, 17)

    def test_across_weekend(self):
        """Thu + 2 working days is Mon at close of office."""
        assert CAL.add_working_days(vn(2025, 3, 6, 9), 2) == vn(2025, 3, 10, 17)

    def test_receipt_day_not_counted(self):
        """Mon + 1 working day is Tue, not Mon."""
        assert CAL.add_working_days(vn(2025, 3, 3, 8), 1) == vn(2025, 3, 4, 17)

    def test_zero_days(self):
        """0 days: end of the receipt day, or of the next working day if off."""
        assert CAL.add_working_days(vn(2025, 3, 3, 9), 0) == vn(2025, 3, 3, 17)
        assert CAL.add_working_days(vn(2025, 3, 8, 9), 0) == vn(2025, 3, 10, 17)

    def test_weekend_receipt(self):
        """A Saturday receipt counts as received on Monday: the first counted day is Tuesday."""
        assert CAL.effective_receipt_date(vn(2025, 3, 8, 9), None) == date(2025, 3, 10)
        assert CAL.add_working_days(vn(2025, 3, 8, 9), 1) == vn(2025, 3, 11, 17)

    def test_saturday_receipt_not_due_before_friday_after_cutoff(self):
        """Saturday's receipt is due with, never before, the Friday-after-cut-off one (issue 11)."""
        friday_late = CAL.add_working_days(vn(2025, 3, 7, 16), 3, cutoff=FIFTEEN)
        saturday = CAL.add_working_days(vn(2025, 3, 8, 9), 3, cutoff=FIFTEEN)
        assert friday_late == saturday == vn(2025, 3, 13, 17)

    def test_holiday_receipt_counts_from_next_working_day(self):
        """Received on National Day 2025 (Tue 2 Sep): counted from Wed 3 Sep, so +1 is Thu."""
        assert CAL.add_working_days(vn(2025, 9, 2, 10), 1) == vn(2025, 9, 4, 17)

    def test_zero_days_after_office_hours(self):
        """0 days received after the close of office: the end of the next working day."""
        assert CAL.add_working_days(vn(2025, 3, 3, 18), 0) == vn(2025, 3, 4, 17)
        assert CAL.add_working_days(vn(2025, 3, 3, 17), 0) == vn(2025, 3, 4, 17)
        assert CAL.add_working_days(vn(2025, 3, 7, 23, 30), 0) == vn(2025, 3, 10, 17)
        assert CAL.add_working_days(vn(2025, 3, 3, 16, 59), 0) == vn(2025, 3, 3, 17)

    def test_other_timezone_input(self):
        """A UTC instant is converted to Hanoi local date before counting."""
        # 2025-03-06 18:00 UTC is Fri 01:00 in Hanoi.
        got = CAL.add_working_days(datetime(2025, 3, 6, 18, tzinfo=timezone.utc), 1)
        assert got == vn(2025, 3, 10, 17) and got.tzinfo is VN_TZ

    def test_custom_office_hours_end(self):
        """The deadline hour is the end of the last office period."""
        cal = WorkingCalendar(office_hours=[(time(7, 30), time(11, 30)), (time(13), time(16, 30))])
        assert cal.add_working_days(vn(2025, 3, 3, 9), 1) == vn(2025, 3, 4, 16, 30)

    def test_saturday_option(self):
        """saturday_is_working makes ordinary Saturdays count, never holidays."""
        cal = WorkingCalendar(saturday_is_working=True)
        assert cal.add_working_days(vn(2025, 3, 6, 9), 2) == vn(2025, 3, 8, 17)
        assert not cal.is_working_day(date(2028, 1, 1))  # New Year on a Saturday
        assert not cal.is_working_day(date(2025, 3, 9))


class TestCutoff:
    """Afternoon cut-off moves the receipt to the next working day."""

    def test_after_cutoff_moves_one_day(self):
        """Receipt at 15:30 with a 15:00 cut-off counts from the next day."""
        assert CAL.add_working_days(vn(2025, 3, 4, 15, 30), 1, cutoff=FIFTEEN) == vn(2025, 3, 6, 17)
        assert CAL.effective_receipt_date(vn(2025, 3, 4, 15, 30), FIFTEEN) == date(2025, 3, 5)

    def test_at_cutoff_moves(self):
        """Exactly at the cut-off counts as late."""
        assert CAL.effective_receipt_date(vn(2025, 3, 4, 15), FIFTEEN) == date(2025, 3, 5)

    def test_before_cutoff_does_not_move(self):
        """Receipt at 14:59 is counted normally."""
        assert CAL.add_working_days(vn(2025, 3, 4, 14, 59), 1, cutoff=FIFTEEN) == vn(2025, 3, 5, 17)

    def test_friday_after_cutoff(self):
        """Friday afternoon late receipt jumps to Monday."""
        assert CAL.effective_receipt_date(vn(2025, 3, 7, 16), FIFTEEN) == date(2025, 3, 10)

    def test_no_cutoff(self):
        """Without a cut-off the local date is used."""
        assert CAL.effective_receipt_date(vn(2025, 3, 4, 23, 59), None) == date(2025, 3, 4)

    def test_weekend_counts_as_next_working_day(self):
        """On a day off, whatever the hour or cut-off, the receipt counts from the next working day."""
        assert CAL.effective_receipt_date(vn(2025, 3, 8, 16), FIFTEEN) == date(2025, 3, 10)
        assert CAL.effective_receipt_date(vn(2025, 3, 9, 8), None) == date(2025, 3, 10)


class TestSwapDays:
    """Announced swap days from the holidays package."""

    def test_swap_saturday_is_working(self):
        """Sat 2025-04-26 is worked to bridge Fri 2025-05-02."""
        assert CAL.is_working_day(date(2025, 4, 26))
        assert not CAL.is_working_day(date(2025, 5, 2))

    def test_swap_affects_count(self):
        """Fri 25 Apr + 1 working day is the swap Saturday."""
        assert CAL.add_working_days(vn(2025, 4, 25, 9), 1) == vn(2025, 4, 26, 17)

    def test_next_working_day_over_holidays(self):
        """30/4, 1/5, 2/5 then weekend: next after 29 Apr 2025 is Mon 5 May."""
        assert CAL.next_working_day(date(2025, 4, 29)) == date(2025, 5, 5)


class TestOverridesFile:
    """Loading official announcements from TOML."""

    def write(self, tmp_path: Path, text: str) -> Path:
        p = tmp_path / "overrides.toml"
        p.write_text(text, encoding="utf-8")
        return p

    def test_overrides_change_results(self, tmp_path):
        """A day off and a working Saturday change the count."""
        p = self.write(
            tmp_path,
            """
[[day_off]]
date = 2025-03-10
name = "test day off"
source = "test"

[[working_day]]
date = "2025-03-08"
name = "test working Saturday"
source = "test"
""",
        )
        cal = WorkingCalendar.from_file(p)
        assert not cal.is_working_day(date(2025, 3, 10))
        assert cal.is_working_day(date(2025, 3, 8))
        # Thu 6 Mar + 2: Fri 7, Sat 8 (worked) instead of Mon 10.
        assert cal.add_working_days(vn(2025, 3, 6, 9), 2) == vn(2025, 3, 8, 17)
        # Fri 7 + 2: Sat 8, (Sun 9, Mon 10 off) Tue 11.
        assert cal.add_working_days(vn(2025, 3, 7, 9), 2) == vn(2025, 3, 11, 17)

    def test_override_beats_holiday(self, tmp_path):
        """A working_day override wins over a public holiday."""
        p = self.write(tmp_path, '[[working_day]]\ndate = 2025-05-02\nname = "x"\nsource = "y"\n')
        assert WorkingCalendar.from_file(p).is_working_day(date(2025, 5, 2))

    def test_options_passed_through(self, tmp_path):
        """Extra keyword options reach the constructor."""
        p = self.write(tmp_path, "")
        assert WorkingCalendar.from_file(p, saturday_is_working=True).is_working_day(date(2025, 3, 8))

    @pytest.mark.parametrize(
        "text, needle",
        [
            ("[[day_off]\ndate = 2025-01-01", ""),
            ('[[day_off]]\ndate = "not a date"\nname = "x"\nsource = "y"\n', "day_off[0].date"),
            ('[[day_off]]\ndate = 2025-01-01\nname = "x"\n', "day_off[0]"),
            ('[[working_day]]\ndate = 2025-01-04\nname = "x"\nsource = "y"\ncolour = 1\n', "working_day[0]"),
            ('[[working_day]]\ndate = 2025-01-04\nname = ""\nsource = "y"\n', "working_day[0].name"),
            ("day_off = 3\n", "day_off"),
            ("holiday = []\n", "unknown keys"),
            (
                '[[day_off]]\ndate = 2025-01-06\nname = "a"\nsource = "b"\n'
                '[[working_day]]\ndate = 2025-01-06\nname = "a"\nsource = "b"\n',
                "both",
            ),
        ],
    )
    def test_malformed_file(self, tmp_path, text, needle):
        """Malformed files raise CalendarConfigError naming the file and entry."""
        p = self.write(tmp_path, text)
        with pytest.raises(CalendarConfigError) as exc:
            WorkingCalendar.from_file(p)
        assert str(p) in str(exc.value) and needle in str(exc.value)

    def test_missing_file(self, tmp_path):
        """A missing file is a config error naming it."""
        with pytest.raises(CalendarConfigError, match="nope.toml"):
            WorkingCalendar.from_file(tmp_path / "nope.toml")

    def test_default_loads_shipped_file(self):
        """The shipped overrides file loads and the result is cached."""
        assert WorkingCalendar.default() is WorkingCalendar.default()
        assert WorkingCalendar.default().add_working_days(vn(2026, 2, 13, 10), 5) == vn(2026, 2, 27, 17)


class TestValidation:
    """Bad arguments are rejected with the argument named."""

    def test_naive_datetime_rejected(self):
        """Naive instants are ambiguous."""
        with pytest.raises(ValueError, match="received_at"):
            CAL.add_working_days(datetime(2025, 3, 3, 9), 1)
        with pytest.raises(ValueError, match="start"):
            CAL.add_working_time(datetime(2025, 3, 3, 9), timedelta(hours=1))
        with pytest.raises(ValueError, match="end"):
            CAL.working_time_between(vn(2025, 3, 3), datetime(2025, 3, 4))

    def test_negative_rejected(self):
        """Negative counts are rejected."""
        with pytest.raises(ValueError, match="days"):
            CAL.add_working_days(vn(2025, 3, 3, 9), -1)
        with pytest.raises(ValueError, match="hours"):
            CAL.add_working_hours(vn(2025, 3, 3, 9), -0.5)
        with pytest.raises(ValueError, match="duration"):
            CAL.add_working_time(vn(2025, 3, 3, 9), timedelta(minutes=-1))
        with pytest.raises(ValueError, match="amount"):
            CAL.due_at(vn(2025, 3, 3, 9), -2, "working_days")

    def test_unknown_unit_rejected(self):
        """Only working days and hours, calendar days and months are known."""
        with pytest.raises(ValueError, match="fortnights"):
            CAL.due_at(vn(2025, 3, 3, 9), 2, "fortnights")


class TestCalendarDaysAndMonths:
    """The portal's DAY and MONTH limits, counted beside working days (Civil Code Arts. 147-148)."""

    def test_calendar_days_count_weekends(self):
        """Thursday + 3 calendar days is Sunday, which moves to Monday's end; 3 working days is Tuesday."""
        assert CAL.due_at(vn(2025, 3, 6, 9), 3, "calendar_days") == vn(2025, 3, 10, 17)
        assert CAL.due_at(vn(2025, 3, 6, 9), 3, "working_days") == vn(2025, 3, 11, 17)

    def test_one_calendar_day_on_a_working_day(self):
        """Marriage registration's calendar-day case: Monday's receipt is due Tuesday 17:00."""
        assert CAL.due_at(vn(2025, 3, 3, 9), 1, "calendar_days") == vn(2025, 3, 4, 17)

    def test_calendar_days_skip_a_holiday_landing(self):
        """A deadline landing on 30 April 2025 moves past the holidays (30 April - 4 May) to Monday 5 May."""
        assert CAL.due_at(vn(2025, 4, 28, 9), 2, "calendar_days") == vn(2025, 5, 5, 17)

    def test_calendar_days_respect_the_cutoff(self):
        """A receipt after the cut-off counts from the next working day."""
        assert CAL.due_at(vn(2025, 3, 7, 15, 30), 1, "calendar_days", time(15)) == vn(2025, 3, 11, 17)

    def test_months_keep_the_day_number(self):
        """10 March + 1 month is 10 April (a Thursday)."""
        assert CAL.due_at(vn(2025, 3, 10, 9), 1, "months") == vn(2025, 4, 10, 17)

    def test_months_clamp_to_the_last_day(self):
        """31 January + 1 month is 29 February 2024 (a Thursday; 31 January 2025 was in Tết)."""
        assert CAL.due_at(vn(2024, 1, 31, 9), 1, "months") == vn(2024, 2, 29, 17)

    def test_month_landing_on_a_weekend_moves(self):
        """7 May + 1 month is Saturday 7 June 2025, which moves to Monday 9 June."""
        assert CAL.due_at(vn(2025, 5, 7, 9), 1, "months") == vn(2025, 6, 9, 17)

    def test_fractional_calendar_units_rejected(self):
        with pytest.raises(ValueError, match="whole number"):
            CAL.due_at(vn(2025, 3, 3, 9), 1.5, "calendar_days")
        with pytest.raises(ValueError, match="whole number"):
            CAL.due_at(vn(2025, 3, 3, 9), 0.5, "months")

    def test_fractional_days_rejected(self):
        """Working days are whole."""
        with pytest.raises(ValueError, match="amount"):
            CAL.due_at(vn(2025, 3, 3, 9), 1.5, "working_days")

    def test_bad_office_hours(self):
        """Overlapping office periods are a config error."""
        with pytest.raises(CalendarConfigError):
            WorkingCalendar(office_hours=[(time(8), time(12)), (time(11), time(17))])


class TestOfficeTime:
    """Office-hour arithmetic."""

    def test_between_across_lunch(self):
        """11:00-14:00 is 2h (lunch 12-13 excluded)."""
        assert CAL.working_time_between(vn(2025, 3, 3, 11), vn(2025, 3, 3, 14)) == timedelta(hours=2)

    def test_between_across_weekend(self):
        """Fri 16:00 to Mon 09:00 is 2h."""
        assert CAL.working_time_between(vn(2025, 3, 7, 16), vn(2025, 3, 10, 9)) == timedelta(hours=2)

    def test_between_across_holiday(self):
        """Tue 29 Apr 2025 15:30 to Mon 5 May 08:45: 1h30 + 45min."""
        got = CAL.working_time_between(vn(2025, 4, 29, 15, 30), vn(2025, 5, 5, 8, 45))
        assert got == timedelta(hours=2, minutes=15)

    def test_between_reversed_is_zero(self):
        """end <= start gives zero."""
        assert CAL.working_time_between(vn(2025, 3, 3, 14), vn(2025, 3, 3, 9)) == timedelta(0)

    def test_between_full_week(self):
        """A full ordinary week is 40h."""
        assert CAL.working_time_between(vn(2025, 3, 3), vn(2025, 3, 10)) == timedelta(hours=40)

    def test_add_time_ends_at_period_end(self):
        """Exactly filling the day returns 17:00, not next morning."""
        assert CAL.add_working_time(vn(2025, 3, 3, 8), timedelta(hours=8)) == vn(2025, 3, 3, 17)
        assert CAL.add_working_time(vn(2025, 3, 3, 10), timedelta(hours=2)) == vn(2025, 3, 3, 12)

    def test_add_time_from_outside_hours(self):
        """Starting at lunch begins at 13:00; starting at night begins next morning."""
        assert CAL.add_working_time(vn(2025, 3, 3, 12, 30), timedelta(hours=1)) == vn(2025, 3, 3, 14)
        assert CAL.add_working_time(vn(2025, 3, 7, 17), timedelta(hours=1)) == vn(2025, 3, 10, 9)

    def test_add_zero_time_is_identity(self):
        """Shifting a 17:00 deadline by zero leaves it at 17:00."""
        assert CAL.add_working_time(vn(2025, 3, 3, 17), timedelta(0)) == vn(2025, 3, 3, 17)

    def test_add_working_hours_cutoff(self):
        """After the cut-off, hours count from 08:00 of the next working day."""
        assert CAL.add_working_hours(vn(2025, 3, 7, 15, 30), 4, cutoff=FIFTEEN) == vn(2025, 3, 10, 12)
        assert CAL.add_working_hours(vn(2025, 3, 7, 14, 30), 4, cutoff=FIFTEEN) == vn(2025, 3, 10, 9, 30)

    def test_add_working_hours_outside_hours(self):
        """A Sunday receipt with 0 hours is due at Monday 08:00."""
        assert CAL.add_working_hours(vn(2025, 3, 9, 10), 0) == vn(2025, 3, 10, 8)

    def test_due_at_dispatch(self):
        """due_at dispatches on the unit."""
        assert CAL.due_at(vn(2025, 3, 6, 9), 2, "working_days") == vn(2025, 3, 10, 17)
        assert CAL.due_at(vn(2025, 3, 6, 9), 2.0, "working_days") == vn(2025, 3, 10, 17)
        assert CAL.due_at(vn(2025, 3, 6, 9), 8, "working_hours") == vn(2025, 3, 7, 9)
        assert CAL.due_at(vn(2025, 3, 6, 16), 1, "working_days", cutoff=FIFTEEN) == vn(2025, 3, 10, 17)


# -- properties ---------------------------------------------------------------

PROPS = settings(max_examples=200, deadline=None)
instants = st.builds(
    lambda naive, tz: naive.replace(tzinfo=tz),
    st.datetimes(min_value=datetime(2024, 1, 1), max_value=datetime(2030, 12, 31)),
    st.sampled_from([VN_TZ, timezone.utc, timezone(timedelta(hours=-5))]),
)
cutoffs = st.one_of(st.none(), st.times(min_value=time(8), max_value=time(18)))


class TestProperties:
    """Hypothesis properties over 2024-2030."""

    @PROPS
    @given(instants, st.integers(0, 40), cutoffs)
    def test_lands_on_working_day_at_close(self, at, n, cutoff):
        """add_working_days is always a working day at the end of office hours, tz-aware."""
        due = CAL.add_working_days(at, n, cutoff)
        assert due.tzinfo is VN_TZ and due.utcoffset() is not None
        assert CAL.is_working_day(due.date()) and due.time() == time(17)
        assert due.date() > CAL.effective_receipt_date(at, cutoff) or n == 0

    @PROPS
    @given(instants, st.integers(0, 30), cutoffs)
    def test_monotonic_in_n(self, at, n, cutoff):
        """Non-decreasing in n, strictly increasing from n=1 on."""
        a, b = CAL.add_working_days(at, n, cutoff), CAL.add_working_days(at, n + 1, cutoff)
        assert a <= b
        if n >= 1:
            assert a < b

    @PROPS
    @given(instants, st.integers(0, 200 * 60))
    def test_time_inverse(self, at, minutes):
        """working_time_between(a, add_working_time(a, d)) == d."""
        d = timedelta(minutes=minutes)
        end = CAL.add_working_time(at, d)
        assert end.tzinfo is VN_TZ
        assert end >= at
        assert CAL.working_time_between(at, end) == d

    @PROPS
    @given(instants, st.floats(0, 100, allow_nan=False), cutoffs)
    def test_hours_result_aware_and_in_office(self, at, hours, cutoff):
        """add_working_hours lands on a working day, inside office hours, tz-aware."""
        due = CAL.add_working_hours(at, hours, cutoff)
        assert due.tzinfo is VN_TZ and CAL.is_working_day(due.date())
        assert time(8) <= due.time() <= time(17) and not (time(12) < due.time() < time(13))

    @PROPS
    @given(instants, instants, st.integers(0, 40), cutoffs)
    def test_monotonic_in_receipt_instant(self, a, b, n, cutoff):
        """A later receipt is never due earlier, for the same number of days and cut-off."""
        first, later = sorted((a, b))
        assert CAL.add_working_days(first, n, cutoff) <= CAL.add_working_days(later, n, cutoff)
        assert CAL.effective_receipt_date(first, cutoff) <= CAL.effective_receipt_date(later, cutoff)

    @PROPS
    @given(instants, st.integers(0, 40), cutoffs)
    def test_never_due_before_receipt(self, at, n, cutoff):
        """The due moment is strictly after the receipt, 0-day procedures included."""
        assert CAL.add_working_days(at, n, cutoff) > at

    @PROPS
    @given(
        instants,
        st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=9)),
        st.integers(0, 10),
        cutoffs,
    )
    def test_monotonic_near_weekends(self, at, step, n, cutoff):
        """Monotonic for receipts a few days apart, where weekends and cut-offs meet."""
        assert CAL.add_working_days(at, n, cutoff) <= CAL.add_working_days(at + step, n, cutoff)
