"""Liveness and readiness (issue 19): /health/live answers while the process runs; /health/ready
answers 200 only while Temporal and the records store both answer, and 503 naming which does not."""

from __future__ import annotations

from pathlib import Path

import httpx
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from api import create_app
from records.database import RecordsStore, create_engine, session_factory
from runtime.settings import Settings
from tests.api.conftest import KEY, Api
from tests.builders import free_port


def _app(client: Client, records: RecordsStore, tmp_path: Path):
    settings = Settings.from_env({"DATA_DIR": str(tmp_path)})
    return create_app(client, records, settings, key=KEY)


def _silent_records() -> RecordsStore:
    """A PostgreSQL store on a loopback port nobody listens on: every connection is refused."""
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none")
    return RecordsStore(engine, session_factory(engine))


async def _get(app, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
        return await http.get(path)


class TestHealth:
    async def test_live_and_ready_when_both_answer(self, api: Api):
        assert (await api.http.get("/health/live")).json() == {"status": "ok"}
        assert (await api.http.get("/health")).json() == {"status": "ok"}
        response = await api.http.get("/health/ready")
        assert response.status_code == 200, response.text
        assert response.json() == {"status": "ready", "temporal": "ok", "records": "ok"}

    async def test_a_records_store_that_does_not_answer_makes_it_not_ready(
        self, env: WorkflowEnvironment, tmp_path: Path
    ):
        records = _silent_records()
        try:
            app = _app(env.client, records, tmp_path)
            assert (await _get(app, "/health/live")).status_code == 200
            response = await _get(app, "/health/ready")
        finally:
            await records.engine.dispose()
        assert response.status_code == 503, response.text
        body = response.json()
        assert body["status"] == "not ready"
        assert body["not_answering"] == ["records"]
        assert body["temporal"] == "ok"
        assert body["records"] != "ok" and body["records"]

    async def test_a_temporal_that_does_not_answer_makes_it_not_ready(
        self, records: RecordsStore, tmp_path: Path
    ):
        # A lazy client connects on first use: to a port nobody listens on, it never does.
        client = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
        app = _app(client, records, tmp_path)
        response = await _get(app, "/health/ready")
        assert response.status_code == 503, response.text
        body = response.json()
        assert body["not_answering"] == ["temporal"]
        assert body["records"] == "ok"
        assert body["temporal"] != "ok"
