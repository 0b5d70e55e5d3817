"""Signing staff in and out; the home page sends each person to their own screen."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from officers.accounts import SignInRefused
from web.pages import Staff, checked_form, log, render, staff_page, web_state
from web.sessions import SESSION_COOKIE, SESSION_TTL, SIGN_IN_COOKIE, same_token

__all__ = ["router"]

router = APIRouter(prefix="/web", include_in_schema=False)

REFUSED = "Tên đăng nhập hoặc mật khẩu không đúng."
LOCKED = (
    "Tài khoản tạm khóa do nhập sai mật khẩu nhiều lần. Vui lòng thử lại sau 15 phút hoặc liên hệ quản trị."
)
DISABLED = "Tài khoản đã bị vô hiệu hóa. Vui lòng liên hệ quản trị."


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def _sign_in_page(
    request: Request, message: str = "", username: str = "", status_code: int = 200
) -> Response:
    token = secrets.token_urlsafe(32)
    response = render(
        request, "sign_in.html", status_code, message=message, username=username, sign_in_token=token
    )
    response.set_cookie(
        SIGN_IN_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/web"
    )
    return response


@router.get("/sign-in")
async def sign_in_form(request: Request) -> Response:
    return _sign_in_page(request)


@router.post("/sign-in")
async def sign_in(request: Request) -> Response:
    form = await request.form()
    username, password = str(form.get("username") or "").strip(), str(form.get("password") or "")
    if not same_token(request.cookies.get(SIGN_IN_COOKIE), str(form.get("csrf_token") or "")):
        log.warning("web sign-in refused: CSRF token", username=username[:64])
        return _sign_in_page(request, "Phiên làm việc đã hết hạn, vui lòng đăng nhập lại.", username, 403)
    web = web_state(request)
    try:
        officer = await web.accounts.authenticate(username, password)
    except SignInRefused as err:
        message = {"locked": LOCKED, "disabled": DISABLED}.get(err.reason, REFUSED)
        return _sign_in_page(request, message, username, 401)
    cookie, _ = await web.sessions.start(officer.id)
    response = RedirectResponse("/web/", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="strict",
        secure=_secure(request),
        path="/",
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/web")
    return response


@router.post("/sign-out")
async def sign_out(request: Request, staff: Staff = Depends(staff_page)) -> Response:
    await checked_form(request, staff)
    await web_state(request).sessions.end(request.cookies.get(SESSION_COOKIE))
    log.info("staff signed out", username=staff.officer.id)
    response = RedirectResponse("/web/sign-in", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/")
async def home(staff: Staff = Depends(staff_page)) -> Response:
    for role, page in (
        ("counter_officer", "/web/counter"),
        ("specialist", "/web/worklist"),
        ("leader", "/web/worklist"),
        ("auditor", "/web/audit"),
        ("operator", "/web/carryover"),
    ):
        if staff.has(role):
            return RedirectResponse(page, status_code=303)
    return RedirectResponse("/web/sign-in", status_code=303)
