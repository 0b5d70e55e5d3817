"""Officers of a handling authority: what waits for me, a dossier, and my steps.

starter.py officer inbox --token TOKEN
starter.py officer show CODE
starter.py officer complete CODE review --note "complete" --action-id CODE-review
starter.py officer request-supplement CODE --reason "blurred copy" --document photo --action-id CODE-ask
starter.py officer request-payment CODE --amount 50000 --action-id CODE-fees
starter.py officer refuse CODE --reason "not eligible" --action-id CODE-refuse
starter.py officer apology CODE --reason "…" --new-due-at 2026-12-21T17:00 --action-id CODE-sorry
"""

from __future__ import annotations

import argparse
import json

from cli.context import EXIT_OK, CliContext, dossier_code, instant
from cli.officer_identity import add_action_parser, add_identity_arguments, identity, perform, read_dossier
from cli.tables import add_output_arguments, dossier_tables, inbox_table, print_tables, wants_table
from officers.inbox import inbox
from procedures.instants import in_vietnam_time

__all__ = ["add_commands"]


def add_commands(commands: argparse._SubParsersAction) -> None:
    officer = commands.add_parser(
        "officer",
        help="officers: inbox, show, complete, request-supplement, request-payment, refuse, apology",
        description=__doc__.split("\n\n")[0],
    )
    sub = officer.add_subparsers(dest="officer_command", required=True)

    listing = sub.add_parser("inbox", help="dossiers waiting for you: overdue first, then by due moment")
    listing.add_argument("--limit", type=int, default=50)
    add_output_arguments(listing)
    add_identity_arguments(listing)
    listing.set_defaults(handler=_inbox)

    show = sub.add_parser("show", help="a dossier of your unit (auditors: any dossier)")
    show.add_argument("code", type=dossier_code)
    add_output_arguments(show)
    add_identity_arguments(show)
    show.set_defaults(handler=_show)

    complete = add_action_parser(sub, "complete", "complete the dossier's current step", _act)
    complete.add_argument("step", help="the step's id, e.g. review")
    complete.add_argument("--note", default="")
    supplement = add_action_parser(
        sub, "request-supplement", "ask the applicant for documents (the clock stops)", _act
    )
    supplement.add_argument("--reason", required=True)
    supplement.add_argument("--document", action="append", required=True, help="repeat per document")
    payment = add_action_parser(sub, "request-payment", "ask for fees", _act)
    payment.add_argument("--amount", type=int, required=True, help="VND")
    payment.add_argument("--reason", default="")
    refuse = add_action_parser(sub, "refuse", "refuse the dossier, with the reason", _act)
    refuse.add_argument("--reason", required=True)
    apology = add_action_parser(
        sub, "apology", "apologise for an overdue dossier with a new appointment (form 04)", _act
    )
    apology.add_argument("--reason", required=True)
    apology.add_argument(
        "--new-due-at", type=instant, required=True, help="ISO instant, Vietnam time by default"
    )


async def _inbox(args: argparse.Namespace, context: CliContext) -> int:
    officer = identity(args, context)
    async with context.records() as records:
        items = await inbox(await context.client(), records, officer, limit=max(args.limit, 1))
    if not wants_table(args, context.out):
        dump = in_vietnam_time([i.model_dump(mode="json") for i in items])
        print(json.dumps(dump, ensure_ascii=False, indent=2), file=context.out)
        return EXIT_OK
    if not items:
        print(f"nothing waits for {officer.id} at {officer.unit}", file=context.out)
    else:
        print_tables(context.out, inbox_table(items, officer))
    return EXIT_OK


async def _show(args: argparse.Namespace, context: CliContext) -> int:
    view = await read_dossier(context, identity(args, context), args.code)
    if wants_table(args, context.out):
        print_tables(context.out, *dossier_tables(view))
    else:
        context.print(view)
    return EXIT_OK


async def _act(args: argparse.Namespace, context: CliContext) -> int:
    officer, command, code, action_id = (
        identity(args, context),
        args.officer_command,
        args.code,
        args.action_id,
    )
    if command == "complete":
        return await perform(
            context, officer, code, "complete_step", action_id, step_id=args.step, note=args.note
        )
    if command == "request-supplement":
        return await perform(
            context,
            officer,
            code,
            "request_supplement",
            action_id,
            reason=args.reason,
            documents=tuple(args.document),
        )
    if command == "request-payment":
        return await perform(
            context, officer, code, "request_payment", action_id, amount_vnd=args.amount, reason=args.reason
        )
    if command == "refuse":
        return await perform(context, officer, code, "refuse", action_id, reason=args.reason)
    return await perform(
        context, officer, code, "issue_apology", action_id, reason=args.reason, new_due_at=args.new_due_at
    )
