"""structlog, configured once: readable in a terminal, JSON lines otherwise (or when asked).

Every logger of the process goes through one renderer: ours (structlog), the standard
library's (uvicorn, the Temporal SDK, workflow.logger, activity.logger) and the SDK's Rust core,
whose lines are forwarded to the `temporalio.core` logger instead of being written to stderr in
colour. Context travels as fields: the SDK's workflow and activity info and the `extra=` of a
log call become keys of the line, never a dict pasted into the message.
"""

from __future__ import annotations

import logging
import sys

import structlog
from structlog.typing import EventDict, Processor
from temporalio import activity, workflow
from temporalio.runtime import (
    LogForwardingConfig,
    LoggingConfig,
    Runtime,
    TelemetryConfig,
    TelemetryFilter,
)

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
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # The SDK puts its workflow/activity info in the record's extras (see below), not the message.
    workflow.logger.workflow_info_on_message = False
    activity.logger.activity_info_on_message = False
    # Our lines go through the standard library too, to the one handler below: one writer with
    # one lock, so lines logged at once from the event loop, the SDK's workflow and activity
    # threads and the core's forwarder never splice into each other on a line-buffered stderr.
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=False,
    )
    # The Temporal SDK, workflow.logger and uvicorn log through the standard library: their
    # records get the same rendering, so JSON output is JSON on every line.
    handler = _CurrentStderrHandler()
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                *shared,
                structlog.stdlib.add_logger_name,
                structlog.stdlib.ExtraAdder(),
                _temporal_fields,
                _without_terminal_colours,
            ],
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
    # The API logs each request once (api.access); the demo's HTTP client would log them again.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    _forward_core_logs(logging.getLogger("temporalio.core"))


class _CurrentStderrHandler(logging.StreamHandler):
    """Writes to sys.stderr as it is at each record, so output follows it when it is replaced
    (tests capture it); the handler's lock still serialises every line."""

    def __init__(self) -> None:
        logging.Handler.__init__(self)

    @property
    def stream(self):  # noqa: D401 - StreamHandler reads self.stream
        return sys.stderr


def _forward_core_logs(logger: logging.Logger) -> None:
    """The SDK's Rust core logs through `logger` (so JSON lines stay JSON) rather than to stderr.

    Set before any client or worker exists: the runtime is the process's default from then on.
    """
    forwarding = LogForwardingConfig(
        logger=logger,
        append_target_to_name=False,
        prepend_target_on_message=False,
        append_log_fields_to_message=False,
    )
    telemetry = TelemetryConfig(
        logging=LoggingConfig(
            filter=TelemetryFilter(core_level="WARN", other_level="ERROR"), forwarding=forwarding
        )
    )
    Runtime.set_default(Runtime(telemetry=telemetry), error_if_already_set=False)


def _temporal_fields(logger: object, method_name: str, event: EventDict) -> EventDict:
    """The SDK's context objects as flat fields of the line: workflow_id, run_id, core_target..."""
    core = event.pop("temporal_log", None)
    if core is not None:
        event["core_target"] = core.target
        for key, value in (core.fields or {}).items():
            event.setdefault(f"core_{key}", value)
    for key in ("temporal_workflow", "temporal_activity"):
        info = event.pop(key, None)
        if isinstance(info, dict):
            for name, value in info.items():
                event.setdefault(name, value)
    return event


def _without_terminal_colours(logger: object, method_name: str, event: EventDict) -> EventDict:
    """uvicorn passes its message again with ANSI colour escapes in `extra`: the renderer
    colours (or not) by itself, and escapes in a JSON line are noise to whoever reads it."""
    event.pop("color_message", None)
    return event
