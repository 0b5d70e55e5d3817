"""Counter staff: find a procedure, receive a dossier on the form of its pinned version, and
print the answer: the receipt slip (form 01) with its lookup secret and QR code, or form 02 /
form 03. The receipt itself is `IntakeService.receive`, as for the API and the CLI.
"""

from __future__ import annotations

import uuid
from io import BytesIO
from typing import Any

import qrcode
import qrcode.image.svg
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError

from adminunits.registry import era_at
from intake.forms import IntakeRequest, ReceiptSlip, RefusalNotice, SupplementNotice
from intake.service import IntakeForbidden, RequestIdConflict, StartOutcomeUnknown
from officers.policy import may_receive
from procedures.catalogue import Catalogue
from procedures.problems import describe_validation_error
from records.dossier_codes import CounterBusy
from web.pages import Staff, checked_form, log, render, require, services_of, staff_page, web_state

__all__ = ["lookup_link", "qr_svg", "router", "slip_page"]

router = APIRouter(prefix="/web/counter", include_in_schema=False)
MAX_FOUND = 50


def _name(catalogue: Catalogue, code: str) -> str:
    versions = catalogue.versions_by_code.get(code)
    if versions:
        return versions[-1].procedure_name
    listed = catalogue.listed(code)
    return listed.name if listed else code


@router.get("")
async def search(request: Request, q: str = Query("", max_length=200), staff: Staff = Depends(staff_page)):
    require(staff, "counter_officer")
    catalogue = services_of(request).intake.catalogue
    codes = catalogue.search(q) if q.strip() else []
    found = [
        {"code": c, "name": _name(catalogue, c), "receivable": c in catalogue.versions_by_code}
        for c in codes[:MAX_FOUND]
    ]
    groups = services_of(request).groups
    listed = groups.listed() if groups is not None else []
    return render(
        request, "counter_search.html", staff=staff, q=q, found=found, total=len(codes), groups=listed
    )


def _province_of(unit: str) -> str:
    # Agency codes end in H + the province code (adminunits/agencies.py explains the scheme).
    return unit.rsplit(".H", 1)[-1][:2] if ".H" in unit else ""


def _form_context(request: Request, staff: Staff, code: str, values: dict[str, Any]) -> dict[str, Any]:
    intake = services_of(request).intake
    now = intake.now()
    province = values.get("province_code") or _province_of(staff.officer.unit)
    try:
        version = intake.catalogue.resolve(code, now, province or None)
    except LookupError as err:
        return {"code": code, "version": None, "problem": str(err), "values": values}
    era = era_at(now)
    return {
        "code": code,
        "version": version,
        "problem": "",
        "values": {"province_code": province, **values},
        "provinces": intake.units.provinces(era),
        "communes": intake.units.communes(era, province) if province else [],
        "now": now,
    }


@router.get("/communes")
async def communes(
    request: Request, province: str = Query(pattern=r"^\d{2}$"), staff: Staff = Depends(staff_page)
):
    """The communes of a province valid today, for the receipt form's selector."""
    intake = services_of(request).intake
    found = intake.units.communes(era_at(intake.now()), province)
    return JSONResponse([{"code": c.code, "name": c.name} for c in found])


@router.get("/receive/{code}")
async def receive_form(request: Request, code: str, staff: Staff = Depends(staff_page)):
    require(staff, "counter_officer")
    context = _form_context(request, staff, code, {"request_id": f"web-{uuid.uuid4()}"})
    return render(request, "counter_receive.html", staff=staff, message="", **context)


def applicant_fields(form) -> dict[str, Any]:
    """The applicant as the receipt forms (a dossier's, a group's) post it."""
    return {
        "full_name": str(form.get("full_name") or ""),
        "personal_id": str(form.get("personal_id") or ""),
        "phone": str(form.get("phone") or "") or None,
        "email": str(form.get("email") or "") or None,
        "address": {
            "province_code": str(form.get("province_code") or ""),
            "commune_code": str(form.get("commune_code") or ""),
            "detail": str(form.get("address_detail") or ""),
        },
    }


def province_context(request: Request, staff: Staff, values: dict[str, Any]) -> dict[str, Any]:
    """The provinces and the chosen province's communes valid today, for the address selectors."""
    intake = services_of(request).intake
    province = values.get("province_code") or _province_of(staff.officer.unit)
    era = era_at(intake.now())
    return {
        "values": {"province_code": province, **values},
        "provinces": intake.units.provinces(era),
        "communes": intake.units.communes(era, province) if province else [],
    }


def _request(staff: Staff, code: str, form) -> IntakeRequest:
    documents = [{"id": d} for d in form.getlist("documents")]
    return IntakeRequest.model_validate(
        {
            "procedure_code": code,
            "applicant": applicant_fields(form),
            "documents": documents,
            "channel": str(form.get("channel") or "counter"),
            "case": str(form.get("case") or "") or None,
            "receiving_unit": staff.officer.unit,
            "received_by": staff.officer,
            "request_id": str(form.get("request_id") or "") or None,
        }
    )


@router.post("/receive/{code}")
async def receive(request: Request, code: str, staff: Staff = Depends(staff_page)):
    require(staff, "counter_officer")
    form = await checked_form(request, staff)
    values: dict[str, Any] = {k: str(v) for k, v in form.items() if k not in ("csrf_token", "documents")}
    values["documents"] = list(form.getlist("documents"))

    def again(message: str, status: int):
        context = _form_context(request, staff, code, values)
        return render(request, "counter_receive.html", status, staff=staff, message=message, **context)

    refusal = may_receive(staff.officer, staff.officer.unit)
    if refusal is not None:
        return again(refusal.reason, 403)
    try:
        intake_request = _request(staff, code, form)
    except ValidationError as err:
        return again("Thông tin chưa hợp lệ: " + describe_validation_error(err), 422)
    intake = services_of(request).intake
    try:
        outcome = await intake.receive(intake_request)
    except IntakeForbidden as err:
        return again(f"Không được phép tiếp nhận: {err}", 403)
    except RequestIdConflict as err:
        return again(f"Mã yêu cầu đã dùng cho hồ sơ khác: {err}", 409)
    except (StartOutcomeUnknown, CounterBusy) as err:
        return again(f"Hệ thống chưa xác nhận, vui lòng gửi lại (không tạo hồ sơ thứ hai): {err}", 503)
    if isinstance(outcome, ReceiptSlip):
        return await slip_page(request, staff, outcome)
    if isinstance(outcome, SupplementNotice):
        return render(
            request, "form_02.html", 422, staff=staff, notice=outcome, name=_name(intake.catalogue, code)
        )
    assert isinstance(outcome, RefusalNotice)
    return render(
        request, "form_03.html", 422, staff=staff, notice=outcome, name=_name(intake.catalogue, code)
    )


def lookup_link(request: Request, code: str, secret: str | None) -> str:
    """The slip's QR link; the secret after `#`, so it never reaches a server log."""
    return f"{web_state(request).public_url}/lookup#code={code}" + (f"&secret={secret}" if secret else "")


async def slip_page(request: Request, staff: Staff, slip: ReceiptSlip) -> Response:
    """Form 01 with the lookup secret the intake issued with it; a resubmission's slip has a new
    one minutes after the first, later none (the last one's stays valid) and a QR code carrying
    the code only. A slip reprinted for a lost one (`reissued_at`) carries the new secret."""
    secret = slip.lookup_secret
    link = lookup_link(request, slip.dossier_code, secret)
    log.info(
        "slip printed",
        dossier_code=slip.dossier_code,
        officer=staff.officer.id,
        secret=bool(secret),
        reissued=slip.reissued_at is not None,
    )
    # The slip names the documents as the pinned version does (the dossier keeps their ids).
    catalogue = services_of(request).intake.catalogue
    pinned = [
        v for v in catalogue.versions_by_code.get(slip.procedure_code, ()) if v.version_id == slip.version_id
    ]
    names = {d.id: d.name for d in pinned[0].required_documents} if pinned else {}
    return render(
        request,
        "form_01.html",
        200 if slip.resubmitted else 201,
        staff=staff,
        slip=slip,
        documents=[names.get(d, d) for d in slip.documents],
        secret=secret,
        link=link,
        qr=qr_svg(link),
    )


def qr_svg(text: str) -> str:
    image = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    out = BytesIO()
    image.save(out)
    svg = out.getvalue().decode()
    return svg[svg.index("<svg") :]  # inline in the page: without the XML declaration
