"""Operator commands on the procedure catalogue: list, search, show, validate, import."""

from __future__ import annotations

import argparse
from datetime import datetime
from pathlib import Path

from procedures import commands as catalogue_commands
from procedures.calendar import VN_TZ
from procedures.catalogue import DEFINITIONS_DIR, default_catalogue

from cli.context import CliContext, instant

__all__ = ["add_commands"]


def add_commands(commands: argparse._SubParsersAction) -> None:
    catalogue = commands.add_parser("catalogue", help="procedures: list, search, show, validate, import")
    sub = catalogue.add_subparsers(dest="catalogue_command", required=True)
    listing = sub.add_parser("list", help="procedures with a version in force")
    listing.add_argument("--at", type=instant, default=None, help="ISO instant (default: now)")
    listing.set_defaults(handler=_list)
    search = sub.add_parser("search", help="find procedures by code, name or sector (accents ignored)")
    search.add_argument("text", nargs="+")
    search.set_defaults(handler=_search)
    show_one = sub.add_parser("show", help="the version of a procedure in force at an instant")
    show_one.add_argument("code")
    show_one.add_argument("--at", type=instant, default=None, help="ISO instant (default: now)")
    show_one.set_defaults(handler=_show)
    validate = sub.add_parser("validate", help="validate a catalogue directory")
    validate.add_argument("directory", type=Path, nargs="?", default=DEFINITIONS_DIR)
    validate.set_defaults(handler=_validate)
    importing = sub.add_parser("import", help="import an official export (CSV or XLSX)")
    importing.add_argument("export", type=Path)
    importing.add_argument("--out", type=Path, required=True, help="catalogue file to write")
    importing.add_argument("--sector", required=True)
    importing.set_defaults(handler=_import)


def _at(args: argparse.Namespace) -> datetime:
    return args.at or datetime.now(VN_TZ)


async def _list(args: argparse.Namespace, context: CliContext) -> int:
    return catalogue_commands.list_procedures(default_catalogue(), _at(args), context.out)


async def _search(args: argparse.Namespace, context: CliContext) -> int:
    return catalogue_commands.search_procedures(default_catalogue(), " ".join(args.text), context.out)


async def _show(args: argparse.Namespace, context: CliContext) -> int:
    return catalogue_commands.show_procedure(default_catalogue(), args.code, _at(args), context.out)


async def _validate(args: argparse.Namespace, context: CliContext) -> int:
    return catalogue_commands.validate_directory(args.directory, context.out)


async def _import(args: argparse.Namespace, context: CliContext) -> int:
    return catalogue_commands.import_export(args.export, args.out, args.sector, context.out)
