"""The public web form for an interlinked group: one application online for the birth group of
Decision 296, through the same intake as `POST /online/groups`.

A citizen on a phone chooses the group under the procedure search, fills the applicant and
each member's files; a bad personal ID and then a missing birth certificate are named on their
fields with the input and the stored file kept; corrected, the group is registered (status 1,
one group code, every part's code and agency, the check's deadline, the lookup secret). The
same form posted again gives the same group; the group is looked up with its code and secret,
and the counter's form 02 is completed there.
"""

from __future__ import annotations

import asyncio
import hashlib
import re

from playwright.async_api import expect
from sqlalchemy import select

from model.dossier_inputs import RefuseOnlineInput, RequestOnlineCompletionInput
from records.tables import GroupMemberRow, IntakeRequestRow
from tests.builders import BA_DINH_COUNTER, COUNTER
from tests.group_builders import closed_result
from web.routes.citizen import COMPLETED
from workflows.group import GroupWorkflow
from workflows.group_models import GroupStatus

APPLICANT = "Lê Thị Nộp Nhóm"
PERSONAL_ID = "001190765499"
PDF = b"%PDF-1.7\n" + b"to khai dang ky khai sinh " * 30
DECLARATION = {"name": "to-khai.pdf", "mimeType": "application/pdf", "buffer": PDF}
CERTIFICATE = {
    "name": "giay-chung-sinh.pdf",
    "mimeType": "application/pdf",
    "buffer": PDF + b" giay chung sinh",
}


async def public_csrf(page) -> str:
    cookies = await page.context.cookies()
    return next(c["value"] for c in cookies if c["name"] == "onestop_public_csrf")


async def lookup(page, code: str, secret: str) -> None:
    await page.goto("/lookup")
    await page.get_by_label("Mã hồ sơ").fill(code)
    await page.get_by_label("Mã tra cứu").fill(secret)
    await page.get_by_role("button", name="Tra cứu").click()


class TestOnlineGroupForm:
    async def test_a_group_applied_for_online_once_registered_and_looked_up(self, site, new_page):
        citizen = await new_page({"width": 390, "height": 844})  # a phone
        await citizen.goto("/apply")
        await citizen.get_by_test_id("groups").locator("a[href='/apply/groups/LT296.01']").click()
        await expect(citizen.get_by_role("heading", level=1)).to_contain_text("khai sinh")
        await citizen.get_by_label("Họ và tên").fill(APPLICANT)
        await citizen.get_by_label("Số định danh cá nhân").fill("12345")
        await citizen.get_by_label("Tỉnh, thành phố").select_option("01")
        # The province's communes and one-stop sections come from /apply/places.
        await expect(citizen.locator("select[name=commune_code] option[value='00004']")).to_have_count(1)
        await citizen.get_by_label("Xã, phường").select_option("00004")
        await expect(citizen.get_by_label("Bộ phận Một cửa tiếp nhận")).to_have_value(BA_DINH_COUNTER)
        await citizen.locator("input[name='file-birth.declaration']").set_input_files(DECLARATION)
        await citizen.get_by_role("button", name="Nộp hồ sơ nhóm").click()

        # A bad personal ID: named on its field, the input and the stored file kept.
        await expect(citizen.get_by_test_id("error-personal_id")).to_be_visible()
        await expect(citizen.get_by_label("Họ và tên")).to_have_value(APPLICANT)
        await expect(citizen.get_by_label("Xã, phường")).to_have_value("00004")
        await expect(citizen.get_by_test_id("kept-birth.declaration")).to_be_visible()
        await citizen.get_by_label("Số định danh cá nhân").fill(PERSONAL_ID)
        await citizen.get_by_role("button", name="Nộp hồ sơ nhóm").click()

        # The birth certificate missing: the intake's form 02 names it where its file goes.
        await expect(citizen.get_by_test_id("message")).to_contain_text("Mẫu số 02")
        await expect(citizen.get_by_test_id("error-doc-birth.birth_certificate")).to_be_visible()
        await expect(citizen.get_by_test_id("error-doc-birth.declaration")).to_have_count(0)
        await expect(citizen.get_by_label("Số định danh cá nhân")).to_have_value(PERSONAL_ID)
        await citizen.locator("input[name='file-birth.birth_certificate']").set_input_files(CERTIFICATE)
        # The fields as the browser posts them, to post the same form again afterwards.
        fields = await citizen.locator("form[data-test=apply-form]").evaluate(
            "f => Object.fromEntries([...new FormData(f)].filter(([k, v]) => typeof v === 'string'))"
        )
        await citizen.get_by_role("button", name="Nộp hồ sơ nhóm").click()

        registration = citizen.get_by_test_id("registration")
        await expect(registration.get_by_test_id("status")).to_have_text(
            "Đã đăng ký trực tuyến, chưa tiếp nhận"
        )
        await expect(registration.get_by_test_id("check-due")).to_have_text(
            re.compile(r"\d\d:\d\d \d\d/\d\d/\d{4}")
        )
        code = (await registration.get_by_test_id("group-code").inner_text()).strip()
        secret = (await registration.get_by_test_id("secret").inner_text()).strip()
        assert re.fullmatch(r"000\.00004\.01\.H01-\d{6}-\d{4}", code)
        members = registration.get_by_test_id("registration-member")
        await expect(members).to_have_count(3)
        for n, said in ((0, "1.001193"), (1, "Công an"), (2, "1.014137")):
            await expect(members.nth(n)).to_contain_text(f"{code}-{n + 1}")
            await expect(members.nth(n)).to_contain_text(said)

        # A double submit (the same form, its key included): the same group, said so.
        again = await citizen.request.post(
            "/apply/groups/LT296.01",
            multipart={**fields, "file-birth.birth_certificate": CERTIFICATE},
        )
        text = await again.text()
        assert again.status == 200 and code in text and "không tạo nhóm hồ sơ thứ hai" in text
        # The answer shows the registration again with a new secret, which replaces the first.
        secret = re.search(r'data-test="secret">(\w+)<', text).group(1)
        async with site.records.sessions() as session:
            claims = (
                await session.scalars(
                    select(IntakeRequestRow.dossier_code).where(
                        IntakeRequestRow.request_id == fields["idempotency_key"]
                    )
                )
            ).all()
        assert list(claims) == [code]  # one group under the form's key

        # The group waits for the counter's check: no member started, the files by reference.
        group = site.client.get_workflow_handle_for(GroupWorkflow.run, code)
        view = await group.query(GroupWorkflow.view)
        assert view.status is GroupStatus.REGISTERED_ONLINE
        assert all(m.status == "waiting" and m.started_at is None for m in view.members)
        started = await group.fetch_history_events().__anext__()
        [stored] = await site.client.data_converter.decode(
            started.workflow_execution_started_event_attributes.input.payloads, [dict]
        )
        references = {d["id"]: d["reference"] for d in stored["members"][0]["documents"]}
        assert references == {
            "declaration": "sha256:" + hashlib.sha256(PDF).hexdigest(),
            "birth_certificate": "sha256:" + hashlib.sha256(CERTIFICATE["buffer"]).hexdigest(),
        }

        # Looked up with the group's code and the registration's secret.
        for _ in range(100):  # the group's projection writes its rows a moment after the start
            async with site.records.sessions() as session:
                if await session.scalar(
                    select(GroupMemberRow.group_code).where(GroupMemberRow.group_code == code)
                ):
                    break
            await asyncio.sleep(0.1)
        await lookup(citizen, code, secret)
        result = citizen.get_by_test_id("lookup-result")
        await expect(result.get_by_test_id("status")).to_contain_text("Đã đăng ký trực tuyến")
        await expect(result.get_by_test_id("check-due")).to_be_visible()
        await expect(result.get_by_test_id("lookup-member")).to_have_count(3)
        assert APPLICANT not in await result.inner_text()

        # The counter asks for a clearer birth certificate (form 02); the applicant sends it from
        # the lookup page, as the online service's completion does.
        await group.execute_update(
            GroupWorkflow.request_online_completion,
            RequestOnlineCompletionInput(
                actor=COUNTER,
                action_id=f"{code}-ask",
                reason="Giấy chứng sinh không đọc được",
                documents=("birth_certificate",),
            ),
        )
        await lookup(citizen, code, secret)
        completion = citizen.get_by_test_id("completion")
        await expect(completion.get_by_test_id("asked-birth.birth_certificate")).to_contain_text("chứng sinh")
        await completion.get_by_role("button", name="Gửi bổ sung").click()  # no file chosen
        await expect(citizen.get_by_test_id("error-doc-birth.birth_certificate")).to_be_visible()
        clearer = {**CERTIFICATE, "buffer": CERTIFICATE["buffer"] + b" ban ro hon"}
        await citizen.locator("input[name='file-birth.birth_certificate']").set_input_files(clearer)
        await citizen.get_by_test_id("completion").get_by_role("button", name="Gửi bổ sung").click()
        await expect(citizen.get_by_test_id("notice")).to_have_text(COMPLETED)
        await expect(citizen.get_by_test_id("completion")).to_have_count(0)
        view = await group.query(GroupWorkflow.view)
        assert view.status is GroupStatus.REGISTERED_ONLINE
        assert view.timeline[-1].action == "completed_online"
        assert view.timeline[-1].details["documents"] == "birth.birth_certificate"

        # Closed (form 03 at the counter's check), so that nothing of it stays running.
        await group.execute_update(
            GroupWorkflow.refuse_online,
            RefuseOnlineInput(actor=COUNTER, action_id=f"{code}-refuse", reason="thử nghiệm"),
        )
        assert (await closed_result(group)).status is GroupStatus.NOT_RECEIVED

    async def test_a_post_from_another_site_is_refused(self, site, new_page):
        """Without the visitor's double-submit cookie and token, nothing is submitted."""
        page = await new_page()
        response = await page.request.post(
            "/apply/groups/LT296.01",
            multipart={
                "full_name": APPLICANT,
                "personal_id": PERSONAL_ID,
                "csrf_token": "forged-token-value-123456",
            },
        )
        assert response.status == 403 and "không hợp lệ hoặc đã hết hạn" in await response.text()

    async def test_without_script_the_province_is_chosen_by_the_page(self, site, new_page):
        """The <noscript> province form reloads the page with the province's communes and sections,
        and the group's form carries its CSRF token and idempotency key."""
        page = await new_page()
        response = await page.request.get("/apply/groups/LT296.01?province=01")
        html = await response.text()
        assert response.status == 200
        assert 'value="00004"' in html and f'value="{BA_DINH_COUNTER}"' in html
        assert 'name="csrf_token" value="' + await public_csrf(page) + '"' in html
        assert 'name="idempotency_key" value="web-online-group-' in html
