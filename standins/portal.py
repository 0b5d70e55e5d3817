"""A stand-in for the National Public Service Portal's dossier sync endpoint.

The real portal is out of reach here, so `make run` and the tests send to this small HTTP
service instead. Like a real service it checks the bearer key (401), the message's shape
(422 naming the fields, from portal/messages.py), dedups by message id (a resend answers 200
`duplicate: true` and records nothing), and records what it accepted with its arrival time, in arrival order,
in a JSON-lines file when given one, so a restarted stand-in still knows what it has.

    python -m standins.portal --port 8100 [--api-key KEY] [--store received.jsonl]
"""

from __future__ import annotations

import argparse
import json
import secrets
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from portal.messages import DossierSyncMessage

__all__ = ["SYNC_PATH", "create_portal_app"]

SYNC_PATH = "/api/v1/dossier-sync"


class _Received:
    def __init__(self, store: Path | None) -> None:
        self.store = store
        self.messages: list[dict] = []
        self.duplicates = 0
        if store is not None and store.exists():
            self.messages = [json.loads(line) for line in store.read_text().splitlines() if line.strip()]
        self.ids = {message["message_id"] for message in self.messages}

    def add(self, message: dict) -> None:
        self.messages.append(message)
        self.ids.add(message["message_id"])
        if self.store is not None:
            with self.store.open("a") as file:
                file.write(json.dumps(message, ensure_ascii=False) + "\n")


def create_portal_app(api_key: str | None = None, store: Path | None = None) -> FastAPI:
    app = FastAPI(title="Stand-in national portal (dossier sync)")
    received = _Received(store)
    app.state.received = received

    def _authorized(authorization: str | None) -> bool:
        if api_key is None:
            return True
        return authorization is not None and secrets.compare_digest(authorization, f"Bearer {api_key}")

    @app.post(SYNC_PATH)
    async def sync(request: Request, authorization: str | None = Header(default=None)):
        if not _authorized(authorization):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        try:
            message = DossierSyncMessage.model_validate_json(await request.body())
        except ValidationError as err:
            fields = sorted({".".join(str(part) for part in e["loc"]) or "body" for e in err.errors()})
            return JSONResponse({"error": "InvalidMessage", "fields": fields}, status_code=422)
        if message.message_id in received.ids:
            received.duplicates += 1
            return JSONResponse({"message_id": message.message_id, "duplicate": True}, status_code=200)
        # When it arrived (this server's clock): the benchmark's lag from the change to the portal.
        received.add({**json.loads(message.model_dump_json()), "received_at": datetime.now(UTC).isoformat()})
        return JSONResponse({"message_id": message.message_id, "duplicate": False}, status_code=201)

    @app.get(SYNC_PATH)
    async def listing(dossier_code: str | None = None, authorization: str | None = Header(default=None)):
        if not _authorized(authorization):
            return JSONResponse({"error": "Unauthorized"}, status_code=401)
        messages = [m for m in received.messages if dossier_code in (None, m["dossier_code"])]
        return {"messages": messages, "duplicates": received.duplicates}

    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m standins.portal", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--api-key", default=None, help="the bearer key senders must present")
    parser.add_argument("--store", type=Path, default=None, help="JSON-lines file of what was accepted")
    args = parser.parse_args(argv)
    app = create_portal_app(args.api_key, args.store)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
