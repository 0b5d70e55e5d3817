"""Hostile and careless requests to the API: each gets a 4xx in the one error shape, naming the
field, quoting at most a short prefix of what was sent; none reaches a 500."""

from __future__ import annotations

import json

import httpx

import starter
from api import create_app
from runtime.settings import Settings
from tests.api.conftest import KEY
from tests.api.test_authorization import OFFICERS, RECEIVE_BODY
from tests.builders import settled

counter_officer, specialist, leader = (
    OFFICERS["counter/own"],
    OFFICERS["specialist/own"],
    OFFICERS["leader/own"],
)
auditor = OFFICERS["auditor/other"]
HUGE = "x" * 1_000_000


def receiving(path: str, value) -> dict:
    """RECEIVE_BODY with the field at dotted `path` set to `value`."""
    body = json.loads(json.dumps(RECEIVE_BODY))
    *parents, leaf = path.split(".")
    node = body
    for key in parents:
        node = node[key]
    node[leaf] = value
    return body


EXTREME_INSTANTS = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-12:00",
    "2026-03-05T10:00:00",  # naive
    "2026-03-05T10:00:00+23:59",  # no such offset
    1772690400,  # a unix time
    "1772690400",
]

# (name, body, expected status, a fragment of the answer: the field)
RECEIVE_CORPUS = [
    *[(f"received_at {v!r}", receiving("received_at", v), 422, "received_at") for v in EXTREME_INSTANTS],
    ("Arabic-Indic digits", receiving("applicant.personal_id", "٠٠١٠٩٠١٢٣٤٥٦"), 422, "applicant.personal_id"),
    (
        "full-width digits",
        receiving("applicant.personal_id", "００１０９０１２３４５６"),
        422,
        "applicant.personal_id",
    ),
    ("Devanagari digits", receiving("applicant.personal_id", "००१०९०१२३४५६"), 422, "applicant.personal_id"),
    ("all-zero id", receiving("applicant.personal_id", "000000000000"), 422, "applicant.personal_id"),
    (
        "no such birth province",
        receiving("applicant.personal_id", "099090123456"),
        422,
        "applicant.personal_id",
    ),
    ("unborn century", receiving("applicant.personal_id", "001590123456"), 422, "applicant.personal_id"),
    ("full-width phone", receiving("applicant.phone", "０９１２３４５６７８"), 422, "applicant.phone"),
    ("blank name", receiving("applicant.full_name", "   "), 422, "applicant.full_name"),
    ("zero-width name", receiving("applicant.full_name", "\u200b\u200c"), 422, "applicant.full_name"),
    ("NUL in name", receiving("applicant.full_name", "An\x00"), 422, "applicant.full_name"),
    ("ANSI escape in name", receiving("applicant.full_name", "\x1b[31mAn"), 422, "applicant.full_name"),
    ("bidi override in name", receiving("applicant.full_name", "An\u202e"), 422, "applicant.full_name"),
    ("markup in name", receiving("applicant.full_name", "<script>An</script>"), 422, "applicant.full_name"),
    (
        "199 combining marks",
        receiving("applicant.full_name", "a" + "\u0301" * 199),
        422,
        "applicant.full_name",
    ),
    ("1 MB name", receiving("applicant.full_name", "A" * 1_000_000), 413, "BodyTooLarge"),
    ("1 MB unknown field", receiving("applicant.x" + "y" * 100_000, 1), 422, "applicant.x"),
    (
        "huge integer",
        receiving("documents", [{"id": "declaration", "copies": 10**30}]),
        422,
        "documents.0.copies",
    ),
    ("oversized documents", receiving("documents", [{"id": "declaration"}] * 500), 422, "documents"),
]

# (name, action, body, expected status, fragment)
_ACTION_CORPUS = [
    ("1 MB step id", "complete_step", {"step_id": "s" * 1_000_000}, 413, "BodyTooLarge"),
    ("long step id", "complete_step", {"step_id": "s" * 10_000}, 422, "step_id"),
    (
        "10 MB documents",
        "request_supplement",
        {"reason": "x", "documents": ["d" * 1000] * 10_000},
        413,
        "BodyTooLarge",
    ),
    ("many documents", "request_supplement", {"reason": "x", "documents": ["d"] * 1000}, 422, "documents"),
    (
        "long document name",
        "request_supplement",
        {"reason": "x", "documents": ["d" * 5000]},
        422,
        "documents.0",
    ),
    ("amount 10**30", "request_payment", {"amount_vnd": 10**30}, 422, "amount_vnd"),
    ("amount true", "request_payment", {"amount_vnd": True}, 422, "amount_vnd"),
    ("amount as text", "request_payment", {"amount_vnd": "100000"}, 422, "amount_vnd"),
    ("amount as float", "request_payment", {"amount_vnd": 100000.0}, 422, "amount_vnd"),
    *[
        (f"new_due_at {v!r}", "issue_apology", {"reason": "late", "new_due_at": v}, 422, "new_due_at")
        for v in EXTREME_INSTANTS
    ],
]

ACTION_CORPUS = [
    (name, action, {**body, "action_id": f"hostile-{number}"}, status, fragment)
    for number, (name, action, body, status, fragment) in enumerate(_ACTION_CORPUS)
]

# (name, path, query parameters, fragment)
# Query filters read a date or a local time as Vietnam time, as the CLI does (README): only the
# naive instant is not bad input there.
FILTER_INSTANTS = [v for v in EXTREME_INSTANTS if v != "2026-03-05T10:00:00"]

AUDIT_CORPUS = [
    *[(f"search {v!r}", "/audit/dossiers", {"received_from": v}, "received_from") for v in FILTER_INSTANTS],
    *[(f"export {v!r}", "/audit/dossiers.csv", {"due_to": v}, "due_to") for v in FILTER_INSTANTS],
    *[
        (f"report {v!r}", "/audit/report", {"start": v, "end": "2026-04-01T00:00:00+07:00"}, "start")
        for v in FILTER_INSTANTS
    ],
    (
        "report as_of",
        "/audit/report",
        {
            "start": "2026-03-01T00:00:00+07:00",
            "end": "2026-04-01T00:00:00+07:00",
            "as_of": "9999-12-31T23:59:59-12:00",
        },
        "as_of",
    ),
]


def assert_clear_refusal(name: str, response, status: int, fragment: str) -> None:
    assert response.status_code == status, f"{name}: {response.status_code} {response.text[:500]}"
    body = response.json()
    assert set(body) - {"problems"} == {"type", "message"}, f"{name}: {body}"
    assert fragment in response.text, f"{name}: {response.text[:500]}"
    # Never more than a short prefix of the bad input back.
    assert len(response.content) < 3000, f"{name}: {len(response.content)} bytes"


class TestHostileRequests:
    async def test_bad_receipts_are_refused_by_field_and_receive_nothing(self, api, counter):
        """Extreme instants, foreign digits, forged IDs, hostile names, oversized input: 4xx naming the field."""
        for name, body, status, fragment in RECEIVE_CORPUS:
            response = await api.receive(counter_officer, body)
            assert_clear_refusal(name, response, status, fragment)
        assert counter.started == []

    async def test_bad_actions_are_refused_and_the_dossier_still_answers(self, api, counter):
        """Huge step ids and document lists, loose money, extreme appointments: 4xx; the dossier is intact."""
        handle = await counter.start()
        roles = {"complete_step": specialist, "request_supplement": leader, "request_payment": leader}
        for name, action, body, status, fragment in ACTION_CORPUS:
            response = await api.act(roles.get(action, leader), handle.id, action, body)
            assert_clear_refusal(name, response, status, fragment)
        response = await api.act(
            specialist, handle.id, "complete_step", {"step_id": "review", "action_id": "review"}
        )
        assert response.status_code == 200, response.text
        await settled(handle)

    async def test_bad_audit_filters_are_refused_by_field(self, api):
        """Instants out of range, naive, numeric or with an odd offset in search, export and report."""
        for name, path, params, fragment in AUDIT_CORPUS:
            response = await api.http.get(path, params=params, headers=api.auth(auditor))
            assert_clear_refusal(name, response, 422, fragment)


class TestOneErrorShape:
    async def test_every_layer_answers_type_and_message(self, api):
        """Unparseable bodies, unknown routes and wrong methods answer the documented shape."""
        auth = {**api.auth(counter_officer), "Content-Type": "application/json"}
        cases = [
            ("invalid UTF-8", "POST", "/dossiers", b'{"procedure_code": "\xff\xfe"}', 400),
            ("not JSON", "POST", "/dossiers", b"{procedure_code:", 422),
            ("5,000-digit integer", "POST", "/dossiers", b'{"x": ' + b"9" * 5000 + b"}", 400),
            ("deep nesting", "POST", "/dossiers", b"[" * 100_000 + b"]" * 100_000, 400),
            ("unknown route", "GET", "/no/such/route", None, 404),
            ("wrong method", "DELETE", "/dossiers", None, 405),
            ("body over the cap", "POST", "/dossiers", b" " * 300_000, 413),
        ]
        for name, method, path, content, status in cases:
            response = await api.http.request(method, path, content=content, headers=auth)
            assert response.status_code == status, f"{name}: {response.status_code} {response.text[:300]}"
            body = response.json()
            assert {"type", "message"} <= set(body) and "detail" not in body, f"{name}: {body}"
            assert len(response.content) < 3000, name

    async def test_the_openapi_document_lists_every_error_status_in_the_one_shape(self, api):
        """400/413 on bodies, 401 behind tokens, 403/404/409/502/503 where they apply, all as ErrorBody."""
        document = (await api.http.get("/openapi.json")).json()
        paths = document["paths"]
        statuses = {
            (path, method): set(operation["responses"])
            for path, item in paths.items()
            for method, operation in item.items()
        }
        assert {"400", "401", "403", "413", "422", "503"} <= statuses[("/dossiers", "post")]
        assert {"401", "404", "422", "502", "503"} <= statuses[("/dossiers/{code}", "get")]
        assert {"400", "401", "403", "404", "409", "413", "422", "502", "503"} <= statuses[
            ("/dossiers/{code}/actions/complete_step", "post")
        ]
        assert {"401", "403", "404", "422", "502", "503"} <= statuses[
            ("/audit/dossiers/{code}/history", "get")
        ]
        assert {"401", "403", "422"} <= statuses[("/audit/report", "get")]
        for item in paths.values():
            for operation in item.values():
                for status, response in operation["responses"].items():
                    if int(status) >= 400:
                        schema = response["content"]["application/json"]["schema"]
                        error = {"$ref": "#/components/schemas/ErrorBody"}
                        assert schema == error or error in schema.get("anyOf", ()), (status, response)
        assert "HTTPValidationError" not in document["components"]["schemas"]


class TestConfiguredMaximumAmount:
    async def test_an_amount_over_max_amount_vnd_is_refused_by_api_and_cli(
        self, api, counter, records, tmp_path, capsys
    ):
        """MAX_AMOUNT_VND lowers the models' ceiling at both entry points, naming amount_vnd."""
        handle = await counter.start()
        limited = Settings.from_env(
            {"DATA_DIR": str(tmp_path), "MAX_AMOUNT_VND": "5000000", "TASK_QUEUE": counter.task_queue}
        )
        app = create_app(api.env.client, records, limited, intake=counter.service, key=KEY)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
            url = f"/dossiers/{handle.id}/actions/request_payment"
            response = await http.post(
                url, json={"amount_vnd": 5_000_001, "action_id": "pay-over"}, headers=api.auth(leader)
            )
            assert_clear_refusal("over the maximum", response, 422, "amount_vnd")
            assert "MAX_AMOUNT_VND" in response.text
            code = await starter.main(
                [
                    "officer",
                    "request-payment",
                    handle.id,
                    "--amount",
                    "5000001",
                    "--action-id",
                    "pay-over",
                    "--officer",
                    leader.id,
                    "--unit",
                    leader.unit,
                    "--roles",
                    "leader",
                ],
                api.env.client,
                limited,
            )
            assert code == 2 and "amount_vnd: at most 5000000 VND" in capsys.readouterr().err
            # At the maximum the request passes the bound and reaches the workflow's validator
            # (which refuses it for its own reason: this procedure has no fees).
            within = await http.post(
                url, json={"amount_vnd": 5_000_000, "action_id": "pay-max"}, headers=api.auth(leader)
            )
            assert within.json()["type"] == "InvalidRequest", within.text
        await settled(handle)


class TestShortEchoInLogs:
    async def test_a_huge_path_or_step_is_logged_by_a_short_prefix(self, api, counter):
        """Refusals are logged with what was asked, cut to a short prefix, never the whole input."""
        from structlog.testing import capture_logs

        handle = await counter.start()
        with capture_logs() as logs:
            response = await api.http.get("/dossiers/" + "x" * 5000)  # no token: refused and logged
            assert response.status_code == 401
            response = await api.act(
                specialist, handle.id, "complete_step", {"step_id": "s" * 60, "action_id": "long-step"}
            )
            assert response.status_code in (409, 422), response.text
        refusals = [event for event in logs if event["event"] == "request refused"]
        assert len(refusals) == 2, logs
        for event in refusals:
            assert all(len(str(value)) < 400 for value in event.values()), event
        await settled(handle)


class TestUpdateTimedOut:
    async def test_an_update_the_server_did_not_answer_in_time_is_a_503_not_a_500(
        self, client, records, tmp_path
    ):
        """Seen in the fuzz run on a loaded machine: the SDK's update RPC timeout answers 503 with Retry-After."""
        from fastapi import APIRouter
        from temporalio.client import WorkflowUpdateRPCTimeoutOrCancelledError

        router = APIRouter()

        @router.post("/slow")
        async def slow() -> dict:
            raise WorkflowUpdateRPCTimeoutOrCancelledError()

        app = create_app(client, records, Settings.from_env({"DATA_DIR": str(tmp_path)}), key=KEY)
        app.include_router(router)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
            response = await http.post("/slow")
        assert response.status_code == 503 and response.headers["retry-after"] == "5"
        assert response.json()["type"] == "TemporalUnavailable"
