"""Counter staff checking dossiers submitted online (status 1): receive, ask, refuse.

    starter.py counter receive-online CODE --action-id CODE-received      # status 2: the clock starts
    starter.py counter ask-online CODE --reason "…" --document photo --action-id CODE-ask   # form 02
    starter.py counter refuse-online CODE --reason "…" --action-id CODE-refused            # form 03

`starter.py officer inbox` lists the dossiers waiting for this check, late ones first.
"""

from __future__ import annotations

import argparse

from cli.context import CliContext
from cli.officer_identity import add_action_parser, identity, perform

__all__ = ["add_online_check_commands"]


def add_online_check_commands(sub: argparse._SubParsersAction) -> None:
    """The three answers to an online dossier, as `counter` sub-commands."""
    add_action_parser(sub, "receive-online", "receive a dossier submitted online (status 2, form 01)", _act)
    ask = add_action_parser(
        sub, "ask-online", "ask the applicant to complete an online dossier online (form 02)", _act
    )
    ask.add_argument("--reason", required=True, help="what is wrong or missing")
    ask.add_argument("--document", action="append", required=True, help="repeat per document asked for")
    refuse = add_action_parser(
        sub, "refuse-online", "refuse an online dossier at the check (status 3, form 03)", _act
    )
    refuse.add_argument("--reason", required=True, help="why it cannot be received")


async def _act(args: argparse.Namespace, context: CliContext) -> int:
    officer = identity(args, context)
    command = args.counter_command
    if command == "receive-online":
        return await perform(context, officer, args.code, "receive_online", args.action_id)
    if command == "ask-online":
        return await perform(
            context,
            officer,
            args.code,
            "request_online_completion",
            args.action_id,
            reason=args.reason,
            documents=tuple(args.document),
        )
    return await perform(context, officer, args.code, "refuse_online", args.action_id, reason=args.reason)
