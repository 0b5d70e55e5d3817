"""The API's HTTP server (api/server.py)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.server import ApiServer
from tests.builders import free_port


async def test_the_server_parses_http_with_httptools():
    """Requests are parsed by httptools (C), not h11 (Python): every page's floor
    (docs/benchmarks.md); the server answers through it."""
    app = FastAPI()

    @app.get("/ping")
    async def ping() -> dict[str, str]:
        return {"answer": "pong"}

    server = ApiServer(app, "127.0.0.1", free_port())
    await server.start()
    try:
        config = server._server.config
        assert config.http_protocol_class is HttpToolsProtocol
        async with httpx.AsyncClient(base_url=server.url) as http:
            assert (await http.get("/ping")).json() == {"answer": "pong"}
    finally:
        await server.stop()
