"""Temporal's remote codec protocol for the Web UI: POST /codec/decode and /codec/encode.

The Temporal server and its Web UI only hold ciphertext (runtime/codec.py). The UI shows a
dossier's inputs, updates and results in clear when it can send them here: the endpoint
decrypts with the worker's own keyring, for auditors only. A browser proves it is an auditor's
with a cookie set by /codec/sign-in (the UI sends it when its codec setting "Include
cross-origin credentials" is on); other clients (`temporal workflow show --codec-endpoint
--codec-auth`) send `Authorization: Bearer TOKEN`. The UI's origins get the CORS they need
(`CODEC_UI_ORIGINS`, by default the embedded dev server's UI) and no other origin does.
"""

from __future__ import annotations

import html
from typing import Any
from urllib.parse import parse_qs

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from google.protobuf.json_format import MessageToDict, Parse, ParseError
from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send
from temporalio.api.common.v1 import Payloads

from api.deps import Services, check_roles, officer_from_token, services
from api.errors import ApiError
from model.dossier_inputs import Actor
from procedures.models import Role
from runtime.codec import PayloadDecryptionError

__all__ = ["PREFIX", "SESSION_COOKIE", "CodecCors", "router"]

log = structlog.get_logger("api.codec")

PREFIX = "/codec"
# Holds the auditor's token itself: HttpOnly, so the UI's scripts never see it.
SESSION_COOKIE = "onestop_codec_session"

router = APIRouter(prefix=PREFIX, tags=["codec"])


async def codec_auditor(request: Request, deps: Services = Depends(services)) -> Actor:
    """The auditor named by the bearer token, or else by the sign-in cookie; 401 or 403 otherwise."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    bearer = token.strip() if scheme.lower() == "bearer" and token.strip() else None
    officer = officer_from_token(request, bearer or request.cookies.get(SESSION_COOKIE), deps)
    return check_roles(request, officer, (Role.AUDITOR,))


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "InvalidPayloads: the body is not Temporal's Payloads JSON"},
    401: {"description": "Unauthenticated: no valid bearer token or sign-in cookie"},
    403: {"description": "WrongRole: only auditors read payloads"},
    404: {"description": "UnknownNamespace: the X-Namespace header names another namespace"},
    422: {"description": "PayloadUndecodable: a payload's key id is not in the keyring"},
}


@router.post(
    "/decode", summary="decrypt payloads for the Web UI (Temporal's remote codec protocol)", responses=_ERRORS
)
async def decode(
    request: Request, officer: Actor = Depends(codec_auditor), deps: Services = Depends(services)
) -> Response:
    return await _apply(request, deps, "decode", officer)


@router.post(
    "/encode", summary="encrypt payloads for the Web UI (Temporal's remote codec protocol)", responses=_ERRORS
)
async def encode(
    request: Request, officer: Actor = Depends(codec_auditor), deps: Services = Depends(services)
) -> Response:
    return await _apply(request, deps, "encode", officer)


async def _apply(request: Request, deps: Services, direction: str, officer: Actor) -> Response:
    namespace = request.headers.get("x-namespace")
    if namespace is not None and namespace != deps.settings.temporal_namespace:
        raise ApiError(
            404,
            "UnknownNamespace",
            f"this codec serves namespace {deps.settings.temporal_namespace!r}, not {namespace!r}",
        )
    try:
        payloads = Parse(await request.body(), Payloads())
    except (ParseError, UnicodeDecodeError) as err:
        raise ApiError(400, "InvalidPayloads", f"the body is not Payloads JSON: {err}") from err
    codec = deps.client.data_converter.payload_codec
    items = list(payloads.payloads)
    try:
        if codec is not None:
            items = await (codec.decode(items) if direction == "decode" else codec.encode(items))
    except PayloadDecryptionError as err:
        # The message names the key id, never key material.
        log.warning("codec refused", direction=direction, officer=officer.id, error=str(err))
        raise ApiError(422, "PayloadUndecodable", str(err)) from err
    log.info("codec", direction=direction, officer=officer.id, namespace=namespace, payloads=len(items))
    return JSONResponse(MessageToDict(Payloads(payloads=items)))


_SIGN_IN_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Codec sign-in</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto">
<h1>Read decrypted dossiers in Temporal's Web UI</h1>
<p>{notice}</p>
<form method="post" action="{prefix}/sign-in">
<label for="token">An auditor's token (<code>starter.py token --officer ID --unit AGENCY --roles auditor</code>)</label><br>
<textarea id="token" name="token" rows="4" cols="70" required></textarea><br>
<button type="submit">Sign in</button>
</form>
<p>Then, in the Web UI's codec settings, keep the endpoint <code>{endpoint}</code> and tick
"Include cross-origin credentials".</p>
</body></html>
"""


def _page(request: Request, notice: str, status: int = 200) -> HTMLResponse:
    endpoint = str(request.url_for("decode")).rsplit("/", 1)[0]
    text = _SIGN_IN_PAGE.format(notice=html.escape(notice), prefix=PREFIX, endpoint=html.escape(endpoint))
    return HTMLResponse(text, status_code=status)


@router.get("/sign-in", include_in_schema=False)
async def sign_in_page(request: Request) -> HTMLResponse:
    return _page(
        request, "Paste an auditor's token: the browser keeps it in a cookie for this endpoint only."
    )


@router.post("/sign-in", include_in_schema=False)
async def sign_in(request: Request, deps: Services = Depends(services)) -> Response:
    token = (parse_qs((await request.body()).decode(errors="replace")).get("token") or [""])[0].strip()
    try:
        officer = check_roles(request, officer_from_token(request, token or None, deps), (Role.AUDITOR,))
    except ApiError as err:
        return _page(request, f"Not signed in: {err.message}", err.status)
    log.info("codec sign-in", officer=officer.id, unit=officer.unit)
    origins = deps.settings.codec_ui_origins
    target = f"{origins[0]}/namespaces/{deps.settings.temporal_namespace}/workflows" if origins else None
    response: Response = (
        RedirectResponse(target, status_code=303) if target else _page(request, f"Signed in as {officer.id}.")
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        samesite="lax",
        path=PREFIX,
        secure=request.url.scheme == "https",
    )
    return response


class CodecCors:
    """CORS for the codec routes only, for the Web UI's origins, with credentials (the cookie)."""

    def __init__(self, app: ASGIApp, origins: tuple[str, ...]) -> None:
        self.app = app
        self.cors = CORSMiddleware(
            app,
            allow_origins=list(origins),
            allow_credentials=True,
            allow_methods=["POST"],
            allow_headers=["Authorization", "Authorization-Extras", "Content-Type", "X-Namespace"],
            max_age=600,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(PREFIX + "/"):
            await self.cors(scope, receive, send)
        else:
            await self.app(scope, receive, send)
