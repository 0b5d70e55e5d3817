"""Officers (and counter staff for their own actions): the worklist, a dossier's page with the
actions the officer may take now, and each action's form.

A counter officer of the dossier's receiving unit also finds there the reissue of a lost slip's
lookup secret (`officers.lookup_secret`, as the API and the CLI), answered by form 01 reprinted.

The worklist is the inbox's rule read from the projection (`officers.worklist`), the offered actions `officers.available`, and every
action goes through `officers.acting.act`, as the API's and the CLI's do. Each form carries
its idempotency key (a new one per page): a double click or a browser's resubmission sends
the same key, and the workflow applies the action once.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from temporalio.client import WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from adminunits import VN_TZ
from model.dossier_inputs import OWN_ROUTE_ACTIONS
from model.dossier_view import DossierView
from model.input_bounds import DOSSIER_CODE_PATTERN, amount_over
from officers.acting import ActionForbidden, act, action_input, read
from officers.available import available_actions
from officers.group_checks import groups_waiting_check
from officers.lookup_secret import ReissueLookupSecretInput, reissue_lookup_secret
from officers.policy import log_refusal, may_receive
from officers.worklist import worklist
from procedures.instants import parse_instant
from procedures.problems import describe_validation_error
from records.lookup_secrets import LookupSecrets, ReissueKeyUsed
from web.pages import Staff, checked_form, log, render, require, services_of, signed_in_staff, staff_page
from web.routes.counter import slip_page

__all__ = ["router"]

router = APIRouter(prefix="/web", include_in_schema=False)
CODE = Path(max_length=100, pattern=DOSSIER_CODE_PATTERN)
ACTING_ROLES = ("counter_officer", "specialist", "leader")
GROUPS_SHOWN = 50  # groups waiting for the counter's check shown on the worklist


def _left(calendar, now: datetime, due_at: datetime, working_days: dict[date, bool]) -> str:
    """The working time left before the due moment, as a person reads it: hours when the end
    is near, else whole working days (each day asked of the calendar once per page)."""
    if due_at <= now:
        return "Quá hạn"
    today, due_day = now.astimezone(VN_TZ).date(), due_at.astimezone(VN_TZ).date()
    if (due_day - today).days <= 3:
        left = calendar.working_time_between(now, due_at)
        hours = int(left / timedelta(hours=1))
        days, hours = divmod(hours, 8)
        return f"còn {days} ngày {hours} giờ làm việc" if days else f"còn {hours} giờ làm việc"
    days = 0
    for offset in range(1, (due_day - today).days + 1):
        day = today + timedelta(days=offset)
        if day not in working_days:
            working_days[day] = calendar.is_working_day(day)
        days += working_days[day]
    return f"còn {days} ngày làm việc"


@router.get("/worklist")
async def worklist_page(request: Request, page: int = Query(1, ge=1, le=100_000)):
    deps = services_of(request)
    # The staff check and the page's rows on one read connection: a checkout less per load.
    async with deps.records.reads() as reads:
        staff = await signed_in_staff(request, reads)
        require(staff, *ACTING_ROLES)
        # One page of the projection's rows, read in order from the worklist's index, and their
        # count; no workflow query per row (officers/worklist.py, docs/benchmarks.md).
        found = await worklist(deps.records, staff.officer, page=page, reads=reads)
        calendar, now = deps.intake.calendar, deps.intake.now()
        # A counter's groups submitted online waiting for its check, late first (empty for
        # anyone else): on the first page, from the same connection.
        groups = (
            await groups_waiting_check(
                deps.records, staff.officer, limit=GROUPS_SHOWN + 1, now=now, reads=reads
            )
            if page == 1
            else []
        )
    working_days: dict[date, bool] = {}
    rows = [{"item": item, "left": _left(calendar, now, item.due_at, working_days)} for item in found.rows]
    return render(
        request,
        "worklist.html",
        staff=staff,
        rows=rows,
        found=found,
        groups=groups[:GROUPS_SHOWN],
        more_groups=len(groups) > GROUPS_SHOWN,
    )


async def _view(request: Request, staff: Staff, code: str) -> DossierView | None:
    """The dossier's view if the officer may read it (`officers.acting.read`, as the API and the
    CLI read); None alike for an unknown dossier and one that is not theirs (logged)."""
    try:
        return await read(services_of(request).client, staff.officer, code)
    except ActionForbidden as err:
        log_refusal(staff.officer, "read", err.refusal.type.value, err.refusal.reason, code, entry="web")
        return None
    except RPCError as err:
        if err.status is RPCStatusCode.UNAVAILABLE:
            raise
        return None


def _apology_days(request: Request, view: DossierView) -> list[datetime]:
    """The appointments form 04 may promise: the close of each working day within the bound."""
    intake = services_of(request).intake
    now = intake.now()
    return [intake.calendar.add_working_days(now, n) for n in range(1, view.apology_max_working_days + 1)]


def _dossier_page(
    request: Request, staff: Staff, view: DossierView, status: int = 200, **context
) -> Response:
    return render(
        request,
        "dossier.html",
        status,
        staff=staff,
        view=view,
        # complete_online carries files and has its own route (the applicant's, not an officer's).
        actions=[a for a in available_actions(staff.officer, view) if a not in OWN_ROUTE_ACTIONS],
        action_id=f"web-{uuid.uuid4()}",
        apology_days=_apology_days(request, view) if view.apology_due else [],
        may_reissue_secret=may_receive(staff.officer, view.receiving_unit) is None,
        **{"message": "", "values": {}, **context},
    )


@router.get("/dossiers/{code}")
async def dossier(request: Request, code: str = CODE, staff: Staff = Depends(staff_page)):
    view = await _view(request, staff, code)
    if view is None:
        return render(request, "not_found.html", 404, staff=staff, code=code)
    return _dossier_page(request, staff, view)


def _fields(action: str, form) -> dict:
    """The action's input fields from the form (the model checks them)."""
    text = {k: str(v).strip() for k, v in form.items() if k not in ("csrf_token", "action_id")}
    documents = [d.strip() for d in text.get("documents", "").splitlines() if d.strip()]
    if action == "complete_step":
        return {"step_id": text.get("step_id", ""), "note": text.get("note", "")}
    if action == "request_supplement":
        return {"reason": text.get("reason", ""), "documents": documents}
    if action == "supplement":
        return {"documents": documents}
    if action in ("request_payment", "confirm_payment"):
        fields: dict = {
            "amount_vnd": int(text["amount_vnd"]) if text.get("amount_vnd", "").isdigit() else None
        }
        if action == "confirm_payment":
            fields["receipt_number"] = text.get("receipt_number", "")
        else:
            fields["reason"] = text.get("reason", "")
        return fields
    if action in ("refuse", "refuse_online"):
        return {"reason": text.get("reason", "")}
    if action == "receive_online":
        return {"note": text.get("note", "")}
    if action == "request_online_completion":
        return {"reason": text.get("reason", ""), "documents": documents}
    if action == "withdraw":
        return {"reason": text.get("reason", "") or "applicant's request"}
    if action == "issue_apology":
        new_due = text.get("new_due_at", "")
        return {"reason": text.get("reason", ""), "new_due_at": parse_instant(new_due) if new_due else None}
    return {}


@router.post("/dossiers/{code}/actions/{action}")
async def do_action(request: Request, action: str, code: str = CODE, staff: Staff = Depends(staff_page)):
    form = await checked_form(request, staff)
    view = await _view(request, staff, code)
    if view is None:
        return render(request, "not_found.html", 404, staff=staff, code=code)
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}

    def again(message: str, status: int) -> Response:
        # The form's input is kept, its idempotency key too: correcting and resending is one action.
        return _dossier_page(request, staff, view, status, message=message, values={action: values})

    deps = services_of(request)
    if action in OWN_ROUTE_ACTIONS:
        return again(f"Không có thao tác {action}", 404)
    try:
        fields = _fields(action, form)
        request_input = action_input(staff.officer, action, str(form.get("action_id") or ""), **fields)
    except KeyError:
        return again(f"Không có thao tác {action}", 404)
    except (ValueError, ValidationError) as err:
        detail = describe_validation_error(err) if isinstance(err, ValidationError) else str(err)
        return again(f"Thông tin chưa hợp lệ: {detail}", 422)
    too_much = amount_over(request_input, deps.settings.max_amount_vnd)
    if too_much is not None:
        return again(f"Thông tin chưa hợp lệ: amount_vnd: {too_much}", 422)
    try:
        await act(deps.client, code, action, request_input)
    except ActionForbidden as err:
        log_refusal(staff.officer, action, err.refusal.type.value, err.refusal.reason, code, entry="web")
        return again(f"Không thực hiện được ({err.refusal.type.value}): {err.refusal.reason}", 409)
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        kind = (cause.type if isinstance(cause, ApplicationError) else None) or type(cause).__name__
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        log_refusal(staff.officer, action, kind, message, code, entry="web")
        return again(f"Không thực hiện được ({kind}): {message}", 409)
    log.info("web action done", officer=staff.officer.id, dossier_code=code, action=action)
    # Post/redirect/get: reloading the page afterwards sends nothing again.
    return RedirectResponse(f"/web/dossiers/{code}?done={action}", status_code=303)


@router.post("/dossiers/{code}/lookup-secret")
async def new_lookup_secret(request: Request, code: str = CODE, staff: Staff = Depends(staff_page)):
    """A lost slip: a new lookup secret (`officers.lookup_secret`), printed on form 01 reprinted."""
    form = await checked_form(request, staff)
    view = await _view(request, staff, code)
    if view is None:
        return render(request, "not_found.html", 404, staff=staff, code=code)
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}

    def again(message: str, status: int) -> Response:
        return _dossier_page(request, staff, view, status, message=message, values={"lookup_secret": values})

    action = "reissue_lookup_secret"
    try:
        asked = ReissueLookupSecretInput(
            actor=staff.officer, action_id=values.get("action_id", ""), reason=values.get("reason", "")
        )
    except ValidationError as err:
        return again(f"Thông tin chưa hợp lệ: {describe_validation_error(err)}", 422)
    deps = services_of(request)
    try:
        done = await reissue_lookup_secret(
            deps.client, LookupSecrets(deps.records.engine, deps.records.sessions), code, asked
        )
    except ActionForbidden as err:
        log_refusal(staff.officer, action, err.refusal.type.value, err.refusal.reason, code, entry="web")
        return again(f"Không thực hiện được ({err.refusal.type.value}): {err.refusal.reason}", 403)
    except ReissueKeyUsed as err:
        log_refusal(staff.officer, action, "ActionIdReused", str(err), code, entry="web")
        return again(f"Không thực hiện được (ActionIdReused): {err}", 409)
    slip = await deps.intake.reprinted_slip(code, done.secret, done.reissued_at, done.view.due_at)
    return await slip_page(request, staff, slip)
