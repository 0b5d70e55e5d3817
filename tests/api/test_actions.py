"""Actions through the API under retries: idempotency keys, closed dossiers, parallel calls."""

from __future__ import annotations

import asyncio
from collections import Counter as Tally
from datetime import timedelta

import httpx
import pytest
from temporalio.client import (
    Client,
    Interceptor,
    OutboundInterceptor,
    StartWorkflowUpdateInput,
    WorkflowExecutionStatus,
    WorkflowUpdateHandle,
)

from api import create_app
from model.dossier_inputs import Actor
from procedures.calendar import WorkingCalendar
from procedures.models import Role
from runtime.settings import Settings
from tests.api.conftest import KEY, Api
from tests.api.test_authorization import OFFICERS
from tests.builders import request, settled
from workflows.dossier import DossierWorkflow

counter_officer, specialist, leader = (
    OFFICERS["counter/own"],
    OFFICERS["specialist/own"],
    OFFICERS["leader/own"],
)


def entries(view: dict, action: str) -> int:
    return sum(1 for entry in view["timeline"] if entry["action"] == action)


async def with_fees(api):
    """A dossier of a procedure with fees (3.000333, at the provincial police), and its specialist."""
    slip = await api.counter.receive(request("3.000333"))
    handle = api.counter.handle(slip.dossier_code)
    department = slip.handling_unit
    boss = Actor(id="l-dept", roles=(Role.LEADER,), unit=department)
    response = await api.act(boss, handle.id, "complete_step", {"step_id": "assign", "action_id": "assign-1"})
    assert response.status_code == 200, response.text
    return handle, Actor(id="s-dept", roles=(Role.SPECIALIST,), unit=department)


async def processed(api, counter):
    """A dossier whose result is ready at the counter."""
    handle = await counter.start()
    for officer, step in ((specialist, "review"), (leader, "approve")):
        response = await api.act(
            officer, handle.id, "complete_step", {"step_id": step, "action_id": f"p-{step}"}
        )
        assert response.status_code == 200, response.text
    return handle


class TestIdempotencyKey:
    async def test_an_action_without_a_key_answers_400_and_changes_nothing(self, api, counter):
        """No action_id and no Idempotency-Key: 400 MissingActionId naming both, nothing applied."""
        handle, specialist = await with_fees(api)
        before = await handle.query(DossierWorkflow.view)
        response = await api.act(specialist, handle.id, "request_payment", {"amount_vnd": 200000})
        assert response.status_code == 400, response.text
        assert response.json()["type"] == "MissingActionId"
        assert "action_id" in response.json()["message"] and "Idempotency-Key" in response.json()["message"]
        after = await settled(handle)
        assert after.timeline == before.timeline and after.status == before.status

    @pytest.mark.parametrize("how", ["body", "header"])
    async def test_blind_retries_of_request_payment_apply_it_once(self, api, counter, how):
        """The same request_payment sent five times at once and twice more after: one payment request."""
        handle, specialist = await with_fees(api)
        body, headers = {"amount_vnd": 200000, "reason": "lệ phí"}, {}
        if how == "body":
            body["action_id"] = "pay-1"
        else:
            headers["Idempotency-Key"] = "pay-1"

        async def send():
            return await api.act(specialist, handle.id, "request_payment", body, headers=headers)

        answers = await asyncio.gather(*(send() for _ in range(5)))
        answers += [await send(), await send()]
        assert [a.status_code for a in answers] == [200] * 7, [a.text for a in answers]
        view = await settled(handle)
        assert entries(view.model_dump(mode="json"), "payment_requested") == 1
        assert view.status.value == "payment_requested"

    async def test_blind_retries_of_request_supplement_apply_it_once(self, api, counter):
        """A request for documents retried under one Idempotency-Key pauses the clock once."""
        handle = await counter.start()
        body = {"reason": "bản chụp mờ", "documents": ["photo"]}
        headers = {"Idempotency-Key": "ask-photo"}
        answers = await asyncio.gather(
            *(api.act(specialist, handle.id, "request_supplement", body, headers=headers) for _ in range(5))
        )
        assert [a.status_code for a in answers] == [200] * 5, [a.text for a in answers]
        view = await settled(handle)
        assert entries(view.model_dump(mode="json"), "supplement_requested") == 1

    async def test_a_body_key_and_a_header_key_that_differ_answer_400(self, api, counter):
        """Two different keys for one call: which one a retry would use is unclear, so neither is."""
        handle = await counter.start()
        response = await api.act(
            specialist,
            handle.id,
            "complete_step",
            {"step_id": "review", "action_id": "a"},
            headers={"Idempotency-Key": "b"},
        )
        assert response.status_code == 400 and response.json()["type"] == "ActionIdConflict"
        assert (await settled(handle)).current_step.id == "review"

    async def test_the_same_key_with_other_content_is_refused_naming_the_id(self, api, counter):
        """request_payment again under its key with another amount: 409 ActionIdReused, not the first answer."""
        handle, specialist = await with_fees(api)
        first = await api.act(
            specialist, handle.id, "request_payment", {"amount_vnd": 200000, "action_id": "pay-2"}
        )
        assert first.status_code == 200, first.text
        other = await api.act(
            specialist, handle.id, "request_payment", {"amount_vnd": 300000, "action_id": "pay-2"}
        )
        assert other.status_code == 409 and other.json()["type"] == "ActionIdReused"
        assert "'pay-2'" in other.json()["message"] and "other content" in other.json()["message"]
        view = await settled(handle)
        assert view.payment.amount_vnd == 200000


CLOSING = {
    "withdraw": (counter_officer, {"reason": "the applicant asks"}, {"reason": "moved abroad"}),
    "refuse": (leader, {"reason": "not eligible"}, {"reason": "incomplete"}),
    "return_result": (counter_officer, {"channel": "counter"}, {"channel": "post"}),
}


class TestClosingActionRetried:
    @pytest.mark.parametrize("action", sorted(CLOSING))
    async def test_the_same_id_answers_the_recorded_outcome(self, api, counter, action):
        """Retried after the dossier closed, the closing action answers 200 with the closed dossier, once."""
        officer, body, _ = CLOSING[action]
        handle = await (processed(api, counter) if action == "return_result" else counter.start())
        body = {**body, "action_id": f"close-{action}"}
        first = await api.act(officer, handle.id, action, body)
        assert first.status_code == 200, first.text
        again = await api.act(officer, handle.id, action, body)
        assert again.status_code == 200, again.text
        assert again.json()["status"] == first.json()["status"]
        assert again.json()["timeline"] == first.json()["timeline"]

    @pytest.mark.parametrize("action", sorted(CLOSING))
    async def test_another_id_or_other_content_is_refused(self, api, counter, action):
        """A new id on a closed dossier is WrongState; the same id with other content, or for
        another action, is ActionIdReused naming the id."""
        officer, body, other_body = CLOSING[action]
        handle = await (processed(api, counter) if action == "return_result" else counter.start())
        assert (await api.act(officer, handle.id, action, {**body, "action_id": "done-1"})).status_code == 200
        new_id = await api.act(officer, handle.id, action, {**body, "action_id": "done-2"})
        assert new_id.status_code == 409 and new_id.json()["type"] == "WrongState"
        other = await api.act(officer, handle.id, action, {**other_body, "action_id": "done-1"})
        assert other.status_code == 409 and other.json()["type"] == "ActionIdReused"
        assert "'done-1'" in other.json()["message"]
        elsewhere = "withdraw" if action != "withdraw" else "return_result"
        elsewhere_body = {"channel": "counter"} if elsewhere == "return_result" else {}
        crossed = await api.act(
            counter_officer, handle.id, elsewhere, {**elsewhere_body, "action_id": "done-1"}
        )
        assert crossed.status_code == 409 and crossed.json()["type"] == "ActionIdReused"
        assert "another action" in crossed.json()["message"]


class HoldUpdatesUntilClosed(Interceptor):
    """Lets the first update to each dossier through and holds every later one until that
    dossier's workflow has completed: updates that reach a dossier just after it closed, as
    a slow network between the API and Temporal delivers them."""

    def __init__(self, observer: Client) -> None:
        self.observer, self.passed = observer, set()
        self._closing: dict[str, asyncio.Task] = {}

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _Hold(next, self)

    async def closed(self, workflow_id: str) -> None:
        """Until the workflow has completed: one watcher per workflow, however many wait."""
        if workflow_id not in self._closing:
            self._closing[workflow_id] = asyncio.create_task(self._watch(workflow_id))
        await asyncio.shield(self._closing[workflow_id])

    async def _watch(self, workflow_id: str) -> None:
        handle = self.observer.get_workflow_handle(workflow_id)
        while (await handle.describe()).status is WorkflowExecutionStatus.RUNNING:
            await asyncio.sleep(0.1)


class _Hold(OutboundInterceptor):
    def __init__(self, next: OutboundInterceptor, root: HoldUpdatesUntilClosed) -> None:
        super().__init__(next)
        self.root = root

    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> WorkflowUpdateHandle:
        if input.id in self.root.passed:
            await self.root.closed(input.id)
        self.root.passed.add(input.id)
        return await super().start_workflow_update(input)


@pytest.fixture
async def late_api(env, records, tmp_path):
    """The API on a client whose updates after the first reach each dossier once it has closed."""
    client = Client(**{**env.client.config(), "interceptors": [HoldUpdatesUntilClosed(env.client)]})
    app = create_app(client, records, Settings.from_env({"DATA_DIR": str(tmp_path)}), key=KEY)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
        yield http


async def post(http: httpx.AsyncClient, officer: Actor, code: str, action: str, body: dict) -> httpx.Response:
    return await http.post(f"/dossiers/{code}/actions/{action}", json=body, headers=Api.auth(officer))


class TestUpdatesReachingAClosedDossier:
    async def test_returns_arriving_after_the_close_answer_wrong_state_not_unknown(
        self, api, counter, late_api
    ):
        """20 return_result at once, 20 ids, all but the first arriving after the dossier closed:
        one 200 and nineteen 409 WrongState; a closed dossier is not an unknown one (404)."""
        handle = await processed(api, counter)
        answers = await asyncio.gather(
            *(
                post(late_api, counter_officer, handle.id, "return_result", {"action_id": f"ret-{i}"})
                for i in range(20)
            )
        )
        kinds = Tally((a.status_code, a.json().get("type", "ok")) for a in answers)
        assert kinds == {(200, "ok"): 1, (409, "WrongState"): 19}, kinds

    async def test_a_retry_arriving_after_the_close_answers_the_recorded_outcome(
        self, api, counter, late_api
    ):
        """The same return_result 20 times at once, the retries arriving after the close: all 200, returned."""
        handle = await processed(api, counter)
        answers = await asyncio.gather(
            *(
                post(late_api, counter_officer, handle.id, "return_result", {"action_id": "ret"})
                for _ in range(20)
            )
        )
        assert [a.status_code for a in answers] == [200] * 20, [
            a.text for a in answers if a.status_code != 200
        ]
        assert {a.json()["status"] for a in answers} == {"returned"}
        view = await settled(handle)
        assert sum(1 for e in view.timeline if e.action == "result_returned") == 1


class TestParallelReturns:
    async def test_twenty_returns_with_their_own_ids_one_applies_the_rest_wrong_state(self, api, counter):
        """20 return_result at once with 20 ids: one 200, nineteen 409 WrongState, never 404."""
        handle = await processed(api, counter)
        answers = await asyncio.gather(
            *(
                api.act(counter_officer, handle.id, "return_result", {"action_id": f"ret-{i}"})
                for i in range(20)
            )
        )
        kinds = Tally((a.status_code, a.json().get("type", "ok")) for a in answers)
        assert kinds == {(200, "ok"): 1, (409, "WrongState"): 19}, [
            a.text for a in answers if a.status_code != 200
        ]
        view = await settled(handle)
        assert sum(1 for e in view.timeline if e.action == "result_returned") == 1

    async def test_twenty_returns_under_one_id_all_answer_the_returned_dossier(self, api, counter):
        """20 retries of one return_result at once: all 200 with the returned dossier, returned once."""
        handle = await processed(api, counter)
        answers = await asyncio.gather(
            *(api.act(counter_officer, handle.id, "return_result", {"action_id": "ret"}) for _ in range(20))
        )
        assert [a.status_code for a in answers] == [200] * 20, [
            a.text for a in answers if a.status_code != 200
        ]
        assert {a.json()["status"] for a in answers} == {"returned"}
        view = await settled(handle)
        assert sum(1 for e in view.timeline if e.action == "result_returned") == 1


class TestApologyThroughTheApi:
    async def test_an_appointment_off_the_calendar_or_out_of_range_answers_422(self, api, counter, env):
        """A Sunday 03:00 and year 9999 at -12:00 are refused with InvalidRequest naming the rule;
        the end of a working day within the bound is taken."""
        now = await env.get_current_time()
        handle = await counter.start(received_at=now, due_at=now + timedelta(seconds=2))
        while not (await handle.query(DossierWorkflow.view)).apology_due:
            await env.sleep(timedelta(seconds=1))
        calendar = WorkingCalendar.default()
        sunday = calendar.add_working_days(now, 7)
        sunday = sunday + timedelta(days=6 - sunday.weekday(), hours=-14)  # 03:00 on the Sunday after
        for bad, why in (
            (sunday.isoformat(), "end of office hours of a working day"),
            ("9999-12-31T23:59:59-12:00", "must lie from 1990-01-01"),
        ):
            body = {"reason": "chờ ý kiến", "new_due_at": bad, "action_id": f"sorry-{bad[:4]}"}
            response = await api.act(leader, handle.id, "issue_apology", body)
            # Year 9999 is out of every instant's range already (ValidationError, the input
            # bounds); a Sunday is in range but off the calendar (InvalidRequest, the rule).
            assert response.status_code == 422, response.text
            assert response.json()["type"] in ("InvalidRequest", "ValidationError"), response.text
            assert why in response.json()["message"]
        good = calendar.add_working_days(await env.get_current_time(), 10).isoformat()
        body = {"reason": "chờ ý kiến", "new_due_at": good, "action_id": "sorry-ok"}
        response = await api.act(leader, handle.id, "issue_apology", body)
        assert response.status_code == 200, response.text
        await settled(handle)
