"""A cap on request bodies, before anything parses them.

The largest legitimate request (an intake form with its documents by reference) is a few
kilobytes; a body over the cap gets 413 `BodyTooLarge` in the API's error shape, whether it
announces its length or streams in chunks, and is never read past the cap.
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["MAX_BODY_BYTES", "BodyLimit"]

MAX_BODY_BYTES = 256 * 1024


class BodyLimit:
    """ASGI middleware: 413 for an HTTP request whose body exceeds `limit` bytes."""

    def __init__(
        self, app: ASGIApp, limit: int = MAX_BODY_BYTES, larger: dict[str, int] | None = None
    ) -> None:
        # `larger`: path prefixes whose bodies may be bigger (uploaded files), with their caps.
        self.app, self.limit, self.larger = app, limit, larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        limit = next((cap for prefix, cap in self.larger.items() if path.startswith(prefix)), self.limit)
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            await self._too_large(send, limit)
            return
        # Read the body up to the cap, then hand it to the app as if it came from the wire.
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._too_large(send, limit)
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _too_large(self, send: Send, limit: int) -> None:
        payload = json.dumps(
            {"type": "BodyTooLarge", "message": f"the request body is over {limit} bytes"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})
