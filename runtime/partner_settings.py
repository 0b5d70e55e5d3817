"""Which partner agencies run a system of their own, and how often the engine asks it.

From the environment, beside runtime/settings.py. Unset means every member of a group is done
by officers in this engine (the default); `PARTNER_SYSTEMS` names the agency kinds
(`procedures.groups.MemberAgency`) whose part a partner's system does, with its base URL:

    PARTNER_SYSTEMS="social_insurance=https://bhxh.example/api,commune_police=https://ca.example"

The intake pins the handover into each member's plan when a group is received (so a group keeps
its route if the configuration changes later); the worker's activities reach the system by the
agency kind. `PARTNER_POLL_SECONDS` is the first wait between two questions to the system (an
answer not decided yet, or the system down), doubling up to `PARTNER_POLL_MAX_SECONDS`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from procedures.groups import MemberAgency

__all__ = ["PartnerSettings"]


@dataclass(frozen=True)
class PartnerSettings:
    # Agency kind -> the base URL of its system (activities.partners.HttpPartnerAgency).
    systems: Mapping[str, str] = field(default_factory=dict)
    token: str | None = field(default=None, repr=False)
    poll_seconds: float = 60.0
    poll_max_seconds: float = 3600.0

    def __post_init__(self) -> None:
        known = {agency.value for agency in MemberAgency}
        unknown = sorted(set(self.systems) - known)
        if unknown:
            raise ValueError(
                f"PARTNER_SYSTEMS: {', '.join(unknown)} is no agency kind (known: {', '.join(sorted(known))})"
            )
        if not 0 < self.poll_seconds <= self.poll_max_seconds:
            raise ValueError("PARTNER_POLL_SECONDS must be above 0 and at most PARTNER_POLL_MAX_SECONDS")

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> PartnerSettings:
        systems: dict[str, str] = {}
        for item in (env.get("PARTNER_SYSTEMS") or "").split(","):
            if not item.strip():
                continue
            agency, sep, url = item.partition("=")
            if not sep or not url.strip():
                raise ValueError(f"PARTNER_SYSTEMS: {item.strip()[:40]!r} is not agency=url")
            systems[agency.strip()] = url.strip()
        return cls(
            systems=systems,
            token=env.get("PARTNER_TOKEN") or None,
            poll_seconds=_seconds(env, "PARTNER_POLL_SECONDS", cls.poll_seconds),
            poll_max_seconds=_seconds(env, "PARTNER_POLL_MAX_SECONDS", cls.poll_max_seconds),
        )

    @property
    def poll_every(self) -> timedelta:
        return timedelta(seconds=self.poll_seconds)

    @property
    def poll_max(self) -> timedelta:
        return timedelta(seconds=self.poll_max_seconds)


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    text = env.get(name)
    if not text:
        return default
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {text[:20]!r}") from None
