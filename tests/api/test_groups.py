"""Interlinked groups through the API: one receipt, one view, each agency's own worklist."""

from __future__ import annotations

import asyncio
import hashlib
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
from tests.officers.test_group_checks import write_groups
from tests.officers.test_worklist import unit_pair
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


ONLINE_SERVICE = Actor(id="dvc-portal", roles=(Role.ONLINE_SERVICE,), unit="000.00.00.H01")
PDF = b"%PDF-1.7\n" + b"birth group scan " * 40
FILE = "sha256:" + hashlib.sha256(PDF).hexdigest()


def online_body(**changes) -> dict:
    return {
        "group_code": "LT296.01",
        "applicant": APPLICANT.model_dump(mode="json"),
        "receiving_unit": COUNTER.unit,
        "documents": {
            "birth": [
                {"id": "declaration", "reference": FILE},
                {"id": "birth_certificate", "reference": FILE},
            ]
        },
    } | changes


def online(key: str) -> dict[str, str]:
    return auth(ONLINE_SERVICE) | {"Idempotency-Key": key}


async def waiting_check(http: httpx.AsyncClient, officer: Actor) -> list[str]:
    response = await http.get("/inbox/groups", headers=auth(officer))
    assert response.status_code == 200, response.text
    return [g["code"] for g in response.json()]


async def until_listed(http: httpx.AsyncClient, code: str, listed: bool) -> None:
    """The counter's list of groups waiting for its check, once the group's projection (an
    activity a moment after each change) says `code` is (or is no longer) in it."""
    for _ in range(200):
        if (code in await waiting_check(http, COUNTER)) is listed:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{code} {'not ' if listed else ''}listed as waiting for the check")


class TestSubmittedOnline:
    async def test_registered_online_then_checked_by_the_counter(self, env, http) -> None:
        """The online service submits the group (status 1, the check's deadline, one lookup
        secret); the same key answers the same group and another request under it is 409; the
        counter asks for a completion, the service completes it, the counter receives it and
        the first member starts; each error in the {"type", "message"} shape."""
        unstored = await http.post("/online/groups", json=online_body(), headers=online("g-1"))
        assert unstored.status_code == 422 and unstored.json()["type"] == "ValidationError"
        assert unstored.json()["problems"][0]["field"] == "documents.birth.0.reference"
        stored = await http.put(
            f"/online/files/{FILE.removeprefix('sha256:')}",
            content=PDF,
            headers=auth(ONLINE_SERVICE) | {"Content-Type": "application/pdf"},
        )
        assert stored.status_code in (200, 201), stored.text
        wrong_role = await http.post(
            "/online/groups", json=online_body(), headers=auth(COUNTER) | {"Idempotency-Key": "g-1"}
        )
        assert wrong_role.status_code == 403 and wrong_role.json()["type"] == "WrongRole"
        no_key = await http.post("/online/groups", json=online_body(), headers=auth(ONLINE_SERVICE))
        assert no_key.status_code == 422 and no_key.json()["type"] == "ValidationError"

        response = await http.post("/online/groups", json=online_body(), headers=online("g-1"))
        assert response.status_code == 201, response.text
        registration = response.json()
        code = registration["group_dossier_code"]
        assert registration["status_code"] == 1 and registration["group_code"] == "LT296.01"
        assert registration["check_due_at"] > registration["submitted_at"] and registration["lookup_secret"]
        assert response.headers["Location"] == f"/groups/{code}"
        again = await http.post("/online/groups", json=online_body(), headers=online("g-1"))
        assert again.status_code == 200 and again.json()["group_dossier_code"] == code
        other = await http.post(
            "/online/groups", json=online_body(group_code="LT296.02"), headers=online("g-1")
        )
        assert other.status_code == 409 and other.json()["type"] == "RequestIdConflict"

        view = await http.get(f"/groups/{code}", headers=auth(COUNTER))
        assert view.json()["status"] == "registered_online"
        # Waiting for the check: in the receiving counter's list, nobody else's.
        await until_listed(http, code, True)
        for other in (OTHER_COUNTER, COMMUNE_SPECIALIST, AUDITOR):
            assert code not in await waiting_check(http, other)
        mine = next(
            g for g in (await http.get("/inbox/groups", headers=auth(COUNTER))).json() if g["code"] == code
        )
        assert mine["group_code"] == "LT296.01" and mine["receiving_unit"] == COUNTER.unit
        assert mine["check_due_at"] == registration["check_due_at"] and mine["check_late"] is False
        actions = f"/groups/{code}/actions"
        no_reason = await http.post(
            f"{actions}/request_online_completion", json={"action_id": "f2"}, headers=auth(COUNTER)
        )
        assert no_reason.status_code == 422 and no_reason.json()["type"] == "ValidationError"
        asked = await http.post(
            f"{actions}/request_online_completion",
            json={"action_id": "f2", "reason": "ảnh mờ", "documents": ["photo"]},
            headers=auth(COUNTER),
        )
        assert asked.status_code == 200 and asked.json()["status"] == "online_incomplete"
        await until_listed(http, code, False)  # form 02: it waits for the applicant now
        completion = f"/online/groups/{code}/completion"
        stranger = await http.post(
            completion,
            json={"documents": {"baptism": [{"id": "photo", "reference": FILE}]}},
            headers=online("c-1"),
        )
        assert stranger.status_code == 422 and stranger.json()["type"] == "InvalidRequest"
        done = await http.post(
            completion,
            json={"documents": {"birth": [{"id": "photo", "reference": FILE}]}},
            headers=online("c-1"),
        )
        assert done.status_code == 200 and done.json()["status"] == "registered_online"
        await until_listed(http, code, True)  # completed: waiting for the check again

        elsewhere = await http.post(
            f"{actions}/receive_online", json={"action_id": "r"}, headers=auth(OTHER_COUNTER)
        )
        assert elsewhere.status_code == 403 and elsewhere.json()["type"] == "WrongUnit"
        received = await http.post(
            f"{actions}/receive_online", json={"action_id": "r"}, headers=auth(COUNTER)
        )
        assert received.status_code == 200 and received.json()["status"] == "processing"
        await until_listed(http, code, False)
        again = await http.post(
            f"{actions}/refuse_online", json={"action_id": "x", "reason": "r"}, headers=auth(COUNTER)
        )
        assert again.status_code == 409 and again.json()["type"] == "WrongState"
        for _ in range(200):  # the first member starts a moment after the receipt
            view = await http.get(f"/groups/{code}", headers=auth(COUNTER))
            if view.json()["members"][0]["status"] == "processing":
                break
            await asyncio.sleep(0.05)
        assert [m["status"] for m in view.json()["members"]] == ["processing", "waiting", "waiting"]
        await settled(
            env.client.get_workflow_handle_for(
                DossierWorkflow.run, registration["members"][0]["dossier_code"]
            )
        )
        withdrawn = await http.post(f"{actions}/withdraw", json={"action_id": "w"}, headers=auth(COUNTER))
        assert withdrawn.status_code == 200
        await closed_result(env.client.get_workflow_handle_for(GroupWorkflow.run, code))

    async def test_refused_online_closes_the_group(self, env, http) -> None:
        await http.put(
            f"/online/files/{FILE.removeprefix('sha256:')}",
            content=PDF,
            headers=auth(ONLINE_SERVICE) | {"Content-Type": "application/pdf"},
        )
        response = await http.post("/online/groups", json=online_body(), headers=online("g-2"))
        code = response.json()["group_dossier_code"]
        refused = await http.post(
            f"/groups/{code}/actions/refuse_online",
            json={"action_id": "f3", "reason": "không đúng"},
            headers=auth(COUNTER),
        )
        assert refused.status_code == 200 and refused.json()["status"] == "not_received"
        await until_listed(http, code, False)
        result = await closed_result(env.client.get_workflow_handle_for(GroupWorkflow.run, code))
        assert [m.status for m in result.members] == ["stopped", "stopped", "stopped"]

    async def test_late_checks_come_first_and_are_marked(self, http, records) -> None:
        """A counter's groups waiting for its check, by the API: the late ones first, marked."""
        _, counter = unit_pair()
        expected = await write_groups(records, counter)
        officer = Actor(id="counter-7", roles=(Role.COUNTER_OFFICER,), unit=counter)
        response = await http.get("/inbox/groups", headers=auth(officer))
        assert response.status_code == 200
        assert [(g["code"], g["check_late"]) for g in response.json()] == list(
            zip(expected, (True, True, False, False), strict=True)
        )
        limited = await http.get("/inbox/groups", params={"limit": 1}, headers=auth(officer))
        assert [g["code"] for g in limited.json()] == expected[:1]
        assert (
            await http.get("/inbox/groups", params={"limit": 0}, headers=auth(officer))
        ).status_code == 422
        assert (await http.get("/inbox/groups")).status_code == 401

    async def test_openapi_lists_the_online_group_routes_and_their_errors(self, http) -> None:
        paths = (await http.get("/openapi.json")).json()["paths"]
        submit = paths["/online/groups"]["post"]["responses"]
        assert {"200", "201", "401", "403", "409", "422", "503"} <= set(submit)
        assert {"403", "404", "409", "422"} <= set(
            paths["/online/groups/{code}/completion"]["post"]["responses"]
        )
        for action in ("receive_online", "request_online_completion", "refuse_online"):
            assert {"403", "404", "409"} <= set(
                paths[f"/groups/{{code}}/actions/{action}"]["post"]["responses"]
            )
