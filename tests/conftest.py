"""Temporal environments for the tests (time-skipping by default), a fresh queue per test.

The time-skipping server is started once per test module, the local dev server once per session.
Why per module: that server's clock stops skipping while any workflow it holds has a task no
worker takes (a timer that fires for a workflow whose test and worker are gone schedules one),
so a workflow one test leaves open could stall the clock, and time out a long sleep, in any later
test of the session. A server of its own per module starts in about 0.2 s and keeps a leftover
from reaching further than its own module.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from temporalio.client import Client
from temporalio.converter import DataConverter
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from assembly.workers import build_worker
from model import search_attributes
from records.database import RecordsStore
from runtime.codec import EncryptionCodec
from runtime.codec import data_converter as encrypting_converter
from runtime.logging import configure_logging
from runtime.temporal import binary, register_search_attributes
from tests.builders import Counter, fresh_records


def pytest_configure(config: pytest.Config) -> None:
    # Logs to stderr, as in production, so that command output on stdout stays parseable.
    configure_logging()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--workflow-environment",
        default="time-skipping",
        choices=["time-skipping", "local"],
        help="time-skipping test server (default) or the local dev server",
    )


@pytest.fixture(scope="session")
def data_converter() -> DataConverter:
    """The session's converter: payloads encrypted under a key generated for this session only.

    Histories fetched from the server keep their encrypted payloads: a Replayer needs this converter.
    """
    return encrypting_converter(EncryptionCodec({"test-session": os.urandom(32)}, "test-session"))


def _environment_scope(fixture_name: str, config: pytest.Config) -> str:
    return "session" if config.getoption("--workflow-environment") == "local" else "module"


@pytest_asyncio.fixture(scope=_environment_scope)
async def env(
    request: pytest.FixtureRequest, data_converter: DataConverter
) -> AsyncIterator[WorkflowEnvironment]:
    kind = request.config.getoption("--workflow-environment")
    if kind == "local":
        environment = await WorkflowEnvironment.start_local(
            data_converter=data_converter,
            search_attributes=search_attributes.ALL,
            dev_server_existing_path=binary("temporal"),
            dev_server_log_level="error",
        )
    else:
        environment = await WorkflowEnvironment.start_time_skipping(
            data_converter=data_converter,
            test_server_existing_path=binary("temporal-test-server"),
        )
        await register_search_attributes(environment.client)
    yield environment
    await environment.shutdown()


@pytest.fixture
def client(env: WorkflowEnvironment) -> Client:
    return env.client


@pytest_asyncio.fixture(scope="session")
async def records(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[RecordsStore]:
    """The records store: DATABASE_URL if set (PostgreSQL in CI), else a fresh SQLite file."""
    url = os.environ.get("DATABASE_URL") or (
        f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('records') / 'records.sqlite'}"
    )
    async with fresh_records(url) as store:
        yield store


@pytest.fixture
def task_queue() -> str:
    return f"tq-{uuid.uuid4()}"


@pytest_asyncio.fixture
async def counter(
    env: WorkflowEnvironment, task_queue: str, records: RecordsStore, worker: Worker
) -> AsyncIterator[Counter]:
    """An intake counter on the test's queue; the dossiers it opened are closed afterwards."""
    desk = Counter(env, task_queue, records)
    yield desk
    await desk.close_open_dossiers()


@pytest_asyncio.fixture
async def worker(client: Client, task_queue: str, records: RecordsStore) -> AsyncIterator[Worker]:
    async with build_worker(client, task_queue, records) as running:
        yield running
