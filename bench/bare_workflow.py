"""The benchmark's reference: a bare workflow that runs one trivial activity.

Kept in a module of its own on purpose. The workflow sandbox re-executes a workflow's whole
module for every run (the dossier worker runs sandboxed, so the reference does too); hosting
this class in the 400-line benchmark script made each bare run cost ~7 ms more Python CPU
(9.5 ms instead of 2.6 ms to create the sandboxed instance), which flattered the ratio.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow


@activity.defn
async def bare_activity(n: int) -> int:
    return n + 1


@workflow.defn
class BareWorkflow:
    @workflow.run
    async def run(self, n: int) -> int:
        return await workflow.execute_activity(bare_activity, n, start_to_close_timeout=timedelta(seconds=30))
