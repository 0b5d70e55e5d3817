"""A stand-in SMS gateway: accepts `{"to", "text", "reference"}`, checks the number and the
key, dedups by reference, and keeps what it would have sent for the demonstration and tests.

    python -m standins.sms_gateway --port 8101 [--api-key KEY]
"""

from __future__ import annotations

import argparse
import re
import secrets

import uvicorn
from fastapi import FastAPI, Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

__all__ = ["SEND_PATH", "create_sms_app"]

SEND_PATH = "/api/sms"
PHONE = re.compile(r"\+?\d{8,15}")


class _Sms(BaseModel):
    to: str = Field(min_length=1, max_length=20)
    text: str = Field(min_length=1, max_length=1000)
    reference: str = Field(min_length=1, max_length=200)


def create_sms_app(api_key: str | None = None) -> FastAPI:
    app = FastAPI(title="Stand-in SMS gateway")
    sent: list[dict] = []
    references: set[str] = set()
    app.state.sent = sent

    @app.post(SEND_PATH)
    async def send(sms: _Sms, authorization: str | None = Header(default=None)):
        if api_key is not None and not (
            authorization and secrets.compare_digest(authorization, f"Bearer {api_key}")
        ):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        if not PHONE.fullmatch(sms.to):
            return JSONResponse({"error": "InvalidNumber", "fields": ["to"]}, status_code=422)
        if sms.reference in references:
            return JSONResponse({"reference": sms.reference, "duplicate": True}, status_code=200)
        references.add(sms.reference)
        sent.append(sms.model_dump())
        return JSONResponse({"reference": sms.reference, "duplicate": False}, status_code=201)

    @app.get(SEND_PATH)
    async def listing():
        return {"messages": sent}

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m standins.sms_gateway", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", default=None)
    args = parser.parse_args(argv)
    uvicorn.run(create_sms_app(args.api_key), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
