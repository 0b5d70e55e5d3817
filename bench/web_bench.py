"""The web application under load: the worklist page of an officer whose unit has N open
dossiers, and the citizens' lookup, each from C concurrent clients (separate sessions).

    DATABASE_URL=postgresql+asyncpg://… .venv/bin/python bench/web_bench.py [--n 10000] [--clients 20] [--requests 200]

`worker.py` runs in its own process (embedded dev server, state in a temporary DATA_DIR, free
ports) as in production. Both pages read the records store only (the projection's rows: the
worklist with the inbox's rule, the lookup the dossier's row and audit entries), so this
process writes the N dossiers' rows at Phường Ba Đình as the projection writes them (all at the
specialist's step, one in ten overdue, two audit entries each) instead of running N workflows,
which this 2-core machine's dev server takes many minutes to start. Then it times
GET /web/worklist and POST /lookup over HTTP, and GET /health/live under the same load: the
floor (a request that reads nothing) that the two pages' figures are to be read against.
Figures go to docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

ROOT = Path(__file__).parent.parent
sys.path.insert(0, str(ROOT))

from officers.accounts import StaffAccounts  # noqa: E402
from procedures.models import Role  # noqa: E402
from records.database import open_records  # noqa: E402
from records.lookup_secrets import LookupSecrets  # noqa: E402
from records.tables import DossierEventRow, DossierRow  # noqa: E402
from runtime.settings import Settings  # noqa: E402
from tests.builders import BA_DINH_COMMITTEE, BA_DINH_COUNTER, free_port  # noqa: E402

PASSWORD = "mat-khau-do-tai-web"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def signed_in(url: str, username: str) -> httpx.AsyncClient:
    """A client with a signed-in session and no open connection: the clients sign in one after
    the other, and a connection left idle meanwhile could be closed by the server's keep-alive
    timeout just as the load reuses it (seen once as `Server disconnected`)."""
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        page = await http.get("/web/sign-in")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)[1]
        answer = await http.post(
            "/web/sign-in", data={"username": username, "password": PASSWORD, "csrf_token": token}
        )
        assert answer.status_code == 303, answer.text
        return httpx.AsyncClient(base_url=url, timeout=120, cookies=http.cookies)


async def load(clients: list[httpx.AsyncClient], requests: int, call) -> list[float]:
    """`requests` calls spread over the clients, all clients at once; each call's seconds."""
    timings: list[float] = []

    async def one(http: httpx.AsyncClient, count: int) -> None:
        for i in range(count):
            started = time.perf_counter()
            response = await call(http, i)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, response.status_code

    share = [requests // len(clients) + (i < requests % len(clients)) for i in range(len(clients))]
    await asyncio.gather(*(one(http, n) for http, n in zip(clients, share)))
    return timings


async def seed(records, n: int) -> list[str]:
    """N open dossiers' rows, as the projection writes them, in batches of 1,000."""
    now = datetime.now(UTC)
    prefix = f"{BA_DINH_COUNTER}-{now:%y%m%d}-W{os.getpid() % 1000:03d}"
    codes = [f"{prefix}{i:05d}" for i in range(n)]
    for start in range(0, n, 1000):
        dossiers, events = [], []
        for i in range(start, min(n, start + 1000)):
            received = now - timedelta(days=i % 20, minutes=i)
            due = received + timedelta(days=14) - (timedelta(days=20) if i % 10 == 0 else timedelta(0))
            dossiers.append(
                dict(
                    code=codes[i],
                    procedure_code="1.004873",
                    version_id="1.004873@2016-01-01",
                    receiving_unit=BA_DINH_COUNTER,
                    original_receiving_unit=BA_DINH_COUNTER,
                    handling_unit=BA_DINH_COMMITTEE,
                    status="processing",
                    channel="counter",
                    received_at=received,
                    due_at=due,
                    overdue=i % 10 == 0,
                    current_step="review",
                    current_roles="specialist",
                    last_event_seq=2,
                    last_event_hash="0" * 64,
                )
            )
            for seq, (action, unit, status) in enumerate(
                (("received", BA_DINH_COUNTER, "received"), ("transferred", "", "processing")), start=1
            ):
                events.append(
                    dict(
                        dossier_code=codes[i],
                        seq=seq,
                        action=action,
                        actor_id="bench",
                        actor_unit=unit,
                        at=received,
                        status_after=status,
                        payload="{}",
                        prev_hash="0" * 64,
                        hash="0" * 64,
                    )
                )
        async with records.sessions() as session, session.begin():
            await session.execute(insert(DossierRow), dossiers)
            await session.execute(insert(DossierEventRow), events)
    return codes


async def main(n: int, clients: int, requests: int) -> None:
    print("load average before the run: " + ", ".join(f"{x:.1f}" for x in os.getloadavg()), flush=True)
    data = Path(tempfile.mkdtemp(prefix="web-bench-"))
    env = {
        **os.environ,
        "DATA_DIR": str(data),
        "TEMPORAL_DEV_PORT": str(free_port()),
        "TEMPORAL_DEV_UI_PORT": str(free_port()),
        "API_PORT": str(free_port()),
        "LOG_JSON": "1",
        "TASK_QUEUE": "web-bench",
    }
    settings = Settings.from_env(env)
    url = f"http://127.0.0.1:{env['API_PORT']}"
    log = (data / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, str(ROOT / "worker.py")], env=env, stdout=log, stderr=log, cwd=ROOT
    )
    try:
        async with httpx.AsyncClient(base_url=url) as http:
            for _ in range(600):
                try:
                    if (await http.get("/health/ready")).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.5)
        async with open_records(settings.database_url) as records:
            username = f"bench-{os.getpid()}"
            await StaffAccounts(records).create(
                username, unit=BA_DINH_COMMITTEE, roles=(Role.SPECIALIST,), password=PASSWORD
            )
            started = time.perf_counter()
            codes = await seed(records, n)
            if records.engine.dialect.name == "postgresql":
                # What autovacuum does within a minute of such a batch of inserts: the planner's
                # statistics, and the visibility map that lets a count read the index alone.
                async with records.engine.connect() as connection:
                    await connection.execution_options(isolation_level="AUTOCOMMIT")
                    await connection.exec_driver_sql("VACUUM ANALYZE dossiers")
            print(
                f"wrote {n} open dossiers at {BA_DINH_COMMITTEE} in {time.perf_counter() - started:.0f} s",
                flush=True,
            )
            secrets = LookupSecrets(records.engine, records.sessions)
            sample = [(code, await secrets.issue_once(code)) for code in codes[:50]]

        sessions = [await signed_in(url, username) for _ in range(clients)]
        # One request each first: connections open, the worker's cache warm as a working day's would be.
        await load(sessions, clients, lambda http, i: http.get("/web/worklist"))
        worklist = await load(sessions, requests, lambda http, i: http.get("/web/worklist"))
        citizens = [httpx.AsyncClient(base_url=url, timeout=120) for _ in range(clients)]

        def lookup(http, i):
            code, secret = sample[i % len(sample)]
            return http.post("/lookup", data={"code": code, "secret": secret})

        await load(citizens, clients, lookup)
        lookups = await load(citizens, requests, lookup)
        floor = await load(citizens, requests, lambda http, i: http.get("/health/live"))
        for http in sessions + citizens:
            await http.aclose()
        load_average = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"\n{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average after the run: {load_average}")
        print(
            "| page | open dossiers | clients | requests | p50 | p95 | max |\n|---|---|---|---|---|---|---|"
        )
        pages = (("GET /web/worklist", worklist), ("POST /lookup", lookups), ("GET /health/live", floor))
        for name, timings in pages:
            print(
                f"| {name} | {n} | {clients} | {len(timings)} | {statistics.median(timings) * 1000:.0f} ms"
                f" | {percentile(timings, 0.95) * 1000:.0f} ms | {max(timings) * 1000:.0f} ms |"
            )
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(120)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="open dossiers at the officer's unit")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200, help="requests per page, over all clients")
    args = parser.parse_args()
    asyncio.run(main(args.n, args.clients, args.requests))
