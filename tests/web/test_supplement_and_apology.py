"""A supplementation round-trip, and an overdue dossier's apology (form 04), in the browser."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from playwright.async_api import expect

from adminunits import VN_TZ
from intake.service import IntakeService
from procedures.calendar import WorkingCalendar
from procedures.models import Role
from tests.builders import request
from tests.web.conftest import sign_in
from tests.web.test_counter_and_officers import receive
from workflows.dossier import DossierWorkflow


async def overdue_dossier(site) -> str:
    """A dossier backfilled three weeks after its receipt: its deadline has passed."""
    intake = IntakeService.standard(site.client, site.task_queue, site.records)
    slip = await intake.receive(request("1.004873", received_at=datetime.now(VN_TZ) - timedelta(days=21)))
    handle = site.client.get_workflow_handle_for(DossierWorkflow.run, slip.dossier_code)
    for _ in range(100):
        if (await handle.query(DossierWorkflow.view)).apology_due:
            return slip.dossier_code
        await asyncio.sleep(0.1)
    raise AssertionError("the backfilled dossier did not become overdue")


class TestSupplementation:
    async def test_the_specialist_asks_and_the_counter_supplements(self, site, new_page):
        counter = await new_page()
        await sign_in(counter, await site.account(Role.COUNTER_OFFICER))
        await receive(counter, "1.004873", "1.004873", ["declaration"])
        code = (await counter.get_by_test_id("dossier-code").inner_text()).strip()

        specialist = await new_page()
        await sign_in(specialist, await site.account(Role.SPECIALIST))
        await specialist.goto(f"/web/dossiers/{code}")
        form = specialist.get_by_test_id("action-request_supplement")
        await form.get_by_label("Lý do").fill("Thiếu bản án ly hôn")
        await form.get_by_label("Giấy tờ").fill("Bản án ly hôn")
        await form.get_by_role("button").click()
        await expect(specialist.get_by_test_id("status")).to_contain_text("Yêu cầu bổ sung")
        # Only what the specialist may do now: nothing, while the applicant supplements.
        await expect(specialist.get_by_test_id("no-actions")).to_be_visible()

        await counter.goto("/web/worklist")
        await counter.locator(f"[data-test=work-item][data-code='{code}'] a").click()
        supplement = counter.get_by_test_id("action-supplement")
        await expect(supplement.get_by_label("Giấy tờ")).to_have_value("Bản án ly hôn")
        await supplement.get_by_role("button").click()
        await expect(counter.get_by_test_id("status")).to_contain_text("Đang giải quyết")
        await expect(counter.get_by_test_id("timeline")).to_contain_text("Đã bổ sung hồ sơ")

    async def test_a_refusal_of_the_workflow_is_shown_with_the_input_kept(self, site, new_page):
        """An empty document list (the API's 422) comes back as a message, the reason kept."""
        counter = await new_page()
        await sign_in(counter, await site.account(Role.COUNTER_OFFICER))
        await receive(counter, "1.004873", "1.004873", ["declaration"])
        code = (await counter.get_by_test_id("dossier-code").inner_text()).strip()
        specialist = await new_page()
        await sign_in(specialist, await site.account(Role.SPECIALIST))
        await specialist.goto(f"/web/dossiers/{code}")
        form = specialist.get_by_test_id("action-request_supplement")
        await form.get_by_label("Lý do").fill("Thiếu giấy tờ")
        await form.locator("textarea[name=documents]").evaluate("e => e.removeAttribute('required')")
        await form.get_by_role("button").click()
        await expect(specialist.get_by_test_id("message")).to_contain_text("documents")
        await expect(
            specialist.get_by_test_id("action-request_supplement").get_by_label("Lý do")
        ).to_have_value("Thiếu giấy tờ")


class TestApology:
    async def test_the_leader_apologises_for_an_overdue_dossier_once(self, site, new_page):
        code = await overdue_dossier(site)
        leader = await new_page()
        await sign_in(leader, await site.account(Role.LEADER))
        await leader.goto("/web/worklist")
        first = leader.get_by_test_id("work-item").first
        await expect(first).to_have_class("overdue")
        await expect(leader.locator(f"[data-test=work-item][data-code='{code}']")).to_contain_text("Quá hạn")

        await leader.goto(f"/web/dossiers/{code}")
        form = leader.get_by_test_id("action-issue_apology")
        await expect(form).to_contain_text("Mẫu số 04")
        # The date picker offers working days only, each at the close of office.
        calendar = WorkingCalendar.default()
        offered = await form.locator("select[name=new_due_at] option").evaluate_all(
            "os => os.map(o => o.value)"
        )
        assert offered
        for value in offered:
            moment = datetime.fromisoformat(value).astimezone(VN_TZ)
            assert calendar.is_working_day(moment.date()) and moment.hour == 17
        await form.get_by_label("Lý do chậm").fill("Chờ xác minh của cơ quan khác")
        await form.get_by_test_id("new-due-at").select_option(offered[2])
        fields = {
            name: await form.locator(f"[name={name}]").input_value()
            for name in ("csrf_token", "action_id", "reason", "new_due_at")
        }
        await form.get_by_role("button").click()
        await expect(leader.get_by_test_id("done")).to_be_visible()
        await expect(leader.get_by_test_id("due")).to_have_text(
            datetime.fromisoformat(offered[2]).astimezone(VN_TZ).strftime("17:00 %d/%m/%Y")
        )
        # The browser resubmits the same form: the same idempotency key applies nothing twice.
        again = await leader.request.post(f"/web/dossiers/{code}/actions/issue_apology", form=fields)
        assert again.ok
        view = await site.client.get_workflow_handle_for(DossierWorkflow.run, code).query(
            DossierWorkflow.view
        )
        assert [e.action for e in view.timeline].count("apology_issued") == 1

    async def test_the_specialist_is_not_offered_the_apology(self, site, new_page):
        code = await overdue_dossier(site)
        specialist = await new_page()
        await sign_in(specialist, await site.account(Role.SPECIALIST))
        await specialist.goto(f"/web/dossiers/{code}")
        await expect(specialist.get_by_test_id("action-complete_step")).to_be_visible()
        await expect(specialist.get_by_test_id("action-issue_apology")).to_have_count(0)
        # Posting it anyway is refused by the same policy the API uses.
        csrf = await specialist.locator("form.signout input[name=csrf_token]").input_value()
        refused = await specialist.request.post(
            f"/web/dossiers/{code}/actions/issue_apology",
            form={"csrf_token": csrf, "action_id": "x-1", "reason": "r", "new_due_at": "2030-01-02T17:00"},
        )
        assert refused.status == 409 and "WrongRole" in await refused.text()
