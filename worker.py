"""Runs the dossier worker and the HTTP API: `python worker.py`.

Embedded dev server unless TEMPORAL_ADDRESS; the API on API_HOST:API_PORT (8000), off with
API_PORT=0 or `--no-api`; `--json-logs` (or LOG_JSON=1) for JSON log lines. SIGINT/SIGTERM stop
the API (requests in flight finish) and then the worker (activities in flight get 20 s).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from contextlib import AsyncExitStack
from dataclasses import replace
from datetime import timedelta

import structlog

from api import create_app
from api.server import ApiServer
from assembly.outbox_delivery import ensure_delivery_running
from assembly.workers import build_worker
from demo.day import play, print_report
from demo.staff import create_demo_accounts, demo_accounts_lines
from demo.standins import DemoStandins
from officers.tokens import token_key
from records.database import RecordsInUse, open_records
from runtime.delivery_settings import DeliverySettings
from runtime.garbage import freeze_startup_objects
from runtime.logging import configure_logging
from runtime.partner_settings import PartnerSettings
from runtime.settings import ConfigurationError, Settings, queue_list
from runtime.temporal import exit_process, is_unreachable, temporal_client
from web import WEB_PATH, install_web

log = structlog.get_logger("worker")

EXIT_BAD_CONFIG, EXIT_UNREACHABLE = 2, 5


async def main(
    settings: Settings | None = None,
    stop: asyncio.Event | None = None,
    demo: bool = False,
    own_process: bool = False,
) -> None:
    """Serve until `stop`. `own_process`: the process is this worker's alone (`run`), not a
    test's: what exists once serving starts is set aside from the garbage collector's passes."""
    settings = settings or Settings.from_env()
    stop = stop or _stop_on_signals()
    # Before anything starts: a real cluster without a token key is refused here.
    key = token_key(settings) if settings.api_port else None
    try:
        delivery = DeliverySettings.from_env()
        partners = PartnerSettings.from_env()
    except ValueError as err:  # a DELIVERY_*/SMTP_PORT that is not a number: named, exit 2
        raise ConfigurationError(str(err)) from None
    # The records first: a SQLite file another worker serves is refused before a dev server starts.
    async with (
        open_records(settings.database_url, serving=True) as records,
        temporal_client(settings) as client,
    ):
        # The demonstration serves stand-ins for the portal, SMTP and SMS left unconfigured.
        standins = DemoStandins(settings.data_dir) if demo else None
        if standins is not None:
            delivery = await standins.start(delivery)
        # One worker per polled queue (the shared one, or provinces' own: model.queue_routing).
        # On SIGTERM, activities in flight get this long to finish before being cancelled.
        workers = [
            build_worker(
                client,
                queue,
                records,
                delivery=delivery,
                routing=settings.queue_routing,
                partners=partners,
                graceful_shutdown_timeout=timedelta(seconds=20),
            )
            for queue in settings.polled_task_queues
        ]
        api = None
        if settings.api_port:
            app = create_app(client, records, settings, key=key)
            api = ApiServer(app, settings.api_host, settings.api_port)
            # The web application beside the API; slips print WEB_PUBLIC_URL (default: this server).
            web = install_web(app, public_url=os.environ.get("WEB_PUBLIC_URL") or api.url)
        async with AsyncExitStack() as running:
            for worker in workers:
                await running.enter_async_context(worker)
            if delivery.delivers:
                await ensure_delivery_running(client, settings.task_queue)
            if api is not None:
                await api.start()
            if own_process:  # the collector's full passes then walk only what the work creates
                freeze_startup_objects()
            log.info(
                "worker running",
                temporal=settings.client_address,
                namespace=settings.temporal_namespace,
                task_queues=list(settings.polled_task_queues),
                province_task_queues=dict(settings.province_task_queues) or None,
                web_ui=None
                if settings.temporal_address
                else f"http://127.0.0.1:{settings.dev_server_ui_port}",
                api=f"{api.url}/docs" if api else None,
                web=f"{api.url}{WEB_PATH}" if api else None,
                records=settings.database_url.split("@")[-1],
            )
            # The demonstration runs beside the worker it needs; Ctrl-C cuts it short.
            if demo and api is not None:
                await create_demo_accounts(web.accounts)
            playing = (
                asyncio.create_task(_play_demo(client, records, settings, api, key, standins))
                if demo and api is not None
                else None
            )
            try:
                await _until(stop, api)
            finally:
                if playing is not None:
                    playing.cancel()
                    await asyncio.gather(playing, return_exceptions=True)
                log.info("shutting down: API first, then in-flight tasks")
                if api is not None:
                    await api.stop()
        if standins is not None:
            await standins.stop()
    log.info("worker stopped")


async def _play_demo(
    client, records, settings: Settings, api: ApiServer, key: bytes, standins: DemoStandins
) -> None:
    """The one-stop day of `demo/`, then where to look; a failure is logged, the worker goes on."""
    try:
        outcome = await play(client, records, settings.task_queue, api.url, key, sys.stdout)
    except Exception as err:  # noqa: BLE001 - the worker and API go on serving; say why the demo stopped
        log.exception("demonstration failed", error=str(err))
        return
    print_report(outcome, sys.stdout)
    await standins.print_received(records, outcome.received, sys.stdout)
    web_ui = None if settings.temporal_address else f"http://127.0.0.1:{settings.dev_server_ui_port}"
    print(
        "\n== Where to look\n"
        + (
            f"   Temporal Web UI    {web_ui}/namespaces/{settings.temporal_namespace}/workflows\n"
            if web_ui
            else ""
        )
        + (
            f"   decoded in the UI  {api.url}/codec/sign-in with an auditor's token (docs/codec.md)\n"
            if web_ui
            else ""
        )
        + f"   API documentation  {api.url}/docs\n"
        + f"   a dossier          .venv/bin/python starter.py show {outcome.received[0]}\n"
        + f"   its audit history  .venv/bin/python starter.py history {outcome.received[0]}\n"
        + demo_accounts_lines(f"{api.url}{WEB_PATH}")
        + "   Ctrl-C stops the worker, the API and the dev server; `make run` again resumes them.",
        flush=True,
    )


async def _until(stop: asyncio.Event, api: ApiServer | None) -> None:
    """Wait for a stop request, or for the API to end by itself (which is an error)."""
    waiting = asyncio.create_task(stop.wait())
    tasks = {waiting} | ({api.done} if api is not None and api.done is not None else set())
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    waiting.cancel()
    if waiting not in done:
        api.done.result()  # raises what ended it
        raise RuntimeError("the API stopped unexpectedly")


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="worker.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--no-api", action="store_true", help="run the worker only (same as API_PORT=0)")
    parser.add_argument(
        "--demo", action="store_true", help="play the one-stop day of demo/ once the API is up"
    )
    parser.add_argument("--json-logs", action="store_true", help="log JSON lines even on a terminal")
    parser.add_argument(
        "--task-queues",
        metavar="QUEUE[,QUEUE]",
        help="the task queues this worker polls, e.g. a province's own (WORKER_TASK_QUEUES; "
        "default: TASK_QUEUE)",
    )
    return parser.parse_args(argv)


def run(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    try:
        settings = Settings.from_env()
        if args.task_queues is not None:
            queues = queue_list(args.task_queues, "--task-queues")
            if not queues:
                raise ValueError("--task-queues: give at least one task queue")
            settings = replace(settings, worker_task_queues=queues)
    except ValueError as err:
        configure_logging(json=None)
        log.error("worker cannot start: configuration", error=str(err))
        return EXIT_BAD_CONFIG
    if args.no_api:
        settings = replace(settings, api_port=0)
    if args.json_logs:
        settings = replace(settings, log_json=True)
    configure_logging(json=settings.log_json)
    try:
        asyncio.run(main(settings, demo=args.demo, own_process=True))
    except ConfigurationError as err:
        log.error("worker cannot start: configuration", error=str(err))
        return EXIT_BAD_CONFIG
    except RecordsInUse as err:
        log.error("worker cannot start: records store in use", error=str(err))
        return EXIT_BAD_CONFIG
    except RuntimeError as err:  # the Temporal server cannot be reached, the API port is taken...
        message = str(err).splitlines()[0] if str(err) else type(err).__name__
        if is_unreachable(err):
            message = f"cannot reach Temporal at {settings.client_address} ({message})"
            log.error("worker cannot start", error=message)
            return EXIT_UNREACHABLE
        log.error("worker cannot start", error=message)
        return 1
    return 0


if __name__ == "__main__":
    exit_process(run())
