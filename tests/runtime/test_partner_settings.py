"""Which agencies' parts partner systems do: from the environment, checked."""

from __future__ import annotations

from datetime import timedelta

import pytest

from runtime.partner_settings import PartnerSettings


class TestPartnerSettings:
    def test_unset_means_every_member_is_done_by_officers_here(self) -> None:
        assert PartnerSettings.from_env({}).systems == {}

    def test_systems_by_agency_kind_and_the_polling_schedule(self) -> None:
        settings = PartnerSettings.from_env(
            {
                "PARTNER_SYSTEMS": "social_insurance=https://bhxh.example/api, commune_police=http://ca:8080",
                "PARTNER_POLL_SECONDS": "30",
                "PARTNER_POLL_MAX_SECONDS": "600",
            }
        )
        assert settings.systems == {
            "social_insurance": "https://bhxh.example/api",
            "commune_police": "http://ca:8080",
        }
        assert (settings.poll_every, settings.poll_max) == (timedelta(seconds=30), timedelta(minutes=10))

    @pytest.mark.parametrize(
        ("env", "message"),
        [
            ({"PARTNER_SYSTEMS": "police=http://x"}, "police is no agency kind"),
            ({"PARTNER_SYSTEMS": "social_insurance"}, "is not agency=url"),
            ({"PARTNER_POLL_SECONDS": "soon"}, "PARTNER_POLL_SECONDS must be a number"),
            ({"PARTNER_POLL_SECONDS": "7200"}, "at most PARTNER_POLL_MAX_SECONDS"),
        ],
    )
    def test_a_wrong_setting_is_named(self, env: dict[str, str], message: str) -> None:
        with pytest.raises(ValueError, match=message):
            PartnerSettings.from_env(env)


def test_worker_py_refuses_a_wrong_partner_setting_before_starting(monkeypatch: pytest.MonkeyPatch) -> None:
    """A PARTNER_SYSTEMS naming no agency kind stops worker.py with the configuration's exit
    code, before any server or store is opened."""
    import worker

    monkeypatch.setenv("PARTNER_SYSTEMS", "police=http://127.0.0.1:9")
    assert worker.run(["--no-api"]) == worker.EXIT_BAD_CONFIG
