"""The outboxes' settings from the environment: defaults, back-off, bad values named."""

from __future__ import annotations

import asyncio

import pytest

import worker
from runtime.delivery_settings import DeliverySettings
from runtime.settings import ConfigurationError, Settings


class TestDeliverySettings:
    def test_nothing_configured_delivers_nothing(self):
        assert not DeliverySettings.from_env({}).delivers
        assert DeliverySettings.from_env({"PORTAL_URL": "http://portal.example/sync"}).delivers

    def test_backoff_doubles_up_to_its_ceiling(self):
        settings = DeliverySettings.from_env({"DELIVERY_RETRY_INITIAL": "0.5", "DELIVERY_RETRY_MAX": "3"})
        assert [settings.backoff(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]

    def test_secrets_stay_out_of_the_repr(self):
        settings = DeliverySettings.from_env(
            {"PORTAL_API_KEY": "s3cret", "SMTP_PASSWORD": "pw", "SMS_GATEWAY_KEY": "k"}
        )
        assert "s3cret" not in repr(settings) and "'pw'" not in repr(settings)

    async def test_the_worker_refuses_a_bad_number_naming_the_variable(self, tmp_path, monkeypatch):
        """A DELIVERY_MAX_ATTEMPTS that is not a number stops the worker before it starts (exit 2)."""
        monkeypatch.setenv("DELIVERY_MAX_ATTEMPTS", "many")
        with pytest.raises(ConfigurationError, match="DELIVERY_MAX_ATTEMPTS"):
            await worker.main(Settings.from_env({"DATA_DIR": str(tmp_path)}), asyncio.Event())
