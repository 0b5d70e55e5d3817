"""A stand-in for a partner agency's system (police, social insurance) speaking the interface of
activities/partners.py over real HTTP, with a back door for the test to decide a submission."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, HTTPException
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
async def running(app: FastAPI) -> AsyncIterator[str]:
    """Serve `app` on a free loopback port; its base URL."""
    port = free_port()
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
