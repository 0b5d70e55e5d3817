"""Runs the dossier worker: `python worker.py` (embedded dev server unless TEMPORAL_ADDRESS)."""

from __future__ import annotations

import asyncio
import signal
from datetime import timedelta

import structlog

from runtime.logging import configure_logging
from runtime.settings import Settings
from runtime.temporal import temporal_client
from records.database import open_records
from runtime.workers import build_worker

log = structlog.get_logger("worker")


async def main(settings: Settings | None = None, stop: asyncio.Event | None = None) -> None:
    settings = settings or Settings.from_env()
    stop = stop or _stop_on_signals()
    async with temporal_client(settings) as client, open_records(settings.database_url) as records:
        # On SIGTERM, activities in flight get this long to finish before being cancelled.
        worker = build_worker(
            client, settings.task_queue, records, graceful_shutdown_timeout=timedelta(seconds=20)
        )
        log.info(
            "worker running",
            temporal=settings.client_address,
            namespace=settings.temporal_namespace,
            task_queue=settings.task_queue,
            web_ui=None if settings.temporal_address else f"http://127.0.0.1:{settings.dev_server_ui_port}",
            records=settings.database_url.split("@")[-1],
        )
        async with worker:
            await stop.wait()
            log.info("shutting down: finishing in-flight tasks")
    log.info("worker stopped")


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


if __name__ == "__main__":
    configure_logging()
    try:
        asyncio.run(main())
    except RuntimeError as err:  # e.g. the configured Temporal server cannot be reached
        log.error("worker cannot start", error=str(err))
        raise SystemExit(1) from err
