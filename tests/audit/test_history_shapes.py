"""Every recorded workflow shape read by an auditor: `starter.py history` and the history route.

The files in tests/histories/ are read as they are (the shapes released dossiers have); each
shape of scripts/record_histories.py is also played live on a time-skipping server of this
module's own (its clock moves to 2030, so it cannot be the session's) and read through the
command and the route, as an auditor would read it.
"""

from __future__ import annotations

import importlib.util
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from temporalio.client import Client, WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.testing import WorkflowEnvironment

import starter
from api import create_app
from assembly.workers import build_worker
from audit.group_history import read_group_history, render_group_history
from audit.history import read_timeline
from records.database import RecordsStore, open_records
from runtime.settings import Settings
from runtime.temporal import binary, register_search_attributes
from tests.api.conftest import KEY, Api
from tests.api.test_authorization import OFFICERS
from tests.builders import travel_to

ROOT = Path(__file__).resolve().parents[2]
# Dossiers' histories (DossierWorkflow runs); the group_* files are GroupWorkflow runs, read
# by audit/group_history.py.
HISTORIES = sorted(
    p for p in (ROOT / "tests" / "histories").glob("*.json") if not p.stem.startswith("group_")
)
GROUP_HISTORIES = sorted((ROOT / "tests" / "histories").glob("group_*.json"))
AUDITOR = OFFICERS["auditor/other"]


def _record_script():
    spec = importlib.util.spec_from_file_location(
        "record_histories", ROOT / "scripts" / "record_histories.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RECORD = _record_script()


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_every_recorded_history_reads_as_a_timeline(path: Path):
    """Each update in a recorded history shows who sent it; a transfer shows the system
    (or operator) that sent it and its destination by code."""
    events = list(WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8")).events)
    items = await read_timeline(pydantic_data_converter, [events])
    updates = [i for i in items if i.outcome in ("accepted", "repeated (no effect)") and i.what != "received"]
    assert updates, "a recorded shape has at least one update"
    assert all(i.actor_id for i in updates), [i for i in updates if not i.actor_id]
    for transfer in (i for i in items if i.what == "transfer"):
        assert transfer.actor_roles in (("system",), ("operator",)) and transfer.actor_unit == ""
        assert transfer.details["to_unit"].count(".") == 3  # an agency code, not a dict's repr


@pytest.mark.parametrize("path", GROUP_HISTORIES, ids=[p.stem for p in GROUP_HISTORIES])
async def test_every_recorded_group_history_reads_as_the_group_s_timeline(path: Path):
    """A GroupWorkflow's history reads as the group's timeline: received by the counter, each
    member started and finished in order, what the members reported, closed; every member
    named with its code, agency, last status and its own history's address."""
    events = list(WorkflowHistory.from_json(path.stem, path.read_text(encoding="utf-8")).events)
    history = await read_group_history(pydantic_data_converter, events)
    what = [i.what for i in history.items]
    if "online" in path.stem:  # registered by the online service, checked by the counter
        assert what[0] == "registered online" and history.items[0].actor_id == "dvc-portal"
        check = next(i for i in history.items if i.what in ("receive_online", "refuse_online"))
        assert check.actor_id == "counter-1" and check.outcome == "accepted"
    else:
        assert what[0] == "received" and history.items[0].actor_id == "counter-1"
    assert history.group_code == "LT296.01" and history.status == "COMPLETED" and what[-1] == "closed"
    started = [i.details["member"] for i in history.items if i.what == "member started"]
    finished = [i.details["member"] for i in history.items if i.what == "member finished"]
    assert sorted(started) == sorted(finished)
    members = {m.key: m for m in history.members}
    assert [m.code for m in history.members] == [f"{history.code}-{n}" for n in (1, 2, 3)]
    assert members["birth"].history == f"/audit/dossiers/{history.code}-1/history"
    if "not_received" in path.stem:
        assert started == [] and "refuse_online" in what
        assert [m.status for m in history.members] == ["waiting", "waiting", "waiting"]
        return
    assert started[0] == "birth"
    if "refused" in path.stem:
        assert started == ["birth"] and "member refused" in what
        assert [m.status for m in history.members] == ["refused", "waiting", "waiting"]
        assert members["residence"].started_at is None
    elif "partner_rejected" in path.stem:  # the police's system rejected the residence (HTTP 422)
        assert started == ["birth", "residence"] and "member submitted to partner" not in what
        residence = members["residence"]
        assert (residence.status, residence.history) == (
            "refused",
            f"the partner's system at {residence.partner}",
        )
        assert residence.finished_at and members["birth"].status == "returned"
        [refused] = [i for i in history.items if i.what == "member refused"]
        assert (refused.actor_id, refused.details["member"]) == ("partner:commune_police", "residence")
        assert (refused.details["call"], refused.details["http_status"]) == ("submit_to_partner", "422")
        assert refused.details["reason"] == "số định danh của mẹ không khớp"
    elif "partner" in path.stem:  # the insurance member done by social insurance's own system
        assert started == ["birth", "residence", "insurance"]
        assert what.count("member processed") == 3 and "member submitted to partner" in what
        assert what.count("group asks member: return_result") == 2  # the partner's is not asked
        insurance = members["insurance"]
        assert insurance.partner.startswith("http://127.0.0.1:") and insurance.finished_at
        assert (insurance.status, insurance.history) == (
            "processed",
            f"the partner's system at {insurance.partner}",
        )
        assert all(m.status == "returned" for m in history.members if m.key != "insurance")
        decided = [i for i in history.items if i.details.get("member") == "insurance"]
        assert [(i.what, i.actor_id) for i in decided][1:3] == [
            ("member submitted to partner", "partner:social_insurance"),
            ("member processed", "partner:social_insurance"),
        ]
    else:
        assert started == ["birth", "residence", "insurance"]
        assert what.count("member processed") == 3 and "return_result" in what
        assert what.count("group asks member: return_result") == 3
        assert all(m.status == "returned" and m.finished_at for m in history.members)
    text = render_group_history(history)
    assert text.startswith(f"group {history.code} (LT296.01, ") and "members (each one's own history" in text


@dataclass
class Played:
    client: Client
    records: RecordsStore
    settings: Settings
    codes: dict[str, str]  # shape name -> dossier code


@pytest_asyncio.fixture(scope="module")
async def played(data_converter, tmp_path_factory) -> AsyncIterator[Played]:
    """Every time-skipping shape of the recording script, played on a server of its own."""
    tmp = tmp_path_factory.mktemp("shapes")
    url = f"sqlite+aiosqlite:///{tmp / 'records.sqlite'}"
    settings = Settings.from_env({"DATA_DIR": str(tmp), "DATABASE_URL": url, "TASK_QUEUE": RECORD.TASK_QUEUE})
    async with open_records(url) as records:
        env = await WorkflowEnvironment.start_time_skipping(
            data_converter=data_converter, test_server_existing_path=binary("temporal-test-server")
        )
        async with env:
            await register_search_attributes(env.client)
            await travel_to(env, max(RECORD.EPOCH, await env.get_current_time()))
            async with build_worker(env.client, RECORD.TASK_QUEUE, records):
                desk = RECORD.Desk(env, records)
                codes = {}
                for name, shape in RECORD.TIME_SKIPPING_SHAPES.items():
                    handle = await shape(desk)
                    await handle.result()
                    codes[name] = handle.id
                yield Played(env.client, records, settings, codes)


@pytest.mark.parametrize("shape", list(RECORD.TIME_SKIPPING_SHAPES))
class TestEveryShapeThroughCommandAndRoute:
    async def test_the_history_command_reads_it(self, played: Played, shape, capsys):
        """`starter.py history CODE` exits 0 with the timeline, and `--json` agrees."""
        code = played.codes[shape]
        capsys.readouterr()
        assert await starter.main(["history", code], played.client, played.settings) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"dossier {code}: 1 run(s), COMPLETED")
        assert "the audit trail agrees with Temporal's history" in out
        if shape == "dossier_carried_over":
            assert "transfer             system  -> accepted  [transfer_id=carried-transfer" in out
        assert await starter.main(["history", code, "--json"], played.client, played.settings) == 0
        history = json.loads(capsys.readouterr().out)
        assert history["agrees"] is True and history["items"][-1]["what"] == "closed"

    async def test_the_history_route_reads_it(self, played: Played, shape):
        """`GET /audit/dossiers/{code}/history` answers 200 with the same timeline."""
        code = played.codes[shape]
        app = create_app(played.client, played.records, played.settings, key=KEY)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
            response = await http.get(f"/audit/dossiers/{code}/history", headers=Api.auth(AUDITOR))
        assert response.status_code == 200, response.text
        history = response.json()
        assert history["agrees"] is True and history["status"] == "COMPLETED"
        updates = [i for i in history["items"] if i["outcome"] == "accepted" and i["what"] != "received"]
        assert updates and all(i["actor_id"] for i in updates)
        if shape == "dossier_carried_over":
            [transfer] = [i for i in history["items"] if i["what"] == "transfer"]
            assert (transfer["actor_id"], transfer["actor_roles"], transfer["outcome"]) == (
                "system",
                ["system"],
                "accepted",
            )
