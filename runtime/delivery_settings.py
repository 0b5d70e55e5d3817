"""Where the outboxes deliver: the national portal, the SMTP server, the SMS gateway.

From the environment, beside runtime/settings.py (which stays the engine's own). Unset
addresses mean that channel is not delivered: its rows wait in the outbox (`starter.py portal
list`, `starter.py notices list`) until one is configured.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

__all__ = ["DeliverySettings"]


@dataclass(frozen=True)
class DeliverySettings:
    # The portal's dossier sync endpoint and its bearer key (both unverified against the portal).
    portal_url: str | None = None
    portal_api_key: str | None = field(default=None, repr=False)
    # SMTP for e-mail notices (aiosmtplib); STARTTLS when the server offers it and this is on.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_username: str | None = None
    smtp_password: str | None = field(default=None, repr=False)
    smtp_starttls: bool = False
    notice_from: str = "mot-cua@localhost"
    # The SMS gateway's HTTP endpoint and its bearer key.
    sms_gateway_url: str | None = None
    sms_gateway_key: str | None = field(default=None, repr=False)
    # Retries: back-off doubles from `retry_initial` up to `retry_max` seconds; after
    # `max_attempts` a message is `failed` and waits for an operator's resend.
    retry_initial: float = 1.0
    retry_max: float = 60.0
    max_attempts: int = 60
    # Each delivery activity runs this long, then the workflow starts the next one.
    round_seconds: float = 300.0
    # How often an idle outbox is looked at.
    poll_seconds: float = 0.5
    http_timeout: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> DeliverySettings:
        return cls(
            portal_url=env.get("PORTAL_URL") or None,
            portal_api_key=env.get("PORTAL_API_KEY") or None,
            smtp_host=env.get("SMTP_HOST") or None,
            smtp_port=_number(env, "SMTP_PORT", 25, int),
            smtp_username=env.get("SMTP_USERNAME") or None,
            smtp_password=env.get("SMTP_PASSWORD") or None,
            smtp_starttls=env.get("SMTP_STARTTLS", "").lower() in {"1", "true", "yes", "on"},
            notice_from=env.get("NOTICE_FROM") or cls.notice_from,
            sms_gateway_url=env.get("SMS_GATEWAY_URL") or None,
            sms_gateway_key=env.get("SMS_GATEWAY_KEY") or None,
            retry_initial=_number(env, "DELIVERY_RETRY_INITIAL", cls.retry_initial, float),
            retry_max=_number(env, "DELIVERY_RETRY_MAX", cls.retry_max, float),
            max_attempts=_number(env, "DELIVERY_MAX_ATTEMPTS", cls.max_attempts, int),
        )

    @property
    def delivers(self) -> bool:
        return bool(self.portal_url or self.smtp_host or self.sms_gateway_url)

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt."""
        return min(self.retry_max, self.retry_initial * 2 ** max(0, attempts - 1))


def _number(env: Mapping[str, str], name: str, default, kind):
    text = env.get(name)
    if not text:
        return default
    try:
        value = kind(text)
    except ValueError:
        raise ValueError(f"{name} must be a number, not {text[:20]!r}") from None
    if value <= 0:
        raise ValueError(f"{name} must be above 0")
    return value
