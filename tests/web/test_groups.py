"""An interlinked birth group in the browser: the counter receives it on one form (form 02 when a
document is missing) and prints one slip; the commune's specialist does the birth registration's
first step from the worklist in the browser, the other steps are done through the officers'
functions (`officers.acting.act`, as the API and the CLI); the counter returns the group's
result from the group's page, and withdraws another there; the citizen looks the group up by
its code and the slip's secret; the auditor reads the group's history and, from it, a member's.
A group submitted online is found in the counter's worklist, checked on its page from there,
and leaves the worklist once received."""

from __future__ import annotations

import asyncio
import re

from playwright.async_api import expect

from intake.group_forms import GroupReceipt, GroupRequest
from intake.groups import GroupIntake
from model.dossier_inputs import Actor
from officers.acting import act, action_input
from procedures.models import Channel, Role, StepPlace
from tests.builders import APPLICANT as APPLICANT_AT_COUNTER
from tests.builders import BA_DINH_COMMITTEE, BA_DINH_COUNTER, COUNTER
from tests.group_builders import (
    BA_DINH_POLICE,
    BIRTH_DOCUMENTS,
    HANOI_SOCIAL_INSURANCE,
    ONLINE_SERVICE,
    closed_result,
)
from tests.web.conftest import sign_in
from workflows.dossier import DossierWorkflow

APPLICANT = "Trần Thị Liên Thông"
PERSONAL_ID = "001190654321"


async def fill_group_form(page, documents: list[str]) -> None:
    await page.goto("/web/counter")
    await page.locator("a[href='/web/counter/groups/LT296.01']").click()
    await page.get_by_label("Họ và tên").fill(APPLICANT)
    await page.get_by_label("Số định danh cá nhân").fill(PERSONAL_ID)
    await page.get_by_label("Xã, phường").select_option("00004")
    for document in documents:
        await page.locator(f"input[name='documents.birth'][value={document}]").check()
    await page.get_by_role("button", name="Tiếp nhận nhóm hồ sơ").click()


async def finish_member(site, code: str, unit: str) -> None:
    """The member's remaining steps, each by an officer of the role and unit it needs, through
    the officers' own function (the policy first, then the workflow's update)."""
    handle = site.client.get_workflow_handle_for(DossierWorkflow.run, code)
    for _ in range(200):
        view = await handle.query(DossierWorkflow.view)
        if view.current_step is None:
            return
        step = view.current_step
        where = unit if step.place is StepPlace.HANDLING else BA_DINH_COUNTER
        officer = Actor(id=f"{step.role.value}-1", roles=(step.role,), unit=where)
        request = action_input(officer, "complete_step", f"{code}-{step.id}", step_id=step.id)
        await act(site.client, code, "complete_step", request)
    raise AssertionError(f"{code} never finished")


async def started(site, code: str) -> None:
    """Wait until the group has started member `code` (its workflow answers)."""
    handle = site.client.get_workflow_handle_for(DossierWorkflow.run, code)
    for _ in range(200):
        try:
            await handle.query(DossierWorkflow.view)
            return
        except Exception:  # not started yet
            await asyncio.sleep(0.05)
    raise AssertionError(f"{code} was never started")


async def reload_until(page, url: str, selector: str, count: int) -> None:
    """Open `url` until `selector` matches `count` elements: the worklist reads the records
    store, which the group's projection writes a moment after each change."""
    for _ in range(100):
        await page.goto(url)
        if await page.locator(selector).count() == count:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url}: {selector} never matched {count} times")


class TestBirthGroupInTheBrowser:
    async def test_received_on_one_slip_each_agency_its_part_returned_and_looked_up(self, site, new_page):
        counter = await new_page()
        await sign_in(counter, await site.account(Role.COUNTER_OFFICER))
        # A missing birth certificate: form 02 names the member's document, nothing is received.
        await fill_group_form(counter, ["declaration"])
        await expect(counter.get_by_test_id("form-02")).to_contain_text("Giấy chứng sinh")

        await fill_group_form(counter, ["declaration", "birth_certificate"])
        slip = counter.get_by_test_id("form-01")
        await expect(slip).to_contain_text("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ")
        await expect(slip).to_contain_text(APPLICANT)
        code = (await counter.get_by_test_id("group-code").inner_text()).strip()
        secret = (await counter.get_by_test_id("secret").inner_text()).strip()
        assert re.fullmatch(r"000\.00004\.01\.H01-\d{6}-\d{4}", code)
        members = counter.get_by_test_id("slip-members")
        for n in (1, 2, 3):
            await expect(members).to_contain_text(f"{code}-{n}")
        await expect(members).to_contain_text("Đăng ký khai sinh")
        await expect(counter.get_by_test_id("appointment")).to_have_text(re.compile(r"17:00 \d\d/\d\d/\d{4}"))
        await expect(counter.get_by_test_id("qr").locator("svg")).to_be_visible()

        # The birth registration is in the commune's worklist like any dossier: its first step
        # is done there, in the browser; the police's and the insurance's parts through the
        # officers' functions once the group starts them.
        birth = f"{code}-1"
        specialist = await new_page()
        await sign_in(specialist, await site.account(Role.SPECIALIST, unit=BA_DINH_COMMITTEE))
        await started(site, birth)
        item = specialist.locator(f"[data-test=work-item][data-code='{birth}'] a")
        for _ in range(50):  # the projection writes the row a moment after the start
            await specialist.goto("/web/worklist")
            if await item.count():
                break
            await asyncio.sleep(0.1)
        await item.click()
        await specialist.get_by_test_id("action-complete_step").get_by_role("button").click()
        await expect(specialist.get_by_test_id("done")).to_be_visible()
        await finish_member(site, birth, BA_DINH_COMMITTEE)
        for member, unit in ((f"{code}-2", BA_DINH_POLICE), (f"{code}-3", HANOI_SOCIAL_INSURANCE)):
            await started(site, member)
            await finish_member(site, member, unit)

        await counter.get_by_test_id("group-link").click()
        await expect(counter.get_by_test_id("group-code")).to_have_text(code)
        for _ in range(50):  # the last member's report reaches the group a moment later
            if "Đã có kết quả" in await counter.get_by_test_id("status").inner_text():
                break
            await asyncio.sleep(0.1)
            await counter.reload()
        await expect(counter.get_by_test_id("status")).to_contain_text("Đã có kết quả")
        rows = counter.get_by_test_id("member")
        await expect(rows).to_have_count(3)
        await expect(rows.nth(1)).to_contain_text("1.004222")
        await expect(rows.nth(1)).to_contain_text("Công an")  # the agency by its name
        await expect(rows.nth(0).locator(f"a[href='/web/dossiers/{birth}']")).to_be_visible()
        await counter.get_by_test_id("action-return_result").get_by_role("button").click()
        await expect(counter.get_by_test_id("done")).to_be_visible()
        await expect(counter.get_by_test_id("status")).to_contain_text("Đã trả kết quả")
        await expect(counter.get_by_test_id("timeline")).to_contain_text("Đã trả kết quả cả nhóm")
        await expect(counter.get_by_test_id("no-actions")).to_be_visible()
        # A member's page is a dossier's page, reached from the group's.
        await counter.locator(f"a[href='/web/dossiers/{birth}']").click()
        await expect(counter.get_by_test_id("dossier-code")).to_have_text(birth)
        await expect(
            counter.get_by_test_id("group-of").locator(f"a[href='/web/groups/{code}']")
        ).to_be_visible()

        # Another group, withdrawn from its page at the counter: the waiting members never start.
        other = await GroupIntake.standard(site.client, site.task_queue, site.records).receive(
            GroupRequest(
                group_code="LT296.01",
                applicant=APPLICANT_AT_COUNTER,
                receiving_unit=BA_DINH_COUNTER,
                documents=BIRTH_DOCUMENTS,
                received_by=COUNTER,
            )
        )
        assert isinstance(other, GroupReceipt)
        await counter.goto(f"/web/groups/{other.group_dossier_code}")
        withdraw = counter.get_by_test_id("action-withdraw")
        await withdraw.get_by_label("Lý do").fill("người dân xin rút")
        await withdraw.get_by_role("button").click()
        await expect(counter.get_by_test_id("status")).to_contain_text("Đã rút hồ sơ")
        await expect(counter.get_by_test_id("member-status").nth(2)).to_contain_text("Không thực hiện")

        # A group submitted online waits for the counter's check on its page: received there.
        online = await GroupIntake.standard(site.client, site.task_queue, site.records).register_online(
            GroupRequest(
                group_code="LT296.01",
                applicant=APPLICANT_AT_COUNTER,
                receiving_unit=BA_DINH_COUNTER,
                documents=BIRTH_DOCUMENTS,
                channel=Channel.ONLINE,
                received_by=ONLINE_SERVICE,
            ),
            8.0,
        )
        assert isinstance(online, GroupReceipt)
        # The counter finds it in its worklist (once projected), and opens its page from there.
        waiting = f'[data-test="group-check"][data-code="{online.group_dossier_code}"]'
        await reload_until(counter, "/web/worklist", waiting, 1)
        await counter.locator(waiting).get_by_role("link").click()
        await expect(counter).to_have_url(re.compile(f"/web/groups/{re.escape(online.group_dossier_code)}$"))
        await expect(counter.get_by_test_id("status")).to_contain_text("Đã đăng ký trực tuyến")
        await expect(counter.get_by_test_id("action-refuse_online")).to_be_visible()
        await counter.get_by_test_id("action-receive_online").get_by_role("button").click()
        await expect(counter.get_by_test_id("status")).to_contain_text("Đang giải quyết")
        await expect(counter.get_by_test_id("timeline")).to_contain_text("Tiếp nhận nhóm hồ sơ")
        await reload_until(counter, "/web/worklist", waiting, 0)  # received: no longer waiting

        await closed_result(site.client.get_workflow_handle(code))  # closed: its records are written
        citizen = await new_page({"width": 390, "height": 844})
        await citizen.goto("/lookup")
        await citizen.get_by_label("Mã hồ sơ").fill(code)
        await citizen.get_by_label("Mã tra cứu").fill(secret)
        await citizen.get_by_role("button", name="Tra cứu").click()
        result = citizen.get_by_test_id("lookup-result")
        await expect(result.get_by_test_id("status")).to_contain_text("Đã trả kết quả")
        await expect(result.get_by_test_id("lookup-member")).to_have_count(3)
        await expect(result).to_contain_text("1.014137")
        text = await result.inner_text()
        for private in (APPLICANT, PERSONAL_ID):
            assert private not in text

        # The auditor reads the group's own history, each member linked to its own.
        auditor = await new_page()
        await sign_in(auditor, await site.account(Role.AUDITOR))
        await auditor.goto(f"/web/audit/dossiers/{code}")
        await expect(auditor.get_by_test_id("history")).to_contain_text("member started")
        await expect(auditor.get_by_test_id("history")).to_contain_text("return_result")
        await (
            auditor.get_by_test_id("group-members").locator(f"a[href='/web/audit/dossiers/{birth}']").click()
        )
        await expect(auditor.get_by_test_id("agrees")).to_be_visible()
