"""Counter and officer commands: receive a dossier, show it, act on it."""

from __future__ import annotations

import argparse
from pathlib import Path

from cli.context import EXIT_NOT_RECEIVED, EXIT_OK, CliContext, dossier_code, read_model
from cli.officer_identity import act_as
from cli.tables import add_output_arguments, dossier_tables, print_tables, wants_table
from intake.forms import IntakeRequest, ReceiptSlip
from intake.service import IntakeService
from model.dossier_inputs import ACTION_INPUTS
from workflows.dossier import DossierWorkflow

__all__ = ["add_commands"]


def add_commands(commands: argparse._SubParsersAction) -> None:
    receive = commands.add_parser("receive", help="receive a dossier at a counter")
    receive.add_argument("--file", type=Path, required=True, help="intake request as JSON")
    receive.set_defaults(handler=_receive)
    show = commands.add_parser("show", help="show a dossier's state and timeline (a table on a terminal)")
    show.add_argument("code", type=dossier_code)
    add_output_arguments(show)
    show.set_defaults(handler=_show)
    act = commands.add_parser("act", help="do a human step on a dossier")
    act.add_argument("code", type=dossier_code)
    act.add_argument("action", choices=sorted(ACTION_INPUTS))
    act.add_argument("--file", type=Path, required=True, help="the action's input as JSON")
    act.set_defaults(handler=_act)


async def _receive(args: argparse.Namespace, context: CliContext) -> int:
    request = read_model(args.file, IntakeRequest)
    client = await context.client()
    async with context.records() as records:
        service = IntakeService.standard(client, context.settings.task_queue, records)
        outcome = await service.receive(request)
    context.print(outcome)
    return EXIT_OK if isinstance(outcome, ReceiptSlip) else EXIT_NOT_RECEIVED


async def _show(args: argparse.Namespace, context: CliContext) -> int:
    handle = (await context.client()).get_workflow_handle_for(DossierWorkflow.run, args.code)
    view = await handle.query(DossierWorkflow.view)
    if wants_table(args, context.out):
        print_tables(context.out, *dossier_tables(view))
    else:
        context.print(view)
    return EXIT_OK


async def _act(args: argparse.Namespace, context: CliContext) -> int:
    # The same way as the role commands (policy, then the update; a closed dossier answers a
    # repeated action id), with the actor the file names.
    action = read_model(args.file, ACTION_INPUTS[args.action])
    context.print(await act_as(context, args.code, args.action, action))
    return EXIT_OK
