"""Citizens' data stays where the README says: never in a log line, never in plaintext notes
of the records store."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import uuid

from sqlalchemy import inspect, select, text
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from assembly.workers import build_worker
from runtime.temporal import binary
from tests.api.test_authorization import OFFICERS, RECEIVE_BODY
from tests.builders import settled
from workflows.dossier import DossierWorkflow

counter_officer, specialist, leader = (
    OFFICERS["counter/own"],
    OFFICERS["specialist/own"],
    OFFICERS["leader/own"],
)

NAME, PERSONAL_ID, PHONE, STREET = "Hoàng Thị Mỹ Duyên", "079195004217", "0987001234", "45 Ngõ Trạm Đặc Biệt"
NOTE = f"called {NAME} at {PHONE} about the missing page"
SECRETS = (NAME, PERSONAL_ID, PHONE, STREET, NOTE)


def applicant_body() -> dict:
    body = json.loads(json.dumps(RECEIVE_BODY))
    body["applicant"].update(full_name=NAME, personal_id=PERSONAL_ID, phone=PHONE)
    body["applicant"]["address"]["detail"] = STREET
    return body


async def every_text_in(records) -> str:
    """Every value of every column of every table of the records store, as one text."""
    async with records.engine.connect() as connection:
        tables = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        values = []
        for table in tables:
            rows = (await connection.execute(select(text("*")).select_from(text(table)))).all()
            values += [str(value) for row in rows for value in row]
    return "\n".join(values)


async def fail_a_workflow_task(api, records) -> None:
    """A dossier whose input the workflow cannot decode: its task fails, and the SDK logs it.

    On a server of its own: a workflow whose task keeps failing holds the time-skipping
    server's clock, which the session's later tests need.
    """
    applicant = applicant_body()["applicant"]
    # A personal ID with a trailing space: pydantic's error would quote it whole.
    applicant["personal_id"] = PERSONAL_ID + " "
    broken = {"code": f"broken-{uuid.uuid4()}", "applicant": applicant, "procedure": {"not": "a version"}}
    own = await WorkflowEnvironment.start_time_skipping(
        data_converter=api.env.client.data_converter, test_server_existing_path=binary("temporal-test-server")
    )
    try:
        task_queue = f"broken-{uuid.uuid4()}"
        async with build_worker(own.client, task_queue, records):
            handle: WorkflowHandle = await own.client.start_workflow(
                "DossierWorkflow", broken, id=broken["code"], task_queue=task_queue
            )
            await asyncio.sleep(2)  # the worker fails the task at least once, and logs it
            await handle.terminate("test over")
    finally:
        await own.shutdown()


class TestCitizensData:
    async def test_a_lifecycle_and_a_failing_task_log_no_personal_data(self, api, counter, records, capfd):
        """Receipt, a refused bad request, steps with a note naming the applicant, return, then a
        workflow task that fails on the applicant's data: no log line of ours, the SDK's Python
        loggers or its core carries the name, ID, phone, street or note."""
        sdk_lines = io.StringIO()
        handler = logging.StreamHandler(sdk_lines)
        handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        try:
            bad = applicant_body()
            bad["applicant"]["personal_id"] = PERSONAL_ID[:-1] + "x"
            assert (await api.receive(counter_officer, bad)).status_code == 422
            slip = await api.receive(counter_officer, applicant_body())
            assert slip.status_code == 201, slip.text
            code = slip.json()["dossier_code"]
            handle = api.env.client.get_workflow_handle_for(DossierWorkflow.run, code)
            await settled(handle)
            steps = [
                (specialist, "complete_step", {"step_id": "review", "note": NOTE, "action_id": "review"}),
                (specialist, "complete_step", {"step_id": "review", "note": NOTE, "action_id": "again"}),
                (
                    leader,
                    "request_supplement",
                    {"reason": NOTE, "documents": ["declaration"], "action_id": "ask"},
                ),
                (counter_officer, "supplement", {"documents": ["declaration"], "action_id": "bring"}),
                (leader, "complete_step", {"step_id": "approve", "note": NOTE, "action_id": "approve"}),
                (counter_officer, "return_result", {"action_id": "return"}),
            ]
            for officer, action, body in steps:
                response = await api.act(officer, code, action, body)
                assert response.status_code in (200, 409, 422), response.text
            view = (await api.get(counter_officer, code)).json()
            assert view["status"] == "returned", view
            await settled(handle)
            await fail_a_workflow_task(api, records)
        finally:
            root.removeHandler(handler)
        captured = capfd.readouterr()
        logs = captured.out + captured.err + sdk_lines.getvalue()
        assert "Failed activation on workflow DossierWorkflow" in logs, (
            "the workflow task did not fail visibly"
        )
        lines = logs.splitlines()
        for secret in SECRETS:
            leaked = [line for line in lines if secret in line]
            assert not leaked, f"{secret!r} in {len(leaked)} log line(s): {leaked[0][:500]}"

    async def test_notes_are_not_stored_in_the_records_store(self, api, counter, records):
        """A note or reason an officer types stays in Temporal's encrypted history only."""
        slip = await api.receive(counter_officer, applicant_body())
        code = slip.json()["dossier_code"]
        handle = api.env.client.get_workflow_handle_for(DossierWorkflow.run, code)
        await settled(handle)
        response = await api.act(
            specialist, code, "complete_step", {"step_id": "review", "note": NOTE, "action_id": "review"}
        )
        assert response.status_code == 200
        assert (
            await api.act(leader, code, "refuse", {"reason": NOTE, "action_id": "refuse"})
        ).status_code == 200
        await settled(handle)
        stored = await every_text_in(records)
        assert code in stored
        for secret in SECRETS:
            assert secret not in stored, secret
        # The dossier's own view (from Temporal) still shows the note to those who may read it.
        assert NOTE in (await api.get(specialist, code)).text
