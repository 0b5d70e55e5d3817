"""Real processes for the fault tests: a dev server with its state in a file, and worker.py.

Both run as subprocesses that a test can SIGKILL and start again on the same port, state
file and records database. Every wait here is bounded.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import asyncpg
import sqlalchemy
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowUpdateRPCTimeoutOrCancelledError
from temporalio.service import RPCError

from model import search_attributes
from model.dossier_view import DossierView
from runtime.codec import generate_key
from runtime.settings import ConfigurationError, Settings
from runtime.temporal import binary, connect
from tests.builders import free_port
from workflows.dossier import DossierWorkflow

ROOT = Path(__file__).resolve().parents[2]
T = TypeVar("T")

_SEARCH_ATTRIBUTE_TYPES = {"KEYWORD": "Keyword", "DATETIME": "Datetime", "BOOL": "Bool"}


def payload_keys() -> str:
    """A fresh keyring for PAYLOAD_KEYS (runtime.codec): one random AES-256 key."""
    return f"t1:{generate_key()}"


def _stop_process(proc: subprocess.Popen | None, sig: int, grace: float) -> int | None:
    """Send `sig`, wait up to `grace` seconds, then SIGKILL. Returns the exit code."""
    if proc is None:
        return None
    if proc.poll() is None:
        try:
            proc.send_signal(sig)
            return proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
    try:
        return proc.wait(10)
    except subprocess.TimeoutExpired:  # pragma: no cover - a process that ignores SIGKILL
        return None


class DevServer:
    """`temporal server start-dev` on a fixed port with its state in `db_file`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.db_file = directory / "temporal.sqlite"
        self.log_file = directory / "dev-server.log"
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        args = [
            binary("temporal"), "server", "start-dev", "--headless",
            "--ip", "127.0.0.1", "--port", str(self.port),
            "--db-filename", str(self.db_file), "--log-level", "error",
            "--dynamic-config-value", "frontend.enableUpdateWorkflowExecution=true",
        ]  # fmt: skip
        for key in search_attributes.ALL:
            kind = _SEARCH_ATTRIBUTE_TYPES[key.indexed_value_type.name]
            args += ["--search-attribute", f"{key.name}={kind}"]
        return args

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        with open(self.log_file, "ab") as log:
            self.proc = subprocess.Popen(
                self.command(), stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True
            )

    def stop(self, grace: float = 10) -> int | None:
        """SIGTERM, then SIGKILL after `grace` seconds."""
        code = _stop_process(self.proc, signal.SIGTERM, grace)
        self.proc = None
        return code

    def kill(self) -> None:
        _stop_process(self.proc, signal.SIGKILL, 0)
        self.proc = None

    async def wait_ready(self, settings: Settings, timeout: float = 30) -> Client:
        """A client once the server answers a visibility query on the default namespace."""
        deadline = time.monotonic() + timeout
        restarted = False
        while True:
            if self.proc is not None and self.proc.poll() is not None:
                if self.starts == 1 and not restarted:
                    # Its first start died at once (seen once in a full suite, cause not known:
                    # the log's head now shows it); a server with no state yet can start again.
                    restarted = True
                    self.start()
                    continue
                raise AssertionError(f"dev server exited ({self.proc.returncode}): {self.log_tail()}")
            try:
                client = await asyncio.wait_for(connect(settings), 5)
                await asyncio.wait_for(client.count_workflows(), 5)
                return client
            except ConfigurationError:
                raise
            except (RuntimeError, RPCError, TimeoutError):
                if time.monotonic() > deadline:
                    raise AssertionError(f"dev server not ready in {timeout}s: {self.log_tail()}") from None
                await asyncio.sleep(0.2)

    def log_tail(self) -> str:
        """The log's first and last lines: a panic's cause comes first, its goroutines after."""
        if not self.log_file.exists():
            return ""
        text = self.log_file.read_text(errors="replace")
        return text if len(text) <= 3500 else f"{text[:1500]}\n[…]\n{text[-2000:]}"


class WorkerProcess:
    """`python worker.py` against a given environment; each start logs to its own file."""

    def __init__(self, directory: Path, env: dict[str, str]) -> None:
        self.directory = directory
        self.env = env
        self.proc: subprocess.Popen | None = None
        self.logs: list[Path] = []

    def start(self) -> None:
        assert self.proc is None or self.proc.poll() is not None, "already running"
        log_path = self.directory / f"worker-{len(self.logs) + 1}.log"
        self.logs.append(log_path)
        with open(log_path, "wb") as log:
            self.proc = subprocess.Popen(
                # The worker alone: these tests are about dossiers, not the HTTP API.
                [sys.executable, "worker.py", "--no-api"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=log,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )

    async def wait_ready(self, timeout: float = 30) -> None:
        """Until the worker logged that it runs (it polls right after)."""
        deadline = time.monotonic() + timeout
        while "worker running" not in self.logs[-1].read_text(errors="replace"):
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise AssertionError(f"worker exited ({self.proc.returncode}): {self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"worker not running after {timeout}s: {self.log_tail()}")
            await asyncio.sleep(0.05)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no graceful shutdown, in-flight tasks are abandoned."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self.proc = None

    def stop(self, grace: float = 25) -> None:
        _stop_process(self.proc, signal.SIGTERM, grace)
        self.proc = None

    def log_text(self) -> str:
        return "".join(p.read_text(errors="replace") for p in self.logs if p.exists())

    def log_tail(self) -> str:
        return self.logs[-1].read_text(errors="replace")[-3000:] if self.logs else ""

    def count(self, needle: str) -> int:
        return self.log_text().count(needle)


def process_env(**values: str) -> dict[str, str]:
    """This process's environment without any project setting, plus `values`."""
    project = ("TEMPORAL_", "DATABASE_URL", "PAYLOAD_KEYS", "TASK_QUEUE", "DATA_DIR", "API_", "LOG_JSON")
    env = {k: v for k, v in os.environ.items() if not k.startswith(project)}
    env.update(values)
    return env


async def eventually(
    probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], timeout: float, what: str
) -> T:
    """Poll `probe` until `accept` holds (RPC errors count as not yet), at most `timeout` s."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            last = await asyncio.wait_for(probe(), 10)
            if accept(last):  # type: ignore[arg-type]
                return last  # type: ignore[return-value]
        except (RPCError, TimeoutError) as err:
            last = err
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached in {timeout}s (last: {last!r})")
        await asyncio.sleep(0.1)


async def view(client: Client, code: str) -> DossierView:
    return await client.get_workflow_handle(code).query(DossierWorkflow.view)


async def settled_views(
    client: Client, codes: list[str], accept: Callable[[DossierView], bool], timeout: float, what: str
) -> dict[str, DossierView]:
    """Each dossier's view once nothing is left unrecorded and `accept` holds for it."""

    async def one(code: str) -> DossierView:
        return await eventually(
            lambda: view(client, code),
            lambda v: v.unrecorded_events == 0 and accept(v),
            timeout,
            f"{what} {code}",
        )

    views = await asyncio.gather(*(one(code) for code in codes))
    return dict(zip(codes, views))


async def send_until_accepted(
    handle: WorkflowHandle, update, action, *, timeout: float, attempt_timeout: float = 3
) -> tuple[DossierView, int]:
    """Send an update until a worker runs it, always with the same update id and action id.

    Returns the view and how many sends it took. A send without a worker polling waits; it
    is cut after `attempt_timeout` seconds and sent again, as a client without a worker would.
    """
    deadline = time.monotonic() + timeout
    sends = 0
    while True:
        sends += 1
        try:
            result = await asyncio.wait_for(
                handle.execute_update(update, action, id=action.action_id), attempt_timeout
            )
            return result, sends
        except (TimeoutError, RPCError, WorkflowUpdateRPCTimeoutOrCancelledError) as err:
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"update {action.action_id} not accepted in {timeout}s: {err!r}"
                ) from err
        await asyncio.sleep(0.2)


async def retried_activities(client: Client, code: str) -> tuple[int, int]:
    """(activity executions, of which retried) in the dossier's history, over all its runs."""
    executions = retried = 0
    async for event in client.get_workflow_handle(code).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            executions += 1
            if event.activity_task_started_event_attributes.attempt > 1:
                retried += 1
    return executions, retried


async def workflow_task_timeouts(client: Client, code: str) -> int:
    count = 0
    async for event in client.get_workflow_handle(code).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT:
            count += 1
    return count


class PostgresDatabase:
    """A dedicated database `faults_<random>` on the local PostgreSQL, made unavailable at will.

    The outage refuses new connections (ALLOW_CONNECTIONS false) and ends the open ones; the
    server itself keeps running. Administration goes through the server's `admin_url` database.
    """

    def __init__(self, admin_url: str) -> None:
        self.admin_url = sqlalchemy.make_url(admin_url)
        self.name = f"faults_{uuid.uuid4().hex[:12]}"
        self.url = self.admin_url.set(database=self.name).render_as_string(hide_password=False)

    @classmethod
    def existing(cls, admin_url: str, url: str) -> PostgresDatabase:
        """The database of `url`, created earlier (by a fixture)."""
        database = cls(admin_url)
        database.url = url
        database.name = sqlalchemy.make_url(url).database
        return database

    def _dsn(self) -> str:
        return self.admin_url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def _admin(self, *statements: str) -> None:
        connection = await asyncio.wait_for(asyncpg.connect(self._dsn()), 10)
        try:
            for statement in statements:
                await connection.execute(statement)
        finally:
            await connection.close()

    async def create(self) -> None:
        await self._admin(f'CREATE DATABASE "{self.name}"')

    async def drop(self) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')

    async def make_unavailable(self) -> None:
        await self._admin(
            f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS false',
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            f" WHERE datname = '{self.name}' AND pid <> pg_backend_pid()",
        )

    async def make_available(self) -> None:
        await self._admin(f'ALTER DATABASE "{self.name}" ALLOW_CONNECTIONS true')
