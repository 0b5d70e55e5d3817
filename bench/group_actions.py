"""Temporal actions of one interlinked birth group beside three independent dossiers.

    .venv/bin/python bench/group_actions.py

On a fresh time-skipping test server with a worker of this engine: one group of Decision 296
(birth registration, permanent residence, insurance card) received, each member's steps done by
its agency, the result returned; then the same three procedures received as three dossiers of
their own (same pinned versions, units and steps), each done and returned. Every history is
counted by scripts/history_figures.py (start, activity attempts, timers, updates, local
activities, upserts, signals). Prints one line per workflow and the two totals.
"""

from __future__ import annotations

import asyncio
import importlib.util
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from temporalio.client import WorkflowHandle  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402

from adminunits import VN_TZ  # noqa: E402
from assembly.workers import build_worker  # noqa: E402
from model.dossier_inputs import DossierInput, ReturnResultInput  # noqa: E402
from records.database import open_records  # noqa: E402
from runtime.codec import EncryptionCodec, generate_key, load_keyring  # noqa: E402
from runtime.logging import configure_logging  # noqa: E402
from runtime.temporal import binary, register_search_attributes  # noqa: E402
from tests.builders import COUNTER  # noqa: E402
from tests.group_builders import GroupDesk, member  # noqa: E402
from workflows.dossier import DossierWorkflow  # noqa: E402
from workflows.group import GroupWorkflow  # noqa: E402
from workflows.group_models import GroupReturnInput  # noqa: E402

TASK_QUEUE = "group-actions"
_spec = importlib.util.spec_from_file_location("history_figures", ROOT / "scripts" / "history_figures.py")
history_figures = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = history_figures
_spec.loader.exec_module(history_figures)


async def run_group(desk: GroupDesk) -> list[WorkflowHandle]:
    receipt = await desk.receive(request_id="bench-group")
    code = receipt.group_dossier_code
    for m in receipt.members:
        await desk.until(code, lambda v, key=m.key: member(v, key).status == "processing")
        await desk.do_member(m.dossier_code, m.handling_unit, action_ids=f"bench-{m.key}")
    await desk.until(code, lambda v: v.status.value == "processed")
    await desk.group(code).execute_update(
        GroupWorkflow.return_result, GroupReturnInput(actor=COUNTER, action_id="bench-return")
    )
    await desk.group(code).result()
    members = [desk.member(m.dossier_code) for m in receipt.members]
    for handle in members:
        await handle.result()
    return [desk.group(code), *members]


async def run_independent(desk: GroupDesk, group_members: list[WorkflowHandle]) -> list[WorkflowHandle]:
    """The same three procedures as dossiers of their own, each done and returned."""
    handles = []
    for index, member_handle in enumerate(group_members):
        view = await member_handle.query(DossierWorkflow.view)
        started = await _started_like(desk, member_handle, f"bench-alone-{index}")
        await desk.do_member(started.id, view.handling_unit, action_ids=f"alone-{index}")
        await started.execute_update(
            DossierWorkflow.return_result, ReturnResultInput(actor=COUNTER, action_id=f"alone-{index}-return")
        )
        await started.result()
        handles.append(started)
    return handles


async def _started_like(desk: GroupDesk, member_handle: WorkflowHandle, code: str) -> WorkflowHandle:
    """A dossier started with a member's input (same version, units, documents, appointment),
    but alone: no parent, so it reports to nobody."""
    async for event in member_handle.fetch_history_events(page_size=1):
        attributes = event.workflow_execution_started_event_attributes
        [dossier] = await desk.client.data_converter.decode(attributes.input.payloads, [DossierInput])
        break
    return await desk.client.start_workflow(
        DossierWorkflow.run,
        dossier.model_copy(update={"code": code, "request_id": code}),
        id=code,
        task_queue=TASK_QUEUE,
    )


async def count(handles: list[WorkflowHandle], tmp: Path, codec: EncryptionCodec) -> list:
    figures = []
    for handle in handles:
        history = await handle.fetch_history()
        path = tmp / f"{handle.id}.json"
        path.write_text(history.to_json(), encoding="utf-8")
        figures.append(await history_figures.figures(path, codec))
    return figures


async def main() -> None:
    configure_logging()
    codec = EncryptionCodec(*load_keyring(f"k1:{generate_key()}"))
    with tempfile.TemporaryDirectory(prefix="group-actions-") as tmp:
        async with open_records(f"sqlite+aiosqlite:///{Path(tmp) / 'records.sqlite'}") as records:
            env = await WorkflowEnvironment.start_time_skipping(
                data_converter=pydantic_data_converter,
                test_server_existing_path=binary("temporal-test-server"),
            )
            async with env:
                await register_search_attributes(env.client)
                async with build_worker(env.client, TASK_QUEUE, records):
                    desk = GroupDesk(env, TASK_QUEUE, records)
                    group_handles = await run_group(desk)
                    alone = await run_independent(desk, group_handles[1:])
                    view = await group_handles[0].query(GroupWorkflow.view)
                    grouped = await count(group_handles, Path(tmp), codec)
                    independent = await count(alone, Path(tmp), codec)
    print(
        f"{'workflow':<48} {'events':>6} {'act.':>4} {'timers':>6} {'upd.':>4} {'signals':>7} {'actions':>7}"
    )
    for label, rows in (("group", grouped), ("independent", independent)):
        for f in rows:
            print(
                f"{label + ' ' + f.name:<48} {f.events:>6} {f.activity_attempts:>4} {f.timers:>6} {f.updates:>4} {f.signals:>7} {f.actions:>7}"
            )
        print(
            f"{label + ' total':<48} {sum(f.events for f in rows):>6} {'':>4} {'':>6} {'':>4} {'':>7} {sum(f.actions for f in rows):>7}"
        )

    print(f"\ntimeline of group {view.code} ({view.group_code}, due {view.due_at.isoformat()}):")
    for entry in view.timeline:
        where = f" {entry.member}@{entry.unit}" if entry.member else (f" @{entry.unit}" if entry.unit else "")
        print(f"  {entry.at.astimezone(VN_TZ).isoformat()} {entry.action}{where} {entry.details or ''}")


if __name__ == "__main__":
    asyncio.run(main())
