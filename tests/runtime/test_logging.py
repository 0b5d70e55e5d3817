"""JSON logs stay one record per line when many threads log at once, and hold no terminal colours.

The worker logs from the event loop, the SDK's workflow and activity threads and the core's
forwarder at the same time; two writers with their own locks used to splice one record into
another on a line-buffered stderr (seen in CI: `{...}{...}` on one line).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

_PROGRAM = textwrap.dedent(
    """
    import logging, threading
    import structlog
    from runtime.logging import configure_logging

    configure_logging(json=True)
    ours = structlog.get_logger()
    theirs = logging.getLogger("temporalio.worker")
    filler = "x" * 300

    def speak(n):
        for i in range(400):
            if i % 2:
                ours.info("structlog line", speaker=n, i=i, filler=filler)
            else:
                theirs.info("stdlib line", extra={"speaker": n, "i": i, "filler": filler})

    threads = [threading.Thread(target=speak, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    """
)


def test_concurrent_structlog_and_stdlib_lines_never_share_a_line(tmp_path):
    log = tmp_path / "stderr.log"
    with log.open("w") as stderr:
        subprocess.run([sys.executable, "-c", _PROGRAM], cwd=ROOT, stderr=stderr, check=True, timeout=120)
    lines = [line for line in log.read_text().splitlines() if line.strip()]
    records = [json.loads(line) for line in lines]  # a spliced line fails here
    assert len(records) == 8 * 400
    assert {r["event"] for r in records} == {"structlog line", "stdlib line"}
    assert all(r["filler"] == "x" * 300 for r in records)


_UVICORN = textwrap.dedent(
    """
    import logging
    from runtime.logging import configure_logging

    configure_logging(json=True)
    # As uvicorn.server logs its start: the message again, coloured, in `extra`.
    logging.getLogger("uvicorn.error").info(
        "Started server process [%d]", 42, extra={"color_message": "Started server process [\\x1b[36m%d\\x1b[0m]"}
    )
    """
)


def test_uvicorn_lines_carry_no_colour_escapes():
    """uvicorn's `color_message` (ANSI escapes) is dropped: the JSON line has the plain event only."""
    done = subprocess.run(
        [sys.executable, "-c", _UVICORN], cwd=ROOT, capture_output=True, text=True, check=True, timeout=120
    )
    [line] = [line for line in done.stderr.splitlines() if line.strip()]
    record = json.loads(line)
    assert record["event"] == "Started server process [42]" and record["logger"] == "uvicorn.error"
    assert "color_message" not in record and "\x1b" not in line and "\\u001b" not in line
