"""Metrics (issue 19): the engine's counters and gauges on the API's /metrics in Prometheus'
text format, and the SDK's own metrics on TEMPORAL_METRICS_ADDRESS."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families
from temporalio.testing import WorkflowEnvironment

from runtime.settings import Settings
from runtime.temporal import connect
from tests.api.conftest import Api
from tests.api.test_authorization import OFFICERS, RECEIVE_BODY
from tests.builders import free_port

counter_officer, specialist = OFFICERS["counter/own"], OFFICERS["specialist/own"]


async def scrape(api: Api) -> dict[tuple[str, tuple], float]:
    response = await api.http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


RECEIVED = ("onestop_receipts_total", (("outcome", "received"),))
RESUBMITTED = ("onestop_receipts_total", (("outcome", "resubmitted"),))


class TestEngineMetrics:
    async def test_a_receipt_increments_the_receipt_counter(self, api: Api):
        before = await scrape(api)
        body = {**RECEIVE_BODY, "request_id": "metrics-1"}
        assert (await api.receive(counter_officer, body)).status_code == 201
        after = await scrape(api)
        assert after[RECEIVED] == before.get(RECEIVED, 0) + 1
        # The same request again is a resubmission, not a second receipt.
        assert (await api.receive(counter_officer, body)).status_code == 200
        again = await scrape(api)
        assert again[RECEIVED] == after[RECEIVED]
        assert again[RESUBMITTED] == after.get(RESUBMITTED, 0) + 1

    async def test_the_records_gauges_are_read_at_scrape(self, api: Api):
        assert (
            await api.receive(counter_officer, {**RECEIVE_BODY, "request_id": "metrics-2"})
        ).status_code == 201

        async def open_dossiers() -> float:
            return (await scrape(api))[("onestop_open_dossiers", ())]

        # The receipt's row comes with its projection: wait for it, bounded.
        for _ in range(100):
            if await open_dossiers() >= 1:
                break
            await asyncio.sleep(0.1)
        samples = await scrape(api)
        assert samples[("onestop_open_dossiers", ())] >= 1
        assert samples[("onestop_records_store_up", ())] == 1
        for gauge in (
            "onestop_overdue_open_dossiers",
            "onestop_notifications_unsent",
            "onestop_intake_unsettled_reservations",
        ):
            assert (gauge, ()) in samples
        assert samples[("onestop_projected_events_total", ())] >= 1


class TestActionMetrics:
    async def test_an_action_counts_as_done_and_a_refused_one_as_refused(self, api: Api, counter):
        handle = await counter.start()
        done = ("onestop_actions_total", (("action", "complete_step"), ("outcome", "done")))
        refused = ("onestop_actions_total", (("action", "complete_step"), ("outcome", "refused")))
        before = await scrape(api)
        review = {"step_id": "review", "action_id": "metrics-review"}
        assert (await api.act(specialist, handle.id, "complete_step", review)).status_code == 200
        # The same step again, under another id: the dossier has moved on, the action is refused.
        again = {"step_id": "review", "action_id": "metrics-review-again"}
        assert (await api.act(specialist, handle.id, "complete_step", again)).status_code >= 400
        after = await scrape(api)
        assert after[done] == before.get(done, 0) + 1
        assert after[refused] == before.get(refused, 0) + 1


class TestSdkMetrics:
    async def test_the_sdk_serves_its_metrics_on_the_configured_address(
        self, env: WorkflowEnvironment, tmp_path: Path
    ):
        address = f"127.0.0.1:{free_port()}"
        port = env.client.service_client.config.target_host.rsplit(":", 1)[1]
        # The session's server, as the embedded dev server's settings reach it (dev keyring in tmp).
        settings = Settings.from_env(
            {"DATA_DIR": str(tmp_path), "TEMPORAL_DEV_PORT": port, "TEMPORAL_METRICS_ADDRESS": address}
        )
        client = await connect(settings)
        await client.service_client.check_health()  # any call: the client counts its requests
        async with httpx.AsyncClient() as http:
            text = (await http.get(f"http://{address}/metrics")).text
        assert "temporal_request" in text, text[:500]
