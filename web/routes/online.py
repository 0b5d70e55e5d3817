"""Citizens: submit a dossier online through a public form (no sign-in), as an online-service
client does through the API: the same `OnlineIntake.submit` (the counter's checks and
numbering, status 1), the files stored by `DocumentFiles` by their hash as `PUT
/online/files/{sha256}` stores them, the form's idempotency key as the request id.

The form carries its idempotency key (made when the page is rendered) and a double-submit CSRF
token (a random cookie and the same value in the form: an anonymous visitor has no session).
After an error the page comes back naming each field, with the input kept, the key included,
and the files already uploaded kept by their reference: nothing to upload again. The answer
is the registration, with the lookup secret that the lookup page (and the rating there) asks
for.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData, UploadFile

from adminunits import AgencyKind
from adminunits.registry import era_at
from intake.document_files import FileRejected
from intake.forms import IntakeRequest, RefusalNotice, SupplementNotice
from intake.online import MissingFiles, OnlineIntake, OnlineRegistration
from intake.service import IntakeForbidden, RequestIdConflict, StartOutcomeUnknown
from procedures.models import Channel, Role
from procedures.problems import plain_message
from records.dossier_codes import CounterBusy
from web.pages import log, render, services_of, web_state
from web.sessions import same_token

__all__ = [
    "FIELDS",
    "FORM_ID",
    "PUBLIC_CSRF_COOKIE",
    "applicant_values",
    "csrf_ok",
    "online_intake",
    "places_of",
    "public_csrf",
    "render_public",
    "router",
    "store_uploads",
    "with_csrf",
]

router = APIRouter(prefix="/apply", include_in_schema=False)
PUBLIC_CSRF_COOKIE = "onestop_public_csrf"
MAX_FOUND = 50
# Who submits through this form, as the API's online-service token names its client.
FORM_ID = "web-public-form"
# The form's own fields, by the IntakeRequest's path of each (what an error names).
FIELDS: dict[tuple[str | int, ...], str] = {
    ("applicant", "full_name"): "full_name",
    ("applicant", "personal_id"): "personal_id",
    ("applicant", "phone"): "phone",
    ("applicant", "email"): "email",
    ("applicant", "address", "province_code"): "province_code",
    ("applicant", "address", "commune_code"): "commune_code",
    ("applicant", "address", "detail"): "address_detail",
    ("receiving_unit",): "receiving_unit",
    ("received_by", "unit"): "receiving_unit",
    ("case",): "case",
}
FILE_PROBLEMS = {
    "FileTooLarge": "Tệp quá lớn",
    "UnsupportedFileType": "Chỉ nhận tệp PDF, JPEG hoặc PNG đúng định dạng",
    "EmptyFile": "Tệp rỗng",
    "HashMismatch": "Tệp bị thay đổi khi gửi",
    "InvalidReference": "Tệp không hợp lệ",
}


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def public_csrf(request: Request) -> str:
    """The visitor's double-submit token: the cookie's, or a new one (set by `with_csrf`)."""
    token = request.cookies.get(PUBLIC_CSRF_COOKIE) or ""
    return token if 20 <= len(token) <= 100 else secrets.token_urlsafe(32)


def with_csrf(request: Request, response: Response, token: str) -> Response:
    response.set_cookie(
        PUBLIC_CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/"
    )
    return response


def render_public(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """A public page carrying the visitor's double-submit token, in its forms and its cookie."""
    token = public_csrf(request)
    return with_csrf(request, render(request, template, status, public_csrf=token, **context), token)


def csrf_ok(request: Request, form: FormData) -> bool:
    return same_token(request.cookies.get(PUBLIC_CSRF_COOKIE), str(form.get("csrf_token") or ""))


def online_intake(request: Request) -> OnlineIntake:
    online = services_of(request).online
    if online is None:  # create_app always builds it; said for the type checker
        raise RuntimeError("online submission is not configured")
    return online


def _name(request: Request, code: str) -> str:
    catalogue = services_of(request).intake.catalogue
    versions = catalogue.versions_by_code.get(code)
    if versions:
        return versions[-1].procedure_name
    listed = catalogue.listed(code)
    return listed.name if listed else code


@router.get("")
async def search(request: Request, q: str = Query("", max_length=200)):
    """Procedures found without accents, as at the counter (`Catalogue.search`)."""
    catalogue = services_of(request).intake.catalogue
    codes = catalogue.search(q) if q.strip() else []
    found = [
        {
            "code": c,
            "name": _name(request, c),
            "online": c in catalogue.versions_by_code
            and any(Channel.ONLINE in v.channels for v in catalogue.versions_by_code[c]),
        }
        for c in codes[:MAX_FOUND]
    ]
    groups = services_of(request).groups
    # Interlinked groups (docs/groups.md) that take online applications: one form for the group.
    online_groups = [g for g in (groups.listed() if groups else []) if Channel.ONLINE in g.channels]
    return render(request, "apply_search.html", q=q, found=found, total=len(codes), groups=online_groups)


def places_of(request: Request, province: str) -> dict[str, Any]:
    """The communes of a province valid today and its one-stop sections an applicant may choose."""
    intake = services_of(request).intake
    era = era_at(intake.now())
    if not province:
        return {"communes": [], "receiving_units": []}
    sections = [
        a
        for a in intake.agencies.receiving_units(province, era)
        if a.kind in (AgencyKind.PROVINCE_SERVICE_CENTRE, AgencyKind.COMMUNE_SERVICE_CENTRE)
    ]
    return {
        "communes": [{"code": c.code, "name": c.name} for c in intake.units.communes(era, province)],
        "receiving_units": [
            {"code": a.code, "name": a.name, "commune": a.commune_code or ""} for a in sections
        ],
    }


@router.get("/places")
async def places(request: Request, province: str = Query(pattern=r"^\d{2}$")):
    """The form's selectors after a change of province (the page's script asks)."""
    return JSONResponse(places_of(request, province))


def _form_context(request: Request, code: str, values: dict[str, Any]) -> dict[str, Any]:
    intake = services_of(request).intake
    now = intake.now()
    province = values.get("province_code") or ""
    try:
        version = intake.catalogue.resolve(code, now, province or None)
    except LookupError as err:
        return {"code": code, "version": None, "problem": str(err), "values": values}
    if Channel.ONLINE not in version.channels:
        return {
            "code": code,
            "version": None,
            "problem": "thủ tục này không nhận hồ sơ trực tuyến",
            "values": values,
        }
    found = places_of(request, province)
    if not values.get("receiving_unit") and values.get("commune_code"):
        # The applicant's own commune's one-stop section, unless they chose another.
        own = [u["code"] for u in found["receiving_units"] if u["commune"] == values["commune_code"]]
        values = {**values, "receiving_unit": own[0] if own else ""}
    return {
        "code": code,
        "version": version,
        "problem": "",
        "values": values,
        "provinces": intake.units.provinces(era_at(now)),
        **found,
    }


def _form_page(
    request: Request,
    code: str,
    values: dict[str, Any],
    status: int = 200,
    message: str = "",
    errors: dict[str, str] | None = None,
) -> Response:
    context = _form_context(request, code, values)
    return render_public(request, "apply_form.html", status, message=message, errors=errors or {}, **context)


@router.get("/{code}")
async def apply_form(request: Request, code: str, province: str = Query("", pattern=r"^(\d{2})?$")):
    return _form_page(
        request, code, {"idempotency_key": f"web-online-{uuid.uuid4()}", "province_code": province}
    )


async def store_uploads(
    online: OnlineIntake, form: FormData, documents: list[str], values: dict[str, Any], errors: dict[str, str]
) -> None:
    """Each document's newly chosen file is stored by its hash, as the API's upload stores it;
    its reference goes into `values` (kept across an error: the file need not be sent again)."""
    for document in documents:
        upload = form.get(f"file-{document}")
        if not isinstance(upload, UploadFile) or not upload.filename:
            continue
        content = await upload.read()
        digest = hashlib.sha256(content).hexdigest()
        try:
            # Hashing and writing megabytes: off the event loop.
            stored = await asyncio.to_thread(online.files.store, content, upload.content_type or "", digest)
        except FileRejected as err:
            errors[f"doc-{document}"] = f"{FILE_PROBLEMS.get(err.kind, err.kind)}: {err}"
            values.pop(f"ref-{document}", None)
            continue
        values[f"ref-{document}"] = stored.reference
        values[f"size-{document}"] = str(stored.size)


def applicant_values(values: dict[str, Any]) -> dict[str, Any]:
    """The applicant as the public forms (a dossier's, a group's) post it."""
    return {
        "full_name": values.get("full_name", ""),
        "personal_id": values.get("personal_id", ""),
        "phone": values.get("phone") or None,
        "email": values.get("email") or None,
        "address": {
            "province_code": values.get("province_code", ""),
            "commune_code": values.get("commune_code", ""),
            "detail": values.get("address_detail", ""),
        },
    }


def _intake_request(code: str, values: dict[str, Any], documents: list[str]) -> IntakeRequest:
    receiving_unit = values.get("receiving_unit", "")
    return IntakeRequest.model_validate(
        {
            "procedure_code": code,
            "applicant": applicant_values(values),
            # Only the documents with a file: the intake's checks name what is missing (form 02).
            "documents": [
                {"id": d, "reference": values[f"ref-{d}"]} for d in documents if values.get(f"ref-{d}")
            ],
            "channel": Channel.ONLINE.value,
            "case": values.get("case") or None,
            "receiving_unit": receiving_unit,
            "received_by": {
                "id": FORM_ID,
                "roles": [Role.ONLINE_SERVICE.value],
                "unit": receiving_unit or "-",
            },
            "request_id": values.get("idempotency_key") or None,
        }
    )


def _field_errors(err: ValidationError, documents: list[str]) -> tuple[dict[str, str], list[str]]:
    """Each problem on its form field, and those the form has no field for."""
    errors: dict[str, str] = {}
    general: list[str] = []
    for error in err.errors():
        loc = tuple(error["loc"])
        field = FIELDS.get(loc)
        if field is None and loc[:1] == ("documents",) and len(loc) > 1 and isinstance(loc[1], int):
            field = f"doc-{documents[loc[1]]}" if loc[1] < len(documents) else None
        message = plain_message(error)
        if field is None:
            general.append(f"{'.'.join(str(p) for p in loc)}: {message}")
        else:
            errors.setdefault(field, message)
    return errors, general


@router.post("/{code}")
async def submit(request: Request, code: str):
    form = await request.form()
    values: dict[str, Any] = {
        k: str(v).strip()[:500] for k, v in form.items() if isinstance(v, str) and k != "csrf_token"
    }
    if not csrf_ok(request, form):
        log.warning("public form refused: CSRF token", path=request.url.path)
        return _form_page(
            request, code, values, 403, "Biểu mẫu không hợp lệ hoặc đã hết hạn. Vui lòng gửi lại."
        )
    online = online_intake(request)
    context = _form_context(request, code, values)
    version = context["version"]
    if version is None:
        return _form_page(request, code, values, 404)
    documents = [d.id for d in version.required_documents]
    errors: dict[str, str] = {}
    await store_uploads(online, form, documents, values, errors)

    def again(status: int, message: str, more: dict[str, str] | None = None) -> Response:
        return _form_page(request, code, values, status, message, {**errors, **(more or {})})

    try:
        intake_request = _intake_request(code, values, documents)
    except ValidationError as err:
        with_file = [d for d in documents if values.get(f"ref-{d}")]
        fields, general = _field_errors(err, with_file)
        return again(422, "Thông tin chưa hợp lệ. " + "; ".join(general), fields)
    if errors:
        return again(422, "Một số tệp không nhận được, vui lòng chọn lại.")
    try:
        outcome = await online.submit(intake_request)
    except MissingFiles as err:
        with_file = [d for d in documents if values.get(f"ref-{d}")]
        missing = {}
        for field, _ in err.problems:
            index = int(field.split(".")[1])
            missing[f"doc-{with_file[index]}"] = "Chưa có tệp của giấy tờ này, vui lòng tải lên"
            values.pop(f"ref-{with_file[index]}", None)
        return again(422, "Thiếu tệp của giấy tờ.", missing)
    except IntakeForbidden as err:
        return again(403, f"Không nộp được hồ sơ: {err}")
    except RequestIdConflict as err:
        # The key belongs to another submission: a fresh form gets a fresh key.
        values["idempotency_key"] = f"web-online-{uuid.uuid4()}"
        return again(
            409, f"Biểu mẫu này đã được dùng cho một hồ sơ khác; vui lòng kiểm tra và gửi lại: {err}"
        )
    except (StartOutcomeUnknown, CounterBusy) as err:
        return again(503, f"Hệ thống chưa xác nhận, vui lòng gửi lại (không tạo hồ sơ thứ hai): {err}")
    if isinstance(outcome, SupplementNotice):
        missing = {f"doc-{m.id}": f"Cần nộp: {m.reason}" for m in outcome.missing}
        return again(
            422, "Hồ sơ chưa đủ thành phần (Mẫu số 02): vui lòng tải lên các giấy tờ được nêu.", missing
        )
    if isinstance(outcome, RefusalNotice):
        return again(422, "Hồ sơ không được nhận (Mẫu số 03): " + "; ".join(outcome.reasons))
    assert isinstance(outcome, OnlineRegistration)
    return await _registered(request, outcome, {d.id: d.name for d in version.required_documents})


async def _registered(request: Request, registration: OnlineRegistration, names: dict[str, str]) -> Response:
    """Status 1, with the lookup secret the intake issued with it (once per dossier;
    a resubmission minutes after gets a new one, later its page says it was shown before): the applicant follows the dossier and
    rates it on the lookup page."""
    web = web_state(request)
    secret = registration.lookup_secret
    link = f"{web.public_url}/lookup#code={registration.dossier_code}" + (
        f"&secret={secret}" if secret else ""
    )
    log.info(
        "online registration shown", dossier_code=registration.dossier_code, again=registration.resubmitted
    )
    agencies = web.agencies
    unit = agencies.get(registration.receiving_unit)
    return render(
        request,
        "apply_registered.html",
        200 if registration.resubmitted else 201,
        registration=registration,
        documents=[names.get(d, d) for d in registration.documents],
        receiving_unit_name=unit.name if unit else registration.receiving_unit,
        secret=secret,
        link=link,
    )
