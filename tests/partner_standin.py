"""A stand-in for a partner agency's system (police, social insurance) speaking the interface of
activities/partners.py over real HTTP, with a back door for the test to decide a submission and a
switch to make it answer 503 (`app.state.down`) and one to make it answer a method's calls with a
status of the test's choosing (`app.state.failing`, e.g. a 422 rejection); it counts the requests
that reached it."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from activities.partners import PartnerOutcome, PartnerState, PartnerSubmission
from tests.builders import free_port


class Decision(BaseModel):
    state: PartnerState
    reason: str = ""
    result_reference: str | None = None


def standin_app(prefix: str) -> FastAPI:
    app = FastAPI()
    numbers = itertools.count(1)
    by_member: dict[str, str] = {}
    outcomes: dict[str, PartnerOutcome] = {}
    app.state.submissions = []
    app.state.down = False  # True: every interface call answers 503, as a system in maintenance
    app.state.calls = []  # (method, path, status) of every interface call that reached it
    # {"PUT": (422, {"reason": "…"})}: every call of that method answers that status and body (a
    # dict as JSON, a str as plain text) instead of the interface's answer.
    app.state.failing = {}

    @app.middleware("http")
    async def maintenance(request: Request, call_next):
        if request.url.path.endswith("/decision"):
            return await call_next(request)
        if app.state.down:
            app.state.calls.append((request.method, request.url.path, 503))
            return Response("down for maintenance", status_code=503)
        if request.method in app.state.failing:
            status, body = app.state.failing[request.method]
            app.state.calls.append((request.method, request.url.path, status))
            if isinstance(body, str):
                return Response(body, status_code=status, media_type="text/plain")
            return JSONResponse(body, status_code=status)
        response = await call_next(request)
        app.state.calls.append((request.method, request.url.path, response.status_code))
        return response

    @app.put("/submissions/{member_code}")
    async def submit(member_code: str, submission: PartnerSubmission) -> PartnerOutcome:
        if member_code != submission.member_code:
            raise HTTPException(422, "member code differs from the path")
        if member_code not in by_member:
            reference = f"{prefix}-{next(numbers)}"
            by_member[member_code] = reference
            outcomes[reference] = PartnerOutcome(reference=reference, state=PartnerState.ACCEPTED)
            app.state.submissions.append(submission)
        return outcomes[by_member[member_code]]

    @app.get("/submissions/{reference}")
    async def outcome(reference: str) -> PartnerOutcome:
        if reference not in outcomes:
            raise HTTPException(404, "no such submission")
        return outcomes[reference]

    @app.post("/submissions/{reference}/decision")  # the stand-in's own: the agency decides
    async def decide(reference: str, decision: Decision) -> PartnerOutcome:
        outcomes[reference] = PartnerOutcome(reference=reference, **decision.model_dump())
        return outcomes[reference]

    return app


@asynccontextmanager
async def running(app: FastAPI, port: int | None = None) -> AsyncIterator[str]:
    """Serve `app` on a loopback port (a free one unless given); its base URL."""
    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
