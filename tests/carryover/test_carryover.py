"""Carrying open dossiers across 2025-07-01 to the successor authorities (time-skipping server).

The servers' clocks start today, already past the boundary, so dossiers are received with a
receipt instant between 2025-06-25 and 2025-06-30 (intake accepts a past receipt instant):
the boundary has been crossed by the time the carryover runs, as on 1 July.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from datetime import datetime

import pytest
import pytest_asyncio
from temporalio.client import WorkflowUpdateFailedError
from temporalio.common import WorkflowIDReusePolicy
from temporalio.testing import ActivityEnvironment

from adminunits import VN_TZ
from assembly.workers import build_worker
from carryover.activities import BatchInput, Candidate, CarryoverActivities, OutcomeKind
from carryover.models import CarryoverInput, CarryoverMode, CarryoverReport
from carryover.workflow import CarryoverWorkflow
from intake.forms import ReceiptSlip, RefusalNotice
from model import search_attributes
from model.dossier_inputs import (
    Actor,
    Address,
    Applicant,
    CompleteStepInput,
    RequestSupplementInput,
    ReturnResultInput,
    SubmittedDocument,
    SupplementInput,
    TransferInput,
)
from model.dossier_state import DossierStatus, Unit
from procedures.models import Role
from records.database import RecordsStore, open_records
from records.tables import DossierRow
from tests.builders import Counter, action_id, request, settled, start_dossier
from tests.faults.harness import PostgresDatabase
from workflows.dossier import DossierWorkflow

BA_DINH_DISTRICT = "001.00.00.H01"  # Quận Ba Đình's People's Committee, abolished 2025-07-01
BA_DINH_WARD = "000.00004.00.H01"  # Phường Ba Đình (2025), successor for Trúc Bạch (00004)
BA_DINH_COUNTER = "000.00004.01.H01"  # its public-service centre
BAC_NINH_CITY = "256.00.00.H27"  # Thành phố Bắc Ninh (district level, old province 27)
VU_NINH_SUCCESSOR = "000.09169.00.H24"  # Phường Vũ Ninh (2025), as the package converter says
BAC_NINH_CENTRE = "000.00.01.H27"  # old Bắc Ninh's service centre (province merged into 24)
OLD_JUSTICE = "000.STP.00.H27"
NEW_JUSTICE = "000.STP.00.H24"


def officer(role: Role, unit: str, name: str) -> Actor:
    return Actor(id=f"{name}-{unit}", roles=(role,), unit=unit)


def applicant(province: str, district: str, commune: str) -> Applicant:
    return Applicant(
        full_name="Trần Thị Bình",
        personal_id="001190123456",
        address=Address(province_code=province, district_code=district, commune_code=commune),
    )


def vn(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, 6, day, hour, minute, tzinfo=VN_TZ)


@pytest_asyncio.fixture
async def store(tmp_path) -> AsyncIterator[RecordsStore]:
    """A records store of this test's own, since the carryover lists every open dossier in it:
    a fresh PostgreSQL database in the PostgreSQL pass, a fresh SQLite file otherwise."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        async with open_records(f"sqlite+aiosqlite:///{tmp_path / 'records.sqlite'}") as records:
            yield records
        return
    database = PostgresDatabase(url)
    await database.create()
    try:
        async with open_records(database.url) as records:
            yield records
    finally:
        await database.drop()


@pytest_asyncio.fixture
async def desk(env, task_queue, store) -> AsyncIterator[Counter]:
    async with build_worker(env.client, task_queue, store):
        counter = Counter(env, task_queue, store)
        yield counter
        await counter.close_open_dossiers()


async def receive(desk: Counter, procedure: str, counter_unit: str, who: Applicant, at: datetime, documents):
    slip = await desk.receive(
        request(
            procedure,
            applicant=who,
            receiving_unit=counter_unit,
            received_by=officer(Role.COUNTER_OFFICER, counter_unit, "counter"),
            received_at=at,
            documents=tuple(SubmittedDocument(id=d) for d in documents),
        )
    )
    assert isinstance(slip, ReceiptSlip), slip
    await settled(desk.handle(slip.dossier_code))
    return slip


async def carryover(desk: Counter, carryover_id: str, mode=CarryoverMode.RUN, **options) -> CarryoverReport:
    # Without skipping time: the dossiers here are backdated, their deadline timers long fired,
    # so the time-skipping server's next moment is its default 10-year execution timeout, and
    # an idle instant while the result is awaited jumped there and timed them all out (their
    # transfers then answered "update not found"; seen in 1 run of 2 on a loaded machine).
    with desk.env.auto_time_skipping_disabled():
        return await desk.env.client.execute_workflow(
            CarryoverWorkflow.run,
            CarryoverInput(carryover_id=carryover_id, mode=mode, batch_size=2, parallel_batches=2, **options),
            id=f"carryover-{carryover_id}",
            task_queue=desk.task_queue,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        )


async def open_dossiers(desk: Counter) -> dict[str, ReceiptSlip]:
    """Four dossiers at old authorities, received 2025-06-25..30; one step already done in one."""
    trúc_bạch = applicant("01", "001", "00004")
    vũ_ninh = applicant("27", "256", "09163")
    slips = {
        "district": await receive(desk, "1.001612", BA_DINH_DISTRICT, trúc_bạch, vn(25, 9), ["application"]),
        "land": await receive(
            desk, "1.013225", BAC_NINH_CITY, vũ_ninh, vn(27, 14), ["application", "land_title", "drawings"]
        ),
        # The last minute before the boundary at a counter: still the old version and units.
        "department": await receive(
            desk, "3.000333", BAC_NINH_CENTRE, vũ_ninh, vn(30, 16, 59), ["declaration"]
        ),
    }
    handle = desk.handle(slips["district"].dossier_code)
    await handle.execute_update(
        DossierWorkflow.complete_step,
        CompleteStepInput(
            actor=officer(Role.SPECIALIST, BA_DINH_DISTRICT, "specialist"),
            action_id=action_id(),
            step_id="review",
        ),
    )
    await settled(handle)
    return slips


class TestCarryover:
    async def test_each_dossier_continues_at_its_successor(self, env, desk, store):
        """Successor, appointment, pinned version, done steps, timeline entry; old officers refused."""
        slips = await open_dossiers(desk)
        assert slips["department"].version_id == "3.000333@2017-01-01"
        assert slips["department"].handling_unit == OLD_JUSTICE
        assert slips["district"].version_id.endswith("-district")
        before = {k: await desk.handle(s.dossier_code).query(DossierWorkflow.view) for k, s in slips.items()}
        carryover_id = f"test-{uuid.uuid4().hex[:8]}"

        plan = await carryover(desk, carryover_id, CarryoverMode.PLAN)
        assert plan.progress.total == 3 and plan.progress.planned == 3 and plan.progress.transferred == 0
        by_unit = {a.old_unit: a for a in plan.authorities}
        assert by_unit[BA_DINH_DISTRICT].successors == {BA_DINH_WARD: 1}
        assert by_unit[BAC_NINH_CITY].successors == {VU_NINH_SUCCESSOR: 1}
        assert by_unit[OLD_JUSTICE].successors == {NEW_JUSTICE: 1}
        unchanged = await desk.handle(slips["district"].dossier_code).query(DossierWorkflow.view)
        assert unchanged.handling_unit == BA_DINH_DISTRICT  # a plan moves nothing

        report = await carryover(desk, carryover_id)
        assert (report.progress.total, report.progress.transferred, report.progress.failed) == (3, 3, 0), (
            report.failures
        )

        successors = {"district": BA_DINH_WARD, "land": VU_NINH_SUCCESSOR, "department": NEW_JUSTICE}
        # The counters of receipt were abolished too: the successor counters take the receiving side.
        counters = {"district": BA_DINH_COUNTER, "land": "000.09169.01.H24", "department": "000.00.01.H24"}
        for kind, slip in slips.items():
            handle = desk.handle(slip.dossier_code)
            view = await settled(handle)
            old = before[kind]
            assert view.handling_unit == successors[kind]
            assert view.original_handling_unit == slip.handling_unit
            assert (
                view.receiving_unit == counters[kind] and view.original_receiving_unit == slip.receiving_unit
            )
            assert view.carried_over_from == slip.handling_unit
            assert view.due_at == old.due_at == slip.due_at
            assert view.version_id == old.version_id == slip.version_id
            assert view.status == old.status
            assert view.timeline[: len(old.timeline)] == old.timeline  # nothing done is undone
            entry = view.timeline[-1]
            assert entry.action == "carried_over" and entry.status_after == old.status
            assert entry.details["from"] == slip.handling_unit and entry.details["to"] == successors[kind]
            assert entry.details["transfer_id"] == f"carryover-{carryover_id}-{slip.dossier_code}"
            assert entry.at == view.carried_over_at
            assert (entry.details["receiving_from"], entry.details["receiving_to"]) == (
                slip.receiving_unit,
                counters[kind],
            )
            attributes = (await handle.describe()).typed_search_attributes
            assert attributes.get(search_attributes.HANDLING_UNIT) == successors[kind]
            assert attributes.get(search_attributes.CARRIED_OVER_FROM) == slip.handling_unit
            async with store.sessions() as session:
                row = await session.get(DossierRow, slip.dossier_code)
            assert row.handling_unit == successors[kind]

        # The step already done at the district is not repeated: the successor's leader approves.
        district = desk.handle(slips["district"].dossier_code)
        assert (await district.query(DossierWorkflow.view)).current_step.id == "approve"
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await district.execute_update(
                DossierWorkflow.complete_step,
                CompleteStepInput(
                    actor=officer(Role.LEADER, BA_DINH_DISTRICT, "leader"),
                    action_id=action_id(),
                    step_id="approve",
                ),
            )
        assert refused.value.cause.type == "WrongUnit"
        view = await district.execute_update(
            DossierWorkflow.complete_step,
            CompleteStepInput(
                actor=officer(Role.LEADER, BA_DINH_WARD, "leader"), action_id=action_id(), step_id="approve"
            ),
        )
        assert view.status is DossierStatus.PROCESSED
        # The result is returned at the successor counter; the district counter is refused.
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await district.execute_update(
                DossierWorkflow.return_result,
                ReturnResultInput(
                    actor=officer(Role.COUNTER_OFFICER, BA_DINH_DISTRICT, "counter"), action_id=action_id()
                ),
            )
        assert refused.value.cause.type == "WrongUnit"
        view = await district.execute_update(
            DossierWorkflow.return_result,
            ReturnResultInput(
                actor=officer(Role.COUNTER_OFFICER, BA_DINH_COUNTER, "counter"), action_id=action_id()
            ),
        )
        assert view.status is DossierStatus.RETURNED
        await settled(district)

    async def test_a_second_carryover_transfers_nothing_twice(self, env, desk):
        """The same carryover again, then another one: one carried_over entry per dossier."""
        slips = await open_dossiers(desk)
        first = await carryover(desk, "twice-a")
        assert first.progress.transferred == 3
        again = await carryover(desk, "twice-a")
        other = await carryover(desk, "twice-b")
        assert again.progress.transferred == 0 and other.progress.transferred == 0
        for slip in slips.values():
            view = await settled(desk.handle(slip.dossier_code))
            assert [e.action for e in view.timeline].count("carried_over") == 1

    async def test_a_repeat_listed_before_the_projection_caught_up_counts_nothing(self, env, desk, store):
        """The same carryover again, its listing still showing the old unit: the transfer's
        first outcome comes back, and it is counted as unchanged, not transferred again."""
        slips = await open_dossiers(desk)
        began = await env.get_current_time()
        first = await carryover(desk, "lagging")
        assert first.progress.transferred == 3
        code = slips["department"].dossier_code
        stale = Candidate(code=code, handling_unit=slips["department"].handling_unit)
        activities = CarryoverActivities(env.client, store)
        batch = BatchInput(carryover_id="lagging", dossiers=[stale], started_at=await env.get_current_time())
        [outcome] = (await ActivityEnvironment().run(activities.carry_over_batch, batch)).outcomes
        assert outcome.kind is OutcomeKind.UNCHANGED
        # Within the run that made it (a retried batch), the same answer counts as its transfer.
        within = batch.model_copy(update={"started_at": began})
        [outcome] = (await ActivityEnvironment().run(activities.carry_over_batch, within)).outcomes
        assert outcome.kind is OutcomeKind.TRANSFERRED

    async def test_an_unresolvable_address_goes_to_the_manual_list(self, env, desk, store):
        """No successor for the applicant's commune: listed for its province, not moved, not lost."""
        handle = await start_dossier(
            env.client,
            desk.task_queue,
            "1.004873",
            code=f"TEST-{uuid.uuid4()}",
            applicant=applicant("01", "001", "99999"),
            handling_unit=Unit(code=BA_DINH_DISTRICT, name="UBND Quận Ba Đình", province_code="01"),
            received_at=vn(26, 10),
            due_at=vn(30, 17),
        )
        desk.started.append(handle.id)
        await settled(handle)
        report = await carryover(desk, f"manual-{uuid.uuid4().hex[:6]}")
        assert report.progress.manual == 1 and report.progress.transferred == 0
        assert report.manual_by_province == {"01": [handle.id]}
        assert (await handle.query(DossierWorkflow.view)).handling_unit == BA_DINH_DISTRICT

    async def test_a_transfer_id_has_one_effect(self, env, desk):
        """Sent twice, a transfer adds one entry; a closed dossier refuses a transfer."""
        handle = await desk.start()
        transfer = TransferInput(
            transfer_id="t-1",
            to_unit=Unit(code="000.00008.00.H01", name="UBND Phường Ngọc Hà", province_code="01"),
        )
        await handle.execute_update(DossierWorkflow.transfer, transfer)
        view = await handle.execute_update(DossierWorkflow.transfer, transfer)
        assert [e.action for e in view.timeline].count("carried_over") == 1
        assert view.handling_unit == "000.00008.00.H01"
        # A transfer from a unit the dossier has left (a stale listing) changes nothing.
        stale = TransferInput(
            transfer_id="t-2",
            from_unit="000.00004.00.H01",
            to_unit=Unit(code="000.00025.00.H01", name="UBND Phường X", province_code="01"),
        )
        view = await handle.execute_update(DossierWorkflow.transfer, stale)
        assert view.handling_unit == "000.00008.00.H01" and len(view.timeline) == len(
            (await handle.query(DossierWorkflow.view)).timeline
        )
        # A table without the applicant's commune: refused as needing manual assignment.
        table = TransferInput(
            transfer_id="t-3",
            to_unit_by_commune={"00001": Unit(code="000.00001.00.H01", name="X", province_code="01")},
        )
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(DossierWorkflow.transfer, table)
        assert refused.value.cause.type == "NoSuccessor"
        with pytest.raises(ValueError, match="either to_unit or to_unit_by_commune"):
            TransferInput(transfer_id="t-4")


class TestBoundaryAtIntake:
    async def test_a_district_counter_after_the_boundary_is_refused_naming_the_successor(self, env, desk):
        """2025-07-01 00:00 at a district counter: refused, with the commune counter to go to."""
        outcome = await desk.receive(
            request(
                "1.001612",
                applicant=Applicant(
                    full_name="Lê Văn Cường",
                    personal_id="001090654321",
                    address=Address(province_code="01", commune_code="00004"),
                ),
                receiving_unit=BA_DINH_DISTRICT,
                received_by=officer(Role.COUNTER_OFFICER, BA_DINH_DISTRICT, "counter"),
                received_at=datetime(2025, 7, 1, 0, 0, tzinfo=VN_TZ),
            )
        )
        assert isinstance(outcome, RefusalNotice)
        assert any("000.00004.01.H01" in reason for reason in outcome.reasons), outcome.reasons

    async def test_after_the_boundary_the_version_then_in_force_applies(self, env, desk):
        """The same procedure at the new commune counter on 2025-07-01 gets the commune version."""
        slip = await receive(
            desk,
            "1.001612",
            "000.00004.01.H01",
            Applicant(
                full_name="Lê Văn Cường",
                personal_id="001090654321",
                address=Address(province_code="01", commune_code="00004"),
            ),
            datetime(2025, 7, 1, 8, 0, tzinfo=VN_TZ),
            ["application"],
        )
        assert not slip.version_id.endswith("-district")
        assert slip.handling_unit == BA_DINH_WARD


async def test_vu_ninh_successor_matches_the_package_converter():
    """The succession tables agree with vietnamadminunits' own address converter."""
    from vietnamadminunits.converter.converter_2025 import convert_address_2025

    from adminunits.succession import Succession

    new = convert_address_2025("Phường Vũ Ninh, Thành phố Bắc Ninh, Tỉnh Bắc Ninh")
    found = Succession.load().commune("09163")
    assert (found.commune_code, found.province_code) == (new.ward_code, new.province_code) == ("09169", "24")


class TestOperatorCommand:
    async def test_plan_run_and_status_through_the_cli(self, env, desk, capsys, tmp_path):
        """`carryover plan`, `run` (progress bar on stderr, report on stdout) and `status`."""
        import json

        import starter
        from runtime.settings import Settings

        slips = await open_dossiers(desk)
        settings = Settings.from_env({"TASK_QUEUE": desk.task_queue, "DATA_DIR": str(tmp_path)})
        cid = f"cli-{uuid.uuid4().hex[:6]}"
        capsys.readouterr()
        assert (
            await starter.main(["carryover", "plan", "--id", cid, "--no-progress"], env.client, settings) == 0
        )
        plan = json.loads(capsys.readouterr().out)
        assert plan["progress"]["planned"] == 3 and plan["progress"]["transferred"] == 0
        argv = ["carryover", "run", "--id", cid, "--operator", "op-7"]
        assert await starter.main(argv, env.client, settings) == 0
        captured = capsys.readouterr()
        assert json.loads(captured.out)["progress"]["transferred"] == 3
        assert "3/3" in captured.err  # the progress bar
        assert await starter.main(["carryover", "status", "--id", cid, "--follow"], env.client, settings) == 0
        status = json.loads(capsys.readouterr().out)
        assert (status["done"], status["total"], status["finished"]) == (3, 3, True)
        view = await desk.handle(slips["land"].dossier_code).query(DossierWorkflow.view)
        assert (view.timeline[-1].actor_id, view.timeline[-1].actor_roles) == ("op-7", ("operator",))
        assert await starter.main(["carryover", "status", "--id", "never-started"], env.client, settings) == 2


class TestTransferAcrossContinueAsNew:
    async def test_the_successor_and_the_transfer_id_survive_continue_as_new(self, env, desk):
        """Carried over, then pushed through several runs: still at the successor, the old
        officers still refused, and the same transfer id (sent with a new update id) still a no-op."""
        if env.supports_time_skipping:
            pytest.skip("the Java test server's continue-as-new is not atomic with updates: local dev server")
        handle = await desk.start(continue_as_new_after_events=50)
        ngoc_ha = "000.00008.00.H01"
        first = TransferInput(
            transfer_id="co-1", to_unit=Unit(code=ngoc_ha, name="UBND Phường Ngọc Hà", province_code="01")
        )
        await handle.execute_update(DossierWorkflow.transfer, first)
        specialist = officer(Role.SPECIALIST, ngoc_ha, "specialist")
        counter_officer = Actor(id="counter-1", roles=(Role.COUNTER_OFFICER,), unit="000.00004.01.H01")

        for round_ in range(6):
            await handle.execute_update(
                DossierWorkflow.request_supplement,
                RequestSupplementInput(
                    actor=specialist, action_id=f"rs-{round_}", reason="r", documents=("x",)
                ),
            )
            await handle.execute_update(
                DossierWorkflow.supplement,
                SupplementInput(actor=counter_officer, action_id=f"s-{round_}", documents=("x",)),
            )
        view = await settled(handle)
        assert view.runs > 1 and view.handling_unit == ngoc_ha
        assert view.carried_over_from == BA_DINH_WARD  # where desk.start() put it
        again = await handle.execute_update(DossierWorkflow.transfer, first, id=f"retry-{uuid.uuid4()}")
        assert len(again.timeline) == len(view.timeline)
        assert [e.action for e in again.timeline].count("carried_over") == 1
        described = await handle.describe()
        assert described.typed_search_attributes.get(search_attributes.HANDLING_UNIT) == ngoc_ha
        with pytest.raises(WorkflowUpdateFailedError) as refused:
            await handle.execute_update(
                DossierWorkflow.request_supplement,
                RequestSupplementInput(
                    actor=officer(Role.SPECIALIST, BA_DINH_WARD, "specialist"),
                    action_id="rs-old",
                    reason="r",
                    documents=("x",),
                ),
            )
        assert refused.value.cause.type == "WrongUnit"


class TestAuditorsReadCarriedOverDossiers:
    async def test_history_through_the_command_and_the_route(self, env, desk, store, capsys, tmp_path):
        """After a real carryover, `starter.py history CODE` and `GET /audit/dossiers/{code}/history`
        read each carried-over dossier (they crashed on the transfer's actor "system")."""
        import httpx

        import starter
        from api import create_app
        from runtime.settings import Settings
        from tests.api.conftest import KEY, Api
        from tests.api.test_authorization import OFFICERS

        slips = await open_dossiers(desk)
        report = await carryover(desk, f"history-{uuid.uuid4().hex[:6]}")
        assert report.progress.transferred == 3
        url = store.engine.url.render_as_string(hide_password=False)
        settings = Settings.from_env(
            {"TASK_QUEUE": desk.task_queue, "DATA_DIR": str(tmp_path), "DATABASE_URL": url}
        )
        app = create_app(env.client, store, settings, key=KEY)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as http:
            for slip in slips.values():
                code = slip.dossier_code
                await settled(desk.handle(code))
                capsys.readouterr()
                assert await starter.main(["history", code], env.client, settings) == 0
                out = capsys.readouterr().out
                assert "transfer             system  -> accepted" in out and "agrees" in out
                response = await http.get(
                    f"/audit/dossiers/{code}/history", headers=Api.auth(OFFICERS["auditor/other"])
                )
                assert response.status_code == 200, response.text
                history = response.json()
                assert history["agrees"] is True
                [transfer] = [i for i in history["items"] if i["what"] == "transfer"]
                assert (transfer["actor_id"], transfer["details"]["from_unit"]) == (
                    "system",
                    slip.handling_unit,
                )
                assert [e["action"] for e in history["audit"]][-1] == "carried_over"


class TestTheSuccessorCounter:
    async def test_sees_and_returns_a_dossier_whose_counter_was_abolished(self, env, desk, store):
        """The district counter's dossier, carried over: the projection's receiving unit, the
        `ReceivingUnit` search attribute, the successor counter's inbox, search and report follow
        the move; the counter of receipt stays in its own column."""
        from audit.reports import ReportQuery, report
        from audit.search import SearchFilter, search
        from officers.acting import act
        from officers.inbox import inbox

        slips = await open_dossiers(desk)
        assert (await carryover(desk, f"counter-{uuid.uuid4().hex[:6]}")).progress.transferred == 3
        code = slips["district"].dossier_code
        handle = desk.handle(code)
        leader = officer(Role.LEADER, BA_DINH_WARD, "leader")
        await handle.execute_update(
            DossierWorkflow.complete_step,
            CompleteStepInput(actor=leader, action_id=action_id(), step_id="approve"),
        )
        await settled(handle)

        assert (await handle.describe()).typed_search_attributes.get(
            search_attributes.RECEIVING_UNIT
        ) == BA_DINH_COUNTER
        async with store.sessions() as session:
            row = await session.get(DossierRow, code)
        assert (row.receiving_unit, row.original_receiving_unit) == (BA_DINH_COUNTER, BA_DINH_DISTRICT)

        successor_counter = officer(Role.COUNTER_OFFICER, BA_DINH_COUNTER, "counter")
        waiting = {item.code: item.actions for item in await inbox(env.client, store, successor_counter)}
        assert waiting == {code: ("return_result",)}
        assert (
            await inbox(env.client, store, officer(Role.COUNTER_OFFICER, BA_DINH_DISTRICT, "counter")) == []
        )

        found = await search(store, SearchFilter(receiving_unit=BA_DINH_COUNTER))
        assert [(r.code, r.original_receiving_unit) for r in found.items] == [(code, BA_DINH_DISTRICT)]
        assert (await search(store, SearchFilter(receiving_unit=BA_DINH_DISTRICT))).total == 0
        june = ReportQuery(
            start=vn(1, 0), end=datetime(2025, 7, 1, tzinfo=VN_TZ), group_by=("receiving_unit",)
        )
        by_counter = {r.group["receiving_unit"]: r.counts.received for r in (await report(store, june)).rows}
        assert by_counter[BA_DINH_COUNTER] == 1 and BA_DINH_DISTRICT not in by_counter

        view = await act(
            env.client,
            code,
            "return_result",
            ReturnResultInput(actor=successor_counter, action_id=action_id()),
        )
        assert view.status is DossierStatus.RETURNED
        await settled(handle)
