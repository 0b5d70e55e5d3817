"""DossierWorkflow after a careless edit, for the deploy gate's test (tests/test_replay_check.py).

Its own module, importing nothing but the workflow's input: the replayer's sandbox re-imports
the module that defines a workflow.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from model.dossier_inputs import DossierInput


@workflow.defn(name="DossierWorkflow")
class CarelessDossierWorkflow:
    """Waits a minute before anything else: no recorded dossier did that."""

    @workflow.run
    async def run(self, dossier: DossierInput) -> None:
        await workflow.sleep(timedelta(minutes=1))
