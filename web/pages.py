"""Rendering pages, and who is signed in: what every route module of the web application uses.

`staff_page` is the dependency of every staff page: the signed-in account's identity (read
afresh, so a disabled account or a role change takes effect at the next request) and its
session; without one the browser is sent to the sign-in page. `checked_form` reads a posted
form and refuses it (403, logged) when its CSRF token is not the session's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import structlog
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import FormData

from adminunits import VN_TZ
from api.deps import Services
from model.dossier_inputs import Actor
from web import labels
from web.sessions import SESSION_COOKIE, Session, same_token
from web.state import WebState

__all__ = [
    "CsrfRefused",
    "PageForbidden",
    "require",
    "SignInNeeded",
    "Staff",
    "checked_form",
    "render",
    "staff_page",
    "web_state",
]

log = structlog.get_logger("web")

TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def _when(value: datetime | None) -> str:
    """An instant as Vietnamese offices write it, in Vietnam time: 17:00 30/06/2025."""
    if value is None:
        return ""
    # Formatted by hand: half the time of strftime, and a worklist page writes 100 of them.
    at = value.astimezone(VN_TZ)
    return f"{at.hour:02}:{at.minute:02} {at.day:02}/{at.month:02}/{at.year}"


def _date(value: datetime | None) -> str:
    """A day as Vietnamese offices write it, in Vietnam time: 30/06/2025."""
    if value is None:
        return ""
    at = value.astimezone(VN_TZ)
    return f"{at.day:02}/{at.month:02}/{at.year}"


TEMPLATES.filters["when"] = _when
TEMPLATES.filters["date"] = _date
TEMPLATES.filters["vnd"] = lambda amount: f"{amount:,}".replace(",", ".") + " đồng"
TEMPLATES.globals.update(
    STATUSES=labels.STATUSES,
    ACTIONS=labels.ACTIONS,
    ROLES=labels.ROLES,
    FORMS=labels.FORMS,
    GROUP_EVENTS=labels.GROUP_EVENTS,
    quote=quote,
)


class SignInNeeded(Exception):
    """No valid session: the browser goes to the sign-in page."""


class PageForbidden(Exception):
    """The signed-in person's roles do not open this page."""


def require(staff: Staff, *roles: str) -> None:
    if not staff.has(*roles):
        log.warning("web page refused: role", officer=staff.officer.id, needs=",".join(roles))
        raise PageForbidden(" hoặc ".join(labels.ROLES[r] for r in roles))


class CsrfRefused(Exception):
    """A posted form whose CSRF token is not its session's; nothing was done."""


@dataclass(frozen=True)
class Staff:
    officer: Actor
    session: Session

    def has(self, *roles: str) -> bool:
        return any(role.value in roles for role in self.officer.roles)


def web_state(request: Request) -> WebState:
    return request.app.state.web


def services_of(request: Request) -> Services:
    return request.app.state.services


async def staff_page(request: Request) -> Staff:
    return await signed_in_staff(request)


async def signed_in_staff(request: Request, reads: AsyncSession | None = None) -> Staff:
    """The signed-in staff member, checked through `reads` when the page reads the records
    store too: one connection checkout for both (docs/benchmarks.md)."""
    found = await web_state(request).sessions.signed_in(request.cookies.get(SESSION_COOKIE), reads)
    if found is None:
        raise SignInNeeded()
    session, officer = found
    return Staff(officer, session)


async def checked_form(request: Request, staff: Staff) -> FormData:
    form = await request.form()
    if not same_token(staff.session.csrf_token, str(form.get("csrf_token") or "")):
        log.warning("web form refused: CSRF token", officer=staff.officer.id, path=request.url.path)
        raise CsrfRefused()
    return form


def render(
    request: Request, template: str, status_code: int = 200, staff: Staff | None = None, **context: Any
) -> HTMLResponse:
    page = TEMPLATES.get_template(template).render(
        request=request,
        staff=staff,
        csrf_token=staff.session.csrf_token if staff else "",
        **context,
    )
    return HTMLResponse(page, status_code=status_code, headers={"Cache-Control": "no-store"})
