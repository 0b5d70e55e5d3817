"""The web application of a one-stop centre: counter, officers, auditors, operators and citizens.

Server-rendered pages (Jinja2 templates, vendored static files, no build step) served beside
the API by the same process (`worker.py`): `install_web(app, ...)` adds them to the API's app.
Every page calls the functions the API and the CLI call; nothing here decides a rule.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from api.deps import Services
from officers.accounts import StaffAccounts
from web.lookup import LookupLimiter
from web.pages import CsrfRefused, PageForbidden, SignInNeeded, render
from web.routes import ROUTERS
from web.sessions import WebSessions
from web.state import WebState

__all__ = ["WEB_PATH", "install_web"]

WEB_PATH = "/web/"


def install_web(app: FastAPI, public_url: str, limiter: LookupLimiter | None = None) -> WebState:
    """Add the web pages to the API's `app` (built by api.create_app); `public_url` is where
    citizens reach this server (printed on slips)."""
    services: Services = app.state.services
    state = WebState(
        accounts=StaffAccounts(services.records),
        sessions=WebSessions(services.records),
        limiter=limiter or LookupLimiter(),
        agencies=services.intake.agencies,
        public_url=public_url.rstrip("/"),
    )
    app.state.web = state
    # The public form posts every document's file at once: room for ten of the largest.
    app.state.upload_caps["/apply/"] = services.settings.online_file_max_bytes * 10 + 1024 * 1024
    app.mount("/web/static", StaticFiles(directory=Path(__file__).parent / "static"), name="web-static")
    for router in ROUTERS:
        app.include_router(router)

    @app.exception_handler(SignInNeeded)
    async def _sign_in(request: Request, _: SignInNeeded):
        return RedirectResponse("/web/sign-in", status_code=303)

    @app.exception_handler(CsrfRefused)
    async def _csrf(request: Request, _: CsrfRefused):
        return render(
            request,
            "refused.html",
            403,
            message="Biểu mẫu không hợp lệ hoặc đã hết hạn (CSRF). Vui lòng tải lại trang.",
        )

    @app.exception_handler(PageForbidden)
    async def _forbidden(request: Request, err: PageForbidden):
        return render(request, "refused.html", 403, message=f"Trang này dành cho: {err}.")

    return state
