"""The deadline never waits on the records store; data the store refuses is flagged, not retried for ever."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest_asyncio
from sqlalchemy import select, text
from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

import starter
from assembly.workers import build_worker
from audit.projection_failures import projection_failures, retry_projection
from audit.verify import verify
from model import search_attributes
from model.dossier_inputs import CompleteStepInput, WithdrawInput
from model.dossier_view import DossierView
from procedures.calendar import VN_TZ
from records.database import RecordsStore, create_engine, session_factory
from records.tables import DossierEventRow
from runtime.settings import Settings
from tests.builders import COUNTER, SPECIALIST, action_id, settled, start_dossier
from workflows.dossier import DossierWorkflow


async def eventually(handle: WorkflowHandle, check, timeout: float = 20) -> DossierView:
    """The dossier's view once `check(view)` holds (bounded)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        view = await handle.query(DossierWorkflow.view)
        if check(view):
            return view
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(
                f"never reached: {view.model_dump(include={'status', 'overdue', 'unrecorded_events', 'projection_failure'})}"
            )
        await asyncio.sleep(0.1)


@pytest_asyncio.fixture
async def unreachable_records(tmp_path) -> AsyncIterator[RecordsStore]:
    """A records store whose database cannot be opened (its directory does not exist): an outage."""
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'absent' / 'records.sqlite'}")
    yield RecordsStore(engine, session_factory(engine))
    await engine.dispose()


class TestDeadlineApartFromRecords:
    """The due timer is armed at receipt, whatever the records store does."""

    async def test_overdue_on_time_while_the_records_store_is_down(
        self, env: WorkflowEnvironment, client: Client, task_queue: str, unreachable_records: RecordsStore
    ):
        """With the store unreachable from the start, the dossier still turns overdue at its due moment."""
        async with build_worker(client, task_queue, unreachable_records):
            due = datetime.now(VN_TZ) + timedelta(seconds=3)
            handle = await start_dossier(client, task_queue, due_at=due)
            try:
                await env.sleep(5)
                view = await eventually(handle, lambda v: v.overdue)
                assert view.timeline[-1].action == "overdue" and view.apology_due
                # Nothing reached the store, and the outage is not mistaken for a data error.
                assert view.unrecorded_events == len(view.timeline) and view.projection_failure is None
                assert (await handle.describe()).typed_search_attributes.get(
                    search_attributes.OVERDUE
                ) is True
            finally:
                await handle.terminate("test over")


def _refusing_trigger(dialect: str, code: str) -> tuple[list[str], list[str]]:
    """DDL for a trigger refusing this dossier's events, and the DDL that removes it."""
    if dialect == "postgresql":
        name = "refuse_" + code.replace("-", "_").lower()
        return (
            [
                f"""CREATE FUNCTION {name}() RETURNS trigger AS $$
                    BEGIN RAISE EXCEPTION 'refused by the test' USING ERRCODE = '23514'; END $$ LANGUAGE plpgsql""",
                f"""CREATE TRIGGER {name} BEFORE INSERT ON dossier_events FOR EACH ROW
                    WHEN (NEW.dossier_code = '{code}') EXECUTE FUNCTION {name}()""",
            ],
            [f"DROP TRIGGER IF EXISTS {name} ON dossier_events", f"DROP FUNCTION IF EXISTS {name}()"],
        )
    name = "refuse_" + code.replace("-", "_")
    return (
        [
            f"""CREATE TRIGGER "{name}" BEFORE INSERT ON dossier_events WHEN NEW.dossier_code = '{code}'
                BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"""
        ],
        [f'DROP TRIGGER IF EXISTS "{name}"'],
    )


async def _execute(records: RecordsStore, statements: list[str]) -> None:
    async with records.engine.begin() as connection:
        for statement in statements:
            await connection.execute(text(statement))


class TestProjectionDataError:
    """A batch the store refuses for good: flagged for operators, retried on demand, never lost."""

    async def test_refused_entries_flag_the_dossier_until_an_operator_retries(
        self,
        env: WorkflowEnvironment,
        client: Client,
        task_queue: str,
        records: RecordsStore,
        worker,
        tmp_path,
        capsys,
    ):
        """The store refuses the dossier's rows (a constraint): the dossier is listed as
        ProjectionFailed, keeps working, and after the fix and a retry every entry is recorded."""
        code = f"TEST-REFUSED-{action_id()[:8]}"
        create, drop = _refusing_trigger(records.engine.dialect.name, code)
        await _execute(records, create)
        try:
            handle = await start_dossier(client, task_queue, code=code)
            view = await eventually(handle, lambda v: v.projection_failure is not None)
            assert view.projection_failure.startswith("ProjectionDataError:"), view.projection_failure
            assert "refused by the test" in view.projection_failure
            assert (await handle.describe()).typed_search_attributes.get(
                search_attributes.PROJECTION_FAILED
            ) is True
            # The time-skipping server has no visibility list: the local pass checks the listing.
            listable = not env.supports_time_skipping
            if listable:
                await _listed(client, code, present=True)
                settings = Settings.from_env({"DATA_DIR": str(tmp_path), "TASK_QUEUE": task_queue})
                assert await starter.main(["records", "failed-projections"], client, settings) == 0
                assert code in {f["code"] for f in json.loads(capsys.readouterr().out)}
            # The dossier goes on: an officer acts, the entry queues behind the refused ones.
            view = await handle.execute_update(
                DossierWorkflow.complete_step,
                CompleteStepInput(actor=SPECIALIST, action_id=action_id(), step_id="review"),
            )
            # Nothing recorded (an `overdue` entry too if the session's clock is past the due moment).
            assert view.unrecorded_events == len(view.timeline) >= 3 and view.projection_failure is not None
        finally:
            await _execute(records, drop)
        # The operator's command: records retry-projection CODE (audit.projection_failures).
        settings = Settings.from_env({"DATA_DIR": str(tmp_path), "TASK_QUEUE": task_queue})
        assert await starter.main(["records", "retry-projection", code], client, settings) == 0
        assert "sent its refused entries again" in capsys.readouterr().out
        view = await settled(handle)
        assert view.projection_failure is None
        assert (await handle.describe()).typed_search_attributes.get(
            search_attributes.PROJECTION_FAILED
        ) is False
        async with records.sessions() as session:
            seqs = list(
                await session.scalars(
                    select(DossierEventRow.seq)
                    .where(DossierEventRow.dossier_code == code)
                    .order_by(DossierEventRow.seq)
                )
            )
        assert seqs == list(range(1, len(view.timeline) + 1))
        assert (await verify(records, [code])).intact
        if listable:
            assert await _listed(client, code, present=False) is None
        await handle.execute_update(
            DossierWorkflow.withdraw, WithdrawInput(actor=COUNTER, action_id=action_id())
        )
        assert (await handle.result()).status == "withdrawn"

    async def test_a_closed_dossier_waits_for_its_records(
        self, client: Client, task_queue: str, records: RecordsStore, worker
    ):
        """Withdrawn while its rows are refused: the run stays open until the retry records them."""
        code = f"TEST-CLOSING-{action_id()[:8]}"
        create, drop = _refusing_trigger(records.engine.dialect.name, code)
        await _execute(records, create)
        try:
            handle = await start_dossier(client, task_queue, code=code)
            await eventually(handle, lambda v: v.projection_failure is not None)
            await handle.execute_update(
                DossierWorkflow.withdraw, WithdrawInput(actor=COUNTER, action_id=action_id())
            )
            await asyncio.sleep(0.5)
            assert (await handle.describe()).status.name == "RUNNING"
        finally:
            await _execute(records, drop)
        await retry_projection(client, code)
        result = await asyncio.wait_for(handle.result(), 20)
        assert result.status == "withdrawn" and result.unrecorded_events == 0


async def _listed(client: Client, code: str, present: bool):
    """This dossier among those listed as ProjectionFailed, once visibility shows it (or not)."""
    for _ in range(100):
        found = next((f for f in await projection_failures(client) if f.code == code), None)
        if (found is not None) == present:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"{code} {'never' if present else 'still'} listed as ProjectionFailed")
