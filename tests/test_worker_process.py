"""worker.py as operators run it: a real process, JSON logs, SIGTERM, an unreachable server."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.builders import free_port

ROOT = Path(__file__).parent.parent


@pytest.fixture(autouse=True)
def once(request: pytest.FixtureRequest) -> None:
    if request.config.getoption("--workflow-environment") != "time-skipping":
        pytest.skip("starts its own servers: run once, in the default pass")


def environment(tmp_path: Path, **more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEMPORAL_ADDRESS")}
    env.update(
        DATA_DIR=str(tmp_path),
        TEMPORAL_DEV_PORT=str(free_port()),
        TEMPORAL_DEV_UI_PORT=str(free_port()),
        API_PORT=str(free_port()),
        **more,
    )
    return env


def log_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


class TestWorkerProcess:
    def test_sigterm_stops_api_and_worker_cleanly_with_json_logs(self, tmp_path):
        """Up with the API answering, then SIGTERM: exit 0, the port closed, every log line JSON."""
        env = environment(tmp_path)
        process = subprocess.Popen(
            [sys.executable, "worker.py", "--json-logs"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        url = f"http://127.0.0.1:{env['API_PORT']}/health"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, process.communicate()
                try:
                    if httpx.get(url).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert time.monotonic() < deadline, "the API did not come up"
                time.sleep(0.2)
            metrics = httpx.get(url.replace("/health", "/metrics")).text
            process.send_signal(signal.SIGTERM)
            _, err = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
        assert process.returncode == 0, err
        events = [line.get("event") for line in log_lines(err)]  # uvicorn, the SDK, the dev server too
        assert any(line.get("logger") == "uvicorn.error" for line in log_lines(err))
        assert "worker running" in events and events[-1] == "worker stopped"
        with pytest.raises(httpx.ConnectError):
            httpx.get(url)
        # What existed once it served is out of the collector's full passes (runtime.garbage).
        frozen = re.search(r"^onestop_gc_frozen_objects (\S+)$", metrics, re.MULTILINE)
        assert frozen is not None and float(frozen[1]) > 10_000, metrics

    def test_an_unreachable_server_is_one_clear_line_and_exit_5(self, tmp_path):
        env = environment(
            tmp_path,
            TEMPORAL_ADDRESS=f"127.0.0.1:{free_port()}",
            PAYLOAD_KEYS="k1:" + "A" * 43 + "=",
            API_TOKEN_KEY="x" * 32,
        )
        result = subprocess.run(
            [sys.executable, "worker.py", "--json-logs"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 5, result.stderr
        [line] = [line for line in log_lines(result.stderr) if line["level"] == "error"]
        assert line["error"].startswith(f"cannot reach Temporal at {env['TEMPORAL_ADDRESS']}")


class TestLogs:
    def test_the_demonstration_logs_one_json_line_per_request_and_fields_not_dicts(self, tmp_path):
        """`worker.py --demo --json-logs`: every stderr line is JSON (the SDK core's too), each HTTP request
        is one `http request` line with method, path, status and duration (no uvicorn access or httpx
        line), and the workflows' lines carry workflow_id and dossier_code as fields."""
        env = environment(tmp_path)
        log_file = tmp_path / "stderr.log"
        with log_file.open("w") as stderr:
            process = subprocess.Popen(
                [sys.executable, "worker.py", "--demo", "--json-logs"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.PIPE,
                stderr=stderr,
                text=True,
            )
            try:
                deadline = time.monotonic() + 180
                for line in process.stdout:
                    if line.startswith("== Where to look") or time.monotonic() > deadline:
                        break
                process.send_signal(signal.SIGTERM)
                process.communicate(timeout=60)
            finally:
                if process.poll() is None:
                    process.kill()
                    process.wait()
        lines = log_lines(log_file.read_text())  # fails on any line that is not JSON
        assert process.returncode == 0
        requests = [line for line in lines if line.get("event") == "http request"]
        assert len(requests) > 20
        assert {"method", "path", "status", "duration_ms"} <= requests[0].keys()
        assert any(
            r["method"] == "POST" and r["path"] == "/dossiers" and r["status"] == 201 for r in requests
        )
        assert not [line for line in lines if line.get("logger") in ("uvicorn.access", "httpx")]
        applied = [line for line in lines if line.get("event") == "dossier action applied"]
        assert applied and all("{" not in line["event"] for line in applied)
        assert all(line["workflow_id"] == line["dossier_code"] for line in applied)
        assert {"workflow_type", "run_id", "action", "status"} <= applied[0].keys()
