"""Which failures of a write to the records store are the data's fault, not the store's.

A retry cannot help when the database refuses the values themselves: a string longer than its
column, a number out of range, a constraint or trigger that rejects the row, or an instant that
cannot be converted to UTC before it is bound. Everything else (connections refused, a locked
SQLite file, a timeout, a serialization failure) is an outage that a retry outlives.
"""

from __future__ import annotations

from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, StatementError

__all__ = ["is_data_error"]


def is_data_error(exc: BaseException) -> bool:
    """True when writing the same values again would fail the same way.

    IntegrityError counts: every insert of the projection carries ON CONFLICT, so two writers
    racing on a key never raise it; what remains (NOT NULL, CHECK, a refusing trigger) is
    about the row. A StatementError that is not a DBAPIError failed in Python while binding a
    parameter (UtcDateTime's conversion), before the database saw anything.
    """
    if isinstance(exc, (DataError, IntegrityError)):
        return True
    if isinstance(exc, StatementError) and not isinstance(exc, DBAPIError):
        return isinstance(exc.orig, (ValueError, OverflowError, TypeError))
    return isinstance(exc, OverflowError)
