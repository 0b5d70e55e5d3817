"""Operators: mint a signed token for an officer (for the API, or ONESTOP_TOKEN for the CLI)."""

from __future__ import annotations

import argparse
from datetime import timedelta

from pydantic import ValidationError

from cli.context import EXIT_BAD_INPUT, EXIT_OK, CliContext, CommandFailed
from cli.officer_identity import roles
from model.dossier_inputs import Actor
from officers.tokens import DEFAULT_TTL, mint_token, token_key
from procedures.problems import describe_validation_error
from runtime.settings import ConfigurationError

__all__ = ["add_commands"]


def add_commands(commands: argparse._SubParsersAction) -> None:
    token = commands.add_parser(
        "token",
        help="operators: mint a signed token for an officer",
        description="Print a token signed with API_TOKEN_KEY (or the dev key under DATA_DIR) for"
        " `Authorization: Bearer TOKEN` or ONESTOP_TOKEN.",
    )
    token.add_argument("--officer", required=True, help="the officer's id")
    token.add_argument("--unit", required=True, help="the officer's unit (agency code)")
    token.add_argument("--roles", type=roles, required=True, help="comma-separated roles")
    token.add_argument("--name", default="", help="the officer's name")
    token.add_argument(
        "--hours", type=float, default=DEFAULT_TTL.total_seconds() / 3600, help="validity (default: 8)"
    )
    token.set_defaults(handler=_mint)


async def _mint(args: argparse.Namespace, context: CliContext) -> int:
    if args.hours <= 0:
        raise CommandFailed(EXIT_BAD_INPUT, "--hours: must be positive")
    try:
        officer = Actor(id=args.officer, unit=args.unit, roles=args.roles, name=args.name)
        key = token_key(context.settings)
    except ValidationError as err:
        raise CommandFailed(EXIT_BAD_INPUT, describe_validation_error(err)) from err
    except ConfigurationError as err:
        raise CommandFailed(EXIT_BAD_INPUT, f"configuration: {err}") from err
    try:
        token = mint_token(officer, key, timedelta(hours=args.hours))
    except ValueError as err:
        raise CommandFailed(EXIT_BAD_INPUT, f"--hours: {err} (API_TOKEN_MAX_HOURS)") from err
    print(token, file=context.out)
    return EXIT_OK
