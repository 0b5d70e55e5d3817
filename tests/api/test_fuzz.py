"""A bounded schemathesis run against the API's own OpenAPI document, for each role.

The API is served by uvicorn on the session's Temporal environment and records store, with
real dossiers seeded so that generated requests reach them as well as unknown codes. Every
answer must conform to the document (status, content type, body schema, headers) and none
may be a 5xx. The figures go to docs/proofs.md.
"""

from __future__ import annotations

import asyncio
import copy
import time
from collections import Counter as Tally
from pathlib import Path

import hypothesis
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis import checks
from schemathesis.core.failures import FailureGroup

from api import create_app
from api.server import ApiServer
from officers.tokens import mint_token
from records.database import RecordsStore
from runtime.settings import Settings
from tests.api.conftest import KEY
from tests.api.test_authorization import OFFICERS
from tests.builders import Counter, free_port

pytestmark = pytest.mark.usefixtures("worker")

ROLES = {
    "counter_officer": OFFICERS["counter/own"],
    "specialist": OFFICERS["specialist/own"],
    "leader": OFFICERS["leader/own"],
    "auditor": OFFICERS["auditor/other"],
}
EXAMPLES_PER_OPERATION = 4
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]


def fuzz(document: dict, base_url: str, codes: list[str]) -> tuple[Tally, list[str]]:
    """Every operation, for every role, EXAMPLES_PER_OPERATION generated cases: statuses seen,
    and the first failed check of each operation (no shrinking: every operation is tried)."""
    schema = schemathesis.openapi.from_dict(copy.deepcopy(document))  # it may resolve references in place
    statuses: Tally = Tally()
    failures: list[str] = []
    session = requests.Session()
    for role, officer in ROLES.items():
        headers = {"Authorization": f"Bearer {mint_token(officer, KEY)}"}
        for result in schema.get_all_operations():
            operation = result.ok()

            @hypothesis.settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
                phases=[hypothesis.Phase.generate],
            )
            @given(case=operation.as_strategy(), code=st.sampled_from([*codes, None]))
            def one(case, code) -> None:
                if code is not None and "code" in (case.path_parameters or {}):
                    case.path_parameters["code"] = code  # a real dossier, not only unknown ones
                response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
                statuses[response.status_code] += 1
                case.validate_response(response, checks=CHECKS, headers=headers)

            try:
                one()
            except (Exception, FailureGroup) as failure:  # every operation's failure is reported at the end
                failures.append(f"{role} {operation.label}: {str(failure)[:800]}")
    return statuses, failures


async def test_schemathesis_finds_no_5xx_and_no_nonconformance(
    env, task_queue: str, records: RecordsStore, counter: Counter, tmp_path: Path
):
    """A few hundred generated requests over every operation and role: no 5xx, all conforming."""
    codes = [(await counter.start()).id for _ in range(3)]
    settings = Settings.from_env({"DATA_DIR": str(tmp_path), "TASK_QUEUE": task_queue})
    app = create_app(env.client, records, settings, key=KEY)
    server = ApiServer(app, "127.0.0.1", free_port())
    await server.start()
    try:
        started = time.monotonic()
        statuses, failures = await asyncio.to_thread(fuzz, app.openapi(), server.url, codes)
        elapsed = time.monotonic() - started
    finally:
        await server.stop()
    total = sum(statuses.values())
    print(
        f"\nschemathesis: {total} requests, {len(ROLES)} roles, statuses {dict(sorted(statuses.items()))},"
        f" {len(failures)} failures, {elapsed:.1f} s"
    )
    assert not failures, "\n".join(failures[:10])
    assert total >= 250 and not any(status >= 500 for status in statuses)


async def test_the_run_would_catch_a_nonconforming_answer(
    env, task_queue: str, records: RecordsStore, tmp_path: Path
):
    """The same harness against a document that lies about /health (a number, not a text) fails."""
    settings = Settings.from_env({"DATA_DIR": str(tmp_path), "TASK_QUEUE": task_queue})
    app = create_app(env.client, records, settings, key=KEY)
    document = app.openapi()
    lie = {"type": "object", "properties": {"status": {"type": "integer"}}, "required": ["status"]}
    document = {
        **document,
        "paths": {
            "/health": {
                "get": {
                    **document["paths"]["/health"]["get"],
                    "responses": {
                        "200": {"description": "ok", "content": {"application/json": {"schema": lie}}}
                    },
                }
            }
        },
    }
    server = ApiServer(app, "127.0.0.1", free_port())
    await server.start()
    try:
        statuses, failures = await asyncio.to_thread(fuzz, document, server.url, [])
    finally:
        await server.stop()
    assert statuses[200] > 0 and failures and "/health" in failures[0]
