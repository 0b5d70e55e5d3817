"""Command line for counters, officers, auditors and operators.

    python starter.py receive --file request.json     # form 01, 02 or 03 as JSON
    python starter.py show CODE
    python starter.py act CODE complete_step --file action.json
    python starter.py catalogue list|search|show|validate|import ...
    python starter.py counter receive|supplement|withdraw|confirm-payment|return ...
    python starter.py officer inbox|show|complete|request-supplement|request-payment|refuse|apology ...
    python starter.py token --officer ID --unit AGENCY --roles ROLE[,ROLE]   # for the API
    python starter.py staff create|set-roles|disable|enable|reset-password|list ...   # web accounts
    python starter.py history CODE | search ... | report ... | export ... | verify
    python starter.py records migrate|downgrade|snapshot
    python starter.py carryover plan|run|status [--follow]|schedule
    python starter.py portal|notices list [--state waiting|pending|failed|delivered] | resend --id ID|--failed

Exit codes: 0 done, 1 unexpected failure (a bug), 2 bad input (or a request id used for another
request), 3 not received (form 02 or 03), 4 action refused, 5 Temporal or the records store
unreachable (or a start Temporal did not confirm: send the same request again), 6 audit trail
tampered with or disagreeing with Temporal.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from pydantic import ValidationError
from sqlalchemy.exc import DBAPIError
from temporalio.client import Client, WorkflowUpdateFailedError
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from cli import (
    audit,
    carryover,
    catalogue,
    counter,
    dossier_commands,
    groups,
    officer,
    outbox,
    staff,
    store,
    tokens,
)
from cli.context import EXIT_BAD_INPUT, EXIT_REFUSED, EXIT_UNREACHABLE, CliContext, CommandFailed
from intake.service import IntakeForbidden, RequestIdConflict, StartOutcomeUnknown
from model.input_bounds import short
from procedures.problems import describe_validation_error
from records.dossier_codes import CounterBusy
from runtime.logging import configure_logging
from runtime.settings import Settings
from runtime.temporal import exit_process

# A failure nobody foresaw: one line on standard error, never a traceback.
EXIT_FAILED = 1

# The command groups, in the order `--help` lists them.
GROUPS = (
    dossier_commands,
    counter,
    groups,
    officer,
    audit,
    store,
    carryover,
    outbox,
    tokens,
    staff,
    catalogue,
)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="starter.py", description=__doc__.split("\n")[0], epilog=__doc__.split("\n\n")[-1]
    )
    commands = top.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.add_commands(commands)
    return top


async def main(
    argv: list[str] | None = None, client: Client | None = None, settings: Settings | None = None
) -> int:
    args = parser().parse_args(argv)
    context = CliContext(settings or Settings.from_env(), _client=client)
    try:
        return await args.handler(args, context)
    except CommandFailed as err:
        return _fail(err.exit_code, str(err))
    except IntakeForbidden as err:
        return _fail(EXIT_REFUSED, f"refused: {err}")
    except RequestIdConflict as err:
        return _fail(EXIT_BAD_INPUT, f"conflict: {err}")
    except (StartOutcomeUnknown, CounterBusy) as err:
        return _fail(EXIT_UNREACHABLE, f"not confirmed: {err}")
    except WorkflowUpdateFailedError as err:
        cause = err.cause
        kind = cause.type if isinstance(cause, ApplicationError) else type(cause).__name__
        message = cause.message if isinstance(cause, ApplicationError) else str(cause)
        return _fail(EXIT_REFUSED, f"refused ({kind}): {message}")
    except RPCError as err:
        if err.status is RPCStatusCode.UNAVAILABLE:
            return _fail(
                EXIT_UNREACHABLE, f"Temporal unreachable at {context.settings.client_address}: {err}"
            )
        if err.status is RPCStatusCode.NOT_FOUND:
            return _fail(EXIT_BAD_INPUT, f"dossier {short(getattr(args, 'code', ''))}: not found")
        return _fail(EXIT_BAD_INPUT, f"dossier {short(getattr(args, 'code', ''))}: {short(str(err), 300)}")
    except ValidationError as err:
        return _fail(EXIT_BAD_INPUT, short(describe_validation_error(err), 1000))
    except (DBAPIError, OSError) as err:
        # The records store (or a file) cannot be reached: an outage, not the caller's input.
        return _fail(
            EXIT_UNREACHABLE,
            f"records store or file unavailable ({type(err).__name__}): {short(str(err), 200)}",
        )
    except Exception as err:  # noqa: BLE001 - the last line of defence against a traceback
        return _fail(
            EXIT_FAILED, f"unexpected {type(err).__name__}: {short(str(err), 200)} (a bug: please report it)"
        )


def _fail(code: int, message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `starter.py catalogue list | head` ends quietly
    configure_logging()
    exit_process(asyncio.run(main()))
