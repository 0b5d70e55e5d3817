"""One test of "Temporal cannot be reached" for the worker's exit code and the API's 503."""

from __future__ import annotations

import pytest

from runtime.settings import ConfigurationError, Settings
from runtime.temporal import connect, is_unreachable


async def test_a_client_that_cannot_connect_is_unreachable(tmp_path):
    # A port nobody listens on: the SDK's own error, whatever its wording in this version.
    settings = Settings.from_env(
        {"DATA_DIR": str(tmp_path), "TEMPORAL_ADDRESS": "127.0.0.1:1", "PAYLOAD_KEYS": "k1:" + "A" * 43 + "="}
    )
    with pytest.raises(RuntimeError) as caught:
        await connect(settings)
    assert is_unreachable(caught.value), repr(caught.value)


@pytest.mark.parametrize(
    "error",
    [
        RuntimeError("the API port is taken"),
        ConfigurationError("PAYLOAD_KEYS must be set when TEMPORAL_ADDRESS is set"),
        ValueError("Failed client connect"),  # only the SDK's RuntimeError means unreachable
    ],
)
def test_other_errors_are_not_unreachable(error):
    assert not is_unreachable(error)
