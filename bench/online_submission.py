"""Online submission through the API, against a counter's receipt, on one embedded dev server.

    python bench/online_submission.py [--dossiers 100] [--concurrency 10] [--file-kib 200]

Per dossier, online: the declaration's file uploaded (`PUT /online/files/{sha256}`, a distinct
PDF of --file-kib KiB) then the submission (`POST /online/dossiers`, status 1); then the
counter's check (`POST /dossiers/{code}/actions/receive_online`). Reference: the same number
of counter receipts (`POST /dossiers`). The API runs in this process (httpx's ASGI transport,
no sockets), with a worker and SQLite records, on a fresh in-memory dev server. Prints each
phase's rate and latency (p50, p95). A benchmark, not a test: it exits 0 whatever it measures.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # `python bench/online_submission.py`: make the project importable
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import hashlib
import json
import logging
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx
from temporalio.testing import WorkflowEnvironment

from api import create_app
from assembly.workers import build_worker
from model import search_attributes
from model.dossier_inputs import Actor
from officers.tokens import mint_token
from procedures.models import Role
from records.database import open_records
from runtime.codec import EncryptionCodec
from runtime.codec import data_converter as codec_converter
from runtime.logging import configure_logging
from runtime.settings import Settings
from runtime.temporal import binary
from tests.builders import APPLICANT, BA_DINH_COUNTER

KEY = os.urandom(32)
ONLINE = Actor(id="bench-online", roles=(Role.ONLINE_SERVICE,), unit="000.00.00.H01")
COUNTER = Actor(id="bench-counter", roles=(Role.COUNTER_OFFICER,), unit=BA_DINH_COUNTER)
BODY = {
    "procedure_code": "1.004873",
    "applicant": json.loads(APPLICANT.model_dump_json()),
    "receiving_unit": BA_DINH_COUNTER,
}


def auth(actor: Actor) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(actor, KEY)}"}


async def phase(n: int, concurrency: int, one: Callable[[int], Awaitable[None]]) -> tuple[float, list[float]]:
    """Run `one(i)` for i < n, at most `concurrency` at once: (rate per second, latencies in s)."""
    gate = asyncio.Semaphore(concurrency)
    latencies: list[float] = []

    async def timed(i: int) -> None:
        async with gate:
            began = time.perf_counter()
            await one(i)
            latencies.append(time.perf_counter() - began)

    began = time.perf_counter()
    await asyncio.gather(*(timed(i) for i in range(n)))
    return n / (time.perf_counter() - began), latencies


def line(name: str, rate: float, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))]
    return f"| {name} | {rate:.1f}/s | {statistics.median(ordered) * 1000:.0f} ms | {p95 * 1000:.0f} ms |"


async def main(args: argparse.Namespace) -> None:
    configure_logging()  # log lines on stderr; the figures alone on stdout
    logging.disable(logging.WARNING)
    converter = codec_converter(EncryptionCodec({"bench": os.urandom(32)}, "bench"))
    with tempfile.TemporaryDirectory(prefix="bench-online-") as tmp:
        env = await WorkflowEnvironment.start_local(
            data_converter=converter,
            search_attributes=search_attributes.ALL,
            dev_server_existing_path=binary("temporal"),
            dev_server_log_level="error",
        )
        async with env, open_records(f"sqlite+aiosqlite:///{Path(tmp) / 'records.sqlite'}") as records:
            queue = f"bench-{uuid.uuid4()}"
            settings = Settings.from_env({"DATA_DIR": tmp, "TASK_QUEUE": queue})
            app = create_app(env.client, records, settings, key=KEY)
            transport = httpx.ASGITransport(app=app)
            async with (
                build_worker(env.client, queue, records),
                httpx.AsyncClient(transport=transport, base_url="http://api", timeout=120) as http,
            ):
                codes: list[str] = [""] * args.dossiers
                run = uuid.uuid4().hex[:8]

                async def counter_receipt(i: int) -> None:
                    body = {**BODY, "documents": [{"id": "declaration"}], "request_id": f"c-{run}-{i}"}
                    response = await http.post("/dossiers", json=body, headers=auth(COUNTER))
                    assert response.status_code == 201, response.text

                async def online_submission(i: int) -> None:
                    content = b"%PDF-1.7\n" + f"{run}-{i}".encode() + os.urandom(args.file_kib * 1024)
                    digest = hashlib.sha256(content).hexdigest()
                    stored = await http.put(
                        f"/online/files/{digest}",
                        content=content,
                        headers={**auth(ONLINE), "Content-Type": "application/pdf"},
                    )
                    assert stored.status_code == 201, stored.text
                    body = {**BODY, "documents": [{"id": "declaration", "reference": f"sha256:{digest}"}]}
                    submitted = await http.post(
                        "/online/dossiers",
                        json=body,
                        headers={**auth(ONLINE), "Idempotency-Key": f"o-{run}-{i}"},
                    )
                    assert submitted.status_code == 201, submitted.text
                    codes[i] = submitted.json()["dossier_code"]

                async def counter_check(i: int) -> None:
                    response = await http.post(
                        f"/dossiers/{codes[i]}/actions/receive_online",
                        json={},
                        headers={**auth(COUNTER), "Idempotency-Key": f"{codes[i]}-rcv"},
                    )
                    assert response.status_code == 200, response.text

                print(
                    f"{args.dossiers} dossiers, concurrency {args.concurrency}, files of {args.file_kib} KiB"
                )
                print("| phase | rate | p50 | p95 |\n|---|---|---|---|")
                print(
                    line(
                        "counter receipt (reference)",
                        *await phase(args.dossiers, args.concurrency, counter_receipt),
                    )
                )
                print(
                    line(
                        "online: upload + submission",
                        *await phase(args.dossiers, args.concurrency, online_submission),
                    )
                )
                print(
                    line(
                        "counter's check (receive_online)",
                        *await phase(args.dossiers, args.concurrency, counter_check),
                    )
                )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dossiers", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--file-kib", type=int, default=200)
    asyncio.run(main(parser.parse_args()))
