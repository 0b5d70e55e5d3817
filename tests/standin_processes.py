"""Stand-in services run as real processes on loopback ports, for the delivery tests."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).parents[1]


class StandinProcess:
    """`python -m MODULE --port PORT ...`, started, stopped and started again by a test."""

    def __init__(self, module: str, port: int, *args: str, probe_path: str) -> None:
        self.command = [sys.executable, "-m", module, "--port", str(port), *args]
        self.url = f"http://127.0.0.1:{port}"
        self.probe = self.url + probe_path
        self.process: subprocess.Popen | None = None

    async def start(self, headers: dict | None = None) -> None:
        self.process = subprocess.Popen(self.command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
        async with httpx.AsyncClient(timeout=1) as http:
            for _ in range(200):
                try:
                    await http.get(self.probe, headers=headers or {})
                    return
                except httpx.TransportError:
                    await asyncio.sleep(0.05)
        raise AssertionError(f"{self.command} did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None
