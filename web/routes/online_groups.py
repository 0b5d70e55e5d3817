"""Citizens: apply online for an interlinked group (liên thông) on one public form, as an online
service does through `POST /online/groups`: the same `OnlineIntake.submit_group` (the group
intake's checks and numbering, status 1, no member before the counter's check), each file stored
by `DocumentFiles` by its hash, the form's idempotency key as the request id.

The form's protections are the single dossier's form's (web/routes/online.py): its idempotency
key, the double-submit CSRF token, the errors on their fields with the input and the stored
files kept, and no script needed. The answer is the group's registration: one group code, every
part's code and agency, the counter's check deadline and the lookup secret for the group's code.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import ValidationError

from adminunits.registry import era_at
from intake.forms import RefusalNotice, SupplementNotice
from intake.group_forms import GroupRequest
from intake.online import MissingFiles, OnlineGroupRegistration
from intake.service import IntakeForbidden, RequestIdConflict
from procedures.groups import NoGroupVersionInForce, UnknownGroup
from procedures.models import Channel, Role
from procedures.problems import plain_message
from records.dossier_codes import CounterBusy
from web.pages import log, render, services_of, web_state
from web.routes.online import (
    FIELDS,
    FORM_ID,
    applicant_values,
    csrf_ok,
    online_intake,
    places_of,
    render_public,
    store_uploads,
)

__all__ = ["router"]

router = APIRouter(prefix="/apply/groups", include_in_schema=False)
GROUP_CODE = Path(max_length=32, pattern=r"^[A-Z]{2}\d{3}\.\d{2}$")


def _form_context(request: Request, group_code: str, values: dict[str, Any]) -> dict[str, Any]:
    """The group in force now, each member's procedure version (GroupIntake.form, as the
    counter's group form), and the applicant's places, as the single form shows them."""
    services = services_of(request)
    groups = services.groups
    province = values.get("province_code") or ""
    try:
        if groups is None:  # create_app always builds it; said for the type checker
            raise UnknownGroup("interlinked groups are not configured")
        form = groups.form(group_code, province or None)
    except (UnknownGroup, NoGroupVersionInForce) as err:
        return {"group_code": group_code, "form": None, "problem": str(err), "values": values}
    if Channel.ONLINE not in form.version.channels:
        problem = "nhóm thủ tục này không nhận hồ sơ trực tuyến"
        return {"group_code": group_code, "form": None, "problem": problem, "values": values}
    found = places_of(request, province)
    if not values.get("receiving_unit") and values.get("commune_code"):
        # The applicant's own commune's one-stop section, unless they chose another.
        own = [u["code"] for u in found["receiving_units"] if u["commune"] == values["commune_code"]]
        values = {**values, "receiving_unit": own[0] if own else ""}
    return {
        "group_code": group_code,
        "form": form,
        "problem": "",
        "values": values,
        "provinces": services.intake.units.provinces(era_at(services.intake.now())),
        **found,
    }


def _documents(context: dict[str, Any]) -> list[str]:
    """Every document the form offers a file for, as `KEY.DOCUMENT` (the intake's form 02 names
    a missing one so)."""
    form = context["form"]
    return [
        f"{m.member.key}.{d.id}"
        for m in form.members
        if m.version is not None
        for d in m.version.required_documents
    ]


def _form_page(
    request: Request,
    group_code: str,
    values: dict[str, Any],
    status: int = 200,
    message: str = "",
    errors: dict[str, str] | None = None,
) -> Response:
    context = _form_context(request, group_code, values)
    return render_public(
        request, "apply_group_form.html", status, message=message, errors=errors or {}, **context
    )


@router.get("/{group_code}")
async def apply_form(
    request: Request, group_code: str = GROUP_CODE, province: str = Query("", pattern=r"^(\d{2})?$")
):
    return _form_page(
        request,
        group_code,
        {"idempotency_key": f"web-online-group-{uuid.uuid4()}", "province_code": province},
    )


def _group_request(group_code: str, values: dict[str, Any], documents: list[str]) -> GroupRequest:
    receiving_unit = values.get("receiving_unit", "")
    by_member: dict[str, list[dict[str, str]]] = {}
    for field in documents:
        if values.get(f"ref-{field}"):  # only those with a file: the intake names what is missing
            key, _, document = field.partition(".")
            by_member.setdefault(key, []).append({"id": document, "reference": values[f"ref-{field}"]})
    return GroupRequest.model_validate(
        {
            "group_code": group_code,
            "applicant": applicant_values(values),
            "receiving_unit": receiving_unit,
            "documents": by_member,
            "channel": Channel.ONLINE.value,
            "received_by": {
                "id": FORM_ID,
                "roles": [Role.ONLINE_SERVICE.value],
                "unit": receiving_unit or "-",
            },
            "request_id": values.get("idempotency_key") or None,
        }
    )


def _with_file(values: dict[str, Any], documents: list[str]) -> dict[str, list[str]]:
    """The fields sent with a file, by member, in the request's order (what an error's index names)."""
    sent: dict[str, list[str]] = {}
    for field in documents:
        if values.get(f"ref-{field}"):
            sent.setdefault(field.partition(".")[0], []).append(field)
    return sent


def _document_field(loc: tuple[str | int, ...], sent: dict[str, list[str]]) -> str | None:
    """`documents.KEY.N...` as the form's field of that file."""
    if len(loc) > 2 and loc[0] == "documents" and isinstance(loc[2], int):
        fields = sent.get(str(loc[1]), [])
        return f"doc-{fields[loc[2]]}" if loc[2] < len(fields) else None
    return None


def _field_errors(err: ValidationError, sent: dict[str, list[str]]) -> tuple[dict[str, str], list[str]]:
    errors: dict[str, str] = {}
    general: list[str] = []
    for error in err.errors():
        loc = tuple(error["loc"])
        field = FIELDS.get(loc) or _document_field(loc, sent)
        message = plain_message(error)
        if field is None:
            general.append(f"{'.'.join(str(p) for p in loc)}: {message}")
        else:
            errors.setdefault(field, message)
    return errors, general


@router.post("/{group_code}")
async def submit(request: Request, group_code: str = GROUP_CODE):
    form = await request.form()
    values: dict[str, Any] = {
        k: str(v).strip()[:500] for k, v in form.items() if isinstance(v, str) and k != "csrf_token"
    }
    if not csrf_ok(request, form):
        log.warning("public group form refused: CSRF token", path=request.url.path)
        return _form_page(
            request, group_code, values, 403, "Biểu mẫu không hợp lệ hoặc đã hết hạn. Vui lòng gửi lại."
        )
    online = online_intake(request)
    context = _form_context(request, group_code, values)
    if context["form"] is None:
        return _form_page(request, group_code, values, 404)
    documents = _documents(context)
    errors: dict[str, str] = {}
    await store_uploads(online, form, documents, values, errors)

    def again(status: int, message: str, more: dict[str, str] | None = None) -> Response:
        return _form_page(request, group_code, values, status, message, {**errors, **(more or {})})

    try:
        group_request = _group_request(group_code, values, documents)
    except ValidationError as err:
        fields, general = _field_errors(err, _with_file(values, documents))
        return again(422, "Thông tin chưa hợp lệ. " + "; ".join(general), fields)
    if errors:
        return again(422, "Một số tệp không nhận được, vui lòng chọn lại.")
    try:
        outcome = await online.submit_group(group_request)
    except MissingFiles as err:
        sent = _with_file(values, documents)
        missing = {}
        for field, _ in err.problems:
            _, key, index, _ = field.split(".")
            missing[f"doc-{sent[key][int(index)]}"] = "Chưa có tệp của giấy tờ này, vui lòng tải lên"
            values.pop(f"ref-{sent[key][int(index)]}", None)
        return again(422, "Thiếu tệp của giấy tờ.", missing)
    except IntakeForbidden as err:
        return again(403, f"Không nộp được hồ sơ: {err}")
    except RequestIdConflict as err:
        # The key belongs to another submission: a fresh form gets a fresh key.
        values["idempotency_key"] = f"web-online-group-{uuid.uuid4()}"
        return again(
            409, f"Biểu mẫu này đã được dùng cho một hồ sơ khác; vui lòng kiểm tra và gửi lại: {err}"
        )
    except CounterBusy as err:
        return again(503, f"Hệ thống chưa xác nhận, vui lòng gửi lại (không tạo hồ sơ thứ hai): {err}")
    if isinstance(outcome, SupplementNotice):
        # The intake names a member's document as KEY.DOCUMENT, the form's own field name.
        missing = {f"doc-{m.id}": f"Cần nộp: {m.reason}" for m in outcome.missing}
        return again(
            422, "Hồ sơ chưa đủ thành phần (Mẫu số 02): vui lòng tải lên các giấy tờ được nêu.", missing
        )
    if isinstance(outcome, RefusalNotice):
        return again(422, "Hồ sơ không được nhận (Mẫu số 03): " + "; ".join(outcome.reasons))
    assert isinstance(outcome, OnlineGroupRegistration)
    return _registered(request, outcome, context)


def _registered(request: Request, registration: OnlineGroupRegistration, context: dict[str, Any]) -> Response:
    """Status 1, with the lookup secret the intake issued for the group's code (once; a
    resubmission minutes after gets a new one, as the single form's registration does)."""
    web = web_state(request)
    secret = registration.lookup_secret
    code = registration.group_dossier_code
    link = f"{web.public_url}/lookup#code={code}" + (f"&secret={secret}" if secret else "")
    log.info("online group registration shown", dossier_code=code, again=registration.resubmitted)
    unit = web.agencies.get(registration.receiving_unit)
    version = context["form"].version
    return render(
        request,
        "apply_group_registered.html",
        200 if registration.resubmitted else 201,
        registration=registration,
        version=version,
        receiving_unit_name=unit.name if unit else registration.receiving_unit,
        secret=secret,
        link=link,
    )
