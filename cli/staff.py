"""Operators: the web application's staff accounts (create, roles and unit, disable, enable,
reset password, list). Passwords come on standard input or from a file, never on the command
line where `ps` and the shell history would show them.

    python starter.py staff create USERNAME --unit AGENCY --roles ROLE[,ROLE] [--name …] --password-file -
    python starter.py staff set-roles USERNAME [--roles ROLE[,ROLE]] [--unit AGENCY]
    python starter.py staff disable|enable USERNAME
    python starter.py staff reset-password USERNAME --password-file -
    python starter.py staff list
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from cli.context import EXIT_BAD_INPUT, EXIT_OK, CliContext, CommandFailed
from cli.officer_identity import roles
from officers.accounts import AccountError, StaffAccounts

__all__ = ["add_commands"]


def add_commands(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("staff", help="operators: web application accounts")
    sub = group.add_subparsers(dest="staff_command", required=True)
    create = sub.add_parser("create", help="a new account (password on standard input or in a file)")
    create.add_argument("username")
    create.add_argument("--unit", required=True, help="the officer's unit (agency code)")
    create.add_argument("--roles", type=roles, required=True, help="comma-separated roles")
    create.add_argument("--name", default="", help="the name shown on pages")
    create.add_argument("--password-file", required=True, help="a file holding the password, or - for stdin")
    create.set_defaults(handler=_create)
    change = sub.add_parser("set-roles", help="change an account's roles and/or unit (ends its sessions)")
    change.add_argument("username")
    change.add_argument("--roles", type=roles, default=None)
    change.add_argument("--unit", default=None)
    change.set_defaults(handler=_set_roles)
    for name, disabled in (("disable", True), ("enable", False)):
        command = sub.add_parser(
            name, help=f"{name} an account" + (" (ends its sessions)" if disabled else "")
        )
        command.add_argument("username")
        command.set_defaults(handler=_disabler(disabled))
    reset = sub.add_parser("reset-password", help="a new password; lifts a lock-out, ends sessions")
    reset.add_argument("username")
    reset.add_argument("--password-file", required=True, help="a file holding the password, or - for stdin")
    reset.set_defaults(handler=_reset)
    listing = sub.add_parser("list", help="every account: unit, roles, disabled, locked (JSON)")
    listing.set_defaults(handler=_list)


def _password(source: str) -> str:
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as err:
        raise CommandFailed(EXIT_BAD_INPUT, f"--password-file: {err.strerror}") from err
    return text.rstrip("\r\n")


async def _create(args: argparse.Namespace, context: CliContext) -> int:
    password = _password(args.password_file)
    async with context.records() as records:
        try:
            await StaffAccounts(records).create(
                args.username, unit=args.unit, roles=args.roles, password=password, name=args.name
            )
        except AccountError as err:
            raise CommandFailed(EXIT_BAD_INPUT, str(err)) from err
    print(f"created {args.username}", file=context.out)
    return EXIT_OK


async def _set_roles(args: argparse.Namespace, context: CliContext) -> int:
    if args.roles is None and args.unit is None:
        raise CommandFailed(EXIT_BAD_INPUT, "--roles or --unit: give at least one")
    async with context.records() as records:
        try:
            await StaffAccounts(records).set_roles(args.username, roles=args.roles, unit=args.unit)
        except AccountError as err:
            raise CommandFailed(EXIT_BAD_INPUT, str(err)) from err
    print(f"changed {args.username}", file=context.out)
    return EXIT_OK


def _disabler(disabled: bool):
    async def handler(args: argparse.Namespace, context: CliContext) -> int:
        async with context.records() as records:
            try:
                await StaffAccounts(records).set_disabled(args.username, disabled)
            except AccountError as err:
                raise CommandFailed(EXIT_BAD_INPUT, str(err)) from err
        print(f"{'disabled' if disabled else 'enabled'} {args.username}", file=context.out)
        return EXIT_OK

    return handler


async def _reset(args: argparse.Namespace, context: CliContext) -> int:
    password = _password(args.password_file)
    async with context.records() as records:
        try:
            await StaffAccounts(records).reset_password(args.username, password)
        except AccountError as err:
            raise CommandFailed(EXIT_BAD_INPUT, str(err)) from err
    print(f"password reset for {args.username}", file=context.out)
    return EXIT_OK


async def _list(args: argparse.Namespace, context: CliContext) -> int:
    async with context.records() as records:
        rows = await StaffAccounts(records).list()
    accounts = [
        {
            "username": r.username,
            "name": r.display_name,
            "unit": r.unit,
            "roles": r.roles.split(","),
            "disabled": r.disabled,
            "locked_until": r.locked_until.isoformat() if r.locked_until else None,
        }
        for r in rows
    ]
    print(json.dumps(accounts, ensure_ascii=False, indent=2), file=context.out)
    return EXIT_OK
