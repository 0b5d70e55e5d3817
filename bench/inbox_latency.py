"""How long an officer's inbox takes with many open dossiers at the unit.

The inbox reads candidates from the records store and confirms each with one `view` query,
so its cost grows with the unit's open dossiers. Run: `.venv/bin/python bench/inbox_latency.py [N ...]`
(in-memory dev server, SQLite records in a temporary directory).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent))

import logging  # noqa: E402

from temporalio.testing import WorkflowEnvironment  # noqa: E402

from assembly.workers import build_worker  # noqa: E402
from model import search_attributes  # noqa: E402
from officers.inbox import inbox  # noqa: E402
from records.database import open_records  # noqa: E402
from runtime.codec import EncryptionCodec, data_converter  # noqa: E402
from runtime.logging import configure_logging  # noqa: E402
from runtime.temporal import binary  # noqa: E402
from tests.builders import SPECIALIST, settled, start_dossier  # noqa: E402


async def measure(counts: list[int]) -> None:
    converter = data_converter(EncryptionCodec({"bench": b"b" * 32}, "bench"))
    env = await WorkflowEnvironment.start_local(
        data_converter=converter,
        search_attributes=search_attributes.ALL,
        dev_server_existing_path=binary("temporal"),
        dev_server_log_level="error",
    )
    with tempfile.TemporaryDirectory() as directory:
        async with env, open_records(f"sqlite+aiosqlite:///{directory}/records.sqlite") as records:
            async with build_worker(env.client, "bench-inbox", records):
                opened = 0
                for count in counts:
                    handles = [await start_dossier(env.client, "bench-inbox") for _ in range(count - opened)]
                    for handle in handles:
                        await settled(handle)
                    opened = count
                    for limit in sorted({50, count}):
                        runs = []
                        for _ in range(5):
                            started = time.perf_counter()
                            items = await inbox(env.client, records, SPECIALIST, limit=limit)
                            runs.append(time.perf_counter() - started)
                        print(
                            f"open dossiers {count:5d}  limit {limit:5d}  items {len(items):5d}"
                            f"  median {statistics.median(runs) * 1000:7.1f} ms  max {max(runs) * 1000:7.1f} ms"
                        )


if __name__ == "__main__":
    configure_logging(logging.WARNING)  # the projection's info lines would drown the figures
    asyncio.run(measure([int(a) for a in sys.argv[1:]] or [50, 200, 500]))
