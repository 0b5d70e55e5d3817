"""Citizens: look a dossier up by its code and the secret printed on its slip (public page).

Unknown code and wrong secret get the same answer, and count towards the client's limit of
failed lookups. The page shows no name, personal ID or officer: only the status, the
appointment, and each step's moment and office.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from web.lookup import CitizenGroupView, CitizenView
from web.pages import log, render, web_state

__all__ = ["router"]

router = APIRouter(prefix="/lookup", include_in_schema=False)
NOT_FOUND = "Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu đã nhập. Vui lòng kiểm tra lại giấy hẹn."
TOO_MANY = "Quá nhiều lần tra cứu không thành công. Vui lòng thử lại sau ít phút."


@router.get("")
async def lookup_form(request: Request):
    return render(request, "lookup.html", code="", message="", found=None)


@router.post("")
async def lookup(request: Request):
    form = await request.form()
    code = str(form.get("code") or "").strip()[:100]
    secret = str(form.get("secret") or "").strip()[:40]
    web = web_state(request)
    client = request.client.host if request.client else "unknown"
    if web.limiter.blocked(client):
        log.warning("citizen lookup refused: rate limit", client=client)
        return render(request, "lookup.html", 429, code=code, message=TOO_MANY, found=None)
    found: CitizenView | CitizenGroupView | None = None
    if code and secret and await web.secrets.matches(code, secret):
        # A group's slip carries the group's code: its state and each part's progress.
        found = await web.secrets.view(code) or await web.secrets.group_view(code)
    if found is None:
        web.limiter.failed(client)
        log.info("citizen lookup not found", client=client)
        return render(request, "lookup.html", 404, code=code, message=NOT_FOUND, found=None)
    if isinstance(found, CitizenGroupView):
        offices = {m.office: _office_name(web, m.office) for m in found.members}
        return render(request, "lookup.html", code=code, message="", found=None, group=found, offices=offices)
    offices = {step.office: _office_name(web, step.office) for step in found.steps}
    return render(request, "lookup.html", code=code, message="", found=found, offices=offices)


def _office_name(web, code: str) -> str:
    agency = web.agencies.get(code)
    return agency.name if agency else code
