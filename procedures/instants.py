"""Instants as people here read and write them: Vietnam time (Asia/Ho_Chi_Minh, +07:00).

One home for the two rules every entry point shares:
- reading: an ISO instant with its offset, a local date-time (Vietnam time), or a date (that
  day's 00:00 in Vietnam); a space where the offset's `+` was expected is that `+` decoded from an
  unencoded URL (`?start=2025-06-01T00:00:00+07:00` arrives as `... 07:00`);
- printing: every instant in Vietnam time with its offset, whichever zone it was stored in (the
  workflow's clock and the records store keep UTC).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from procedures.calendar import VN_TZ

__all__ = ["EARLIEST", "FORMS", "LATEST", "VietnamInstant", "check_range", "in_vietnam_time", "parse_instant"]

FORMS = "a date (2025-06-01, that day in Vietnam time) or an ISO instant (2025-06-01T08:00:00+07:00)"

# A decoded URL turns the offset's `+` into a space: "2025-06-01T08:00 07:00".
_SPACE_FOR_PLUS = re.compile(r"^(.*T[\d:.]+) (\d{2}:?\d{2})$")
# A whole string that is an instant with an offset (what JSON and CSV output hold).
_ISO_INSTANT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def parse_instant(value: Any) -> datetime:
    """`value` (text, date or datetime) as an aware instant; ValueError naming the forms accepted."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=VN_TZ)
    if isinstance(value, date):
        return datetime.combine(value, time(0), VN_TZ)
    if not isinstance(value, str):
        raise ValueError(f"expected {FORMS}")
    text = value.strip()
    spaced = _SPACE_FOR_PLUS.match(text)
    if spaced:
        text = f"{spaced.group(1)}+{spaced.group(2)}"
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), VN_TZ)
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{value!r} is not {FORMS}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=VN_TZ)


# The engine's instants: procedure versions since the 1990s, appointments a few years ahead.
# Far outside, converting to UTC overflows (0001-01-01T00:00+14:00) or the calendar spins.
EARLIEST = datetime(1990, 1, 1, tzinfo=timezone.utc)
LATEST = datetime(2100, 1, 1, tzinfo=timezone.utc)
# Real UTC offsets run from -12:00 to +14:00 in steps of 15 minutes (+05:45, +08:45).
_MAX_OFFSET = timedelta(hours=14)
_OFFSET_STEP = timedelta(minutes=15)


def check_range(value: datetime) -> datetime:
    """`value` if its offset is a real one and it lies in EARLIEST..LATEST; ValueError otherwise."""
    offset = value.utcoffset()
    if offset is None or abs(offset) > _MAX_OFFSET or offset % _OFFSET_STEP:
        raise ValueError(
            f"UTC offset {value.strftime('%z')} is not a real one (from -12:00 to +14:00, in quarter hours)"
        )
    # Compared on the calendar date first: converting year 1 or 9999 to UTC can overflow.
    if not EARLIEST.year - 1 < value.year < LATEST.year + 1 or not EARLIEST <= value < LATEST:
        raise ValueError(f"must lie from {EARLIEST:%Y-%m-%d} to before {LATEST:%Y-%m-%d}")
    return value


def _validate(value: Any) -> Any:
    return None if value is None else parse_instant(value)


# A pydantic field type for query parameters and filters: the forms of parse_instant, in range.
VietnamInstant = Annotated[datetime, BeforeValidator(_validate), AfterValidator(check_range)]


def in_vietnam_time(value: Any) -> Any:
    """`value` (a model dump, JSON-like) with every instant, object or ISO string, in Vietnam time."""
    if isinstance(value, datetime):
        return value.astimezone(VN_TZ) if value.tzinfo else value
    if isinstance(value, str):
        if _ISO_INSTANT.match(value):
            return datetime.fromisoformat(value).astimezone(VN_TZ).isoformat()
        return value
    if isinstance(value, dict):
        return {key: in_vietnam_time(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [in_vietnam_time(item) for item in value]
    return value
