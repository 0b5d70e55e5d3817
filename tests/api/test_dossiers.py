"""Receiving, reading and acting through the API: status codes, error shapes, identity."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import httpx
from sqlalchemy import select
from temporalio.client import Client
from temporalio.service import RetryConfig
from temporalio.testing import WorkflowEnvironment

from adminunits import VN_TZ
from api import create_app
from officers.tokens import mint_token
from procedures.calendar import WorkingCalendar
from procedures.models import Role
from records.tables import DossierEventRow
from runtime.settings import Settings
from runtime.temporal import binary
from tests.api.conftest import KEY
from tests.api.test_authorization import OFFICERS, RECEIVE_BODY
from tests.builders import COUNTER, LEADER, SPECIALIST, free_port, settled
from workflows.dossier import DossierWorkflow

counter_officer, specialist, leader = (
    OFFICERS["counter/own"],
    OFFICERS["specialist/own"],
    OFFICERS["leader/own"],
)


def changed(**fields) -> dict:
    return {**json.loads(json.dumps(RECEIVE_BODY)), **fields}


class TestReceive:
    async def test_received_dossier_answers_201_with_the_slip_and_its_location(self, api):
        """Form 01 comes back as 201 Created, the dossier's address in Location, received by the token's officer."""
        response = await api.receive(counter_officer, changed())
        assert response.status_code == 201, response.text
        slip = response.json()
        assert slip["form"] == "01" and slip["received_by"] == counter_officer.id
        assert response.headers["location"] == f"/dossiers/{slip['dossier_code']}"

    async def test_the_same_request_id_again_answers_200_with_the_first_slip(self, api):
        """A counter's request sent twice is one dossier: 201 then 200, the same code."""
        body = changed(request_id="counter-req-42-" + str(id(api)))
        first = await api.receive(counter_officer, body)
        second = await api.receive(counter_officer, body)
        assert (first.status_code, second.status_code) == (201, 200)
        assert first.json()["dossier_code"] == second.json()["dossier_code"]
        assert second.json()["resubmitted"] is True

    async def test_another_request_under_a_used_request_id_answers_409(self, api):
        """The same request id at the same counter for another applicant is a 409 naming the id;
        the first dossier is untouched and nothing else is received."""
        request_id = "counter-req-43-" + str(id(api))
        first = await api.receive(counter_officer, changed(request_id=request_id))
        assert first.status_code == 201, first.text
        other = changed(request_id=request_id)
        other["applicant"]["full_name"] = "Trần Thị Bình"
        response = await api.receive(counter_officer, other)
        assert response.status_code == 409, response.text
        error = response.json()
        assert error["type"] == "RequestIdConflict"
        assert request_id in error["message"] and first.json()["dossier_code"] in error["message"]

    async def test_a_past_receipt_needs_an_operator_and_a_reason(self, api):
        """received_at a day back: form 03 without backfill_reason, 403 WrongRole for a counter
        officer with one, 201 for an operator; the reason is in the timeline and the audit trail."""
        now = (await api.env.get_current_time()).astimezone(VN_TZ)
        body = changed(received_at=(now - timedelta(days=1)).isoformat())
        plain = await api.receive(counter_officer, body)
        assert plain.status_code == 422 and plain.json()["form"] == "03"
        assert any(r.startswith("received_at:") and "backfill_reason" in r for r in plain.json()["reasons"])

        body["backfill_reason"] = "entered after the network outage of the day before"
        forbidden = await api.receive(counter_officer, body)
        assert forbidden.status_code == 403 and forbidden.json()["type"] == "WrongRole", forbidden.text
        assert "operator" in forbidden.json()["message"]

        operator = counter_officer.model_copy(update={"roles": (*counter_officer.roles, Role.OPERATOR)})
        received = await api.receive(operator, body)
        assert received.status_code == 201, received.text
        code = received.json()["dossier_code"]
        view = await settled(api.env.client.get_workflow_handle_for(DossierWorkflow.run, code))
        entry = view.timeline[0]
        assert entry.action == "received" and entry.actor_id == operator.id
        assert entry.details["backfill_reason"] == body["backfill_reason"]
        async with api.records.sessions() as session:
            payload = await session.scalar(
                select(DossierEventRow.payload).where(
                    DossierEventRow.dossier_code == code, DossierEventRow.seq == 1
                )
            )
        assert json.loads(payload)["details"]["backfill_reason"] == body["backfill_reason"]

    async def test_a_receipt_a_minute_back_is_no_backfill(self, api):
        """Within the tolerance (five minutes by default) a past receipt needs no permission."""
        now = (await api.env.get_current_time()).astimezone(VN_TZ)
        response = await api.receive(
            counter_officer, changed(received_at=(now - timedelta(minutes=1)).isoformat())
        )
        assert response.status_code == 201, response.text
        assert (
            "backfill_reason"
            not in (
                await settled(
                    api.env.client.get_workflow_handle_for(
                        DossierWorkflow.run, response.json()["dossier_code"]
                    )
                )
            )
            .timeline[0]
            .details
        )

    async def test_missing_documents_answer_422_with_form_02(self, api):
        """Form 02 lists what to bring; nothing is received, so no 201."""
        response = await api.receive(counter_officer, changed(documents=[]))
        assert response.status_code == 422
        assert response.json()["form"] == "02"
        assert [m["id"] for m in response.json()["missing"]] == ["declaration"]

    async def test_refusal_at_receipt_answers_422_with_form_03(self, api):
        """Form 03 gives every reason, each naming its field."""
        response = await api.receive(counter_officer, changed(procedure_code="1.999999"))
        assert response.status_code == 422
        assert response.json()["form"] == "03"
        assert any(r.startswith("procedure_code:") for r in response.json()["reasons"])

    async def test_the_case_selects_the_time_limit_and_is_on_the_slip(self, api):
        """Death registration's case 1.000656.02 (1 calendar day) sent through the API gives its appointment."""
        response = await api.receive(
            counter_officer,
            changed(
                procedure_code="1.000656",
                case="1.000656.02",
                documents=[{"id": "declaration"}, {"id": "death_notice"}],
                request_id="case-" + str(id(api)),
            ),
        )
        assert response.status_code == 201, response.text
        slip = response.json()
        assert slip["case"] == "1.000656.02" and slip["internal_process"] == "curated"
        received, due = (datetime.fromisoformat(slip[k]) for k in ("received_at", "due_at"))
        assert due == WorkingCalendar.default().due_at(received, 1, "calendar_days")

    async def test_a_listed_procedure_without_facts_answers_422_with_form_03(self, api):
        """3.000616 is on the national list but not receivable: form 03 says why."""
        response = await api.receive(counter_officer, changed(procedure_code="3.000616"))
        assert response.status_code == 422 and response.json()["form"] == "03"
        assert "is listed but cannot be received here" in response.json()["reasons"][0]

    async def test_a_malformed_field_is_named_in_a_structured_422(self, api):
        """Validation errors carry each problem's dotted field path."""
        body = changed()
        body["applicant"]["personal_id"] = "12AB"
        response = await api.receive(counter_officer, body)
        assert response.status_code == 422
        error = response.json()
        assert error["type"] == "ValidationError"
        assert [p["field"] for p in error["problems"]] == ["applicant.personal_id"]

    async def test_the_body_cannot_name_who_receives(self, api):
        """received_by comes from the token only: a body carrying it is refused, naming the field."""
        response = await api.receive(
            counter_officer, changed(received_by=json.loads(COUNTER.model_dump_json()))
        )
        assert response.status_code == 422
        assert [p["field"] for p in response.json()["problems"]] == ["received_by"]

    async def test_the_receiving_unit_defaults_to_the_token_unit(self, api):
        """A counter officer need not repeat their counter."""
        body = changed()
        del body["receiving_unit"]
        response = await api.receive(counter_officer, body)
        assert response.status_code == 201 and response.json()["receiving_unit"] == counter_officer.unit


class TestAct:
    async def test_the_actor_is_the_token_officer(self, api, counter):
        """The timeline names the token's officer; an `actor` in the body is refused."""
        handle = await counter.start()
        forged = {"step_id": "review", "actor": json.loads(LEADER.model_dump_json())}
        response = await api.act(specialist, handle.id, "complete_step", forged)
        assert response.status_code == 422 and response.json()["problems"][0]["field"] == "actor"

        response = await api.act(
            specialist, handle.id, "complete_step", {"step_id": "review", "action_id": "r-1"}
        )
        assert response.status_code == 200, response.text
        view = response.json()
        assert view["current_step"]["id"] == "approve"
        assert view["timeline"][-1]["actor_id"] == specialist.id
        await settled(handle)

    async def test_a_step_that_is_not_current_is_refused_by_the_workflow_with_409(self, api, counter):
        """The validator is the last word: WrongState, with the current step named."""
        handle = await counter.start()
        response = await api.act(
            leader, handle.id, "complete_step", {"step_id": "approve", "action_id": "a-1"}
        )
        assert response.status_code == 409
        assert response.json()["type"] == "WrongState" and "review" in response.json()["message"]

    async def test_an_unknown_step_answers_422(self, api, counter):
        handle = await counter.start()
        response = await api.act(
            specialist, handle.id, "complete_step", {"step_id": "sign", "action_id": "s-1"}
        )
        assert response.status_code == 422 and response.json()["type"] == "UnknownStep"

    async def test_a_supplement_lacking_requested_documents_answers_422(self, api, counter):
        """InvalidRequest from the validator: the message names what is missing."""
        handle = await counter.start()
        asked = {"reason": "blurred", "documents": ["declaration", "photo"], "action_id": "ask-1"}
        assert (await api.act(specialist, handle.id, "request_supplement", asked)).status_code == 200
        response = await api.act(
            counter_officer, handle.id, "supplement", {"documents": ["declaration"], "action_id": "bring-1"}
        )
        assert response.status_code == 422 and response.json()["type"] == "InvalidRequest"
        assert "photo" in response.json()["message"]
        await settled(handle)

    async def test_an_action_id_has_one_effect_and_cannot_be_reused(self, api, counter):
        """The same action twice is one change; the same id for another action is 409."""
        handle = await counter.start()
        body = {"step_id": "review", "action_id": "a-1"}
        first = await api.act(specialist, handle.id, "complete_step", body)
        again = await api.act(specialist, handle.id, "complete_step", body)
        assert first.status_code == again.status_code == 200
        assert len(again.json()["timeline"]) == len(first.json()["timeline"])
        reused = await api.act(leader, handle.id, "refuse", {"reason": "x", "action_id": "a-1"})
        assert reused.status_code == 409 and reused.json()["type"] == "ActionIdReused"
        await settled(handle)

    async def test_a_closed_dossier_answers_409(self, api, counter):
        handle = await counter.start()
        assert (
            await api.act(counter_officer, handle.id, "withdraw", {"action_id": "w-1"})
        ).status_code == 200
        response = await api.act(leader, handle.id, "refuse", {"reason": "late", "action_id": "r-1"})
        assert response.status_code == 409 and response.json()["type"] == "WrongState"
        await settled(handle)

    async def test_an_unknown_dossier_answers_404(self, api):
        for response in (
            await api.get(leader, "000.00004.01.H01-000101-9999"),
            await api.act(
                leader, "000.00004.01.H01-000101-9999", "refuse", {"reason": "x", "action_id": "r-1"}
            ),
        ):
            assert response.status_code == 404 and response.json()["type"] == "UnknownDossier"


class TestAuthentication:
    async def test_no_token_a_forged_one_and_an_expired_one_answer_401(self, api, counter):
        handle = await counter.start()
        path = f"/dossiers/{handle.id}"
        forged = mint_token(SPECIALIST, b"x" * 32)
        expired = mint_token(SPECIALIST, KEY, ttl=timedelta(hours=-1))
        for headers in ({}, {"Authorization": f"Bearer {forged}"}, {"Authorization": f"Bearer {expired}"}):
            response = await api.http.get(path, headers=headers)
            assert response.status_code == 401 and response.json()["type"] == "Unauthenticated"
            assert response.headers["www-authenticate"] == "Bearer"
        assert "expired" in response.json()["message"]

    async def test_openapi_document_lists_every_operation(self, api):
        """/openapi.json documents receive, read, every action and the inbox, with bearer auth."""
        document = (await api.http.get("/openapi.json")).json()
        actions = {p.rsplit("/", 1)[1] for p in document["paths"] if "/actions/" in p}
        assert actions == {
            "complete_step",
            "request_supplement",
            "supplement",
            "request_payment",
            "confirm_payment",
            "refuse",
            "withdraw",
            "issue_apology",
            "return_result",
            # The counter's check of an online dossier (the completion has its own route).
            "receive_online",
            "request_online_completion",
            "refuse_online",
        }
        assert {"/dossiers", "/dossiers/{code}", "/inbox", "/health"} <= set(document["paths"])
        assert "HTTPBearer" in document["components"]["securitySchemes"]


class TestTemporalUnreachable:
    async def read_through(self, client: Client, records, tmp_path) -> httpx.Response:
        settings = Settings.from_env({"DATA_DIR": str(tmp_path)})
        app = create_app(client, records, settings, key=KEY)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
            return await http.get(
                "/dossiers/000.00004.01.H01-000101-0001",
                headers={"Authorization": f"Bearer {mint_token(LEADER, KEY)}"},
            )

    async def test_a_server_never_reached_gives_503(self, records, tmp_path):
        """A client that cannot connect: 503 with a type, not a stack trace."""
        client = await Client.connect(f"127.0.0.1:{free_port()}", lazy=True)
        response = await self.read_through(client, records, tmp_path)
        assert response.status_code == 503, response.text
        assert response.json()["type"] == "TemporalUnavailable"

    async def test_a_server_gone_after_connecting_gives_503(self, records, tmp_path):
        """The server stops under a connected client: 503 once the client's retries give up."""
        server = await WorkflowEnvironment.start_time_skipping(
            test_server_existing_path=binary("temporal-test-server")
        )
        client = await Client.connect(
            server.client.service_client.config.target_host,
            retry_config=RetryConfig(max_retries=1, initial_interval_millis=50),
        )
        await server.shutdown()
        response = await self.read_through(client, records, tmp_path)
        assert response.status_code == 503, response.text
        assert response.json()["type"] == "TemporalUnavailable"
