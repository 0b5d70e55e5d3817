"""Interlinked groups through the API: one receipt, one view, each agency's own worklist."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest_asyncio
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from adminunits import VN_TZ
from api import create_app
from intake.groups import GroupIntake
from model.dossier_inputs import Actor
from officers.tokens import mint_token
from procedures.models import Role
from records.database import RecordsStore
from records.lookup_secrets import LookupSecrets
from runtime.settings import Settings
from tests.builders import APPLICANT, BA_DINH_COMMITTEE, COUNTER, settled
from tests.group_builders import BA_DINH_POLICE, closed_result
from workflows.dossier import DossierWorkflow
from workflows.group import GroupWorkflow

KEY = b"k" * 32
AUDITOR = Actor(id="auditor-1", roles=(Role.AUDITOR,), unit="000.00.00.H01")
COMMUNE_SPECIALIST = Actor(id="specialist-1", roles=(Role.SPECIALIST,), unit=BA_DINH_COMMITTEE)
POLICE_SPECIALIST = Actor(id="police-1", roles=(Role.SPECIALIST,), unit=BA_DINH_POLICE)
STRANGER = Actor(id="specialist-9", roles=(Role.SPECIALIST,), unit="000.00008.00.H01")
OTHER_COUNTER = Actor(id="counter-9", roles=(Role.COUNTER_OFFICER,), unit="000.00008.01.H01")


def auth(officer: Actor) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_token(officer, KEY)}"}


def body(**changes) -> dict:
    return {
        "group_code": "LT296.01",
        "applicant": APPLICANT.model_dump(mode="json"),
        "documents": {"birth": [{"id": "declaration"}, {"id": "birth_certificate"}]},
        "request_id": str(uuid.uuid4()),
    } | changes


@pytest_asyncio.fixture
async def http(
    env: WorkflowEnvironment, task_queue: str, records: RecordsStore, worker: Worker, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    clock = [datetime.now(VN_TZ)]

    def now() -> datetime:
        return clock[0]

    settings = Settings.from_env({"DATA_DIR": str(tmp_path), "TASK_QUEUE": task_queue})
    groups = GroupIntake.standard(env.client, task_queue, records, clock=now)
    app = create_app(env.client, records, settings, groups=groups, key=KEY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
        clock[0] = (await env.get_current_time()).astimezone(VN_TZ)
        yield client


class TestReceiveAndView:
    async def test_one_receipt_one_view_each_agency_sees_its_own_member(self, env, http, records) -> None:
        """The counter gets one receipt (one group code, one appointment, the agency of each part);
        the same request again answers the same receipt; the police may read the group but
        their worklist holds nothing until the birth registration is done; strangers get 404."""
        sent = body()
        response = await http.post("/groups", json=sent, headers=auth(COUNTER))
        assert response.status_code == 201, response.text
        receipt = response.json()
        code = receipt["group_dossier_code"]
        assert response.headers["Location"] == f"/groups/{code}"
        assert [m["handling_unit"] for m in receipt["members"]][:2] == [BA_DINH_COMMITTEE, BA_DINH_POLICE]
        again = await http.post("/groups", json=sent, headers=auth(COUNTER))
        assert again.status_code == 200 and again.json()["group_dossier_code"] == code
        # One lookup secret on the receipt, for each member's code; resent at once, a new one
        # replaces it for every member.
        first, secret = receipt["lookup_secret"], again.json()["lookup_secret"]
        assert first and secret and secret != first
        secrets = LookupSecrets(records.engine, records.sessions)
        for member in receipt["members"]:
            assert await secrets.matches(member["dossier_code"], secret)
            assert not await secrets.matches(member["dossier_code"], first)
            assert not await secrets.matches(member["dossier_code"], "ABCDEFGHJK")
        other = sent | {"group_code": "LT296.02"}  # another request under the same id
        conflict = await http.post("/groups", json=other, headers=auth(COUNTER))
        assert conflict.status_code == 409 and conflict.json()["type"] == "RequestIdConflict"

        birth = receipt["members"][0]["dossier_code"]
        for _ in range(200):  # the group starts its first member a moment after the receipt
            view = await http.get(f"/groups/{code}", headers=auth(COUNTER))
            if view.json()["members"][0]["status"] == "processing":
                break
            await asyncio.sleep(0.05)
        await settled(env.client.get_workflow_handle_for(DossierWorkflow.run, birth))
        for officer in (AUDITOR, POLICE_SPECIALIST, COUNTER):
            view = await http.get(f"/groups/{code}", headers=auth(officer))
            assert view.status_code == 200, view.text
        assert [m["status"] for m in view.json()["members"]] == ["processing", "waiting", "waiting"]
        assert (await http.get(f"/groups/{code}", headers=auth(STRANGER))).status_code == 404

        commune_inbox = (await http.get("/inbox", headers=auth(COMMUNE_SPECIALIST))).json()
        police_inbox = (await http.get("/inbox", headers=auth(POLICE_SPECIALIST))).json()
        assert birth in [i["code"] for i in commune_inbox]
        assert all(not i["code"].startswith(code) for i in police_inbox)

        refused = await http.post(
            f"/groups/{code}/actions/withdraw", json={"action_id": "w-1"}, headers=auth(OTHER_COUNTER)
        )
        assert refused.status_code == 403 and refused.json()["type"] == "WrongUnit"
        withdrawn = await http.post(
            f"/groups/{code}/actions/withdraw", json={"action_id": "w-1"}, headers=auth(COUNTER)
        )
        assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
        await closed_result(env.client.get_workflow_handle_for(GroupWorkflow.run, code))

        # The auditor reads the group's Temporal history as a timeline, each member with the
        # address of its own history; the member's history there is a dossier's.
        history = await http.get(f"/audit/dossiers/{code}/history", headers=auth(AUDITOR))
        assert history.status_code == 200, history.text
        group = history.json()
        assert group["kind"] == "group" and group["status"] == "COMPLETED"
        what = [i["what"] for i in group["items"]]
        assert what[0] == "received" and group["items"][0]["actor_id"] == COUNTER.id
        assert what.index("member started") < what.index("withdraw") < what.index("member withdrawn")
        assert [i["outcome"] for i in group["items"] if i["what"] == "withdraw"] == ["accepted"]
        assert what[-2:] == ["member finished", "closed"]
        assert [(m["key"], m["status"]) for m in group["members"]] == [
            ("birth", "withdrawn"),
            ("residence", "waiting"),
            ("insurance", "waiting"),
        ]
        own = await http.get(group["members"][0]["history"], headers=auth(AUDITOR))
        assert own.status_code == 200 and own.json()["code"] == birth and own.json()["agrees"]
        assert (await http.get(f"/audit/dossiers/{code}/history", headers=auth(COUNTER))).status_code == 403

    async def test_every_problem_at_once_naming_the_member_and_field(self, http) -> None:
        """An unknown group is form 03 naming group_code; a missing birth certificate is form 02
        naming the member; no action id is a 400."""
        unknown = await http.post("/groups", json=body(group_code="LT296.09"), headers=auth(COUNTER))
        assert unknown.status_code == 422 and unknown.json()["reasons"][0].startswith("group_code:")
        missing = await http.post(
            "/groups", json=body(documents={"birth": [{"id": "declaration"}]}), headers=auth(COUNTER)
        )
        assert missing.status_code == 422 and missing.json()["form"] == "02"
        assert [m["id"] for m in missing.json()["missing"]] == ["birth.birth_certificate"]
        stranger = await http.post("/groups", json=body(documents={"baptism": []}), headers=auth(COUNTER))
        assert stranger.status_code == 422 and any(
            "documents.baptism" in r for r in stranger.json()["reasons"]
        )
        no_id = await http.post(
            "/groups/000.00004.01.H01-260101-0001/actions/withdraw", json={}, headers=auth(COUNTER)
        )
        assert no_id.status_code == 400 and no_id.json()["type"] == "MissingActionId"

    async def test_a_single_dossier_is_not_a_group(self, env, http, counter) -> None:
        """The group routes never reach a dossier, whose updates share the group's names."""
        dossier = await counter.start()
        answer = await http.post(
            f"/groups/{dossier.id}/actions/withdraw", json={"action_id": "w"}, headers=auth(COUNTER)
        )
        assert answer.status_code == 404 and answer.json()["type"] == "UnknownDossier"
        assert (await http.get(f"/groups/{dossier.id}", headers=auth(AUDITOR))).status_code == 404
        assert (await dossier.query(DossierWorkflow.view)).status.value == "processing"
