"""Interlinked groups (liên thông) at the counter: list them, receive one, show, withdraw, return.

starter.py group list
starter.py group receive --file docs/examples/receive-birth-group.json
starter.py group show CODE
starter.py group withdraw CODE --action-id CODE-withdraw
starter.py group return CODE --action-id CODE-return
starter.py group report --from 2028-01-01 --to 2028-02-01
starter.py group waiting    # counter officers: groups submitted online waiting for your check
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from adminunits import VN_TZ
from audit.group_reports import groups_by_agency
from cli.context import (
    EXIT_BAD_INPUT,
    EXIT_NOT_RECEIVED,
    EXIT_OK,
    EXIT_REFUSED,
    CliContext,
    CommandFailed,
    dossier_code,
    instant,
    read_model,
)
from cli.officer_identity import add_identity_arguments, identity
from intake.group_forms import GroupReceipt, GroupRequest
from intake.groups import GroupIntake
from officers.acting import ActionForbidden
from officers.group_checks import groups_waiting_check
from officers.groups import GROUP_ACTIONS, NotAGroup, act_on_group, may_read_group, read_group
from procedures.groups import default_groups
from procedures.instants import in_vietnam_time

__all__ = ["add_commands"]


def add_commands(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser(
        "group",
        help="interlinked groups (liên thông): list, receive, show, withdraw, return",
        description=__doc__.split("\n\n")[0],
    )
    sub = group.add_subparsers(dest="group_command", required=True)
    listing = sub.add_parser("list", help="the groups in force: code, members and agencies, time limit")
    listing.set_defaults(handler=_list)
    receive = sub.add_parser("receive", help="receive a group at a counter (one receipt, one appointment)")
    receive.add_argument(
        "--file", type=Path, required=True, help="group request as JSON (received_by inside)"
    )
    receive.set_defaults(handler=_receive)
    show = sub.add_parser("show", help="a group: every member's state and the group's timeline (JSON)")
    show.add_argument("code", type=dossier_code)
    add_identity_arguments(show)
    show.set_defaults(handler=_show)
    commands_and_actions = (
        ("withdraw", "withdraw"),
        ("return", "return_result"),
        # The counter's check of a group submitted online (status 1), as for a single dossier.
        ("receive-online", "receive_online"),
        ("request-online-completion", "request_online_completion"),
        ("refuse-online", "refuse_online"),
    )
    for name, action in commands_and_actions:
        command = sub.add_parser(name, help=f"{name} the whole group, at the counter that received it")
        command.add_argument("code", type=dossier_code)
        command.add_argument("--action-id", required=True, help="the same id sent again has one effect")
        if name == "withdraw":
            command.add_argument("--reason", default="applicant's request")
        elif name in ("request-online-completion", "refuse-online"):
            command.add_argument("--reason", required=True, help="what the applicant is told (form 02/03)")
        if name == "request-online-completion":
            command.add_argument(
                "--document", action="append", required=True, dest="documents", help="a document asked for"
            )
        if name == "receive-online":
            command.add_argument("--note", default="")
        add_identity_arguments(command)
        command.set_defaults(handler=_act, action=action)
    report = sub.add_parser(
        "report", help="per agency: its parts of groups received in a period, on time or late"
    )
    report.add_argument(
        "--from", dest="start", type=instant, required=True, help="date or instant, inclusive"
    )
    report.add_argument("--to", dest="end", type=instant, required=True, help="date or instant, exclusive")
    report.set_defaults(handler=_report)
    waiting = sub.add_parser(
        "waiting",
        help="counter officers: groups submitted online waiting for your counter's check, late first (JSON)",
    )
    waiting.add_argument("--limit", type=int, default=50)
    add_identity_arguments(waiting)
    waiting.set_defaults(handler=_waiting)


async def _list(args: argparse.Namespace, context: CliContext) -> int:
    now = datetime.now(VN_TZ)
    for version in default_groups().latest():
        if not version.in_force_at(now):
            continue
        members = ", ".join(
            f"{m.key}={m.procedure_code}@{m.agency.value}"
            + (f"(after {'+'.join(m.depends_on)})" if m.depends_on else "")
            for m in version.members
        )
        row = (
            version.group_code,
            version.time_limit.describe(),
            version.provenance.status,
            members,
            version.group_name,
        )
        print("\t".join(row), file=context.out)
    return EXIT_OK


async def _receive(args: argparse.Namespace, context: CliContext) -> int:
    request = read_model(args.file, GroupRequest)
    client = await context.client()
    async with context.records() as records:
        outcome = await GroupIntake.standard(client, context.settings.queue_routing, records).receive(request)
    context.print(outcome)
    return EXIT_OK if isinstance(outcome, GroupReceipt) else EXIT_NOT_RECEIVED


async def _report(args: argparse.Namespace, context: CliContext) -> int:
    async with context.records() as records:
        counts = await groups_by_agency(records, args.start, args.end)
    print(json.dumps([c.model_dump() for c in counts], ensure_ascii=False, indent=2), file=context.out)
    return EXIT_OK


async def _waiting(args: argparse.Namespace, context: CliContext) -> int:
    officer = identity(args, context)
    if args.limit < 1:
        raise CommandFailed(EXIT_BAD_INPUT, f"--limit {args.limit}: must be at least 1")
    async with context.records() as records:
        groups = await groups_waiting_check(records, officer, limit=args.limit)
    dump = in_vietnam_time([g.model_dump(mode="json") for g in groups])
    print(json.dumps(dump, ensure_ascii=False, indent=2), file=context.out)
    return EXIT_OK


async def _show(args: argparse.Namespace, context: CliContext) -> int:
    officer = identity(args, context)
    try:
        view = await read_group(await context.client(), args.code)
    except NotAGroup as err:
        raise CommandFailed(EXIT_BAD_INPUT, str(err)) from err
    refusal = may_read_group(officer, view)
    if refusal is not None:
        raise CommandFailed(EXIT_REFUSED, f"refused ({refusal.type.value}): {refusal.reason}")
    print(json.dumps(view.model_dump(mode="json"), ensure_ascii=False, indent=2), file=context.out)
    return EXIT_OK


async def _act(args: argparse.Namespace, context: CliContext) -> int:
    officer = identity(args, context)
    fields = {name: getattr(args, name) for name in ("reason", "note", "documents") if hasattr(args, name)}
    action = GROUP_ACTIONS[args.action](actor=officer, action_id=args.action_id, **fields)
    try:
        view = await act_on_group(await context.client(), args.code, action)
    except NotAGroup as err:
        raise CommandFailed(EXIT_BAD_INPUT, str(err)) from err
    except ActionForbidden as err:
        raise CommandFailed(
            EXIT_REFUSED, f"refused ({err.refusal.type.value}): {err.refusal.reason}"
        ) from err
    context.print(view)
    return EXIT_OK
