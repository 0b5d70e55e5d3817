"""Instants read in the forms people type, and printed in Vietnam time with the offset."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from procedures.calendar import VN_TZ
from procedures.instants import in_vietnam_time, parse_instant


class TestParseInstant:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("2025-06-01", datetime(2025, 6, 1, tzinfo=VN_TZ)),
            ("2025-06-01T08:30", datetime(2025, 6, 1, 8, 30, tzinfo=VN_TZ)),
            ("2025-06-01T08:30:00+07:00", datetime(2025, 6, 1, 8, 30, tzinfo=VN_TZ)),
            ("2025-06-01T01:30:00Z", datetime(2025, 6, 1, 8, 30, tzinfo=VN_TZ)),
            # An unencoded `+` in a URL arrives as a space.
            ("2025-06-01T08:30:00 07:00", datetime(2025, 6, 1, 8, 30, tzinfo=VN_TZ)),
        ],
    )
    def test_every_form_names_the_same_instant_as_people_mean_it(self, text, expected):
        """A date is that day's midnight in Vietnam; no offset means Vietnam time; a decoded `+` is read."""
        assert parse_instant(text) == expected
        assert parse_instant(text).tzinfo is not None

    def test_a_date_object_is_that_day_in_vietnam(self):
        assert parse_instant(date(2025, 7, 1)) == datetime(2025, 6, 30, 17, tzinfo=UTC)

    @pytest.mark.parametrize("text", ["yesterday", "2025-13-01", "01/06/2025", ""])
    def test_anything_else_is_refused_naming_the_forms(self, text):
        with pytest.raises(ValueError, match=r"a date \(2025-06-01.*or an ISO instant"):
            parse_instant(text)


class TestInVietnamTime:
    def test_instants_anywhere_in_a_dump_are_shown_at_plus_seven(self):
        """UTC strings and datetimes become +07:00; other strings stay as they are."""
        dump = {
            "received_at": "2025-06-01T01:00:00Z",
            "timeline": [{"at": "2025-06-01T02:00:00.5+00:00", "note": "2025-06-01 is a date in a note"}],
            "due": datetime(2025, 6, 1, 10, tzinfo=UTC),
        }
        assert in_vietnam_time(dump) == {
            "received_at": "2025-06-01T08:00:00+07:00",
            "timeline": [
                {"at": "2025-06-01T09:00:00.500000+07:00", "note": "2025-06-01 is a date in a note"}
            ],
            "due": datetime(2025, 6, 1, 17, tzinfo=VN_TZ),
        }
