"""Operator commands on the procedure catalogue: list, search, show, validate, import."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from procedures import commands as catalogue_commands
from procedures.calendar import VN_TZ
from procedures.catalogue import DEFINITIONS_DIR, NoVersionInForce, default_catalogue
from procedures.models import ProcedureVersion

from cli.context import EXIT_OK, CliContext, instant
from cli.tables import add_output_arguments, catalogue_table, print_tables, wants_table

__all__ = ["add_commands"]


def add_commands(commands: argparse._SubParsersAction) -> None:
    catalogue = commands.add_parser("catalogue", help="procedures: list, search, show, validate, import")
    sub = catalogue.add_subparsers(dest="catalogue_command", required=True)
    listing = sub.add_parser("list", help="procedures with a version in force")
    listing.add_argument("--at", type=instant, default=None, help="a date or an ISO instant (default: now)")
    add_output_arguments(listing)
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
    """A table on a terminal; JSON with --json; tab-separated lines into a pipe."""
    if not (args.json or wants_table(args, context.out)):
        return catalogue_commands.list_procedures(default_catalogue(), _at(args), context.out)
    versions = _in_force(_at(args))
    if args.json:
        dump = [v.model_dump(mode="json", include=_LISTED) for v in versions]
        print(json.dumps(dump, ensure_ascii=False, indent=2), file=context.out)
    else:
        print_tables(context.out, catalogue_table(versions, _at(args)))
    return EXIT_OK


_LISTED = {"procedure_code", "procedure_name", "version_id", "authority_level", "channels", "time_limit", "fees"}


def _in_force(at: datetime) -> list[ProcedureVersion]:
    catalogue = default_catalogue()
    versions = []
    for code in catalogue.codes:
        try:
            versions.append(catalogue.resolve(code, at))
        except NoVersionInForce:
            continue
    return versions


async def _search(args: argparse.Namespace, context: CliContext) -> int:
    return catalogue_commands.search_procedures(default_catalogue(), " ".join(args.text), context.out)


async def _show(args: argparse.Namespace, context: CliContext) -> int:
    return catalogue_commands.show_procedure(default_catalogue(), args.code, _at(args), context.out)


async def _validate(args: argparse.Namespace, context: CliContext) -> int:
    return catalogue_commands.validate_directory(args.directory, context.out)


async def _import(args: argparse.Namespace, context: CliContext) -> int:
    return catalogue_commands.import_export(args.export, args.out, args.sector, context.out)
