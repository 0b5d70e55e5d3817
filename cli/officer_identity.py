"""Who runs an officer's command, and doing an action as them.

The identity comes from a token (`--token`, or the ONESTOP_TOKEN variable), checked with the
configured signing key, or from `--officer`, `--unit` and `--roles` for operators on a trusted
machine (the same trust as `act --file`, whose JSON names the actor). The API accepts tokens
only. Either way the entry point's policy check comes first and the workflow's validator last.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

from pydantic import ValidationError

from cli.context import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    EXIT_REFUSED,
    CliContext,
    CommandFailed,
    Handler,
    dossier_code,
)
from model.dossier_inputs import ActionInput, Actor
from model.dossier_view import DossierView
from model.input_bounds import amount_over
from officers.acting import ActionForbidden, MissingActionId, act, action_input, read
from officers.policy import log_refusal
from officers.tokens import InvalidToken, read_token, token_key
from procedures.models import Role
from procedures.problems import describe_validation_error
from runtime.settings import ConfigurationError

__all__ = [
    "TOKEN_VARIABLE",
    "act_as",
    "add_action_parser",
    "add_identity_arguments",
    "identity",
    "perform",
    "read_dossier",
    "refuse",
]

TOKEN_VARIABLE = "ONESTOP_TOKEN"


def roles(text: str) -> tuple[Role, ...]:
    """An argparse type: comma-separated role names."""
    try:
        return tuple(Role(name.strip()) for name in text.split(",") if name.strip())
    except ValueError as err:
        known = ", ".join(r.value for r in Role)
        raise argparse.ArgumentTypeError(f"unknown role in {text!r} (roles: {known})") from err


def add_identity_arguments(parser: argparse.ArgumentParser) -> None:
    who = parser.add_argument_group(
        "who you are", f"a token (--token or ${TOKEN_VARIABLE}), or --officer, --unit and --roles"
    )
    who.add_argument("--token", help=f"a token from `starter.py token` (default: ${TOKEN_VARIABLE})")
    who.add_argument("--officer", help="your officer id")
    who.add_argument("--unit", help="your unit's agency code, e.g. 000.00004.01.H01")
    who.add_argument(
        "--roles", type=roles, help="comma-separated: counter_officer, specialist, leader, auditor, operator"
    )
    who.add_argument("--name", default="", help="your name, for the timeline")


def add_action_parser(
    sub: argparse._SubParsersAction, name: str, help: str, handler: Handler
) -> argparse.ArgumentParser:
    """A sub-command doing one action on one dossier as the identified officer."""
    parser = sub.add_parser(name, help=help)
    parser.add_argument("code", type=dossier_code, help="the dossier code")
    parser.add_argument(
        "--action-id",
        required=True,
        help="your idempotency key for this action (required): sent again, it has one effect,"
        " so a retry after a lost answer never applies it twice",
    )
    add_identity_arguments(parser)
    parser.set_defaults(handler=handler)
    return parser


def identity(args: argparse.Namespace, context: CliContext) -> Actor:
    """The officer running this command, or CommandFailed saying what is missing."""
    flags = [args.officer, args.unit, args.roles]
    token = args.token or (os.environ.get(TOKEN_VARIABLE) if not any(flags) else None)
    if token:
        try:
            return read_token(token, token_key(context.settings))
        except ConfigurationError as err:
            raise CommandFailed(EXIT_BAD_INPUT, f"configuration: {err}") from err
        except InvalidToken as err:
            raise CommandFailed(EXIT_BAD_INPUT, f"--token: {err}") from err
    if not all(flags):
        missing = [f"--{n}" for n, v in zip(("officer", "unit", "roles"), flags) if not v]
        raise CommandFailed(
            EXIT_BAD_INPUT,
            f"who are you? give --token (or ${TOKEN_VARIABLE}), or {', '.join(missing)}",
        )
    try:
        return Actor(id=args.officer, unit=args.unit, roles=args.roles, name=args.name)
    except ValidationError as err:
        raise CommandFailed(EXIT_BAD_INPUT, describe_validation_error(err)) from err


def refuse(officer: Actor, action: str, code: str, error_type: str, reason: str) -> CommandFailed:
    """Log a refusal and return the exit-4 failure to raise."""
    log_refusal(officer, action, error_type, reason, code)
    return CommandFailed(EXIT_REFUSED, f"refused ({error_type}): {reason}")


async def read_dossier(context: CliContext, officer: Actor, code: str) -> DossierView:
    """`officers.acting.read` for a command: a refusal becomes exit 4, logged."""
    try:
        return await read(await context.client(), officer, code)
    except ActionForbidden as err:
        raise refuse(officer, "read", code, err.refusal.type.value, err.refusal.reason) from err


async def perform(
    context: CliContext, officer: Actor, code: str, action: str, action_id: str | None, **fields: Any
) -> int:
    """Do `action` on dossier `code` as `officer`, print the dossier's new view."""
    try:
        request = action_input(officer, action, action_id, **fields)
    except MissingActionId as err:
        raise CommandFailed(EXIT_BAD_INPUT, f"--action-id: {err}") from err
    except ValidationError as err:
        raise CommandFailed(EXIT_BAD_INPUT, describe_validation_error(err)) from err
    too_much = amount_over(request, context.settings.max_amount_vnd)
    if too_much is not None:
        raise CommandFailed(EXIT_BAD_INPUT, f"amount_vnd: {too_much}")
    context.print(await act_as(context, code, action, request))
    return EXIT_OK


async def act_as(context: CliContext, code: str, action: str, request: ActionInput) -> DossierView:
    """`officers.acting.act` for a command: a refusal becomes exit 4, logged."""
    try:
        return await act(await context.client(), code, action, request)
    except ActionForbidden as err:
        raise refuse(request.actor, action, code, err.refusal.type.value, err.refusal.reason) from err
