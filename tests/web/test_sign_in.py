"""Staff sign in and out in the browser; forged forms and repeated failures are refused."""

from __future__ import annotations

from playwright.async_api import expect

from officers.accounts import MAX_FAILURES
from procedures.models import Role
from tests.web.conftest import PASSWORD, sign_in
from web.sessions import SESSION_COOKIE


class TestSignIn:
    async def test_an_officer_signs_in_and_out(self, site, new_page):
        """The counter officer signs in, lands on the counter, and signs out; the session
        cookie is HttpOnly and SameSite, and after signing out the pages ask to sign in."""
        username = await site.account(Role.COUNTER_OFFICER)
        page = await new_page()
        await sign_in(page, username)
        await expect(page).to_have_url(f"{site.url}/web/counter")
        await expect(page.get_by_test_id("who")).to_contain_text(username)
        cookie = next(c for c in await page.context.cookies() if c["name"] == SESSION_COOKIE)
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        await page.get_by_role("button", name="Đăng xuất").click()
        await expect(page).to_have_url(f"{site.url}/web/sign-in")
        await page.goto("/web/counter")
        await expect(page).to_have_url(f"{site.url}/web/sign-in")

    async def test_a_wrong_password_is_refused_without_saying_which_part(self, site, new_page):
        """A wrong password and an unknown name get the same message."""
        username = await site.account(Role.SPECIALIST)
        page = await new_page()
        await sign_in(page, username, "not the password")
        await expect(page.get_by_test_id("message")).to_have_text("Tên đăng nhập hoặc mật khẩu không đúng.")
        await sign_in(page, "nobody-here", "not the password")
        await expect(page.get_by_test_id("message")).to_have_text("Tên đăng nhập hoặc mật khẩu không đúng.")

    async def test_an_account_is_locked_after_repeated_failures(self, site, new_page):
        """After MAX_FAILURES wrong passwords, even the right password is refused (locked)."""
        username = await site.account(Role.LEADER)
        page = await new_page()
        for _ in range(MAX_FAILURES):
            await sign_in(page, username, "wrong password!")
        await sign_in(page, username, PASSWORD)
        await expect(page.get_by_test_id("message")).to_contain_text("tạm khóa")
        await expect(page).to_have_url(f"{site.url}/web/sign-in")

    async def test_a_disabled_account_cannot_sign_in(self, site, new_page):
        username = await site.account(Role.AUDITOR)
        await site.web.accounts.set_disabled(username, True)
        page = await new_page()
        await sign_in(page, username)
        await expect(page.get_by_test_id("message")).to_contain_text("vô hiệu hóa")

    async def test_a_forged_csrf_token_is_refused(self, site, new_page):
        """A form posted with another CSRF token is refused (403) and does nothing: the
        sign-out below leaves the session signed in."""
        username = await site.account(Role.COUNTER_OFFICER)
        page = await new_page()
        await sign_in(page, username)
        await page.eval_on_selector("form.signout input[name=csrf_token]", "e => e.value = 'forged'")
        await page.get_by_role("button", name="Đăng xuất").click()
        await expect(page.get_by_test_id("message")).to_contain_text("CSRF")
        await page.goto("/web/counter")
        await expect(page).to_have_url(f"{site.url}/web/counter")

    async def test_a_sign_in_without_its_form_token_is_refused(self, site, new_page):
        """The sign-in form itself is protected: a post from elsewhere (no token cookie) fails."""
        username = await site.account(Role.COUNTER_OFFICER)
        page = await new_page()
        response = await page.request.post(
            "/web/sign-in", form={"username": username, "password": PASSWORD, "csrf_token": "x"}
        )
        assert response.status == 403
