"""scripts/replay_check.py, the deploy gate of docs/deployment.md: the recorded histories and a
live server's open dossiers replay against this checkout; a careless edit is caught, naming
the dossier and its run, before any worker runs it."""

from __future__ import annotations

import asyncio
import importlib.util
import sys
from pathlib import Path

import pytest

from model.dossier_inputs import CompleteStepInput
from tests.builders import SPECIALIST, action_id, settled
from tests.careless_workflow import CarelessDossierWorkflow
from workflows.dossier import DossierWorkflow
from workflows.group import GroupWorkflow

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("replay_check", ROOT / "scripts" / "replay_check.py")
replay_check = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = replay_check  # its dataclasses look their module up
spec.loader.exec_module(replay_check)


class TestReplayCheck:
    async def test_the_recorded_histories_replay_and_a_careless_edit_fails_each(self):
        files = sorted((ROOT / "tests" / "histories").glob("*.json"))
        outcome = await replay_check.check()
        assert (outcome.replayed, outcome.failures) == (len(files), ())
        # The careless edit is DossierWorkflow's: every dossier's history fails on it, while the
        # interlinked groups' own histories (group_*.json, GroupWorkflow) still replay.
        broken = await replay_check.check(workflows=[CarelessDossierWorkflow, GroupWorkflow])
        dossiers = [f for f in files if not f.name.startswith("group_")]
        assert broken.replayed == len(files) and len(broken.failures) == len(dossiers) < len(files)
        assert all("Nondeterminism" in f.error for f in broken.failures)

    async def test_a_live_servers_open_dossier_replays_and_a_careless_edit_names_it(
        self, env, counter, capsys
    ):
        if env.supports_time_skipping:
            pytest.skip("the time-skipping server has no visibility listing: local dev server")
        handle = await counter.start()
        await handle.execute_update(
            DossierWorkflow.complete_step,
            CompleteStepInput(actor=SPECIALIST, action_id=action_id(), step_id="review"),
        )
        await settled(handle)
        query = f"WorkflowId='{handle.id}'"
        argv = ["--live", "--no-recorded", "--query", query]
        for _ in range(100):  # visibility is eventually consistent
            if (await env.client.count_workflows(query)).count:
                break
            await asyncio.sleep(0.1)
        assert await replay_check.main(argv, env.client) == 0
        assert capsys.readouterr().out.strip().endswith("1 histories replayed, 0 failed")

        run_id = (await handle.describe()).run_id
        broken = await replay_check.check(
            recorded=None, client=env.client, query=query, workflows=[CarelessDossierWorkflow]
        )
        assert [(f.workflow_id, f.run_id) for f in broken.failures] == [(handle.id, run_id)]

    async def test_bad_arguments_exit_2(self, tmp_path):
        assert await replay_check.main(["--limit", "0"]) == 2
        assert await replay_check.main(["--recorded", str(tmp_path / "none")]) == 2
        assert await replay_check.main(["--no-such-option"]) == 2
