"""Command line for counters and officers: receive a dossier, show it, act on it.

    python starter.py receive --file request.json     # form 01, 02 or 03 as JSON
    python starter.py show CODE
    python starter.py act CODE complete_step --file action.json
    python starter.py catalogue list|search|show|validate|import ...

Exit codes: 0 done, 2 bad input, 3 not received (form 02 or 03), 4 action refused,
5 Temporal unreachable.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ValidationError
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError

from adminunits import VN_TZ
from intake.forms import IntakeRequest, ReceiptSlip
from intake.service import IntakeForbidden, IntakeService
from procedures import commands
from procedures.catalogue import DEFINITIONS_DIR, default_catalogue
from procedures.problems import describe_validation_error
from runtime.logging import configure_logging
from runtime.settings import Settings
from runtime.temporal import ConfigurationError, connect
from records.database import open_records
from workflows import dossier_inputs as inputs
from workflows.dossier import DossierWorkflow

# Each human action: the workflow's update and the model of its input.
ACTIONS = {
    "complete_step": (DossierWorkflow.complete_step, inputs.CompleteStepInput),
    "request_supplement": (DossierWorkflow.request_supplement, inputs.RequestSupplementInput),
    "supplement": (DossierWorkflow.supplement, inputs.SupplementInput),
    "request_payment": (DossierWorkflow.request_payment, inputs.RequestPaymentInput),
    "confirm_payment": (DossierWorkflow.confirm_payment, inputs.ConfirmPaymentInput),
    "refuse": (DossierWorkflow.refuse, inputs.RefuseInput),
    "withdraw": (DossierWorkflow.withdraw, inputs.WithdrawInput),
    "issue_apology": (DossierWorkflow.issue_apology, inputs.ApologyInput),
    "return_result": (DossierWorkflow.return_result, inputs.ReturnResultInput),
}
EXIT_BAD_INPUT, EXIT_NOT_RECEIVED, EXIT_REFUSED, EXIT_UNREACHABLE = 2, 3, 4, 5


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="starter.py", description=__doc__.split("\n")[0])
    commands = top.add_subparsers(dest="command", required=True)
    receive = commands.add_parser("receive", help="receive a dossier at a counter")
    receive.add_argument("--file", type=Path, required=True, help="intake request as JSON")
    show = commands.add_parser("show", help="show a dossier's state and timeline")
    show.add_argument("code")
    act = commands.add_parser("act", help="do a human step on a dossier")
    act.add_argument("code")
    act.add_argument("action", choices=sorted(ACTIONS))
    act.add_argument("--file", type=Path, required=True, help="the action's input as JSON")
    catalogue = commands.add_parser("catalogue", help="procedures: list, search, show, validate, import")
    sub = catalogue.add_subparsers(dest="catalogue_command", required=True)
    listing = sub.add_parser("list", help="procedures with a version in force")
    listing.add_argument("--at", type=_instant, default=None, help="ISO instant (default: now)")
    search = sub.add_parser("search", help="find procedures by code, name or sector (accents ignored)")
    search.add_argument("text", nargs="+")
    show_one = sub.add_parser("show", help="the version of a procedure in force at an instant")
    show_one.add_argument("code")
    show_one.add_argument("--at", type=_instant, default=None, help="ISO instant (default: now)")
    validate = sub.add_parser("validate", help="validate a catalogue directory")
    validate.add_argument("directory", type=Path, nargs="?", default=DEFINITIONS_DIR)
    importing = sub.add_parser("import", help="import an official export (CSV or XLSX)")
    importing.add_argument("export", type=Path)
    importing.add_argument("--out", type=Path, required=True, help="catalogue file to write")
    importing.add_argument("--sector", required=True)
    return top


def _instant(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=VN_TZ)


async def main(argv: list[str] | None = None, client: Client | None = None, settings: Settings | None = None) -> int:
    args = parser().parse_args(argv)
    settings = settings or Settings.from_env()
    if args.command == "catalogue":
        return _catalogue(args)
    try:
        client = client or await connect(settings)
    except ConfigurationError as err:
        return _fail(EXIT_BAD_INPUT, f"configuration: {err}")
    except RuntimeError as err:
        return _fail(EXIT_UNREACHABLE, f"cannot reach Temporal at {settings.client_address}: {err}"
                     " (is the worker running? `make run`)")
    try:
        if args.command == "receive":
            return await _receive(client, settings, _read(args.file, IntakeRequest))
        handle = client.get_workflow_handle_for(DossierWorkflow.run, args.code)
        if args.command == "show":
            _print(await handle.query(DossierWorkflow.view))
            return 0
        update, model = ACTIONS[args.action]
        _print(await handle.execute_update(update, _read(args.file, model)))
        return 0
    except _BadInput as err:
        return _fail(EXIT_BAD_INPUT, str(err))
    except IntakeForbidden as err:
        return _fail(EXIT_REFUSED, f"refused: {err}")
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        kind = cause.type if isinstance(cause, ApplicationError) else type(cause).__name__
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        return _fail(EXIT_REFUSED, f"refused ({kind}): {message}")
    except RPCError as err:
        return _fail(EXIT_BAD_INPUT, f"dossier {getattr(args, 'code', '')}: {err}")


async def _receive(client: Client, settings: Settings, request: IntakeRequest) -> int:
    async with open_records(settings.database_url) as records:
        outcome = await IntakeService.standard(client, settings.task_queue, records).receive(request)
    _print(outcome)
    return 0 if isinstance(outcome, ReceiptSlip) else EXIT_NOT_RECEIVED


def _catalogue(args: argparse.Namespace) -> int:
    at = getattr(args, "at", None) or datetime.now(VN_TZ)
    match args.catalogue_command:
        case "list":
            return commands.list_procedures(default_catalogue(), at, sys.stdout)
        case "search":
            return commands.search_procedures(default_catalogue(), " ".join(args.text), sys.stdout)
        case "show":
            return commands.show_procedure(default_catalogue(), args.code, at, sys.stdout)
        case "validate":
            return commands.validate_directory(args.directory, sys.stdout)
        case _:
            return commands.import_export(args.export, args.out, args.sector, sys.stdout)


class _BadInput(ValueError):
    pass


def _read(path: Path, model: type[BaseModel]):
    try:
        return model.model_validate_json(path.read_bytes())
    except OSError as err:
        raise _BadInput(f"{path}: {err.strerror}") from err
    except ValidationError as err:
        raise _BadInput(f"{path}: {describe_validation_error(err)}") from err


def _print(model: BaseModel) -> None:
    print(json.dumps(model.model_dump(mode="json"), ensure_ascii=False, indent=2))


def _fail(code: int, message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `starter.py catalogue list | head` ends quietly
    configure_logging()
    sys.exit(asyncio.run(main()))
