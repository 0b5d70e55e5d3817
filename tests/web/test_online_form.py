"""The public web form for online submission, and the rating on the lookup page.

A citizen finds the procedure without accents, fills the form, uploads the declaration's file
and submits: status 1 with the code, the lookup secret and what happens next; the same form
posted again gives the same dossier. The counter receives it from the dossier's page; after
the return the citizen rates the service on the lookup page, once.
"""

from __future__ import annotations

import hashlib
import re

from playwright.async_api import expect
from sqlalchemy import select

from model.dossier_inputs import CompleteStepInput, RequestOnlineCompletionInput
from procedures.models import Role
from records.tables import IntakeRequestRow, SatisfactionRatingRow
from tests.builders import BA_DINH_COUNTER, COUNTER, LEADER, SPECIALIST, settled
from tests.web.conftest import sign_in
from web.routes.citizen import ALREADY_RATED, COMPLETED, NOT_RETURNED, THANKS
from workflows.dossier import DossierWorkflow

APPLICANT = "Trần Văn Trực Tuyến"
PERSONAL_ID = "001190765432"
PDF = b"%PDF-1.7\n" + b"to khai xac nhan tinh trang hon nhan " * 30
DECLARATION = {"name": "to-khai.pdf", "mimeType": "application/pdf", "buffer": PDF}


async def fill_form(page, personal_id: str) -> None:
    await page.goto("/apply")
    await page.get_by_label("Tên hoặc mã thủ tục").fill("xac nhan tinh trang hon nhan")
    await page.get_by_role("button", name="Tìm").click()
    await page.locator("a[href='/apply/1.004873']").click()
    await page.get_by_label("Họ và tên").fill(APPLICANT)
    await page.get_by_label("Số định danh cá nhân").fill(personal_id)
    await page.get_by_label("Tỉnh, thành phố").select_option("01")
    # The province's communes and one-stop sections come from /apply/places.
    await expect(page.locator("select[name=commune_code] option[value='00004']")).to_have_count(1)
    await page.get_by_label("Xã, phường").select_option("00004")
    await expect(page.get_by_label("Bộ phận Một cửa tiếp nhận")).to_have_value(BA_DINH_COUNTER)
    await page.locator("input[name=file-declaration]").set_input_files(DECLARATION)


async def lookup(page, code: str, secret: str) -> None:
    await page.goto("/lookup")
    await page.get_by_label("Mã hồ sơ").fill(code)
    await page.get_by_label("Mã tra cứu").fill(secret)
    await page.get_by_role("button", name="Tra cứu").click()


class TestOnlineForm:
    async def test_submitted_online_received_at_the_counter_returned_and_rated(self, site, new_page):
        citizen = await new_page({"width": 390, "height": 844})  # a phone
        await fill_form(citizen, PERSONAL_ID)
        # The fields as the browser posts them, to post the same form again afterwards.
        fields = await citizen.locator("form[data-test=apply-form]").evaluate(
            "f => Object.fromEntries([...new FormData(f)].filter(([k, v]) => typeof v === 'string'))"
        )
        await citizen.get_by_role("button", name="Nộp hồ sơ").click()

        registration = citizen.get_by_test_id("registration")
        await expect(registration.get_by_test_id("status")).to_have_text(
            "Đã đăng ký trực tuyến, chưa tiếp nhận"
        )
        await expect(registration.get_by_test_id("check-due")).to_have_text(
            re.compile(r"\d\d:\d\d \d\d/\d\d/\d{4}")
        )
        code = (await registration.get_by_test_id("dossier-code").inner_text()).strip()
        secret = (await registration.get_by_test_id("secret").inner_text()).strip()
        assert re.fullmatch(r"000\.00004\.01\.H01-\d{6}-\d{4}", code)

        # A double submit (the same form, its idempotency key included): the same dossier.
        again = await citizen.request.post(
            "/apply/1.004873", multipart={**fields, "file-declaration": DECLARATION}
        )
        assert (
            again.status == 200
            and code in await again.text()
            and "không tạo hồ sơ thứ hai" in await again.text()
        )
        # The answer shows the registration again with a new secret, which replaces the first (as
        # a reprinted slip's does): in a double click, the browser shows this second answer.
        secret = re.search(r'data-test="secret">(\w+)<', await again.text()).group(1)
        handle = site.client.get_workflow_handle_for(DossierWorkflow.run, code)
        view = await settled(handle)
        async with site.records.sessions() as session:
            claims = (
                await session.scalars(
                    select(IntakeRequestRow.dossier_code).where(
                        IntakeRequestRow.request_id == fields["idempotency_key"]
                    )
                )
            ).all()
        assert list(claims) == [code]  # one dossier under the form's key
        assert view.status.value == "registered_online"
        # The file is stored by its hash, as the API's upload stores it; the dossier holds its reference.
        assert view.timeline[0].details["files"] == "sha256:" + hashlib.sha256(PDF).hexdigest()

        # The secret from the registration looks it up; no rating before the return.
        await lookup(citizen, code, secret)
        await expect(citizen.get_by_test_id("status")).to_contain_text("Đã đăng ký trực tuyến")
        await expect(citizen.get_by_test_id("rating")).to_have_count(0)
        early = await citizen.request.post(
            "/lookup/rating",
            form={"code": code, "secret": secret, "score": "5", "csrf_token": await _public_csrf(citizen)},
        )
        assert early.status == 409 and NOT_RETURNED in await early.text()

        # The counter receives it from the dossier's page.
        counter = await new_page()
        await sign_in(counter, await site.account(Role.COUNTER_OFFICER))
        await counter.goto(f"/web/dossiers/{code}")
        await expect(counter.get_by_test_id("status")).to_contain_text("Đã đăng ký trực tuyến")
        await counter.get_by_test_id("action-receive_online").get_by_role("button").click()
        await expect(counter.get_by_test_id("status")).to_contain_text("Đang giải quyết")
        for actor, step in ((SPECIALIST, "review"), (LEADER, "approve")):
            await handle.execute_update(
                DossierWorkflow.complete_step,
                CompleteStepInput(actor=actor, action_id=f"{code}-{step}", step_id=step),
            )
        await counter.reload()
        await counter.get_by_test_id("action-return_result").get_by_role("button").click()
        await expect(counter.get_by_test_id("status")).to_contain_text("Đã trả kết quả")
        await settled(handle)

        # The citizen rates the service on the lookup page, once.
        await lookup(citizen, code, secret)
        rating = citizen.get_by_test_id("rating")
        await rating.get_by_label("4 – Hài lòng").check()
        await rating.get_by_label("Góp ý").fill("Cán bộ hướng dẫn tận tình")
        await rating.get_by_role("button", name="Gửi đánh giá").click()
        await expect(citizen.get_by_test_id("notice")).to_have_text(THANKS)
        await expect(citizen.get_by_test_id("rated")).to_contain_text("4/5")
        async with site.records.sessions() as session:
            stored = await session.get(SatisfactionRatingRow, code)
        assert stored.score == 4 and stored.channel == "online"
        assert "tận tình".encode() not in stored.comment_sealed
        second = await citizen.request.post(
            "/lookup/rating",
            form={"code": code, "secret": secret, "score": "1", "csrf_token": await _public_csrf(citizen)},
        )
        assert second.status == 409 and ALREADY_RATED in await second.text()

    async def test_a_bad_personal_id_is_named_with_the_input_and_the_file_kept_then_form_02_completed(
        self, site, new_page
    ):
        page = await new_page()
        await fill_form(page, "12345")
        await page.get_by_role("button", name="Nộp hồ sơ").click()
        await expect(page.get_by_test_id("error-personal_id")).to_be_visible()
        await expect(page.get_by_label("Họ và tên")).to_have_value(APPLICANT)
        await expect(page.get_by_label("Số định danh cá nhân")).to_have_value("12345")
        await expect(page.get_by_label("Xã, phường")).to_have_value("00004")
        # The file was stored on the first post: corrected, the form goes without uploading it again.
        await expect(page.get_by_test_id("kept-declaration")).to_be_visible()
        await page.get_by_label("Số định danh cá nhân").fill("001190765433")
        await page.get_by_role("button", name="Nộp hồ sơ").click()
        registration = page.get_by_test_id("registration")
        await expect(registration.get_by_test_id("status")).to_have_text(
            "Đã đăng ký trực tuyến, chưa tiếp nhận"
        )

        # The counter asks for a completion (form 02); the applicant sends it from the lookup page.
        code = (await registration.get_by_test_id("dossier-code").inner_text()).strip()
        secret = (await registration.get_by_test_id("secret").inner_text()).strip()
        handle = site.client.get_workflow_handle_for(DossierWorkflow.run, code)
        await handle.execute_update(
            DossierWorkflow.request_online_completion,
            RequestOnlineCompletionInput(
                actor=COUNTER,
                action_id=f"{code}-ask",
                reason="Tờ khai không đọc được",
                documents=("declaration",),
            ),
        )
        await settled(handle)
        await lookup(page, code, secret)
        await expect(page.get_by_test_id("status")).to_contain_text("Chờ công dân bổ sung")
        completion = page.get_by_test_id("completion")
        await completion.get_by_role("button", name="Gửi bổ sung").click()  # no file chosen
        await expect(page.get_by_test_id("error-doc-declaration")).to_be_visible()
        clearer = {**DECLARATION, "buffer": PDF + b" ban ro hon"}
        await page.locator("input[name=file-declaration]").set_input_files(clearer)
        await page.get_by_test_id("completion").get_by_role("button", name="Gửi bổ sung").click()
        await expect(page.get_by_test_id("notice")).to_have_text(COMPLETED)
        view = await settled(handle)
        assert view.status.value == "registered_online"
        completed = next(e for e in view.timeline if e.action == "completed_online")
        assert completed.details["files"] == "sha256:" + hashlib.sha256(clearer["buffer"]).hexdigest()

    async def test_a_post_from_another_site_is_refused(self, site, new_page):
        """Without the visitor's double-submit cookie and token, nothing is submitted."""
        page = await new_page()
        response = await page.request.post(
            "/apply/1.004873",
            multipart={
                "full_name": APPLICANT,
                "personal_id": PERSONAL_ID,
                "csrf_token": "forged-token-value-123456",
            },
        )
        assert response.status == 403 and "không hợp lệ hoặc đã hết hạn" in await response.text()

    async def test_a_missing_document_is_named_on_its_field(self, site, new_page):
        """The intake's form 02 at submission: the document is named where its file goes; nothing starts."""
        page = await new_page()
        await fill_form(page, "001190765434")
        await page.locator("input[name=file-declaration]").set_input_files([])
        await page.get_by_role("button", name="Nộp hồ sơ").click()
        await expect(page.get_by_test_id("message")).to_contain_text("Mẫu số 02")
        await expect(page.get_by_test_id("error-doc-declaration")).to_be_visible()
        await expect(page.get_by_test_id("error-doc-divorce_judgment")).to_have_count(0)
        await expect(page.get_by_label("Họ và tên")).to_have_value(APPLICANT)

    async def test_without_script_the_province_is_chosen_by_the_page(self, site, new_page):
        """The <noscript> province form reloads the page with the province's communes and sections."""
        page = await new_page()
        response = await page.request.get("/apply/1.004873?province=01")
        html = await response.text()
        assert response.status == 200
        assert 'value="00004"' in html and f'value="{BA_DINH_COUNTER}"' in html


async def _public_csrf(page) -> str:
    cookies = await page.context.cookies()
    return next(c["value"] for c in cookies if c["name"] == "onestop_public_csrf")
