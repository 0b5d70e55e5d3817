"""Citizens: look a dossier up by its code and the secret printed on its slip (public page),
and rate the service there once the result is returned.

Unknown code and wrong secret get the same answer, and count towards the client's limit of
failed lookups. The page shows no name, personal ID or officer: only the status, the
appointment, and each step's moment and office.

The rating's credential on the web is the same as the lookup's, the code and the slip's
secret, checked again when the rating is posted (the page keeps no session): the page never
asks for the personal ID, which others may know, while the secret is on the applicant's slip
or registration only. The rating itself is `intake.online.rate_returned`, as the API's.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError

from intake.online import NotReturned, rate_returned
from procedures.problems import describe_validation_error
from records.ratings import AlreadyRated, RatingInput
from web.lookup import CitizenView
from web.pages import log, render, services_of, web_state
from web.routes.online import csrf_ok, public_csrf, with_csrf
from web.state import WebState

__all__ = ["router"]

router = APIRouter(prefix="/lookup", include_in_schema=False)
NOT_FOUND = "Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu đã nhập. Vui lòng kiểm tra lại giấy hẹn."
TOO_MANY = "Quá nhiều lần tra cứu không thành công. Vui lòng thử lại sau ít phút."
NOT_RETURNED = "Hồ sơ chưa trả kết quả: chỉ đánh giá được sau khi nhận kết quả."
ALREADY_RATED = "Hồ sơ này đã được đánh giá; mỗi hồ sơ chỉ đánh giá một lần."
THANKS = "Cảm ơn ông/bà đã đánh giá sự hài lòng."


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("")
async def lookup_form(request: Request):
    return render(request, "lookup.html", code="", message="", found=None)


async def _checked(request: Request, web: WebState, code: str, secret: str) -> CitizenView | Response:
    """The dossier's public view when the code and secret match; otherwise the page's refusal
    (429 over the limit, else 404, which counts as a failure)."""
    client = _client(request)
    if web.limiter.blocked(client):
        log.warning("citizen lookup refused: rate limit", client=client)
        return render(request, "lookup.html", 429, code=code, message=TOO_MANY, found=None)
    found = None
    if code and secret and await web.secrets.matches(code, secret):
        found = await web.secrets.view(code)
    if found is None:
        web.limiter.failed(client)
        log.info("citizen lookup not found", client=client)
        return render(request, "lookup.html", 404, code=code, message=NOT_FOUND, found=None)
    return found


def _found_page(
    request: Request,
    web: WebState,
    found: CitizenView,
    secret: str,
    status: int = 200,
    message: str = "",
    notice: str = "",
    values: dict[str, str] | None = None,
) -> Response:
    offices = {step.office: _office_name(web, step.office) for step in found.steps}
    token = public_csrf(request)
    response = render(
        request,
        "lookup.html",
        status,
        code=found.code,
        message=message,
        notice=notice,
        found=found,
        offices=offices,
        # The rating form posts the credential again (no session): the secret the visitor typed.
        secret=secret,
        public_csrf=token,
        values=values or {},
    )
    return with_csrf(request, response, token)


@router.post("")
async def lookup(request: Request):
    form = await request.form()
    code = str(form.get("code") or "").strip()[:100]
    secret = str(form.get("secret") or "").strip()[:40]
    web = web_state(request)
    found = await _checked(request, web, code, secret)
    if isinstance(found, Response):
        return found
    return _found_page(request, web, found, secret)


@router.post("/rating")
async def rate(request: Request):
    form = await request.form()
    code = str(form.get("code") or "").strip()[:100]
    secret = str(form.get("secret") or "").strip()[:40]
    web = web_state(request)
    if not csrf_ok(request, form):
        log.warning("citizen rating refused: CSRF token", client=_client(request))
        return render(
            request,
            "lookup.html",
            403,
            code=code,
            found=None,
            message="Biểu mẫu đã hết hạn, vui lòng tra cứu lại.",
        )
    found = await _checked(request, web, code, secret)
    if isinstance(found, Response):
        return found
    values = {"score": str(form.get("score") or ""), "comment": str(form.get("comment") or "")[:2000]}
    try:
        rating = RatingInput(
            score=int(values["score"]) if values["score"].isdigit() else 0,
            comment=values["comment"].strip() or None,
        )
    except ValidationError as err:
        detail = describe_validation_error(err)
        return _found_page(request, web, found, secret, 422, f"Đánh giá chưa hợp lệ: {detail}", values=values)
    deps = services_of(request)
    try:
        answer = await rate_returned(deps.client, deps.records, code, rating, datetime.now(UTC))
    except NotReturned:
        return _found_page(request, web, found, secret, 409, NOT_RETURNED, values=values)
    except AlreadyRated:
        return _found_page(request, web, await _fresh(web, found), secret, 409, ALREADY_RATED)
    log.info("citizen rated", dossier_code=code, again=answer.repeated)
    return _found_page(
        request, web, await _fresh(web, found), secret, 200 if answer.repeated else 201, notice=THANKS
    )


async def _fresh(web: WebState, found: CitizenView) -> CitizenView:
    return await web.secrets.view(found.code) or found


def _office_name(web, code: str) -> str:
    agency = web.agencies.get(code)
    return agency.name if agency else code
