"""Configuration from the environment, with defaults that run everything on one machine."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from model.input_bounds import MAX_AMOUNT_VND

__all__ = ["ConfigurationError", "Settings", "TASK_QUEUE"]

TASK_QUEUE = "dossiers"


class ConfigurationError(RuntimeError):
    """The configuration cannot be used (a RuntimeError, so worker.py reports it without a traceback)."""


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    # None means: start the embedded dev server (state in a file under data_dir).
    temporal_address: str | None
    temporal_namespace: str
    temporal_tls: bool
    temporal_api_key: str | None = field(repr=False)
    task_queue: str
    dev_server_port: int
    dev_server_ui_port: int
    # Payload encryption keys, `k2:BASE64KEY,k1:BASE64KEY` (the first encrypts). None: with the
    # embedded dev server, a generated keyring in data_dir; with a cluster, an error at start.
    payload_keys: str | None = field(default=None, repr=False)
    # The HMAC key that signs API tokens (HS256, at least 32 bytes). None: with the embedded
    # dev server, a key generated once in data_dir; with a cluster, an error at start.
    api_token_key: str | None = field(default=None, repr=False)
    # The largest amount (VND) an officer may request or confirm; at most the models' ceiling.
    max_amount_vnd: int = MAX_AMOUNT_VND
    # The longest an API token may live, in hours (a working day by default).
    api_token_max_hours: float = 8.0
    # The HTTP API served by worker.py; port 0 turns it off.
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    # Log lines as JSON (True), for a terminal (False), or JSON unless stderr is a terminal (None).
    log_json: bool | None = None
    # The Temporal Web UI origins allowed to call the codec endpoint (CORS). Empty: with the
    # embedded dev server, its own UI; with a cluster, none until CODEC_UI_ORIGINS is set.
    codec_ui_origins_set: tuple[str, ...] = ()
    # Where temporalio's runtime serves the SDK's own metrics (Prometheus), e.g. 0.0.0.0:9464.
    # None: the SDK's metrics are not exported.
    temporal_metrics_address: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        data_dir = Path(env.get("DATA_DIR", "data")).resolve()
        return cls(
            data_dir=data_dir,
            database_url=env.get("DATABASE_URL") or f"sqlite+aiosqlite:///{data_dir / 'records.sqlite'}",
            temporal_address=env.get("TEMPORAL_ADDRESS") or None,
            temporal_namespace=env.get("TEMPORAL_NAMESPACE", "default"),
            temporal_tls=env.get("TEMPORAL_TLS", "").lower() in {"1", "true", "yes"},
            temporal_api_key=env.get("TEMPORAL_API_KEY") or None,
            task_queue=env.get("TASK_QUEUE", TASK_QUEUE),
            dev_server_port=int(env.get("TEMPORAL_DEV_PORT", "7233")),
            dev_server_ui_port=int(env.get("TEMPORAL_DEV_UI_PORT", "8233")),
            payload_keys=env.get("PAYLOAD_KEYS") or None,
            api_token_key=env.get("API_TOKEN_KEY") or None,
            max_amount_vnd=_amount(env.get("MAX_AMOUNT_VND")),
            api_token_max_hours=_hours(env.get("API_TOKEN_MAX_HOURS", "8"), "API_TOKEN_MAX_HOURS"),
            api_host=env.get("API_HOST", "127.0.0.1"),
            api_port=int(env.get("API_PORT", "8000")),
            log_json=_flag(env.get("LOG_JSON")),
            codec_ui_origins_set=tuple(
                o.strip().rstrip("/") for o in env.get("CODEC_UI_ORIGINS", "").split(",") if o.strip()
            ),
            temporal_metrics_address=env.get("TEMPORAL_METRICS_ADDRESS") or None,
        )

    @property
    def dev_server_file(self) -> Path:
        return self.data_dir / "temporal.sqlite"

    @property
    def dev_keyring_file(self) -> Path:
        return self.data_dir / "payload-keys"

    @property
    def dev_token_key_file(self) -> Path:
        return self.data_dir / "api-token-key"

    @property
    def codec_ui_origins(self) -> tuple[str, ...]:
        if self.codec_ui_origins_set or self.temporal_address is not None:
            return self.codec_ui_origins_set
        return (f"http://127.0.0.1:{self.dev_server_ui_port}", f"http://localhost:{self.dev_server_ui_port}")

    @property
    def codec_endpoint(self) -> str | None:
        """The codec endpoint's URL as a browser on this machine reaches it; None without the API."""
        if not self.api_port:
            return None
        host = "127.0.0.1" if self.api_host in {"0.0.0.0", "::", ""} else self.api_host
        return f"http://{host}:{self.api_port}/codec"

    @property
    def client_address(self) -> str:
        return self.temporal_address or f"127.0.0.1:{self.dev_server_port}"


def _flag(text: str | None) -> bool | None:
    if text is None or text == "":
        return None
    return text.lower() in {"1", "true", "yes", "on"}


def _hours(text: str, name: str) -> float:
    try:
        hours = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number of hours, not {text[:20]!r}") from None
    if not 0 < hours <= 24 * 7:
        raise ValueError(f"{name} must be more than 0 and at most 168 hours")
    return hours


def _amount(text: str | None) -> int:
    if not text:
        return MAX_AMOUNT_VND
    if not text.isascii() or not text.isdigit() or not 0 < int(text) <= MAX_AMOUNT_VND:
        raise ValueError(f"MAX_AMOUNT_VND must be a whole number of VND from 1 to {MAX_AMOUNT_VND}")
    return int(text)
