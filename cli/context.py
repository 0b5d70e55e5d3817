"""What every command handler gets: settings, a Temporal client on demand, the records store.

Handlers raise `CommandFailed` with an exit code; starter.py prints the message and exits.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TextIO, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio.client import Client

from model.input_bounds import DOSSIER_CODE_PATTERN, short
from procedures.instants import check_range, in_vietnam_time, parse_instant
from procedures.problems import describe_validation_error
from records.database import RecordsStore, open_records
from runtime.settings import ConfigurationError, Settings
from runtime.temporal import connect

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_NOT_RECEIVED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_UNREACHABLE",
    "CliContext",
    "CommandFailed",
    "Handler",
    "dossier_code",
    "instant",
    "print_model",
    "read_model",
]

EXIT_OK, EXIT_BAD_INPUT, EXIT_NOT_RECEIVED, EXIT_REFUSED, EXIT_UNREACHABLE = 0, 2, 3, 4, 5

M = TypeVar("M", bound=BaseModel)


class CommandFailed(Exception):
    """A command could not do what was asked; `exit_code` tells scripts why."""

    def __init__(self, exit_code: int, message: str) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class CliContext:
    settings: Settings
    out: TextIO = field(default_factory=lambda: sys.stdout)
    _client: Client | None = None

    async def client(self) -> Client:
        """The Temporal client, connected on first use (catalogue commands never need one)."""
        if self._client is None:
            try:
                self._client = await connect(self.settings)
            except ConfigurationError as err:
                raise CommandFailed(EXIT_BAD_INPUT, f"configuration: {err}") from err
            except RuntimeError as err:
                raise CommandFailed(
                    EXIT_UNREACHABLE,
                    f"cannot reach Temporal at {self.settings.client_address}: {err}"
                    " (is the worker running? `make run`)",
                ) from err
        return self._client

    def records(self) -> AbstractAsyncContextManager[RecordsStore]:
        return open_records(self.settings.database_url)

    def print(self, model: BaseModel) -> None:
        print_model(model, self.out)


Handler = Callable[[argparse.Namespace, CliContext], Awaitable[int]]


def read_model(path: Path, model: type[M]) -> M:
    """A JSON file as `model`, or CommandFailed naming the file and the field."""
    try:
        return model.model_validate_json(path.read_bytes())
    except OSError as err:
        raise CommandFailed(EXIT_BAD_INPUT, f"{path}: {err.strerror}") from err
    except ValidationError as err:
        raise CommandFailed(EXIT_BAD_INPUT, f"{path}: {describe_validation_error(err)}") from err


def print_model(model: BaseModel, out: TextIO) -> None:
    """`model` as JSON, its instants in Vietnam time."""
    print(json.dumps(in_vietnam_time(model.model_dump(mode="json")), ensure_ascii=False, indent=2), file=out)


def dossier_code(text: str) -> str:
    """An argparse type: a dossier code of the shape codes have (never empty, no spaces)."""
    if not re.fullmatch(DOSSIER_CODE_PATTERN, text):
        raise argparse.ArgumentTypeError(
            f"{short(text)!r} is not a dossier code (like 000.00004.01.H01-261207-0001)"
        )
    return text


def instant(text: str) -> datetime:
    """An argparse type: the forms the API accepts too (a date is that day in Vietnam time)."""
    try:
        return check_range(parse_instant(text))
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{short(text)!r}: {err}") from err
