"""The README's main job: worker.py on the embedded dev server, driven by starter.py."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path

import httpx
import pytest
from google.protobuf.json_format import MessageToJson
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflowservice.v1 import GetWorkflowExecutionHistoryRequest

import starter
import worker
from model.dossier_inputs import Actor
from officers.tokens import mint_token, token_key
from procedures.models import Role
from runtime.settings import ConfigurationError, Settings
from runtime.temporal import connect
from tests.builders import free_port

EXAMPLES = Path(__file__).parent.parent / "docs" / "examples"


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    if request.config.getoption("--workflow-environment") != "time-skipping":
        pytest.skip("starts its own dev server: run once, in the default pass")
    return Settings.from_env(
        {
            "DATA_DIR": str(tmp_path),
            "TEMPORAL_DEV_PORT": str(free_port()),
            "TEMPORAL_DEV_UI_PORT": str(free_port()),
            "API_PORT": str(free_port()),
        }
    )


async def wait_for_server(settings: Settings, worker_task: asyncio.Task):
    for _ in range(200):
        if worker_task.done():
            worker_task.result()
        try:
            return await connect(settings)
        except RuntimeError:
            await asyncio.sleep(0.1)
    raise AssertionError("the embedded dev server did not come up")


class TestMainJob:
    async def test_worker_on_embedded_server_serves_counter_and_officer(self, settings, capsys):
        """worker.py starts the dev server with its state in a file; starter.py receives and acts."""
        stop = asyncio.Event()
        worker_task = asyncio.create_task(worker.main(settings, stop))
        try:
            client = await wait_for_server(settings, worker_task)
            capsys.readouterr()  # the dev server's banner
            assert (
                await starter.main(["receive", "--file", str(EXAMPLES / "receive.json")], client, settings)
                == 0
            )
            slip = json.loads(capsys.readouterr().out)
            assert slip["form"] == "01" and slip["handling_unit"] == "000.07210.00.H24"

            code = slip["dossier_code"]
            assert (
                await starter.main(
                    ["act", code, "complete_step", "--file", str(EXAMPLES / "review.json")], client, settings
                )
                == 0
            )
            view = json.loads(capsys.readouterr().out)
            assert view["current_step"]["id"] == "approve"

            # Input of the wrong shape for the action, and an unknown dossier: exit 2.
            review = EXAMPLES / "review.json"
            assert await starter.main(["act", code, "withdraw", "--file", str(review)], client, settings) == 2
            assert await starter.main(["show", "no-such-dossier"], client, settings) == 2
        finally:
            stop.set()
            await asyncio.wait_for(worker_task, 30)
        assert (settings.data_dir / "temporal.sqlite").exists()
        assert (settings.data_dir / "records.sqlite").exists()


class TestApiInTheWorker:
    async def test_worker_serves_the_api_and_stops_it_cleanly(self, settings, capsys):
        """worker.py serves the API beside the worker; a counter receives over HTTP with a token
        signed by the dev key; stopping closes the port and ends main()."""
        stop = asyncio.Event()
        worker_task = asyncio.create_task(worker.main(settings, stop))
        base = f"http://{settings.api_host}:{settings.api_port}"
        try:
            await wait_for_server(settings, worker_task)
            async with httpx.AsyncClient(base_url=base, timeout=30) as http:
                for _ in range(200):
                    try:
                        if (await http.get("/health")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
                body = json.loads((EXAMPLES / "receive.json").read_text())
                officer = Actor.model_validate(body.pop("received_by"))
                headers = {"Authorization": f"Bearer {mint_token(officer, token_key(settings))}"}
                response = await http.post("/dossiers", json=body, headers=headers)
                assert response.status_code == 201, response.text
                code = response.json()["dossier_code"]
                view = (await http.get(f"/dossiers/{code}", headers=headers)).json()
                assert view["handling_unit"] == "000.07210.00.H24"
                assert (await http.get("/openapi.json")).status_code == 200
        finally:
            stop.set()
            await asyncio.wait_for(worker_task, 30)
        with pytest.raises(httpx.ConnectError):
            async with httpx.AsyncClient(base_url=base) as http:
                await http.get("/health")
        assert (settings.data_dir / "api-token-key").stat().st_mode & 0o777 == 0o600

    async def test_the_web_ui_is_pointed_at_the_codec_that_decrypts_the_stored_ciphertext(self, settings):
        """The dev server's UI names the API's codec endpoint; the dossier's input is ciphertext on the
        server, and that endpoint gives an auditor the applicant's data back."""
        stop = asyncio.Event()
        worker_task = asyncio.create_task(worker.main(settings, stop))
        base = f"http://127.0.0.1:{settings.api_port}"
        try:
            client = await wait_for_server(settings, worker_task)
            async with httpx.AsyncClient(timeout=30) as http:
                ui = await http.get(f"http://127.0.0.1:{settings.dev_server_ui_port}/api/v1/settings")
                assert ui.json()["Codec"]["Endpoint"] == f"{base}/codec"
                for _ in range(200):
                    try:
                        if (await http.get(f"{base}/health")).status_code == 200:
                            break
                    except httpx.TransportError:
                        await asyncio.sleep(0.1)
                body = json.loads((EXAMPLES / "receive.json").read_text())
                counter = Actor.model_validate(body.pop("received_by"))
                key = token_key(settings)
                received = await http.post(
                    f"{base}/dossiers",
                    json=body,
                    headers={"Authorization": f"Bearer {mint_token(counter, key)}"},
                )
                code = received.json()["dossier_code"]
                history = await client.workflow_service.get_workflow_execution_history(
                    GetWorkflowExecutionHistoryRequest(
                        namespace="default", execution=WorkflowExecution(workflow_id=code)
                    )
                )
                stored = history.history.events[0].workflow_execution_started_event_attributes.input
                assert body["applicant"]["full_name"].encode() not in stored.SerializeToString()
                auditor = Actor(id="auditor-1", unit=counter.unit, roles=(Role.AUDITOR,))
                decoded = await http.post(
                    f"{base}/codec/decode",
                    content=MessageToJson(stored),
                    headers={
                        "Authorization": f"Bearer {mint_token(auditor, key)}",
                        "X-Namespace": "default",
                        "Origin": f"http://127.0.0.1:{settings.dev_server_ui_port}",
                    },
                )
                assert decoded.status_code == 200, decoded.text
                assert (
                    body["applicant"]["full_name"]
                    in base64.b64decode(decoded.json()["payloads"][0]["data"]).decode()
                )
        finally:
            stop.set()
            await asyncio.wait_for(worker_task, 30)

    async def test_a_cluster_without_a_token_key_is_refused_before_connecting(self, tmp_path):
        """Against a real cluster there is no default signing key."""
        settings = Settings.from_env(
            {
                "DATA_DIR": str(tmp_path),
                "TEMPORAL_ADDRESS": "127.0.0.1:1",
                "PAYLOAD_KEYS": "k1:" + "A" * 43 + "=",
            }
        )
        with pytest.raises(ConfigurationError, match="API_TOKEN_KEY"):
            await worker.main(settings, asyncio.Event())
