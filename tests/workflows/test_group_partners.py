"""Members done by a partner agency's own system: a group against the stand-in over real HTTP.

The partner's system is tests/partner_standin.py served on loopback; the group reaches it
through activities/partners.py, configured as a worker would be (runtime.partner_settings).
Each test closes its group (returned or refused) and every member it started.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace

import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from temporalio.api.enums.v1 import EventType
from temporalio.service import RPCError, RPCStatusCode
from temporalio.testing import WorkflowEnvironment

from assembly.workers import build_worker
from records.database import RecordsStore
from runtime.partner_settings import PartnerSettings
from runtime.temporal import binary, register_search_attributes
from tests.builders import BA_DINH_COMMITTEE, COUNTER, free_port
from tests.group_builders import BA_DINH_POLICE, GroupDesk, member
from tests.partner_standin import running, standin_app
from web.pages import TEMPLATES
from web.routes.groups import GROUP_STATUSES, MEMBER_STATUSES
from workflows.group import GROUP_PARTNER_REJECTION_PATCH, GroupWorkflow
from workflows.group_models import GroupReturnInput, GroupStatus, GroupView, GroupWithdrawInput

# Real seconds: the time-skipping server does not skip while no one waits on a result.
POLL = {"poll_seconds": 0.2, "poll_max_seconds": 1.0}


@pytest_asyncio.fixture(scope="module")
async def partner_env(data_converter) -> AsyncIterator[WorkflowEnvironment]:
    environment = await WorkflowEnvironment.start_time_skipping(
        data_converter=data_converter, test_server_existing_path=binary("temporal-test-server")
    )
    await register_search_attributes(environment.client)
    yield environment
    await environment.shutdown()


@asynccontextmanager
async def partner_desk(
    env: WorkflowEnvironment, records: RecordsStore, systems: dict[str, str]
) -> AsyncIterator[GroupDesk]:
    """A worker and a counter that both know the partners' systems, as worker.py configures them."""
    settings = PartnerSettings(systems=systems, **POLL)
    task_queue = f"partners-{uuid.uuid4()}"
    async with build_worker(env.client, task_queue, records, partners=settings):
        yield GroupDesk(env, task_queue, records, partners=settings)


async def decide(url: str, reference: str, **decision: str) -> None:
    """The agency decides, in its own system (the stand-in's back door)."""
    async with httpx.AsyncClient(base_url=url) as back_door:
        response = await back_door.post(f"/submissions/{reference}/decision", json=decision)
        response.raise_for_status()


async def until_calls(app: FastAPI, status: int, count: int, timeout: float = 15) -> None:
    """Until the stand-in has answered `count` interface calls with `status`."""
    deadline = asyncio.get_running_loop().time() + timeout
    while sum(1 for call in app.state.calls if call[2] == status) < count:
        assert asyncio.get_running_loop().time() < deadline, app.state.calls
        await asyncio.sleep(0.05)


async def return_group(desk: GroupDesk, code: str) -> GroupView:
    await desk.group(code).execute_update(
        GroupWorkflow.return_result, GroupReturnInput(actor=COUNTER, action_id=f"{code}-return")
    )
    return await desk.finished(code)


def group_page(view: GroupView) -> str:
    """The group's web page (web/templates/group.html) for `view`, read by no one signed in."""
    return TEMPLATES.get_template("group.html").render(
        request=SimpleNamespace(query_params={}),
        staff=None,
        view=view,
        counter_name=view.receiving_unit,
        actions=[],
        MEMBER_STATUSES=MEMBER_STATUSES,
        GROUP_STATUSES=GROUP_STATUSES,
    )


def entries(view: GroupView, key: str) -> list[tuple[str, str]]:
    return [(e.action, e.actor_id) for e in view.timeline if e.member == key]


async def has_no_dossier(desk: GroupDesk, code: str) -> bool:
    try:
        await desk.member(code).describe()
    except RPCError as err:
        return err.status is RPCStatusCode.NOT_FOUND
    return False


async def birth_done(desk: GroupDesk) -> tuple[str, dict[str, str]]:
    """A group received and its birth registration done by the commune: the group's code and
    its members' codes by key."""
    receipt = await desk.receive()
    codes = {m.key: m.dossier_code for m in receipt.members}
    await desk.do_member(codes["birth"], BA_DINH_COMMITTEE)
    return receipt.group_dossier_code, codes


class TestPartnerMember:
    """A member whose agency runs its own system is handed to it, and its answer is the member's."""

    async def test_insurance_done_by_the_partner_s_system_the_group_ends_with_the_result(
        self, partner_env: WorkflowEnvironment, records: RecordsStore
    ) -> None:
        """Social insurance's system does the card: the commune and the police do their parts
        here, the insurance member is submitted to the partner with both results, the partner's
        decision is the member's result, and the group is answered and returned."""
        app = standin_app("BHXH")
        async with running(app) as url, partner_desk(partner_env, records, {"social_insurance": url}) as desk:
            code, codes = await birth_done(desk)
            await desk.until(code, lambda v: member(v, "residence").status == "processing")
            await desk.do_member(codes["residence"], BA_DINH_POLICE)

            view = await desk.until(code, lambda v: member(v, "insurance").partner_reference != "")
            insurance = member(view, "insurance")
            assert (insurance.code, insurance.partner, insurance.status) == (
                codes["insurance"],
                url,
                "processing",
            )
            [submission] = app.state.submissions
            assert submission.member_code == codes["insurance"] and submission.group_code == code
            assert submission.results == {"birth": codes["birth"], "residence": codes["residence"]}
            assert await has_no_dossier(desk, codes["insurance"])  # its part is not done here
            assert view.status is GroupStatus.PROCESSING

            await decide(url, insurance.partner_reference, state="processed", result_reference="BHYT-0001")
            view = await desk.until(code, lambda v: v.status is GroupStatus.PROCESSED)
            insurance = member(view, "insurance")
            assert (insurance.status, insurance.result_reference) == ("processed", "BHYT-0001")
            assert entries(view, "insurance") == [
                ("member_started", "system"),
                ("member_submitted_to_partner", "partner:social_insurance"),
                ("member_processed", "partner:social_insurance"),
            ]
            started, submitted, processed = (e for e in view.timeline if e.member == "insurance")
            assert started.details["partner"] == submitted.details["partner"] == url
            assert processed.details["result_reference"] == "BHYT-0001"

            page = group_page(view)
            assert f'href="/web/dossiers/{codes["birth"]}"' in page  # a dossier here
            assert f'href="/web/dossiers/{codes["insurance"]}"' not in page  # none: the partner's
            assert f"hệ thống riêng của cơ quan: {url}, số {insurance.partner_reference}" in page

            result = await return_group(desk, code)
            assert result.status is GroupStatus.RETURNED
            assert [m.status for m in result.members] == ["returned", "returned", "returned"]
            for key in ("birth", "residence"):
                assert (await desk.member(codes[key]).result()).status.value == "returned"

    async def test_the_partner_refusing_stops_the_members_that_need_it(
        self, partner_env: WorkflowEnvironment, records: RecordsStore
    ) -> None:
        """The police's system refuses the residence registration: the insurance card, which needs
        it, is never started; the birth registration done here stays done."""
        app = standin_app("CA")
        async with running(app) as url, partner_desk(partner_env, records, {"commune_police": url}) as desk:
            code, codes = await birth_done(desk)
            view = await desk.until(code, lambda v: member(v, "residence").partner_reference != "")
            [submission] = app.state.submissions
            assert submission.results == {"birth": codes["birth"]}

            await decide(
                url,
                member(view, "residence").partner_reference,
                state="refused",
                reason="địa chỉ không có thật",
            )
            view = await desk.until(code, lambda v: v.status is GroupStatus.PROCESSED)
            assert [member(view, k).status for k in ("birth", "residence", "insurance")] == [
                "processed",
                "refused",
                "stopped",
            ]
            assert "địa chỉ không có thật" in member(view, "insurance").outcome_reason
            assert ("member_refused", "partner:commune_police") in entries(view, "residence")
            assert [e.action for e in view.timeline if e.member == "insurance"] == ["member_stopped"]
            assert await has_no_dossier(desk, codes["insurance"])

            result = await return_group(desk, code)
            assert [m.status for m in result.members] == ["returned", "refused", "stopped"]
            assert (await desk.member(codes["birth"]).result()).status.value == "returned"

    async def test_the_partner_down_for_a_while_delays_but_loses_nothing_and_is_submitted_once(
        self, partner_env: WorkflowEnvironment, records: RecordsStore
    ) -> None:
        """Social insurance's system is unreachable (nothing listens), then answers 503, while the
        group submits; later 503 again while the group asks for the decision. The member is
        submitted once, its decision arrives, and the group's history holds one submission."""
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        async with partner_desk(partner_env, records, {"social_insurance": url}) as desk:
            code, codes = await birth_done(desk)
            await desk.until(code, lambda v: member(v, "residence").status == "processing")
            await desk.do_member(codes["residence"], BA_DINH_POLICE)
            await desk.until(code, lambda v: member(v, "insurance").status == "processing")
            await until_attempts(desk, code, "submit_to_partner", 3, "ConnectError")

            app = standin_app("BHXH")
            app.state.down = True
            async with running(app, port):
                await until_calls(app, 503, 2)  # up, but in maintenance
                view = await desk.group(code).query(GroupWorkflow.view)
                assert app.state.submissions == [] and member(view, "insurance").partner_reference == ""
                app.state.down = False
                view = await desk.until(code, lambda v: member(v, "insurance").partner_reference != "")
                reference = member(view, "insurance").partner_reference

                app.state.down = True  # down again while the group waits for the decision
                seen = sum(1 for call in app.state.calls if call[2] == 503)
                await until_calls(app, 503, seen + 2)
                await decide(url, reference, state="processed", result_reference="BHYT-0002")
                app.state.down = False
                view = await desk.until(code, lambda v: v.status is GroupStatus.PROCESSED)
                assert member(view, "insurance").result_reference == "BHYT-0002"
                assert len(app.state.submissions) == 1
                assert [c for c in app.state.calls if c[0] == "PUT" and c[2] == 200] == [
                    ("PUT", f"/submissions/{codes['insurance']}", 200)
                ]
                result = await return_group(desk, code)
            assert result.status is GroupStatus.RETURNED
            history = await desk.group(code).fetch_history()
            scheduled = [
                e.activity_task_scheduled_event_attributes.activity_type.name
                for e in history.events
                if e.HasField("activity_task_scheduled_event_attributes")
            ]
            # The retries and the polls are attempts of one activity each, not events.
            assert scheduled.count("submit_to_partner") == scheduled.count("partner_outcome") == 1


async def until_attempts(desk: GroupDesk, code: str, activity: str, attempts: int, failure: str) -> None:
    """Until the group's pending `activity` has failed `attempts` times with `failure`."""
    deadline = asyncio.get_running_loop().time() + 15
    while True:
        description = await desk.group(code).describe()
        pending = [
            p for p in description.raw_description.pending_activities if p.activity_type.name == activity
        ]
        if pending and pending[0].attempt > attempts:
            # Failures are sealed by the payload codec: opened with the client's converter.
            last = await desk.client.data_converter.decode_failure(pending[0].last_failure)
            if failure in str(last):
                return
        assert asyncio.get_running_loop().time() < deadline, [(p.attempt, p.state) for p in pending]
        await asyncio.sleep(0.1)


@pytest.fixture(autouse=True)
def _no_partner_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # The tests name their systems themselves; a developer's PARTNER_SYSTEMS must not leak in.
    monkeypatch.delenv("PARTNER_SYSTEMS", raising=False)


class TestWithdrawnWithAPartnerMember:
    """The applicant withdraws a group while a partner's system has one of its members."""

    async def test_withdrawal_stops_asking_the_partner_and_closes_the_group(
        self, partner_env: WorkflowEnvironment, records: RecordsStore
    ) -> None:
        """Withdrawn while the commune's system has the birth registration: the member is
        withdrawn in the group (the interface has no withdrawal, so the partner is not told), the
        engine stops asking, the members that needed it are stopped, and the group closes."""
        app = standin_app("UBND")
        async with running(app) as url:
            systems = {"commune_peoples_committee": url}
            async with partner_desk(partner_env, records, systems) as desk:
                receipt = await desk.receive()
                code = receipt.group_dossier_code
                await desk.until(code, lambda v: member(v, "birth").partner_reference != "")
                await desk.group(code).execute_update(
                    GroupWorkflow.withdraw, GroupWithdrawInput(actor=COUNTER, action_id=f"{code}-withdraw")
                )
                result = await desk.finished(code)
                assert result.status is GroupStatus.WITHDRAWN
                assert [m.status for m in result.members] == ["withdrawn", "stopped", "stopped"]
                assert "partner's system was not told" in member(result, "birth").outcome_reason
                assert all([await has_no_dossier(desk, m.code) for m in result.members])
                asked = len(app.state.calls)
                await asyncio.sleep(1.5)  # longer than the longest wait between two questions
                assert len(app.state.calls) == asked


def patch_markers(history) -> list[str]:
    return [
        json.loads(e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)["id"]
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
        and "patch-data" in e.marker_recorded_event_attributes.details
    ]


class TestPartnerRejection:
    """A partner's system that rejects a member for good (an HTTP 4xx) refuses it: the group goes
    on as for a member the partner refused, instead of asking again until it is late."""

    async def test_a_422_on_submission_refuses_the_member_with_the_partner_s_reason(
        self, partner_env: WorkflowEnvironment, records: RecordsStore
    ) -> None:
        """The police's system answers 422 with its reason to the residence's submission: asked
        once, the member is refused by the police with that reason, the insurance card that
        needs it is stopped, and the group is answered with the birth registration's result."""
        app = standin_app("CA")
        app.state.failing["PUT"] = (422, {"reason": "số định danh của mẹ không khớp"})
        async with running(app) as url, partner_desk(partner_env, records, {"commune_police": url}) as desk:
            code, codes = await birth_done(desk)
            view = await desk.until(code, lambda v: v.status is GroupStatus.PROCESSED)
            assert [member(view, k).status for k in ("birth", "residence", "insurance")] == [
                "processed",
                "refused",
                "stopped",
            ]
            residence = member(view, "residence")
            assert residence.outcome_reason == (
                f"hệ thống của {residence.handling_unit_name} từ chối tiếp nhận hồ sơ: "
                "HTTP 422 – số định danh của mẹ không khớp"
            )
            assert entries(view, "residence") == [
                ("member_started", "system"),
                ("member_refused", "partner:commune_police"),
            ]
            assert "số định danh của mẹ không khớp" in member(view, "insurance").outcome_reason
            assert [e.action for e in view.timeline if e.member == "insurance"] == ["member_stopped"]
            assert [c for c in app.state.calls if c[0] == "PUT"] == [
                ("PUT", f"/submissions/{codes['residence']}", 422)
            ]  # rejected once, never asked again

            result = await return_group(desk, code)
            assert [m.status for m in result.members] == ["returned", "refused", "stopped"]
            assert (await desk.member(codes["birth"]).result()).status.value == "returned"
            history = await desk.group(code).fetch_history()
            assert GROUP_PARTNER_REJECTION_PATCH in patch_markers(history)

    async def test_a_404_on_the_outcome_refuses_the_member_after_its_submission(
        self, partner_env: WorkflowEnvironment, records: RecordsStore
    ) -> None:
        """The police's system takes the submission, then answers 404 when asked for its
        decision (it lost the reference): the member is refused, its dependents stopped."""
        app = standin_app("CA")
        app.state.failing["GET"] = (404, {"detail": "không có hồ sơ này"})
        async with running(app) as url, partner_desk(partner_env, records, {"commune_police": url}) as desk:
            code, codes = await birth_done(desk)
            view = await desk.until(code, lambda v: v.status is GroupStatus.PROCESSED)
            residence = member(view, "residence")
            assert (residence.status, residence.partner_reference) == ("refused", "CA-1")
            assert "từ chối khi hỏi kết quả: HTTP 404 – không có hồ sơ này" in residence.outcome_reason
            assert entries(view, "residence") == [
                ("member_started", "system"),
                ("member_submitted_to_partner", "partner:commune_police"),
                ("member_refused", "partner:commune_police"),
            ]
            assert member(view, "insurance").status == "stopped"
            assert [c[2] for c in app.state.calls if c[0] == "GET"] == [404]
            result = await return_group(desk, code)
            assert [m.status for m in result.members] == ["returned", "refused", "stopped"]

    async def test_our_rejected_token_and_a_throttle_are_retried_not_a_refusal(
        self, partner_env: WorkflowEnvironment, records: RecordsStore
    ) -> None:
        """401 (our token: an operator fixes it) and 429 (throttled) are asked again: the member
        stays with the partner, submitted once the system takes it."""
        app = standin_app("CA")
        app.state.failing["PUT"] = (401, {"reason": "token hết hạn"})
        async with running(app) as url, partner_desk(partner_env, records, {"commune_police": url}) as desk:
            code, codes = await birth_done(desk)
            await until_calls(app, 401, 2)
            app.state.failing["PUT"] = (429, {"reason": "chậm lại"})
            await until_calls(app, 429, 2)
            view = await desk.group(code).query(GroupWorkflow.view)
            assert member(view, "residence").status == "processing"
            del app.state.failing["PUT"]
            view = await desk.until(code, lambda v: member(v, "residence").partner_reference != "")
            await decide(url, member(view, "residence").partner_reference, state="refused", reason="r")
            view = await desk.until(code, lambda v: v.status is GroupStatus.PROCESSED)
            assert member(view, "residence").outcome_reason == "r"
            result = await return_group(desk, code)
            assert [m.status for m in result.members] == ["returned", "refused", "stopped"]
            history = await desk.group(code).fetch_history()
            assert GROUP_PARTNER_REJECTION_PATCH not in patch_markers(history)
