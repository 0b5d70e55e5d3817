"""Timeouts from the environment: the intake's and PostgreSQL's, read by one rule."""

from __future__ import annotations

from datetime import timedelta

import pytest

from intake.timeouts import IntakeTimeouts
from records.database import PostgresTimeouts


class TestTimeoutsFromEnv:
    def test_values_are_read_in_their_fields_types(self):
        """Seconds become a timedelta for intake, stay numbers (int where the field is) for PostgreSQL."""
        assert IntakeTimeouts.from_env({"INTAKE_RPC_TIMEOUT": "2.5"}).rpc == timedelta(seconds=2.5)
        bounds = PostgresTimeouts.from_env(
            {"RECORDS_LOCK_TIMEOUT": "1.5", "RECORDS_TCP_KEEPALIVE_COUNT": "4"}
        )
        assert (bounds.lock_wait, bounds.keepalive_count) == (1.5, 4)

    @pytest.mark.parametrize(
        ("reader", "variable", "text", "message"),
        [
            (IntakeTimeouts.from_env, "INTAKE_RPC_TIMEOUT", "soon", "is not a number of seconds"),
            (IntakeTimeouts.from_env, "INTAKE_BACKFILL_TOLERANCE", "0", "must be more than 0"),
            (PostgresTimeouts.from_env, "RECORDS_STATEMENT_TIMEOUT", "-1", "must be more than 0"),
            (PostgresTimeouts.from_env, "RECORDS_TCP_KEEPALIVE_COUNT", "2.5", "is not a number of seconds"),
        ],
    )
    def test_a_bad_value_is_refused_naming_its_variable(self, reader, variable, text, message):
        """Not a number, or not above 0: a ValueError naming the variable and the value."""
        with pytest.raises(ValueError, match=f"{variable}: '{text}' {message}"):
            reader({variable: text})
