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

import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError

from intake.online import NotReturned, missing_files, rate_returned
from model.dossier_inputs import Actor, SubmittedDocument
from model.dossier_state import DossierStatus
from model.dossier_view import DossierView
from officers.acting import ActionForbidden, act, action_input
from officers.groups import act_on_group
from procedures.models import Role
from procedures.problems import describe_validation_error
from records.ratings import AlreadyRated, RatingInput
from web.lookup import CitizenGroupView, CitizenView, look_up, look_up_group
from web.pages import log, render, services_of, web_state
from web.routes.online import FORM_ID, csrf_ok, render_public, store_uploads
from web.state import WebState
from workflows.dossier import DossierWorkflow
from workflows.group import GroupWorkflow
from workflows.group_models import GroupCompleteOnlineInput, GroupStatus

__all__ = ["router"]

router = APIRouter(prefix="/lookup", include_in_schema=False)
NOT_FOUND = "Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu đã nhập. Vui lòng kiểm tra lại giấy hẹn."
TOO_MANY = "Quá nhiều lần tra cứu không thành công. Vui lòng thử lại sau ít phút."
NOT_RETURNED = "Hồ sơ chưa trả kết quả: chỉ đánh giá được sau khi nhận kết quả."
ALREADY_RATED = "Hồ sơ này đã được đánh giá; mỗi hồ sơ chỉ đánh giá một lần."
THANKS = "Cảm ơn ông/bà đã đánh giá sự hài lòng."
COMPLETED = "Đã gửi bổ sung hồ sơ. Bộ phận Một cửa sẽ kiểm tra lại hồ sơ."
NOT_ASKED = "Hồ sơ không chờ bổ sung trực tuyến."
NOT_YET_RECEIVED = (GroupStatus.REGISTERED_ONLINE.value, GroupStatus.ONLINE_INCOMPLETE.value)


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


@router.get("")
async def lookup_form(request: Request):
    return render(request, "lookup.html", code="", message="", found=None)


def _credential(form: Any) -> tuple[str, str]:
    """The dossier's code and the slip's secret a lookup page posts."""
    return str(form.get("code") or "").strip()[:100], str(form.get("secret") or "").strip()[:40]


async def _posted(
    request: Request, web: WebState, form: Any, what: str, groups: bool = False
) -> CitizenView | CitizenGroupView | Response:
    """A public form posted from the lookup page (the rating, the form 02 completion): its
    double-submit token, then the code and secret as the lookup checks them (a group's too when
    `groups`)."""
    code, secret = _credential(form)
    if not csrf_ok(request, form):
        log.warning(f"citizen {what} refused: CSRF token", client=_client(request))
        return render(
            request,
            "lookup.html",
            403,
            code=code,
            found=None,
            message="Biểu mẫu đã hết hạn, vui lòng tra cứu lại.",
        )
    return await _checked_any(request, web, code, secret, groups=groups)


async def _checked(request: Request, web: WebState, code: str, secret: str) -> CitizenView | Response:
    """The dossier's public view when the code and secret match; otherwise the page's refusal
    (429 over the limit, else 404, which counts as a failure)."""
    found = await _checked_any(request, web, code, secret, groups=False)
    assert not isinstance(found, CitizenGroupView)
    return found


async def _checked_any(
    request: Request, web: WebState, code: str, secret: str, groups: bool = True
) -> CitizenView | CitizenGroupView | Response:
    """As `_checked`; a group's code (the secret of the group's slip) gives the group's view."""
    client = _client(request)
    if web.limiter.blocked(client):
        log.warning("citizen lookup refused: rate limit", client=client)
        return render(request, "lookup.html", 429, code=code, message=TOO_MANY, found=None)
    found: CitizenView | CitizenGroupView | None = None
    if code and secret:
        records = services_of(request).records
        found = await look_up(records, code, secret)
        if found is None and groups:
            found = await look_up_group(records, code, secret)
    if found is None:
        web.limiter.failed(client)
        log.info("citizen lookup not found", client=client)
        return render(request, "lookup.html", 404, code=code, message=NOT_FOUND, found=None)
    return found


async def _found_page(
    request: Request,
    web: WebState,
    found: CitizenView,
    secret: str,
    status: int = 200,
    message: str = "",
    notice: str = "",
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    offices = {step.office: _office_name(web, step.office) for step in found.steps}
    asked = await _asked(request, found.code) if found.status == DossierStatus.ONLINE_INCOMPLETE.value else []
    return render_public(
        request,
        "lookup.html",
        status,
        code=found.code,
        message=message,
        notice=notice,
        found=found,
        offices=offices,
        # The forms below post the credential again (no session): the secret the visitor typed.
        secret=secret,
        values=values or {},
        errors=errors or {},
        asked=asked,
        completion_id=(values or {}).get("action_id") or f"web-completion-{uuid.uuid4()}",
    )


async def _live_view(request: Request, code: str) -> DossierView:
    return (
        await services_of(request)
        .client.get_workflow_handle_for(DossierWorkflow.run, code)
        .query(DossierWorkflow.view)
    )


async def _asked(request: Request, code: str, view: DossierView | None = None) -> list[dict[str, str]]:
    """The documents the counter asked the applicant to complete online (form 02), with their
    names in the dossier's pinned version; none when nothing is asked now."""
    view = view or await _live_view(request, code)
    if view.status is not DossierStatus.ONLINE_INCOMPLETE or view.supplement_request is None:
        return []
    catalogue = services_of(request).intake.catalogue
    pinned = [
        v for v in catalogue.versions_by_code.get(view.procedure_code, ()) if v.version_id == view.version_id
    ]
    names = {d.id: d.name for d in pinned[0].required_documents} if pinned else {}
    return [{"id": d, "name": names.get(d, d)} for d in view.supplement_request.documents]


@router.post("")
async def lookup(request: Request):
    form = await request.form()
    code, secret = _credential(form)
    web = web_state(request)
    found = await _checked_any(request, web, code, secret)
    if isinstance(found, Response):
        return found
    if isinstance(found, CitizenGroupView):
        return await _group_page(request, web, found, secret)
    return await _found_page(request, web, found, secret)


@router.post("/rating")
async def rate(request: Request):
    form = await request.form()
    code, secret = _credential(form)
    web = web_state(request)
    found = await _posted(request, web, form, "rating")
    if isinstance(found, Response):
        return found
    assert isinstance(found, CitizenView)  # groups=False
    values = {"score": str(form.get("score") or ""), "comment": str(form.get("comment") or "")[:2000]}
    try:
        rating = RatingInput(
            score=int(values["score"]) if values["score"].isdigit() else 0,
            comment=values["comment"].strip() or None,
        )
    except ValidationError as err:
        detail = describe_validation_error(err)
        return await _found_page(
            request, web, found, secret, 422, f"Đánh giá chưa hợp lệ: {detail}", values=values
        )
    deps = services_of(request)
    try:
        answer = await rate_returned(deps.client, deps.records, code, rating, datetime.now(UTC))
    except NotReturned:
        return await _found_page(request, web, found, secret, 409, NOT_RETURNED, values=values)
    except AlreadyRated:
        return await _found_page(
            request, web, await _fresh(request, found, secret), secret, 409, ALREADY_RATED
        )
    log.info("citizen rated", dossier_code=code, again=answer.repeated)
    return await _found_page(
        request,
        web,
        await _fresh(request, found, secret),
        secret,
        200 if answer.repeated else 201,
        notice=THANKS,
    )


@router.post("/completion")
async def complete(request: Request):
    """The applicant's online completion of what the counter asked for (form 02): each asked
    document's file stored by its hash, then `complete_online` as the API's completion does."""
    form = await request.form()
    code, secret = _credential(form)
    web = web_state(request)
    found = await _posted(request, web, form, "completion")
    if isinstance(found, Response):
        return found
    assert isinstance(found, CitizenView)  # groups=False
    view = await _live_view(request, code)
    asked = [d["id"] for d in await _asked(request, code, view)]
    if not asked:
        return await _found_page(request, web, found, secret, 409, NOT_ASKED)
    deps = services_of(request)
    online = deps.online
    assert online is not None  # create_app always builds it
    values: dict[str, Any] = {
        k: str(v)[:500]
        for k, v in form.items()
        if isinstance(v, str) and k not in ("csrf_token", "secret", "code")
    }
    errors: dict[str, str] = {}
    await store_uploads(online, form, asked, values, errors)
    documents = tuple(
        SubmittedDocument(id=d, reference=values[f"ref-{d}"]) for d in asked if values.get(f"ref-{d}")
    )
    for field, _ in missing_files(online.files, documents):  # a kept reference whose file is gone
        values.pop(f"ref-{documents[int(field.split('.')[1])].id}", None)
    for document in asked:
        if not values.get(f"ref-{document}"):
            errors.setdefault(f"doc-{document}", "Chưa có tệp của giấy tờ này, vui lòng tải lên")
    if errors:
        return await _found_page(
            request, web, found, secret, 422, "Thiếu tệp của giấy tờ.", values=values, errors=errors
        )
    # The web form acts as the API's online service does for its applicant.
    officer = Actor(id=FORM_ID, roles=(Role.ONLINE_SERVICE,), unit=view.receiving_unit)
    try:
        update = action_input(
            officer, "complete_online", values.get("action_id") or None, documents=documents
        )
        await act(deps.client, code, "complete_online", update)
    except (ValueError, ValidationError) as err:
        detail = describe_validation_error(err) if isinstance(err, ValidationError) else str(err)
        return await _found_page(
            request, web, found, secret, 422, f"Thông tin chưa hợp lệ: {detail}", values=values
        )
    except ActionForbidden as err:
        return await _found_page(
            request, web, found, secret, 409, f"Không gửi được bổ sung: {err.refusal.reason}"
        )
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        text = cause.message if isinstance(cause, ApplicationError) else str(cause)
        return await _found_page(
            request, web, found, secret, 409, f"Không gửi được bổ sung: {text}", values=values
        )
    log.info("citizen completed online", dossier_code=code)
    return await _found_page(
        request, web, await _fresh(request, found, secret), secret, 200, notice=COMPLETED
    )


async def _group_page(
    request: Request,
    web: WebState,
    group: CitizenGroupView,
    secret: str,
    status: int = 200,
    message: str = "",
    notice: str = "",
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
) -> Response:
    """A group's lookup page; while the counter's form 02 waits for the applicant, the form that
    sends the documents asked for (the group's completion, as the online service's)."""
    offices = {m.office: _office_name(web, m.office) for m in group.members}
    # Asked of the group itself while it is not received (its rows may lag a moment behind it);
    # a received or closed group has nothing to complete, and a closed one is not woken to say so.
    asked = await _group_asked(request, group.code) if group.status in NOT_YET_RECEIVED else []
    return render_public(
        request,
        "lookup.html",
        status,
        code=group.code,
        message=message,
        notice=notice,
        found=None,
        group=group,
        offices=offices,
        secret=secret,
        values=values or {},
        errors=errors or {},
        group_asked=asked,
        completion_id=(values or {}).get("action_id") or f"web-group-completion-{uuid.uuid4()}",
    )


async def _group_asked(request: Request, code: str) -> list[dict[str, str]]:
    """The documents the counter's form 02 asked of the group now, each under the member whose
    procedure lists it (the first in the group's order; else the first member), with its name:
    `field` is `KEY.DOCUMENT`, as the group's form names a file. None when nothing is asked."""
    handle = services_of(request).client.get_workflow_handle_for(GroupWorkflow.run, code)
    view = await handle.query(GroupWorkflow.view)
    if view.status is not GroupStatus.ONLINE_INCOMPLETE:
        return []
    entry = next((e for e in reversed(view.timeline) if e.action == "online_completion_requested"), None)
    ids = [d.strip() for d in (entry.details.get("documents", "") if entry else "").split(",") if d.strip()]
    catalogue = services_of(request).intake.catalogue
    listed = [
        (
            m.key,
            {
                d.id: d.name
                for v in catalogue.versions_by_code.get(m.procedure_code, ())
                for d in v.required_documents
            },
        )
        for m in view.members
    ]
    asked = []
    for document in ids:
        key, names = next(((k, n) for k, n in listed if document in n), listed[0])
        asked.append(
            {"id": document, "key": key, "field": f"{key}.{document}", "name": names.get(document, document)}
        )
    return asked


@router.post("/group-completion")
async def complete_group(request: Request):
    """The applicant's online completion of a group's form 02: each asked document's file stored
    by its hash, then the group's `complete_online` as `POST /online/groups/{code}/completion` sends it."""
    form = await request.form()
    code, secret = _credential(form)
    web = web_state(request)
    found = await _posted(request, web, form, "group completion", groups=True)
    if isinstance(found, Response):
        return found
    if not isinstance(found, CitizenGroupView):
        return await _found_page(request, web, found, secret, 409, NOT_ASKED)
    asked = await _group_asked(request, code)
    if not asked:
        return await _group_page(request, web, found, secret, 409, NOT_ASKED)
    deps = services_of(request)
    online = deps.online
    assert online is not None  # create_app always builds it
    values: dict[str, Any] = {
        k: str(v)[:500]
        for k, v in form.items()
        if isinstance(v, str) and k not in ("csrf_token", "secret", "code")
    }
    errors: dict[str, str] = {}
    fields = [d["field"] for d in asked]
    await store_uploads(online, form, fields, values, errors)
    for field in fields:
        reference = values.get(f"ref-{field}")
        if reference and missing_files(online.files, (SubmittedDocument(id="x", reference=reference),)):
            values.pop(f"ref-{field}")  # a kept reference whose file is gone
        if not values.get(f"ref-{field}"):
            errors.setdefault(f"doc-{field}", "Chưa có tệp của giấy tờ này, vui lòng tải lên")
    if errors:
        return await _group_page(
            request, web, found, secret, 422, "Thiếu tệp của giấy tờ.", values=values, errors=errors
        )
    documents: dict[str, tuple[SubmittedDocument, ...]] = {}
    for d in asked:
        documents[d["key"]] = documents.get(d["key"], ()) + (
            SubmittedDocument(id=d["id"], reference=values[f"ref-{d['field']}"]),
        )
    group = await deps.client.get_workflow_handle_for(GroupWorkflow.run, code).query(GroupWorkflow.view)
    # The web form acts as the API's online service does for its applicant.
    officer = Actor(id=FORM_ID, roles=(Role.ONLINE_SERVICE,), unit=group.receiving_unit)
    try:
        action = GroupCompleteOnlineInput(
            actor=officer,
            action_id=values.get("action_id") or f"web-group-completion-{uuid.uuid4()}",
            documents=documents,
        )
        await act_on_group(deps.client, code, action)
    except ValidationError as err:
        detail = describe_validation_error(err)
        return await _group_page(
            request, web, found, secret, 422, f"Thông tin chưa hợp lệ: {detail}", values=values
        )
    except ActionForbidden as err:
        return await _group_page(
            request, web, found, secret, 409, f"Không gửi được bổ sung: {err.refusal.reason}"
        )
    log.info("citizen completed a group online", dossier_code=code)
    fresh = await look_up_group(deps.records, code, secret) or found
    return await _group_page(request, web, fresh, secret, 200, notice=COMPLETED)


async def _fresh(request: Request, found: CitizenView, secret: str) -> CitizenView:
    return await look_up(services_of(request).records, found.code, secret) or found


def _office_name(web, code: str) -> str:
    agency = web.agencies.get(code)
    return agency.name if agency else code
