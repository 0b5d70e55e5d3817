"""The carryover benchmark's reference: an idle workflow that ends when it gets one signal.

A module of its own for the same reason as bench/bare_workflow.py: the sandbox re-executes a
workflow's module per run, and a small module keeps the reference honest.
"""

from __future__ import annotations

from temporalio import workflow


@workflow.defn
class IdleWorkflow:
    def __init__(self) -> None:
        self._poked = False

    @workflow.signal
    def poke(self) -> None:
        self._poked = True

    @workflow.run
    async def run(self) -> None:
        await workflow.wait_condition(lambda: self._poked)
