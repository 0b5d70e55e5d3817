"""structlog, configured once: readable in a terminal, JSON lines otherwise (or when asked)."""

from __future__ import annotations

import logging
import sys

import structlog

__all__ = ["configure_logging"]

_configured = False


def configure_logging(level: int = logging.INFO, json: bool | None = None) -> None:
    """`json`: True for JSON lines, False for a terminal, None for JSON unless stderr is a tty."""
    global _configured
    if _configured:
        return
    _configured = True
    as_json = not sys.stderr.isatty() if json is None else json
    renderer = (
        structlog.processors.JSONRenderer(ensure_ascii=False) if as_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        # Looked up at each use, so output follows sys.stderr when it is replaced (tests).
        logger_factory=lambda *_: structlog.PrintLogger(sys.stderr),
        cache_logger_on_first_use=False,
    )
    # The Temporal SDK, workflow.logger and uvicorn log through the standard library.
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
