"""Intake throughput against a bare one-activity workflow, on one embedded dev server.

    python bench/intake_throughput.py [--dossiers 300] [--concurrency 20] [--rounds 3]
                                      [--dev-server-db file|memory] [--database-url URL] [--quick]

Intake: N `IntakeService.receive` calls (bounded by --concurrency) spread over the counters
of several Hà Nội communes; a dossier counts once its 'transferred' event (received, handed
to the handling unit) is a row of the records DB. Rate = N / (first receive -> N rows).
Reference: N bare workflows (bench/bare_workflow.py), each running one trivial activity,
started with the same concurrency and awaited. Rate = N / (first start -> last result).
Both run on one dev server, each on a fresh task queue with its own in-process worker (the
sandboxed default runner for both). Rounds alternate reference, intake; the summary compares
the medians. Each row also shows the CPU seconds this process and the dev server used during
the measurement. A benchmark, not a test: it exits 0 whatever the ratio.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # `python bench/intake_throughput.py`: make the project importable
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import logging
import os
import platform
import sqlite3
import statistics
import subprocess
import tempfile
import time
import uuid
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import sqlalchemy
import temporalio
from sqlalchemy import func, select
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adminunits import AdminUnits, AgencyDirectory, Era
from assembly.workers import build_worker
from bench.bare_workflow import BareWorkflow, bare_activity
from intake.forms import IntakeRequest, ReceiptSlip
from intake.service import IntakeService
from model import search_attributes
from model.dossier_inputs import Actor, Address, Applicant, SubmittedDocument
from procedures.models import Role
from records.database import RecordsStore, create_engine, open_records
from records.tables import DossierEventRow
from runtime.codec import EncryptionCodec
from runtime.codec import data_converter as codec_converter
from runtime.logging import configure_logging
from runtime.temporal import binary

TARGET_RATIO = 0.7
PROVINCE = "01"  # Hà Nội
COUNTERS = 5  # communes (each with its counter) receiving in parallel
PROCEDURE = "1.004873"  # marital status certificate: commune level, one mandatory document
POLL_INTERVAL = 0.05
SETTLE = 2.0


# --- measurements ---------------------------------------------------------------------


@dataclass
class Measurement:
    kind: str
    round: int
    n: int
    elapsed: float
    cpu: tuple[float, float] = (0.0, 0.0)  # CPU seconds used meanwhile: this process, dev server
    # intake only: when the last receive returned, and receive latencies
    receipts_done: float | None = None
    latencies: list[float] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.n / self.elapsed


class CpuMeter:
    """CPU seconds of this process (all its threads) and of the dev server it started."""

    def __init__(self) -> None:
        self._server = self._find_server()
        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    @staticmethod
    def _find_server() -> int | None:
        me = str(os.getpid())
        for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    stat = f.read()
            except OSError:
                continue
            comm = stat[stat.index("(") + 1 : stat.rindex(")")]
            if stat[stat.rindex(")") + 2 :].split()[1] == me and comm.startswith("temporal"):
                return int(entry)
        return None

    def read(self) -> tuple[float, float]:
        server = 0.0
        if self._server is not None:
            try:
                with open(f"/proc/{self._server}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                server = (int(fields[11]) + int(fields[12])) / self._tick
            except OSError:
                pass
        return time.process_time(), server


async def bounded(concurrency: int, n: int, one) -> None:
    semaphore = asyncio.Semaphore(concurrency)

    async def guarded(i: int) -> None:
        async with semaphore:
            await one(i)

    await asyncio.gather(*(guarded(i) for i in range(n)))


async def measure_reference(
    client: Client, n: int, concurrency: int, round_: int, meter: CpuMeter
) -> Measurement:
    task_queue = f"bench-bare-{uuid.uuid4()}"
    async with Worker(client, task_queue=task_queue, workflows=[BareWorkflow], activities=[bare_activity]):

        async def one(i: int) -> None:
            result = await client.execute_workflow(
                BareWorkflow.run, i, id=f"{task_queue}-{i}", task_queue=task_queue
            )
            assert result == i + 1

        cpu_before = meter.read()
        started = time.perf_counter()
        await bounded(concurrency, n, one)
        elapsed = time.perf_counter() - started
        cpu = used_since(meter, cpu_before)
    return Measurement("reference", round_, n, elapsed, cpu)


def used_since(meter: CpuMeter, before: tuple[float, float]) -> tuple[float, float]:
    after = meter.read()
    return after[0] - before[0], after[1] - before[1]


@dataclass(frozen=True)
class Counter:
    officer: Actor
    applicant: Applicant


def hanoi_counters(count: int) -> list[Counter]:
    """The counters of the first `count` post-reform communes of Hà Nội, with a local applicant each."""
    units = AdminUnits.load()
    agencies = AgencyDirectory.load(units)
    counters = []
    for i, commune in enumerate(units.communes(Era.FROM_2025, PROVINCE)[:count]):
        centre = agencies.commune_service_centre(commune.code)
        assert centre is not None, f"no service centre for commune {commune.code}"
        counters.append(
            Counter(
                officer=Actor(id=f"bench-counter-{i}", roles=(Role.COUNTER_OFFICER,), unit=centre.code),
                applicant=Applicant(
                    full_name="Nguyễn Văn An",
                    personal_id=f"00109012{i:04d}",
                    address=Address(province_code=PROVINCE, commune_code=commune.code, detail="1 Phố Huế"),
                    phone="0912345678",
                ),
            )
        )
    return counters


def intake_requests(counters: list[Counter], n: int) -> list[IntakeRequest]:
    return [
        IntakeRequest(
            procedure_code=PROCEDURE,
            applicant=counters[i % len(counters)].applicant,
            receiving_unit=counters[i % len(counters)].officer.unit,
            documents=(SubmittedDocument(id="declaration"),),
            received_by=counters[i % len(counters)].officer,
        )
        for i in range(n)
    ]


async def count_transferred(engine) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(
            select(func.count()).select_from(DossierEventRow).where(DossierEventRow.action == "transferred")
        )


async def measure_intake(
    client: Client,
    records: RecordsStore,
    poll_engine,
    counters: list[Counter],
    n: int,
    concurrency: int,
    round_: int,
    timeout: float,
    meter: CpuMeter,
) -> Measurement:
    task_queue = f"bench-intake-{uuid.uuid4()}"
    service = IntakeService.standard(client, task_queue, records)
    requests = intake_requests(counters, n)
    latencies: list[float] = []
    async with build_worker(client, task_queue, records):
        target = await count_transferred(poll_engine) + n

        async def one(i: int) -> None:
            began = time.perf_counter()
            outcome = await service.receive(requests[i])
            latencies.append(time.perf_counter() - began)
            if not isinstance(outcome, ReceiptSlip):
                raise RuntimeError(f"request {i} was not received: {outcome!r}")

        cpu_before = meter.read()
        started = time.perf_counter()
        receiving = asyncio.create_task(bounded(concurrency, n, one))
        receipts_done = None
        while True:
            if receiving.done():
                receiving.result()  # a failed receive ends the run here
                if receipts_done is None:
                    receipts_done = time.perf_counter() - started
            if await count_transferred(poll_engine) >= target:
                break
            if time.perf_counter() - started > timeout:
                receiving.cancel()
                raise TimeoutError(
                    f"intake round {round_}: not all {n} dossiers transferred in {timeout:.0f} s"
                )
            await asyncio.sleep(POLL_INTERVAL)
        elapsed = time.perf_counter() - started
        cpu = used_since(meter, cpu_before)
        await receiving
        if receipts_done is None:
            receipts_done = elapsed
        # Not timed: let the dossiers finish the workflow task that follows the last record
        # (it arms the deadline timer) before the worker stops, so none is cut off.
        await asyncio.sleep(SETTLE)
    return Measurement("intake", round_, n, elapsed, cpu, receipts_done, latencies)


# --- reporting --------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def row(m: Measurement) -> str:
    extra = ""
    if m.kind == "intake":
        extra = (
            f"receipts done {m.receipts_done:6.2f} s"
            f"  receive p50 {percentile(m.latencies, 0.5) * 1000:5.0f} ms"
            f"  p95 {percentile(m.latencies, 0.95) * 1000:5.0f} ms"
        )
    cpu = f"{m.cpu[0]:6.1f} {m.cpu[1]:6.1f}"
    return f"  {m.round:>5}  {m.kind:<9}  {m.n:>5}  {m.elapsed:8.2f} s  {m.rate:8.1f} /s  {cpu}  {extra}"


def temporal_version(path: str) -> str:
    try:
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=10).stdout
        return out.strip().splitlines()[0] if out.strip() else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def machine_facts(args: argparse.Namespace, database_url: str) -> list[tuple[str, str]]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    try:
        load = "%.2f %.2f %.2f" % os.getloadavg()
    except OSError:
        load = "?"
    scheme, _, rest = database_url.partition("://")
    where = rest.rsplit("@", 1)[-1]  # never print credentials
    return [
        ("nproc", f"{usable} (cpu_count {os.cpu_count()})"),
        ("load average", load),
        (
            "python",
            f"{platform.python_implementation()} {platform.python_version()} on {platform.platform()}",
        ),
        ("temporalio", temporalio.__version__),
        ("temporal CLI", temporal_version(binary("temporal"))),
        (
            "dev-server db",
            args.dev_server_db
            + (" (SQLite file in temp dir)" if args.dev_server_db == "file" else " (in-memory SQLite)"),
        ),
        ("records db", f"{scheme} ({where})"),
        ("payload codec", "intake: AES-256-GCM (as in production); reference: none"),
        ("sqlalchemy / sqlite", f"{sqlalchemy.__version__} / {sqlite3.sqlite_version}"),
        # The sandbox re-imports each workflow's module per run: without .pyc files it compiles it.
        ("bytecode cache", "off (PYTHONDONTWRITEBYTECODE)" if sys.dont_write_bytecode else "on"),
        (
            "dossiers x rounds",
            f"{args.dossiers} x {args.rounds}, concurrency {args.concurrency}, warm-up {args.warmup}",
        ),
    ]


# --- the run ----------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="intake-bench-") as tmp:
        database_url = args.database_url or f"sqlite+aiosqlite:///{os.path.join(tmp, 'records.sqlite')}"
        facts = machine_facts(args, database_url)
        width = max(len(k) for k, _ in facts)
        print("Intake throughput benchmark")
        for key, value in facts:
            print(f"  {key:<{width}}  {value}")
        print(flush=True)

        async with AsyncExitStack() as stack:
            env = await WorkflowEnvironment.start_local(
                data_converter=pydantic_data_converter,
                search_attributes=search_attributes.ALL,
                dev_server_existing_path=binary("temporal"),
                dev_server_log_level="error",
                dev_server_database_filename=(
                    os.path.join(tmp, "temporal.sqlite") if args.dev_server_db == "file" else None
                ),
                ui=False,
            )
            stack.push_async_callback(env.shutdown)
            # The intake runs as in production: citizens' data encrypted by the payload codec.
            # The reference stays bare Temporal (plain converter).
            intake_client = Client(
                env.client.service_client,
                namespace=env.client.namespace,
                data_converter=codec_converter(EncryptionCodec({"bench": os.urandom(32)}, "bench")),
            )
            records = await stack.enter_async_context(open_records(database_url))
            poll_engine = create_engine(database_url)
            stack.push_async_callback(poll_engine.dispose)
            counters = hanoi_counters(COUNTERS)
            meter = CpuMeter()

            if args.warmup:
                print(f"warm-up: {args.warmup} of each (not counted)", flush=True)
                await measure_reference(env.client, args.warmup, args.concurrency, 0, meter)
                await measure_intake(
                    intake_client,
                    records,
                    poll_engine,
                    counters,
                    args.warmup,
                    args.concurrency,
                    0,
                    args.timeout,
                    meter,
                )

            results: list[Measurement] = []
            print(
                f"  {'round':>5}  {'kind':<9}  {'N':>5}  {'elapsed':>10}  {'rate':>11}  {'CPU s: py server':>16}"
            )
            for round_ in range(1, args.rounds + 1):
                # Alternate which goes first so neither always gets the fresher server.
                kinds = ("reference", "intake") if round_ % 2 else ("intake", "reference")
                for kind in kinds:
                    if kind == "reference":
                        m = await measure_reference(
                            env.client, args.dossiers, args.concurrency, round_, meter
                        )
                    else:
                        m = await measure_intake(
                            intake_client,
                            records,
                            poll_engine,
                            counters,
                            args.dossiers,
                            args.concurrency,
                            round_,
                            args.timeout,
                            meter,
                        )
                    results.append(m)
                    print(row(m), flush=True)

        reference = statistics.median(m.rate for m in results if m.kind == "reference")
        intake = statistics.median(m.rate for m in results if m.kind == "intake")
        ratio = intake / reference
        verdict = "PASS" if ratio >= TARGET_RATIO else "BELOW TARGET"
        print()
        print("Summary (medians over rounds)")
        print(f"  reference (bare 1-activity workflow)  {reference:8.1f} workflows/s")
        print(f"  intake (received -> transferred)      {intake:8.1f} dossiers/s")
        print(f"  ratio intake / reference              {ratio:8.2f}   (target >= {TARGET_RATIO})  {verdict}")
        receipts = statistics.median(m.n / m.receipts_done for m in results if m.kind == "intake")
        print(
            f"  (intake receipts alone: {receipts:.1f} receive() calls/s; CPU per item, median:"
            f" reference {cpu_per_item(results, 'reference')}, intake {cpu_per_item(results, 'intake')})"
        )


def cpu_per_item(results: list[Measurement], kind: str) -> str:
    chosen = [m for m in results if m.kind == kind]
    py = statistics.median(m.cpu[0] / m.n for m in chosen) * 1000
    server = statistics.median(m.cpu[1] / m.n for m in chosen) * 1000
    return f"py {py:.0f} ms + server {server:.0f} ms"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--dossiers", type=int, default=300, metavar="N", help="dossiers (and bare workflows) per round"
    )
    parser.add_argument("--concurrency", type=int, default=20, metavar="C", help="calls in flight at once")
    parser.add_argument("--rounds", type=int, default=3, metavar="R", help="rounds; medians are reported")
    parser.add_argument(
        "--dev-server-db",
        choices=("file", "memory"),
        default="file",
        help="dev server state in a SQLite file (the embedded default) or in memory",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="records DB (default: a SQLite file in the temp dir; postgresql+asyncpg://... accepted)",
    )
    parser.add_argument(
        "--warmup", type=int, default=20, metavar="W", help="uncounted warm-up runs of each kind"
    )
    parser.add_argument(
        "--timeout", type=float, default=600, help="seconds before an intake round is abandoned"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: N=40, 1 round, warm-up 5")
    parser.add_argument("--log-level", default="warning", help="project and SDK log level (default warning)")
    args = parser.parse_args(argv)
    if args.quick:
        args.dossiers, args.rounds, args.warmup = 40, 1, 5
    if args.dossiers < 1 or args.concurrency < 1 or args.rounds < 1 or args.warmup < 0:
        parser.error("--dossiers, --concurrency and --rounds must be positive, --warmup not negative")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    configure_logging(getattr(logging, args.log_level.upper()))
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
