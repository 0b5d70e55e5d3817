"""structlog, configured once: readable in a terminal, JSON lines otherwise (or when asked)."""

from __future__ import annotations

import logging
import sys

import structlog

__all__ = ["configure_logging", "wants_json"]

_configured = False


def wants_json(json: bool | None) -> bool:
    """JSON lines when asked, or by default when stderr is not a terminal."""
    return not sys.stderr.isatty() if json is None else json


def configure_logging(level: int = logging.INFO, json: bool | None = None) -> None:
    """`json`: True for JSON lines, False for a terminal, None for JSON unless stderr is a tty."""
    global _configured
    if _configured:
        return
    _configured = True
    as_json = wants_json(json)
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if as_json else structlog.dev.ConsoleRenderer()
    )
    shared = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # Looked up at each use, so output follows sys.stderr when it is replaced (tests).
        logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),
        cache_logger_on_first_use=False,
    )
    # The Temporal SDK, workflow.logger and uvicorn log through the standard library: their
    # records get the same rendering, so JSON output is JSON on every line.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.stdlib.add_logger_name],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
