"""Serving the API with uvicorn inside the worker's event loop.

The worker process owns the signals: uvicorn's own handlers are left out, and `stop()` ends
the server (in-flight requests finish) when the process is asked to stop.
"""

from __future__ import annotations

import asyncio
import contextlib

import uvicorn
from fastapi import FastAPI

__all__ = ["ApiServer"]


class _Server(uvicorn.Server):
    # uvicorn's is a generator-based context manager; any context manager will do.
    def capture_signals(self) -> contextlib.AbstractContextManager[None]:  # type: ignore[override]
        return contextlib.nullcontext()  # worker.py handles SIGINT/SIGTERM for the whole process


class ApiServer:
    """uvicorn on `host:port`, started and stopped by the caller."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self.url = f"http://{host}:{port}"
        # log_config=None: uvicorn logs through the standard library as runtime.logging set it.
        # access_log=False: the app logs one line per request itself (api.access), with fields.
        # http="httptools": HTTP parsed in C (a dependency), not by h11 in Python; named, so that
        # a missing package fails at start instead of silently costing every request more.
        config = uvicorn.Config(
            app, host=host, port=port, log_config=None, lifespan="off", access_log=False, http="httptools"
        )
        self._server = _Server(config)
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        """Return once the port is listening; RuntimeError if it cannot be (e.g. in use)."""
        self._task = asyncio.create_task(self._serve())
        while not self._server.started:
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.02)

    async def _serve(self) -> None:
        try:
            await self._server.serve()
        except SystemExit as err:  # uvicorn exits when it cannot bind
            raise RuntimeError(f"the API cannot listen on {self.url}") from err
        if not self._server.started:
            raise RuntimeError(f"the API cannot listen on {self.url}")

    @property
    def done(self) -> asyncio.Task | None:
        return self._task

    async def stop(self) -> None:
        if self._task is None:
            return
        self._server.should_exit = True
        await self._task
