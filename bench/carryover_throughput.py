"""Carryover throughput against signals to idle workflows, on one embedded dev server.

    python bench/carryover_throughput.py [--n 1000] [--rounds 3] [--batch-size 50]
                                         [--parallel-batches 4] [--concurrency 16] [--quick]

Carryover: N open DossierWorkflows at Hà Nội district People's Committees (received
2025-06-27, started directly, not timed, projected into the records DB), then one
CarryoverWorkflow `run`; rate = N / (start of the carryover -> its report). Each dossier
costs a `transfer` update (carrying its old authority's successor table) and the dossier's
projection activity.
Reference: N idle workflows (bench/idle_workflow.py) started (not timed), then one signal
each with as many in flight as the carryover has (parallel batches x concurrency); rate =
N / (first signal -> last workflow completed). Both on one dev server (state in a SQLite
file, as `make run`), both with the payload codec, each round on fresh task queues; rounds
alternate which goes first; the summary compares medians. Exits 0 whatever the ratio.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # `python bench/carryover_throughput.py`: make the project importable
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import logging
import os
import statistics
import tempfile
import time
import uuid
from contextlib import AsyncExitStack

from sqlalchemy import func, select
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from assembly.workers import build_worker
from bench.idle_workflow import IdleWorkflow
from bench.intake_throughput import CpuMeter, Measurement, bounded, used_since
from bench.old_dossiers import old_dossier_inputs, start_dossiers
from carryover.models import CarryoverInput
from carryover.workflow import CarryoverWorkflow
from model import search_attributes
from records.database import RecordsStore, open_records
from records.tables import DossierRow
from runtime.codec import EncryptionCodec
from runtime.codec import data_converter as codec_converter
from runtime.logging import configure_logging
from runtime.temporal import binary

TARGET_RATIO = 0.5


async def measure_reference(
    client: Client, n: int, in_flight: int, round_: int, meter: CpuMeter
) -> Measurement:
    task_queue = f"bench-idle-{uuid.uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=[IdleWorkflow]):
        handles = []

        async def start(i: int) -> None:
            handles.append(
                await client.start_workflow(IdleWorkflow.run, id=f"{task_queue}-{i}", task_queue=task_queue)
            )

        await bounded(50, n, start)
        await asyncio.sleep(1)  # the first workflow tasks settle: the workflows are idle

        async def poke(i: int) -> None:
            await handles[i].signal(IdleWorkflow.poke)
            await handles[i].result()

        cpu_before = meter.read()
        started = time.perf_counter()
        await bounded(in_flight, n, poke)
        elapsed = time.perf_counter() - started
        return Measurement("reference", round_, n, elapsed, used_since(meter, cpu_before))


async def projected(records: RecordsStore, prefix: str, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        async with records.sessions() as session:
            count = await session.scalar(
                select(func.count()).select_from(DossierRow).where(DossierRow.code.like(f"{prefix}-%"))
            )
        if count >= n:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {count} of {n} dossiers projected in {timeout:.0f} s")
        await asyncio.sleep(0.2)


async def measure_carryover(
    client: Client, records: RecordsStore, args: argparse.Namespace, round_: int, meter: CpuMeter
) -> Measurement:
    task_queue = f"bench-carryover-{uuid.uuid4()}"
    prefix = f"B{round_}-{uuid.uuid4().hex[:6]}"
    async with build_worker(client, task_queue, records):
        await start_dossiers(client, task_queue, old_dossier_inputs(args.n, prefix))
        await projected(records, prefix, args.n, args.timeout)
        request = CarryoverInput(
            carryover_id=prefix,
            batch_size=args.batch_size,
            parallel_batches=args.parallel_batches,
            concurrency=args.concurrency,
        )
        cpu_before = meter.read()
        started = time.perf_counter()
        report = await client.execute_workflow(
            CarryoverWorkflow.run, request, id=f"carryover-{prefix}", task_queue=task_queue
        )
        elapsed = time.perf_counter() - started
        cpu = used_since(meter, cpu_before)
        if report.progress.transferred != args.n:
            raise RuntimeError(f"round {round_}: {report.progress} (expected {args.n} transferred)")
        # Not timed: the dossiers' last projections finish before the worker stops.
        await asyncio.sleep(2)
        # The dossiers stay open (idle) on a queue nobody polls any more; the server is temporary.
        return Measurement("carryover", round_, args.n, elapsed, cpu)


def row(m: Measurement) -> str:
    return f"  {m.round:>5}  {m.kind:<9}  {m.n:>6}  {m.elapsed:8.2f} s  {m.rate:8.1f} /s  {m.cpu[0]:6.1f} {m.cpu[1]:6.1f}"


async def run(args: argparse.Namespace) -> None:
    in_flight = args.parallel_batches * args.concurrency
    print("Carryover throughput benchmark")
    print(f"  nproc {len(os.sched_getaffinity(0))}, load {'%.2f %.2f %.2f' % os.getloadavg()}")
    print(
        f"  N {args.n} x {args.rounds} rounds; carryover batch {args.batch_size} x {args.parallel_batches}"
        f" parallel x {args.concurrency} in flight each; reference: {in_flight} signals in flight"
    )
    print(flush=True)
    with tempfile.TemporaryDirectory(prefix="carryover-bench-") as tmp:
        async with AsyncExitStack() as stack:
            codec = codec_converter(EncryptionCodec({"bench": os.urandom(32)}, "bench"))
            env = await WorkflowEnvironment.start_local(
                data_converter=codec,
                search_attributes=search_attributes.ALL,
                dev_server_existing_path=binary("temporal"),
                dev_server_log_level="error",
                dev_server_database_filename=os.path.join(tmp, "temporal.sqlite"),
                ui=False,
            )
            stack.push_async_callback(env.shutdown)
            records = await stack.enter_async_context(
                open_records(f"sqlite+aiosqlite:///{tmp}/records.sqlite")
            )
            meter = CpuMeter()
            results: list[Measurement] = []
            print(f"  {'round':>5}  {'kind':<9}  {'N':>6}  {'elapsed':>10}  {'rate':>11}  CPU s: py server")
            for round_ in range(1, args.rounds + 1):
                kinds = ("reference", "carryover") if round_ % 2 else ("carryover", "reference")
                for kind in kinds:
                    if kind == "reference":
                        m = await measure_reference(env.client, args.n, in_flight, round_, meter)
                    else:
                        m = await measure_carryover(env.client, records, args, round_, meter)
                    results.append(m)
                    print(row(m), flush=True)
    reference = statistics.median(m.rate for m in results if m.kind == "reference")
    carryover = statistics.median(m.rate for m in results if m.kind == "carryover")
    ratio = carryover / reference
    print()
    print("Summary (medians over rounds)")
    print(f"  reference (signal -> idle workflow done)  {reference:8.1f} workflows/s")
    print(f"  carryover (dossiers transferred)          {carryover:8.1f} dossiers/s")
    print(
        f"  ratio carryover / reference               {ratio:8.2f}   (target >= {TARGET_RATIO})"
        f"  {'PASS' if ratio >= TARGET_RATIO else 'BELOW TARGET'}"
    )
    print(f"  10,000 dossiers at the median rate: {10_000 / carryover / 60:.1f} min")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--n", type=int, default=1000, help="open dossiers (and idle workflows) per round, <= 10000"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--parallel-batches", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=16, help="transfers in flight per batch")
    parser.add_argument(
        "--timeout", type=float, default=900, help="seconds to wait for the dossiers' projection"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: N=100, 1 round")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    if args.quick:
        args.n, args.rounds = 100, 1
    if not 1 <= args.n <= 10_000 or args.rounds < 1:
        parser.error("--n must be within 1..10000 and --rounds positive")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging(getattr(logging, args.log_level.upper()))
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
