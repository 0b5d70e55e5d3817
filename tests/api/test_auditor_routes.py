"""The seam for the auditors' routes: a router behind `api.deps.auditor` reads, others are refused."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, Depends
from structlog.testing import capture_logs

from api import create_app
from api.deps import auditor
from model.dossier_inputs import Actor
from runtime.settings import Settings
from tests.api.conftest import KEY, Api
from tests.api.test_authorization import OFFICERS


async def test_a_router_behind_the_auditor_dependency(client, records, tmp_path):
    """Added in a few lines; an auditor gets through, a leader gets a logged 403 WrongRole."""
    router = APIRouter(prefix="/audit", tags=["audit"], dependencies=[Depends(auditor)])

    @router.get("/whoami")
    async def whoami(officer: Actor = Depends(auditor)) -> dict:
        return {"id": officer.id}

    app = create_app(client, records, Settings.from_env({"DATA_DIR": str(tmp_path)}), key=KEY)
    app.include_router(router)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
        ok = await http.get("/audit/whoami", headers=Api.auth(OFFICERS["auditor/other"]))
        with capture_logs() as logs:
            no = await http.get("/audit/whoami", headers=Api.auth(OFFICERS["leader/own"]))
    assert ok.status_code == 200 and ok.json() == {"id": "a-other"}
    assert no.status_code == 403 and no.json()["type"] == "WrongRole"
    assert [(e["officer"], e["action"]) for e in logs if e["event"] == "request refused"] == [
        ("l-own", "GET /audit/whoami")
    ]
