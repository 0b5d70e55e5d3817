"""The other actions from the dossier page: payment requested and confirmed, refusal,
withdrawal; and the receipt form's communes following the province chosen."""

from __future__ import annotations

from playwright.async_api import expect

from procedures.models import Role
from tests.web.conftest import sign_in
from tests.web.test_counter_and_officers import receive


async def received(site, new_page, procedure: str = "1.004873", documents=("declaration",)):
    counter = await new_page()
    await sign_in(counter, await site.account(Role.COUNTER_OFFICER))
    await receive(counter, procedure, procedure, list(documents))
    return counter, (await counter.get_by_test_id("dossier-code").inner_text()).strip()


class TestOtherActions:
    async def test_payment_requested_by_the_specialist_and_confirmed_at_the_counter(self, site, new_page):
        counter, code = await received(
            site, new_page, "2.000815", ("original", "copy")
        )  # a certification, with fees
        specialist = await new_page()
        await sign_in(specialist, await site.account(Role.SPECIALIST))
        await specialist.goto(f"/web/dossiers/{code}")
        form = specialist.get_by_test_id("action-request_payment")
        await form.get_by_label("Số tiền").fill("30000")
        await form.get_by_role("button").click()
        await expect(specialist.get_by_test_id("status")).to_contain_text("Chờ thanh toán")

        await counter.goto(f"/web/dossiers/{code}")
        confirm = counter.get_by_test_id("action-confirm_payment")
        await expect(confirm.get_by_label("Số tiền")).to_have_value("30000")
        await confirm.get_by_label("Số biên lai").fill("BL-0001")
        await confirm.get_by_role("button").click()
        await expect(counter.get_by_test_id("status")).to_contain_text("Đang giải quyết")
        await expect(counter.get_by_test_id("timeline")).to_contain_text("Đã thanh toán")

    async def test_the_leader_refuses_and_the_counter_withdraws_another(self, site, new_page):
        _, refused = await received(site, new_page)
        leader = await new_page()
        await sign_in(leader, await site.account(Role.LEADER))
        await leader.goto(f"/web/dossiers/{refused}")
        form = leader.get_by_test_id("action-refuse")
        await form.get_by_label("Lý do").fill("Không đủ điều kiện")
        await form.get_by_role("button").click()
        await expect(leader.get_by_test_id("status")).to_contain_text("Dừng xử lý")
        await expect(leader.get_by_test_id("no-actions")).to_be_visible()

        counter, withdrawn = await received(site, new_page)
        await counter.goto(f"/web/dossiers/{withdrawn}")
        await counter.get_by_test_id("action-withdraw").get_by_role("button").click()
        await expect(counter.get_by_test_id("status")).to_contain_text("Đã rút hồ sơ")

    async def test_the_communes_follow_the_province(self, site, new_page):
        page = await new_page()
        await sign_in(page, await site.account(Role.COUNTER_OFFICER))
        await page.goto("/web/counter/receive/1.004873")
        await expect(page.get_by_label("Xã, phường")).to_contain_text("Phường Ba Đình")
        await page.get_by_label("Tỉnh, thành phố").select_option("24")
        await expect(page.get_by_label("Xã, phường")).to_contain_text("Phường Bắc Giang")
        await expect(page.get_by_label("Xã, phường")).not_to_contain_text("Phường Ba Đình")
