"""A dossier's life in the browser: the counter receives it and prints the slip, the specialist
and the leader complete their steps from their worklists, the counter returns the result; the
citizen looks it up with the slip's secret and is refused without it."""

from __future__ import annotations

import re

from playwright.async_api import expect

from procedures.models import Role
from records.staff_tables import LookupSecretRow
from tests.web.conftest import sign_in
from workflows.dossier import DossierWorkflow

APPLICANT = "Nguyễn Thị Thử"


async def receive(page, procedure_search: str, procedure_code: str, documents: list[str]) -> None:
    await page.goto("/web/counter")
    await page.get_by_label("Tên hoặc mã thủ tục").fill(procedure_search)
    await page.get_by_role("button", name="Tìm").click()
    await page.locator(f"a[href='/web/counter/receive/{procedure_code}']").click()
    await page.get_by_label("Họ và tên").fill(APPLICANT)
    await page.get_by_label("Số định danh cá nhân").fill("001190123456")
    await page.get_by_label("Xã, phường").select_option("00004")
    for document in documents:
        await page.locator(f"input[name=documents][value={document}]").check()
    await page.get_by_role("button", name="Tiếp nhận").click()


async def complete_from_worklist(page, code: str) -> None:
    await page.goto("/web/worklist")
    await page.locator(f"[data-test=work-item][data-code='{code}'] a").click()
    await page.get_by_test_id("action-complete_step").get_by_role("button").click()
    await expect(page.get_by_test_id("done")).to_be_visible()


class TestDossierLifecycle:
    async def test_received_handled_returned_and_looked_up(self, site, new_page):
        counter = await new_page()
        await sign_in(counter, await site.account(Role.COUNTER_OFFICER))
        await receive(counter, "xac nhan tinh trang hon nhan", "1.004873", ["declaration"])

        slip = counter.get_by_test_id("form-01")
        await expect(slip).to_contain_text("GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ")
        await expect(slip).to_contain_text(APPLICANT)
        await expect(slip).to_contain_text("Tờ khai cấp Giấy xác nhận tình trạng hôn nhân")
        code = (await counter.get_by_test_id("dossier-code").inner_text()).strip()
        secret = (await counter.get_by_test_id("secret").inner_text()).strip()
        assert re.fullmatch(r"000\.00004\.01\.H01-\d{6}-\d{4}", code)
        await expect(counter.get_by_test_id("appointment")).to_have_text(re.compile(r"17:00 \d\d/\d\d/\d{4}"))
        await expect(counter.get_by_test_id("qr").locator("svg")).to_be_visible()
        # The secret is stored only as a hash.
        async with site.records.sessions() as session:
            stored = await session.get(LookupSecretRow, code)
        assert stored.secret_hash != secret and secret not in stored.secret_hash

        specialist = await new_page()
        await sign_in(specialist, await site.account(Role.SPECIALIST))
        await complete_from_worklist(specialist, code)
        leader = await new_page()
        await sign_in(leader, await site.account(Role.LEADER))
        await complete_from_worklist(leader, code)

        await counter.goto(f"/web/dossiers/{code}")
        await expect(counter.get_by_test_id("status")).to_contain_text("Đã có kết quả")
        await counter.get_by_test_id("action-return_result").get_by_role("button").click()
        await expect(counter.get_by_test_id("status")).to_contain_text("Đã trả kết quả")
        await expect(counter.get_by_test_id("timeline")).to_contain_text("Đã trả kết quả")

        citizen = await new_page({"width": 390, "height": 844})  # a phone
        await citizen.goto("/lookup")
        await citizen.get_by_label("Mã hồ sơ").fill(code)
        await citizen.get_by_label("Mã tra cứu").fill("WRONGSECRET")
        await citizen.get_by_role("button", name="Tra cứu").click()
        await expect(citizen.get_by_test_id("message")).to_contain_text("Không tìm thấy")
        await expect(citizen.get_by_test_id("lookup-result")).to_have_count(0)

        await citizen.get_by_label("Mã tra cứu").fill(secret)
        await citizen.get_by_role("button", name="Tra cứu").click()
        result = citizen.get_by_test_id("lookup-result")
        await expect(result.get_by_test_id("status")).to_contain_text("Đã trả kết quả")
        await expect(result).to_contain_text("Phường Ba Đình")
        text = await result.inner_text()
        view = await site.client.get_workflow_handle_for(DossierWorkflow.run, code).query(
            DossierWorkflow.view
        )
        for private in (APPLICANT, "001190123456", *(e.actor_id for e in view.timeline)):
            assert private not in text

    async def test_the_slip_link_fills_the_lookup_form(self, site, new_page):
        """The QR code's link carries code and secret after '#': the page fills them in."""
        page = await new_page()
        await page.goto("/lookup#code=000.00004.01.H01-250101-0001&secret=ABCDEFGHJK")
        await expect(page.get_by_label("Mã hồ sơ")).to_have_value("000.00004.01.H01-250101-0001")
        await expect(page.get_by_label("Mã tra cứu")).to_have_value("ABCDEFGHJK")

    async def test_missing_documents_give_form_02_and_the_form_keeps_its_input(self, site, new_page):
        page = await new_page()
        await sign_in(page, await site.account(Role.COUNTER_OFFICER))
        await receive(page, "dang ky khai sinh", "1.001193", ["declaration"])
        await expect(page.get_by_test_id("form-02")).to_contain_text("Giấy chứng sinh")
        # The document a national database supplies is never asked for.
        await expect(page.get_by_test_id("form-02")).not_to_contain_text("Giấy tờ tùy thân")

    async def test_a_bad_personal_id_is_named_and_the_input_kept(self, site, new_page):
        page = await new_page()
        await sign_in(page, await site.account(Role.COUNTER_OFFICER))
        await page.goto("/web/counter/receive/1.004873")
        await page.get_by_label("Họ và tên").fill(APPLICANT)
        await page.get_by_label("Số định danh cá nhân").fill("12345")
        await page.locator("input[name=documents][value=declaration]").check()
        await page.get_by_role("button", name="Tiếp nhận").click()
        await expect(page.get_by_test_id("message")).to_contain_text("personal_id")
        # What an ID is, not pydantic's "String should have at least 12 characters".
        await expect(page.get_by_test_id("message")).to_contain_text("must be 12 ASCII digits 0-9")
        await expect(page.get_by_label("Họ và tên")).to_have_value(APPLICANT)
        await expect(page.locator("input[name=documents][value=declaration]")).to_be_checked()
