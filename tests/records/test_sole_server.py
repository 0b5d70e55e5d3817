"""SQLite records serve one process: a second worker on the same file is refused at start."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from records.database import RecordsInUse, open_records
from tests.test_worker_process import ROOT, environment

HOLD = textwrap.dedent(
    """
    import asyncio, sys
    from records.database import open_records

    async def main():
        async with open_records(sys.argv[1], serving=True):
            print("serving", flush=True)
            await asyncio.sleep(60)

    asyncio.run(main())
    """
)


@pytest.fixture
def serving_process(tmp_path: Path):
    """Another process serving the SQLite file `records.sqlite` in tmp_path."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'records.sqlite'}"
    process = subprocess.Popen(
        [sys.executable, "-c", HOLD, url], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout.readline().strip() == "serving", process.stderr.read()
        yield url, process
    finally:
        process.kill()
        process.wait()


class TestSoleServer:
    async def test_a_second_serving_process_is_refused_naming_the_file_and_postgresql(self, serving_process):
        """While another process serves the file, opening it to serve fails with RecordsInUse
        naming the file, that process and PostgreSQL; a one-off command may still open it."""
        url, process = serving_process
        with pytest.raises(RecordsInUse) as refused:
            async with open_records(url, serving=True):
                pass
        message = str(refused.value)
        assert "records.sqlite" in message and f"process {process.pid}" in message
        assert "PostgreSQL" in message
        async with open_records(url) as store:  # starter.py's one-off commands
            assert store.engine.dialect.name == "sqlite"

    async def test_the_lock_goes_with_a_killed_process(self, serving_process):
        """A serving process killed with SIGKILL leaves no lock behind: the next one starts."""
        url, process = serving_process
        process.kill()
        process.wait()
        async with open_records(url, serving=True):
            pass

    def test_worker_py_exits_2_with_one_clear_line(self, tmp_path, serving_process):
        """`worker.py` on a SQLite file another worker serves exits 2, saying why, without a traceback."""
        if sys.platform != "linux":
            pytest.skip("flock semantics checked on Linux")
        env = environment(tmp_path, DATABASE_URL=serving_process[0], LOG_JSON="1")
        result = subprocess.run(
            [sys.executable, "worker.py", "--no-api"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode == 2, result.stderr
        assert "records store in use" in result.stderr and "PostgreSQL" in result.stderr
        assert "Traceback" not in result.stderr
