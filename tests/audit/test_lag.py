"""verify compares the audit trail with Temporal: a trail that stopped growing is reported."""

from __future__ import annotations

import json
from datetime import timedelta

from temporalio.client import Client

import starter
from assembly.workers import build_worker
from audit.lag import verify_against_temporal
from audit.verify import verify
from cli.audit import EXIT_TAMPERED
from model.dossier_inputs import CompleteStepInput
from records.database import RecordsStore
from tests.builders import SPECIALIST, action_id, settled, start_dossier
from tests.records.test_cli import settings_for
from tests.workflows.test_projection_apart import unreachable_records  # noqa: F401 (fixture)
from workflows.dossier import DossierWorkflow


class TestAuditLag:
    async def test_a_trail_behind_temporal_is_not_intact(
        self,
        client: Client,
        task_queue: str,
        records: RecordsStore,
        unreachable_records: RecordsStore,  # noqa: F811
    ):
        """The projection cannot write (store down) while an officer acts: the chains alone look
        intact, the comparison with Temporal reports the dossier as lagging."""
        async with build_worker(client, task_queue, unreachable_records):
            handle = await start_dossier(client, task_queue)
            try:
                await handle.execute_update(
                    DossierWorkflow.complete_step,
                    CompleteStepInput(actor=SPECIALIST, action_id=action_id(), step_id="review"),
                )
                assert (await verify(records, [handle.id])).intact  # the blind spot of the chains alone
                result = await verify_against_temporal(records, client, [handle.id], grace=timedelta(0))
                assert not result.intact
                [problem] = result.problems
                assert (problem.kind, problem.dossier_code, problem.seq) == ("lagging", handle.id, 1)
                assert "2 accepted action(s) not recorded" in problem.detail, problem.detail
            finally:
                await handle.terminate("test over")

    async def test_a_recorded_dossier_agrees(
        self, client: Client, task_queue: str, records: RecordsStore, worker
    ):
        """Once the projection has caught up there is no lag, and a young lag is within the grace."""
        handle = await start_dossier(client, task_queue)
        try:
            await handle.execute_update(
                DossierWorkflow.complete_step,
                CompleteStepInput(actor=SPECIALIST, action_id=action_id(), step_id="review"),
            )
            await settled(handle)
            assert (await verify_against_temporal(records, client, [handle.id], grace=timedelta(0))).intact
        finally:
            # An open dossier whose worker is gone would hold the time-skipping server's clock.
            await handle.terminate("test over")

    async def test_the_cli_exits_6_on_a_lagging_trail(
        self,
        capsys,
        tmp_path,
        client: Client,
        task_queue: str,
        records: RecordsStore,
        unreachable_records: RecordsStore,  # noqa: F811
    ):
        """`starter.py verify --dossier CODE` names the lag and exits 6; within the grace it does not."""
        settings = settings_for(
            records.engine.url.render_as_string(hide_password=False), tmp_path, task_queue
        )
        async with build_worker(client, task_queue, unreachable_records):
            handle = await start_dossier(client, task_queue)
            try:
                code = await starter.main(
                    ["verify", "--dossier", handle.id, "--lag-grace", "3600"], client, settings
                )
                out, err = capsys.readouterr()
                assert code == 0 and json.loads(out)["problems"] == [], err
                code = await starter.main(
                    ["verify", "--dossier", handle.id, "--lag-grace", "0"], client, settings
                )
                out, err = capsys.readouterr()
                assert code == EXIT_TAMPERED
                assert json.loads(out)["problems"][0]["kind"] == "lagging"
                assert f"TAMPERED lagging: {handle.id} seq 1" in err
            finally:
                await handle.terminate("test over")
