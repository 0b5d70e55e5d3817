"""Exactly-once intake across worker hosts under a partition (issue 19's proof, not timed).

Three worker processes (worker.py with its HTTP API) on one dev server and one PostgreSQL
records database: one on this host, two in network namespaces the test creates (hosts A and
B, each joined to this host by a veth pair; the host's Temporal and PostgreSQL reach them
through forwarders on the host's end of their link). Counters send intakes through the API
from both sides: inside host A to A's API, and on this host to its worker's API, each request
resent under its id until a slip comes back. Meanwhile host A's link is cut for 8 s and
restored, and host B's worker is SIGKILLed. Then, counted from Temporal and the records store:
every request id gave exactly one dossier, codes are unique and gap-free, every timeline entry
has its projection row, and every dossier has exactly one receipt notice.

Skipped where network namespaces cannot be made (not root, no `ip netns`) or PostgreSQL does
not answer; run in the default (time-skipping) pass only, as the other fault tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import subprocess
import sys
import uuid
from collections import Counter as Tally
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
import sqlalchemy
from sqlalchemy import func, select

from model.dossier_inputs import Actor
from officers.tokens import mint_token, token_key
from procedures.models import Role
from records.database import RecordsStore, open_records
from records.tables import DossierEventRow, DossierRow, IntakeRequestRow, NotificationRow
from runtime.settings import Settings
from tests.builders import free_port
from tests.faults.harness import (
    ROOT,
    DevServer,
    PostgresDatabase,
    WorkerProcess,
    payload_keys,
    process_env,
    settled_views,
)
from tests.faults.netns import NetworkNamespace, TcpForwarder, namespaces_unavailable

POSTGRES_URL = os.environ.get("POSTGRES_TEST_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
COUNTER_UNIT = "000.00004.01.H01"  # Phường Ba Đình's counter: both sides receive at it
REQUESTS_PER_SIDE = 40
BODY = {
    "procedure_code": "1.004873",
    "applicant": {
        "full_name": "Nguyễn Văn An",
        "personal_id": "001090123456",
        "address": {"province_code": "01", "commune_code": "00004"},
    },
    "documents": [{"id": "declaration"}],
}
# Short bounds so a cut host's intakes answer 503 within seconds instead of waiting out the
# defaults (20 s settle, 90 s PostgreSQL command timeout); the counters resend.
FAST_FAILURE = {
    "INTAKE_RPC_TIMEOUT": "2",
    "INTAKE_START_SETTLE_TIMEOUT": "3",
    "RECORDS_COMMAND_TIMEOUT": "5",
    "RECORDS_LOCK_TIMEOUT": "3",
    "RECORDS_IDLE_IN_TRANSACTION_TIMEOUT": "5",
}


@pytest.fixture(autouse=True)
def default_pass_only(request: pytest.FixtureRequest) -> None:
    if request.config.getoption("--workflow-environment") == "local":
        pytest.skip("starts its own dev server and workers: run once, in the default pass")


class HostedWorker(WorkerProcess):
    """worker.py with its API, on this host or (`namespace`) inside a worker host."""

    def __init__(self, directory: Path, env: dict[str, str], namespace: NetworkNamespace | None) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        super().__init__(directory, env)
        self.namespace = namespace

    def start(self) -> None:
        log_path = self.directory / f"worker-{len(self.logs) + 1}.log"
        self.logs.append(log_path)
        argv = [sys.executable, "worker.py", "--json-logs"]
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(
                self.namespace.command(*argv) if self.namespace else argv,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    @property
    def api_url(self) -> str:
        return f"http://{self.env['API_HOST']}:{self.env['API_PORT']}"


@dataclass
class Cluster:
    server: DevServer
    records: RecordsStore
    settings: Settings
    workers: dict[str, HostedWorker]
    hosts: dict[str, NetworkNamespace]


@pytest_asyncio.fixture
async def cluster(tmp_path: Path) -> AsyncIterator[Cluster]:
    why = namespaces_unavailable()
    if why is not None:
        pytest.skip(f"network namespaces cannot be created here: {why}")
    database = PostgresDatabase(POSTGRES_URL)
    try:
        await database.create()
    except (OSError, TimeoutError) as err:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            raise
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}: {err}")
    server = DevServer(tmp_path)
    hosts = {name: NetworkNamespace() for name in ("a", "b")}
    forwarders: list[TcpForwarder] = []
    workers: dict[str, HostedWorker] = {}
    database_url = sqlalchemy.make_url(database.url)
    common = process_env(
        TASK_QUEUE=f"partition-{uuid.uuid4()}",
        PAYLOAD_KEYS=payload_keys(),
        API_TOKEN_KEY=uuid.uuid4().hex + uuid.uuid4().hex,
        LOG_JSON="1",
        **FAST_FAILURE,
    )
    try:
        server.start()
        envs = {
            "host": {
                **common,
                "TEMPORAL_ADDRESS": server.address,
                "DATABASE_URL": database.url,
                "API_HOST": "127.0.0.1",
                "API_PORT": str(free_port()),
            }
        }
        for name, host in hosts.items():
            host.create()
            temporal = await TcpForwarder(host.host_ip, server.address).start()
            postgres = await TcpForwarder(
                host.host_ip, f"{database_url.host or '127.0.0.1'}:{database_url.port or 5432}"
            ).start()
            forwarders += [temporal, postgres]
            pg_host, _, pg_port = postgres.address.partition(":")
            envs[name] = {
                **common,
                "TEMPORAL_ADDRESS": temporal.address,
                "DATABASE_URL": database_url.set(host=pg_host, port=int(pg_port)).render_as_string(
                    hide_password=False
                ),
                "API_HOST": host.ip,
                "API_PORT": str(free_port()),
            }
        # The test migrates the schema before any worker serves it.
        async with open_records(database.url) as records:
            settings = Settings.from_env(envs["host"])
            await server.wait_ready(settings)
            for name, env in envs.items():
                workers[name] = HostedWorker(
                    tmp_path / f"worker-{name}",
                    {**env, "DATA_DIR": str(tmp_path / f"data-{name}")},
                    hosts.get(name),
                )
                workers[name].start()
            await asyncio.gather(*(w.wait_ready(60) for w in workers.values()))
            yield Cluster(server, records, settings, workers, hosts)
    finally:
        for host in hosts.values():
            with contextlib.suppress(subprocess.CalledProcessError):
                host.restore()
        for worker in workers.values():
            worker.stop(grace=10)
        for forwarder in forwarders:
            await forwarder.close()
        for host in hosts.values():
            host.delete()
        server.stop()
        await database.drop()


async def intake(
    worker: HostedWorker, token: str, request_ids: list[str], namespace: NetworkNamespace | None
) -> asyncio.subprocess.Process:
    """The counter's client, started on the worker's side of the network; its spec on stdin."""
    argv = [sys.executable, str(ROOT / "tests" / "faults" / "partition_client.py")]
    client = await asyncio.create_subprocess_exec(
        *(namespace.command(*argv) if namespace else argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    spec = {
        "url": worker.api_url,
        "token": token,
        "body": BODY,
        "request_ids": request_ids,
        "deadline": 150,
        "concurrency": 4,
        "spacing": 0.25,
    }
    assert client.stdin is not None
    client.stdin.write(json.dumps(spec).encode())
    await client.stdin.drain()
    client.stdin.close()
    return client


async def outcomes_of(client: asyncio.subprocess.Process) -> dict[str, dict]:
    out, err = await asyncio.wait_for(client.communicate(), 200)
    assert client.returncode == 0, err.decode(errors="replace")[-2000:]
    return json.loads(out)


@pytest.mark.timeout(420)
async def test_every_request_id_gives_one_dossier_across_a_cut_host_and_a_killed_worker(cluster: Cluster):
    officer = Actor(id="counter-1", roles=(Role.COUNTER_OFFICER,), unit=COUNTER_UNIT)
    token = mint_token(officer, token_key(cluster.settings))
    sides = {
        "a": [f"a-{n:03d}" for n in range(REQUESTS_PER_SIDE)],
        "host": [f"h-{n:03d}" for n in range(REQUESTS_PER_SIDE)],
    }
    clients = {
        side: await intake(cluster.workers[side], token, ids, cluster.hosts.get(side))
        for side, ids in sides.items()
    }
    await asyncio.sleep(2)
    cluster.hosts["a"].cut()  # host A keeps receiving from its counters, but reaches nothing
    await asyncio.sleep(2)
    cluster.workers["b"].kill()  # host B's worker dies mid-work
    await asyncio.sleep(6)
    cluster.hosts["a"].restore()
    outcomes = {side: await outcomes_of(client) for side, client in clients.items()}

    # Every request was answered with a slip in the end; host A's counters had to resend.
    answered = {rid: o for side in outcomes.values() for rid, o in side.items()}
    assert {rid: o["status"] for rid, o in answered.items() if o["status"] not in (200, 201)} == {}
    resent = {rid: o["answers"] for rid, o in answered.items() if len(o["answers"]) > 1}
    # A cut-off store or server is a 503 to resend after, never an internal error.
    assert {rid: a for rid, a in resent.items() if "500" in a} == {}
    assert any(rid.startswith("a-") for rid in resent), "the cut never met an intake"
    codes = {rid: o["code"] for rid, o in answered.items()}
    assert len(set(codes.values())) == len(codes) == 2 * REQUESTS_PER_SIDE

    # Temporal: one DossierWorkflow per request id, each started for that request.
    client = await cluster.server.wait_ready(cluster.settings)
    views = await settled_views(client, sorted(codes.values()), lambda v: True, 120, "projection of")
    assert {v.request_id: code for code, v in views.items()} == codes
    listed = [w.id async for w in client.list_workflows("WorkflowType='DossierWorkflow'")]
    assert Tally(listed) == Tally(codes.values())

    # Codes unique and gap-free per counter and day.
    numbers: dict[str, list[int]] = {}
    for code in codes.values():
        prefix, number = re.fullmatch(r"(.+)-(\d{4})", code).groups()
        numbers.setdefault(prefix, []).append(int(number))
    for prefix, taken in numbers.items():
        assert sorted(taken) == list(range(1, len(taken) + 1)), prefix

    # The records store: every claim settled, every dossier and timeline entry projected once,
    # one receipt notice per dossier.
    async with cluster.records.sessions() as session:
        claims = dict(
            (await session.execute(select(IntakeRequestRow.request_id, IntakeRequestRow.dossier_code))).all()
        )
        unsettled = (
            await session.execute(select(func.count()).where(IntakeRequestRow.started.is_(False)))
        ).scalar()
        rows = set((await session.execute(select(DossierRow.code))).scalars())
        events = Tally((await session.execute(select(DossierEventRow.dossier_code))).scalars())
        notices = Tally(
            (await session.execute(select(NotificationRow.dossier_code, NotificationRow.kind))).all()
        )
    assert claims == codes and unsettled == 0
    assert rows == set(codes.values())
    assert events == {code: len(v.timeline) for code, v in views.items()}
    assert notices == {(code, "received"): 1 for code in codes.values()}

    figures = {
        "requests": len(codes),
        "resent": len(resent),
        "answers_before_slip": dict(Tally(a for answers in resent.values() for a in answers[:-1])),
        "resubmitted_slips": sum(1 for o in answered.values() if o["resubmitted"]),
        "dossiers_in_temporal": len(listed),
        "dossier_rows": len(rows),
        "event_rows": sum(events.values()),
        "notices": sum(notices.values()),
    }
    print("partition figures:", json.dumps(figures))
