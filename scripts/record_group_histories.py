"""Record closed histories of interlinked groups and of a group's member, for the replay tests.

    .venv/bin/python scripts/record_group_histories.py [--out tests/histories]

Beside scripts/record_histories.py (the single dossier's shapes), on a fresh time-skipping test
server with the plain pydantic converter (no encryption), the synthetic applicant of
tests/builders.py and the birth group of Decision 296:
- `group_birth_returned`: the three members done in order, the group's result returned;
- `group_birth_refused`: the birth registration refused, the two others stopped;
- `dossier_group_member`: the insurance member of the first (a child DossierWorkflow that
  reports to its group, received with the results it needs, returned by the group);
- `group_birth_online_received`: the group submitted online (patch `group-online-submission`),
  unchecked past its check's deadline, completed online after form 02, received at the counter,
  its members done, its result returned;
- `group_birth_online_not_received`: submitted online and refused at the counter's check (form 03);
- `group_birth_partner_insurance`: the insurance member handed to social insurance's own system
  (patch `group-partner-systems`; the stand-in of tests/partner_standin.py on loopback, down for
  the first questions), its decision read back, the group's result returned;
- `group_birth_partner_rejected`: the residence member handed to the police's own system, which
  rejects the submission for good (HTTP 422 with its reason; patch `group-partner-rejection`): the
  member refused by the police, the insurance card stopped, the birth's result returned.
- `group_birth_province_queues`: Hà Nội on a task queue of its own (a worker on it beside the
  shared one): the group on the shared queue starts its three members on Hà Nội's queue (patch
  `group-members-province-queues`), they are done in order, the group's result returned.
Since the patch `group-online-notices` the two online shapes carry it (and their forms 02/03
notices): copied in as `group_birth_online_received_notices` and
`group_birth_online_not_received_notices`, beside the ones recorded before it.

Each run writes every shape: copy in only the files of new shapes (tests/histories/README.md).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from datetime import datetime, timedelta  # noqa: E402

import httpx  # noqa: E402
from temporalio.client import WorkflowHandle, WorkflowHistory  # noqa: E402
from temporalio.contrib.pydantic import pydantic_data_converter  # noqa: E402
from temporalio.testing import WorkflowEnvironment  # noqa: E402
from temporalio.worker import Replayer  # noqa: E402

from adminunits import VN_TZ  # noqa: E402
from assembly.workers import build_worker  # noqa: E402
from model.dossier_inputs import (  # noqa: E402
    ReceiveOnlineInput,
    RefuseInput,
    RefuseOnlineInput,
    RequestOnlineCompletionInput,
    SubmittedDocument,
)
from model.queue_routing import QueueRouting  # noqa: E402
from records.database import open_records  # noqa: E402
from runtime.logging import configure_logging  # noqa: E402
from runtime.partner_settings import PartnerSettings  # noqa: E402
from runtime.temporal import binary, register_search_attributes  # noqa: E402
from scripts.record_histories import write  # noqa: E402
from tests.builders import BA_DINH_COMMITTEE, COUNTER, at, quiet_day, travel_to  # noqa: E402
from tests.group_builders import (  # noqa: E402
    BA_DINH_POLICE,
    FILE,
    HANOI_SOCIAL_INSURANCE,
    ONLINE_SERVICE,
    GroupDesk,
    leader,
    member,
    skip_to,
)
from tests.partner_standin import running, standin_app  # noqa: E402
from workflows.dossier import DossierWorkflow  # noqa: E402
from workflows.group import GroupWorkflow  # noqa: E402
from workflows.group_models import GroupCompleteOnlineInput, GroupReturnInput  # noqa: E402

TASK_QUEUE = "record-group-histories"
IDENTITY = "record-histories"
# A quiet Monday, so that re-recording gives the same dates and codes.
EPOCH = at(quiet_day(datetime(2030, 3, 1, tzinfo=VN_TZ), weekday=0), 9)


async def return_group(group: WorkflowHandle, action_id: str, update_id: str) -> None:
    """The counter returns the group's result, and the group closes."""
    await group.execute_update(
        GroupWorkflow.return_result, GroupReturnInput(actor=COUNTER, action_id=action_id), id=update_id
    )
    await group.result()


async def returned(desk: GroupDesk) -> dict[str, WorkflowHistory]:
    receipt = await desk.receive(request_id="group-returned")
    code = receipt.group_dossier_code
    codes = {m.key: m.dossier_code for m in receipt.members}
    units = {"birth": BA_DINH_COMMITTEE, "residence": BA_DINH_POLICE, "insurance": HANOI_SOCIAL_INSURANCE}
    for key in ("birth", "residence", "insurance"):
        await desk.until(code, lambda v, key=key: member(v, key).status == "processing")
        await desk.do_member(codes[key], units[key], action_ids=f"returned-{key}")
    await desk.until(code, lambda v: v.status.value == "processed")
    await return_group(desk.group(code), "returned-return", "r")
    await desk.member(codes["insurance"]).result()
    return {
        "group_birth_returned": await desk.group(code).fetch_history(),
        "dossier_group_member": await desk.member(codes["insurance"]).fetch_history(),
    }


async def refused(desk: GroupDesk) -> dict[str, WorkflowHistory]:
    receipt = await desk.receive(request_id="group-refused")
    code, birth = receipt.group_dossier_code, receipt.members[0].dossier_code
    await desk.until(code, lambda v: member(v, "birth").status == "processing")
    await desk.member(birth).execute_update(
        DossierWorkflow.refuse,
        RefuseInput(actor=leader(BA_DINH_COMMITTEE), action_id="refused-refuse", reason="r"),
        id="refused-refuse",
    )
    await desk.group(code).result()
    return {"group_birth_refused": await desk.group(code).fetch_history()}


async def online_received(desk: GroupDesk) -> dict[str, WorkflowHistory]:
    registration = await desk.submit_online(request_id="group-online-received")
    code = registration.group_dossier_code
    group = desk.group(code)
    await skip_to(desk.env, registration.due_at + timedelta(minutes=1))
    await desk.until(code, lambda v: v.check_late)
    await group.execute_update(
        GroupWorkflow.request_online_completion,
        RequestOnlineCompletionInput(
            actor=COUNTER, action_id="online-form-02", reason="r", documents=("photo",)
        ),
        id="online-form-02",
    )
    await group.execute_update(
        GroupWorkflow.complete_online,
        GroupCompleteOnlineInput(
            actor=ONLINE_SERVICE,
            action_id="online-completion",
            documents={"birth": (SubmittedDocument(id="photo", reference=FILE),)},
        ),
        id="online-completion",
    )
    await group.execute_update(
        GroupWorkflow.receive_online,
        ReceiveOnlineInput(actor=COUNTER, action_id="online-receipt"),
        id="online-receipt",
    )
    codes = {m.key: m.dossier_code for m in registration.members}
    units = {"birth": BA_DINH_COMMITTEE, "residence": BA_DINH_POLICE, "insurance": HANOI_SOCIAL_INSURANCE}
    for key in ("birth", "residence", "insurance"):
        await desk.until(code, lambda v, key=key: member(v, key).status == "processing")
        await desk.do_member(codes[key], units[key], action_ids=f"online-{key}")
    await desk.until(code, lambda v: v.status.value == "processed")
    await return_group(group, "online-return", "o")
    return {"group_birth_online_received": await group.fetch_history()}


async def online_not_received(desk: GroupDesk) -> dict[str, WorkflowHistory]:
    registration = await desk.submit_online(request_id="group-online-not-received")
    group = desk.group(registration.group_dossier_code)
    await group.execute_update(
        GroupWorkflow.refuse_online,
        RefuseOnlineInput(actor=COUNTER, action_id="online-form-03", reason="r"),
        id="online-form-03",
    )
    await group.result()
    return {"group_birth_online_not_received": await group.fetch_history()}


async def partner_insurance(env: WorkflowEnvironment, records) -> dict[str, WorkflowHistory]:
    app = standin_app("BHXH")
    async with running(app) as url:
        partners = PartnerSettings(systems={"social_insurance": url}, poll_seconds=0.2, poll_max_seconds=1)
        queue = f"{TASK_QUEUE}-partner"
        async with build_worker(env.client, queue, records, partners=partners):
            desk = GroupDesk(env, queue, records, partners=partners)
            receipt = await desk.receive(request_id="group-partner-insurance")
            code = receipt.group_dossier_code
            codes = {m.key: m.dossier_code for m in receipt.members}
            for key, unit in (("birth", BA_DINH_COMMITTEE), ("residence", BA_DINH_POLICE)):
                await desk.until(code, lambda v, key=key: member(v, key).status == "processing")
                await desk.do_member(codes[key], unit, action_ids=f"partner-{key}")
            view = await desk.until(code, lambda v: member(v, "insurance").partner_reference != "")
            app.state.down = True
            while len(app.state.calls) < 3:  # the first questions answered 503, retried
                await asyncio.sleep(0.05)
            app.state.down = False
            reference = member(view, "insurance").partner_reference
            async with httpx.AsyncClient(base_url=url) as back_door:
                await back_door.post(
                    f"/submissions/{reference}/decision",
                    json={"state": "processed", "result_reference": "BHYT-1"},
                )
            await desk.until(code, lambda v: v.status.value == "processed")
            await return_group(desk.group(code), "partner-return", "p")
            for key in ("birth", "residence"):
                await desk.member(codes[key]).result()
            return {"group_birth_partner_insurance": await desk.group(code).fetch_history()}


async def partner_rejected(env: WorkflowEnvironment, records) -> dict[str, WorkflowHistory]:
    app = standin_app("CA")
    app.state.failing["PUT"] = (422, {"reason": "số định danh của mẹ không khớp"})
    async with running(app) as url:
        partners = PartnerSettings(systems={"commune_police": url}, poll_seconds=0.2, poll_max_seconds=1)
        queue = f"{TASK_QUEUE}-partner-rejected"
        async with build_worker(env.client, queue, records, partners=partners):
            desk = GroupDesk(env, queue, records, partners=partners)
            receipt = await desk.receive(request_id="group-partner-rejected")
            code, birth = receipt.group_dossier_code, receipt.members[0].dossier_code
            await desk.until(code, lambda v: member(v, "birth").status == "processing")
            await desk.do_member(birth, BA_DINH_COMMITTEE, action_ids="rejected-birth")
            await desk.until(code, lambda v: v.status.value == "processed")
            await return_group(desk.group(code), "rejected-return", "q")
            await desk.member(birth).result()
            return {"group_birth_partner_rejected": await desk.group(code).fetch_history()}


async def province_queues(env: WorkflowEnvironment, records) -> dict[str, WorkflowHistory]:
    shared = f"{TASK_QUEUE}-shared"
    routing = QueueRouting(default=shared, by_province={"01": f"{TASK_QUEUE}-h01"})
    async with build_worker(env.client, shared, records, routing=routing):
        async with build_worker(env.client, routing.by_province["01"], records, routing=routing):
            desk = GroupDesk(env, shared, records, routing=routing)
            receipt = await desk.receive(request_id="group-province-queues")
            code = receipt.group_dossier_code
            codes = {m.key: m.dossier_code for m in receipt.members}
            units = {
                "birth": BA_DINH_COMMITTEE,
                "residence": BA_DINH_POLICE,
                "insurance": HANOI_SOCIAL_INSURANCE,
            }
            for key in ("birth", "residence", "insurance"):
                await desk.until(code, lambda v, key=key: member(v, key).status == "processing")
                await desk.do_member(codes[key], units[key], action_ids=f"queues-{key}")
            await desk.until(code, lambda v: v.status.value == "processed")
            await return_group(desk.group(code), "queues-return", "s")
            for key in codes:
                await desk.member(codes[key]).result()
            return {"group_birth_province_queues": await desk.group(code).fetch_history()}


async def record(out: Path) -> dict[str, WorkflowHistory]:
    recorded: dict[str, WorkflowHistory] = {}
    with tempfile.TemporaryDirectory(prefix="record-group-histories-") as tmp:
        async with open_records(f"sqlite+aiosqlite:///{Path(tmp) / 'records.sqlite'}") as records:
            env = await WorkflowEnvironment.start_time_skipping(
                data_converter=pydantic_data_converter,
                identity=IDENTITY,
                test_server_existing_path=binary("temporal-test-server"),
            )
            async with env:
                await register_search_attributes(env.client)
                await travel_to(env, max(EPOCH, await env.get_current_time()))
                async with build_worker(env.client, TASK_QUEUE, records):
                    desk = GroupDesk(env, TASK_QUEUE, records)
                    for shape in (returned, refused, online_received, online_not_received):
                        for name, history in (await shape(desk)).items():
                            recorded[name] = history
                            write(out, name, history)
                for partner_shape in (partner_insurance, partner_rejected, province_queues):
                    for name, history in (await partner_shape(env, records)).items():
                        recorded[name] = history
                        write(out, name, history)
    return recorded


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "tests" / "histories")
    args = parser.parse_args()
    configure_logging()
    recorded = await record(args.out.resolve())
    replayer = Replayer(workflows=[DossierWorkflow, GroupWorkflow], data_converter=pydantic_data_converter)
    for history in recorded.values():
        await replayer.replay_workflow(history)
    print(f"{len(recorded)} histories replay against the current code")


if __name__ == "__main__":
    asyncio.run(main())
