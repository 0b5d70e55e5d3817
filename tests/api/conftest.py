"""The API in process, on the session's Temporal environment, spoken to over httpx."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment

from adminunits import VN_TZ
from api import create_app
from intake.service import IntakeService
from model.dossier_inputs import Actor
from officers.tokens import mint_token
from records.database import RecordsStore
from runtime.settings import Settings
from tests.builders import Counter

KEY = os.urandom(32)


class Api:
    """An httpx client on the app, with a token per officer and the server's clock at intake."""

    def __init__(
        self, counter: Counter, http: httpx.AsyncClient, clock: list[datetime], records: RecordsStore
    ) -> None:
        self.env, self.counter, self.http, self._clock = counter.env, counter, http, clock
        self.records = records

    @staticmethod
    def auth(officer: Actor) -> dict[str, str]:
        return {"Authorization": f"Bearer {mint_token(officer, KEY)}"}

    async def receive(self, officer: Actor, body: dict) -> httpx.Response:
        self._clock[0] = (await self.env.get_current_time()).astimezone(VN_TZ)
        response = await self.http.post("/dossiers", json=body, headers=self.auth(officer))
        if response.status_code == 201:
            self.counter.started.append(response.json()["dossier_code"])  # closed after the test
        return response

    async def get(self, officer: Actor, code: str) -> httpx.Response:
        return await self.http.get(f"/dossiers/{code}", headers=self.auth(officer))

    async def act(
        self, officer: Actor, code: str, action: str, body: dict, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.http.post(
            f"/dossiers/{code}/actions/{action}", json=body, headers={**self.auth(officer), **(headers or {})}
        )

    async def inbox(self, officer: Actor, **params) -> httpx.Response:
        return await self.http.get("/inbox", params=params, headers=self.auth(officer))


@pytest_asyncio.fixture
async def api(
    env: WorkflowEnvironment, task_queue: str, records: RecordsStore, counter: Counter, tmp_path: Path
) -> AsyncIterator[Api]:
    clock = [datetime.now(VN_TZ)]
    settings = Settings.from_env({"DATA_DIR": str(tmp_path), "TASK_QUEUE": task_queue})
    intake = IntakeService.standard(env.client, task_queue, records, clock=lambda: clock[0])
    app = create_app(env.client, records, settings, intake=intake, key=KEY)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
        yield Api(counter, http, clock, records)
