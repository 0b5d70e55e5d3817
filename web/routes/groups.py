"""Interlinked groups (liên thông) in the web application: the counter receives a group on one
form and prints one slip (the group's form 01: one code, one appointment, the agency of each
part, the citizen's lookup secret); the group's page shows every member with a link to its
dossier page, and lets the receiving counter withdraw the group or return its result.

The receipt is `GroupIntake.receive`, reading and acting `officers.groups`, as for the API
(`api/routes/groups.py`) and the CLI (`cli/groups.py`): nothing here decides a rule.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError

from intake.errors import RequestIdConflict
from intake.forms import RefusalNotice, SupplementNotice
from intake.group_forms import GroupReceipt, GroupRequest
from intake.groups import GroupForm
from intake.service import IntakeForbidden
from model.input_bounds import DOSSIER_CODE_PATTERN
from officers.acting import ActionForbidden
from officers.groups import (
    GROUP_ACTIONS,
    NotAGroup,
    act_on_group,
    available_group_actions,
    may_read_group,
    read_group,
)
from officers.policy import log_refusal, may_receive
from procedures.groups import NoGroupVersionInForce, UnknownGroup
from procedures.problems import describe_validation_error
from records.dossier_codes import CounterBusy
from web.pages import Staff, checked_form, log, render, require, services_of, staff_page, web_state
from web.routes.counter import applicant_fields, lookup_link, province_context, qr_svg
from workflows.group_models import GroupView

__all__ = ["router"]

router = APIRouter(prefix="/web", include_in_schema=False)
CODE = Path(max_length=100, pattern=DOSSIER_CODE_PATTERN)
GROUP_CODE = Path(max_length=32, pattern=r"^[A-Z]{2}\d{3}\.\d{2}$")
MEMBER_STATUSES = {"waiting": "Chờ kết quả liên thông", "stopped": "Không thực hiện"}
GROUP_STATUSES = {"supplement_requested": "Tạm dừng: chờ bổ sung hồ sơ"}


def _intake(request: Request):
    groups = services_of(request).groups
    assert groups is not None  # create_app builds it
    return groups


def _form(request: Request, group_code: str, province: str | None) -> tuple[GroupForm | None, str]:
    try:
        return _intake(request).form(group_code, province or None), ""
    except (UnknownGroup, NoGroupVersionInForce) as err:
        return None, str(err)


def _receive_page(
    request: Request,
    staff: Staff,
    group_code: str,
    values: dict[str, Any],
    message: str = "",
    status: int = 200,
) -> Response:
    context = province_context(request, staff, values)
    form, problem = _form(request, group_code, context["values"]["province_code"])
    return render(
        request,
        "group_receive.html",
        status,
        staff=staff,
        group_code=group_code,
        form=form,
        problem=problem,
        message=message,
        **context,
    )


@router.get("/counter/groups/{group_code}")
async def receive_form(request: Request, group_code: str = GROUP_CODE, staff: Staff = Depends(staff_page)):
    require(staff, "counter_officer")
    return _receive_page(request, staff, group_code, {"request_id": f"web-{uuid.uuid4()}"})


def _documents(form, keys: list[str]) -> dict[str, list[dict[str, str]]]:
    """The ticked documents of each member: checkboxes named `documents.KEY`."""
    documents = {key: [{"id": str(d)} for d in form.getlist(f"documents.{key}")] for key in keys}
    return {key: ids for key, ids in documents.items() if ids}


@router.post("/counter/groups/{group_code}")
async def receive(request: Request, group_code: str = GROUP_CODE, staff: Staff = Depends(staff_page)):
    require(staff, "counter_officer")
    form = await checked_form(request, staff)
    values: dict[str, Any] = {
        k: str(v) for k, v in form.items() if k != "csrf_token" and not k.startswith("documents.")
    }
    keys = sorted({k.removeprefix("documents.") for k in form if k.startswith("documents.")})
    values["documents"] = {key: list(map(str, form.getlist(f"documents.{key}"))) for key in keys}

    def again(message: str, status: int) -> Response:
        return _receive_page(request, staff, group_code, values, message, status)

    refusal = may_receive(staff.officer, staff.officer.unit)
    if refusal is not None:
        return again(refusal.reason, 403)
    try:
        group_request = GroupRequest.model_validate(
            {
                "group_code": group_code,
                "applicant": applicant_fields(form),
                "documents": _documents(form, keys),
                "receiving_unit": staff.officer.unit,
                "received_by": staff.officer,
                "request_id": str(form.get("request_id") or "") or None,
            }
        )
    except ValidationError as err:
        return again("Thông tin chưa hợp lệ: " + describe_validation_error(err), 422)
    try:
        outcome = await _intake(request).receive(group_request)
    except IntakeForbidden as err:
        return again(f"Không được phép tiếp nhận: {err}", 403)
    except RequestIdConflict as err:
        return again(f"Mã yêu cầu đã dùng cho hồ sơ khác: {err}", 409)
    except CounterBusy as err:
        return again(f"Hệ thống chưa xác nhận, vui lòng gửi lại (không tạo hồ sơ thứ hai): {err}", 503)
    if isinstance(outcome, GroupReceipt):
        return await _slip(request, staff, outcome)
    found, _ = _form(request, group_code, None)
    name = found.version.group_name if found else group_code
    if isinstance(outcome, SupplementNotice):
        return render(request, "form_02.html", 422, staff=staff, notice=outcome, name=name)
    assert isinstance(outcome, RefusalNotice)
    return render(request, "form_03.html", 422, staff=staff, notice=outcome, name=name)


async def _slip(request: Request, staff: Staff, receipt: GroupReceipt) -> Response:
    """The group's form 01 with the lookup secret the intake issued for the group's code and
    each member's (records/lookup_secrets.py: once, again only minutes after), as a dossier's slip."""
    secret = receipt.lookup_secret
    link = lookup_link(request, receipt.group_dossier_code, secret)
    log.info("group slip printed", dossier_code=receipt.group_dossier_code, officer=staff.officer.id)
    counter = web_state(request).agencies.get(receipt.receiving_unit)
    return render(
        request,
        "group_form_01.html",
        200 if receipt.resubmitted else 201,
        staff=staff,
        slip=receipt,
        counter_name=counter.name if counter else receipt.receiving_unit,
        secret=secret,
        link=link,
        qr=qr_svg(link),
    )


async def _view(request: Request, staff: Staff, code: str) -> GroupView | None:
    """The group if this officer may read it (officers.groups' rule, as the API's); None alike
    for an unknown code, a single dossier's and a group not theirs (logged)."""
    try:
        view = await read_group(services_of(request).client, code)
    except NotAGroup:
        return None
    refusal = may_read_group(staff.officer, view)
    if refusal is not None:
        log_refusal(staff.officer, "read_group", refusal.type.value, refusal.reason, code, entry="web")
        return None
    return view


def _group_page(
    request: Request, staff: Staff, view: GroupView, status: int = 200, message: str = ""
) -> Response:
    agencies = web_state(request).agencies
    counter = agencies.get(view.receiving_unit)
    return render(
        request,
        "group.html",
        status,
        staff=staff,
        view=view,
        counter_name=counter.name if counter else view.receiving_unit,
        actions=available_group_actions(staff.officer, view),
        action_id=f"web-{uuid.uuid4()}",
        message=message,
        MEMBER_STATUSES=MEMBER_STATUSES,
        GROUP_STATUSES=GROUP_STATUSES,
    )


@router.get("/groups/{code}")
async def group(request: Request, code: str = CODE, staff: Staff = Depends(staff_page)):
    view = await _view(request, staff, code)
    if view is None:
        return render(request, "not_found.html", 404, staff=staff, code=code)
    return _group_page(request, staff, view)


@router.post("/groups/{code}/actions/{action}")
async def group_action(request: Request, action: str, code: str = CODE, staff: Staff = Depends(staff_page)):
    form = await checked_form(request, staff)
    view = await _view(request, staff, code)
    if view is None:
        return render(request, "not_found.html", 404, staff=staff, code=code)
    model = GROUP_ACTIONS.get(action)
    if model is None:
        return _group_page(request, staff, view, 404, f"Không có thao tác {action}")
    given: dict[str, Any] = {
        "reason": str(form.get("reason") or "").strip(),
        "note": str(form.get("note") or "").strip(),
        "documents": tuple(d.strip() for d in str(form.get("documents") or "").split(",") if d.strip()),
    }
    # Only what this action takes; an empty reason is the withdrawal's default, elsewhere an error.
    fields = {name: value for name, value in given.items() if name in model.model_fields and value}
    try:
        group_input = model(actor=staff.officer, action_id=str(form.get("action_id") or ""), **fields)
    except ValidationError as err:
        return _group_page(
            request, staff, view, 422, f"Thông tin chưa hợp lệ: {describe_validation_error(err)}"
        )
    try:
        await act_on_group(services_of(request).client, code, group_input)
    except ActionForbidden as err:
        log_refusal(staff.officer, action, err.refusal.type.value, err.refusal.reason, code, entry="web")
        return _group_page(
            request,
            staff,
            view,
            409,
            f"Không thực hiện được ({err.refusal.type.value}): {err.refusal.reason}",
        )
    except WorkflowUpdateFailedError:
        return _group_page(
            request, staff, view, 502, "Không thực hiện được: quy trình của nhóm hồ sơ báo lỗi"
        )
    log.info("web group action done", officer=staff.officer.id, dossier_code=code, action=action)
    return RedirectResponse(f"/web/groups/{code}?done={action}", status_code=303)
