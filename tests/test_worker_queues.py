"""worker.py polling several task queues: a province's own beside the shared one."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

import pytest

import starter
import worker
from runtime.settings import Settings
from tests.builders import free_port, settled
from tests.test_entrypoints import wait_for_server

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
            "API_PORT": "0",
            "PROVINCE_TASK_QUEUES": "24=dossiers-h24",
        }
    )


class TestWorkerQueues:
    async def test_a_worker_for_the_shared_and_a_provinces_queue_serves_that_provinces_dossier(
        self, settings, capsys
    ):
        """Intake (starter.py receive) starts Bắc Ninh's dossier on dossiers-h24; worker.py with
        `--task-queues dossiers,dossiers-h24` runs it (its projection lands, an action applies)."""
        settings = replace(settings, worker_task_queues=("dossiers", "dossiers-h24"))
        stop = asyncio.Event()
        worker_task = asyncio.create_task(worker.main(settings, stop))
        try:
            client = await wait_for_server(settings, worker_task)
            capsys.readouterr()
            receive = ["receive", "--file", str(EXAMPLES / "receive.json")]
            assert await starter.main(receive, client, settings) == 0
            code = json.loads(capsys.readouterr().out)["dossier_code"]
            handle = client.get_workflow_handle(code)
            described = await handle.describe()
            assert described.raw_description.execution_config.task_queue.name == "dossiers-h24"
            await settled(handle, timeout=30)
            act = ["act", code, "complete_step", "--file", str(EXAMPLES / "review.json")]
            assert await starter.main(act, client, settings) == 0
            assert json.loads(capsys.readouterr().out)["current_step"]["id"] == "approve"
        finally:
            stop.set()
            await asyncio.wait_for(worker_task, 30)
