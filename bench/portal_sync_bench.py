"""Portal sync while intake runs: messages delivered per second, and the lag from a status
change to the stand-in portal's receipt.

    python bench/portal_sync_bench.py [--dossiers 300] [--concurrency 20] [--database-url URL]

One embedded dev server (in memory), the records store (a temporary SQLite file unless
--database-url, emptied first: give it a database of its own), one worker with the OutboxDeliveryWorkflow, and the stand-in portal as a
separate process (standins/portal.py) on a loopback port. N receipts go through
IntakeService at the given concurrency, spread over Hà Nội's counters; each gives two sync
messages (received: status 2, transferred: status 4). Reported: messages per second from the
first receipt to the last message's arrival at the portal, and per second between the first
and the last arrival; lag = arrival at the portal - the timeline entry's instant (p50, p95,
max); then the delivery alone: every message put back to pending and drained again (the
portal answering duplicates), messages per second. A benchmark, not a test.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # `python bench/portal_sync_bench.py`: make the project importable
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import logging
import os
import platform
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from assembly.workers import build_worker
from bench.intake_throughput import bounded, hanoi_counters, intake_requests
from intake.forms import ReceiptSlip
from intake.service import IntakeService
from model import search_attributes
from records import migrate
from records.database import open_records
from records.outbox import resend
from records.outbox_tables import DELIVERED, PortalSyncRow
from runtime.codec import EncryptionCodec
from runtime.codec import data_converter as codec_converter
from runtime.delivery_settings import DeliverySettings
from runtime.logging import configure_logging
from runtime.temporal import binary
from standins.portal import SYNC_PATH
from workflows.outbox_delivery import OutboxDeliveryInput, OutboxDeliveryWorkflow

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


async def start_portal(port: int) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "standins.portal", "--port", str(port)], cwd=ROOT)
    async with httpx.AsyncClient(timeout=1) as http:
        for _ in range(200):
            try:
                await http.get(f"http://127.0.0.1:{port}{SYNC_PATH}")
                return process
            except httpx.TransportError:
                await asyncio.sleep(0.05)
    process.terminate()
    raise RuntimeError("the stand-in portal did not start")


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="portal-bench-") as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{os.path.join(tmp, 'records.sqlite')}"
        port = free_port()
        portal = await start_portal(port)
        env = await WorkflowEnvironment.start_local(
            search_attributes=search_attributes.ALL,
            dev_server_existing_path=binary("temporal"),
            dev_server_log_level="error",
            ui=False,
        )
        try:
            client = Client(
                env.client.service_client,
                namespace=env.client.namespace,
                data_converter=codec_converter(EncryptionCodec({"bench": os.urandom(32)}, "bench")),
            )
            async with open_records(url) as records:
                # The bench's own database: every run starts from an empty schema.
                await migrate.downgrade(records.engine, "base")
                await migrate.upgrade(records.engine)
                await measure(args, client, records, port)
        finally:
            await env.shutdown()
            portal.terminate()
            portal.wait()


async def measure(args, client: Client, records, port: int) -> None:
    task_queue = f"bench-portal-{uuid.uuid4()}"
    delivery = DeliverySettings(portal_url=f"http://127.0.0.1:{port}{SYNC_PATH}", poll_seconds=0.05)
    counters = hanoi_counters(20)
    requests = intake_requests(counters, args.dossiers)
    service = IntakeService.standard(client, task_queue, records)
    codes: list[str] = []
    async with build_worker(client, task_queue, records, delivery=delivery):
        pump = await client.start_workflow(
            OutboxDeliveryWorkflow.run,
            OutboxDeliveryInput(run_seconds=60),
            id=f"bench-outbox-{uuid.uuid4()}",
            task_queue=task_queue,
        )

        async def one(i: int) -> None:
            outcome = await service.receive(requests[i])
            if not isinstance(outcome, ReceiptSlip):
                raise RuntimeError(f"request {i} was not received: {outcome!r}")
            codes.append(outcome.dossier_code)

        started = time.time()
        await bounded(args.concurrency, args.dossiers, one)
        intake_done = time.time() - started
        expected = 2 * args.dossiers
        while True:
            async with records.sessions() as session:
                delivered = await session.scalar(
                    select(func.count())
                    .select_from(PortalSyncRow)
                    .where(PortalSyncRow.state == DELIVERED, PortalSyncRow.dossier_code.in_(codes))
                )
            if delivered >= expected:
                break
            if time.time() - started > args.timeout:
                raise TimeoutError(f"{delivered} of {expected} messages delivered in {args.timeout} s")
            await asyncio.sleep(0.1)
        await pump.signal(OutboxDeliveryWorkflow.stop)
        await pump.result()

        # Delivery alone: the same messages put back to pending (an operator's resend of
        # everything), drained by a new delivery run while nothing else happens. The portal
        # answers each as a duplicate, after the same checks.
        async with records.sessions() as session:
            ids = list(
                (
                    await session.scalars(
                        select(PortalSyncRow.id).where(PortalSyncRow.dossier_code.in_(codes))
                    )
                ).all()
            )
            await resend(session, PortalSyncRow, ids)
            await session.commit()
        drain_started = time.time()
        pump = await client.start_workflow(
            OutboxDeliveryWorkflow.run,
            OutboxDeliveryInput(run_seconds=60),
            id=f"bench-outbox-{uuid.uuid4()}",
            task_queue=task_queue,
        )
        while True:
            async with records.sessions() as session:
                left = await session.scalar(
                    select(func.count())
                    .select_from(PortalSyncRow)
                    .where(PortalSyncRow.state != DELIVERED, PortalSyncRow.dossier_code.in_(codes))
                )
            if not left:
                break
            await asyncio.sleep(0.05)
        drain = time.time() - drain_started
        await pump.signal(OutboxDeliveryWorkflow.stop)
        await pump.result()
    async with httpx.AsyncClient() as http:
        messages = (await http.get(f"http://127.0.0.1:{port}{SYNC_PATH}")).json()["messages"]
    async with records.sessions() as session:
        rows = (await session.execute(select(PortalSyncRow.event_at, PortalSyncRow.created_at))).all()
    # The projection's part of the lag: the entry's instant -> its outbox row committed.
    projected = [(created - at).total_seconds() for at, created in rows]
    arrivals = [datetime.fromisoformat(m["received_at"]).timestamp() for m in messages]
    lags = [
        (datetime.fromisoformat(m["received_at"]) - datetime.fromisoformat(m["step"]["at"])).total_seconds()
        for m in messages
    ]
    by_status = {code: [lag for m, lag in zip(messages, lags) if m["status_code"] == code] for code in (2, 4)}
    end_to_end = len(messages) / (max(arrivals) - started)
    between = len(messages) / (max(arrivals) - min(arrivals))
    print(f"Portal sync benchmark: {args.dossiers} receipts at concurrency {args.concurrency}")
    print(f"  machine      {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    print(f"  records      {url_kind(records)}")
    print(f"  intake       {args.dossiers / intake_done:.1f} receipts/s ({intake_done:.1f} s)")
    print(
        f"  messages     {len(messages)} received by the portal (expected {expected}), duplicates dropped there"
    )
    print(f"  delivered    {end_to_end:.1f} messages/s from the first receipt to the last arrival")
    print(f"               {between:.1f} messages/s between the first and the last arrival")
    print(
        f"  backlog      {len(ids) / drain:.1f} messages/s: {len(ids)} resent and delivered again in {drain:.1f} s"
    )
    print(
        f"  lag (s)              {'p50':>6} {'p95':>6} {'max':>6}   arrival at the portal - the entry's instant"
    )
    for name, values in (
        ("all", lags),
        ("status 2", by_status[2]),
        ("status 4", by_status[4]),
        ("of which projection", projected),
    ):
        print(f"  {name:<20} {percentile(values, 50):6.2f} {percentile(values, 95):6.2f} {max(values):6.2f}")


def url_kind(records) -> str:
    return records.engine.url.get_backend_name()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dossiers", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args(argv)
    configure_logging(json=True)
    logging.getLogger().setLevel(logging.WARNING)
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
