"""Operator commands on the procedure catalogue: list, search, show, coverage, validate, import."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from cli import catalogue_commands
from cli.context import EXIT_BAD_INPUT, EXIT_OK, CliContext, CommandFailed
from cli.tables import add_output_arguments, catalogue_table, print_tables, wants_table
from procedures.calendar import VN_TZ
from procedures.catalogue import DEFINITIONS_DIR, NATIONAL_SUBDIR, NoVersionInForce, default_catalogue
from procedures.models import ProcedureVersion
from procedures.sources import default_sources_dir

__all__ = ["add_commands"]

# Catalogue instants outside these years are typing errors (and the extremes overflow in UTC).
_EARLIEST, _LATEST = datetime(1990, 1, 1, tzinfo=VN_TZ), datetime(2100, 1, 1, tzinfo=VN_TZ)


def add_commands(commands: argparse._SubParsersAction) -> None:
    catalogue = commands.add_parser(
        "catalogue", help="procedures: list, search, show, coverage, validate, import"
    )
    sub = catalogue.add_subparsers(dest="catalogue_command", required=True)
    listing = sub.add_parser(
        "list", help="procedures receivable at an instant (--all: the whole national list)"
    )
    listing.add_argument("--at", default=None, help="a date or an ISO instant (default: now)")
    listing.add_argument(
        "--all", action="store_true", help="also the listed procedures that are not receivable"
    )
    add_output_arguments(listing)
    listing.set_defaults(handler=_list)
    search = sub.add_parser("search", help="find procedures by code, name or sector (accents ignored)")
    search.add_argument("text", nargs="+")
    search.set_defaults(handler=_search)
    show_one = sub.add_parser("show", help="the version of a procedure in force at an instant")
    show_one.add_argument("code")
    show_one.add_argument("--at", default=None, help="ISO instant (default: now)")
    show_one.set_defaults(handler=_show)
    cover = sub.add_parser("coverage", help="per level and sector: listed, with execution facts, receivable")
    cover.add_argument("--at", default=None, help="ISO instant (default: now)")
    cover.set_defaults(handler=_coverage)
    validate = sub.add_parser("validate", help="validate a catalogue directory")
    validate.add_argument("directory", type=Path, nargs="?", default=DEFINITIONS_DIR)
    validate.set_defaults(handler=_validate)
    importing = sub.add_parser("import", help="import an official export (CSV or XLSX)")
    importing.add_argument("export", type=Path)
    importing.add_argument("--out", type=Path, required=True, help="catalogue file to write")
    importing.add_argument("--sector", required=True)
    importing.set_defaults(handler=_import)
    national = sub.add_parser(
        "import-national", help="re-generate definitions/national from ../shared/catalogue-sources"
    )
    national.add_argument("--sources", type=Path, default=None, help="the catalogue-sources directory")
    national.add_argument("--out", type=Path, default=DEFINITIONS_DIR / NATIONAL_SUBDIR)
    national.set_defaults(handler=_import_national)
    units = sub.add_parser(
        "units-check", help="cross-check the administrative units against the official list (codes and names)"
    )
    units.add_argument("--sources", type=Path, default=None, help="the catalogue-sources directory")
    units.set_defaults(handler=_units_check)


def _at(args: argparse.Namespace) -> datetime:
    """--at as an aware instant in a sane range, or CommandFailed (exit 2) naming it."""
    if args.at is None:
        return datetime.now(VN_TZ)
    try:
        value = datetime.fromisoformat(args.at)
        value = value if value.tzinfo else value.replace(tzinfo=VN_TZ)  # Vietnam time when no offset
        in_range = _EARLIEST <= value < _LATEST
    except (ValueError, OverflowError):
        raise CommandFailed(EXIT_BAD_INPUT, f"--at: not an ISO date or instant: {args.at[:40]!r}") from None
    if not in_range:
        raise CommandFailed(
            EXIT_BAD_INPUT, f"--at: {args.at[:40]} is outside {_EARLIEST.year}-{_LATEST.year - 1}"
        )
    return value


async def _list(args: argparse.Namespace, context: CliContext) -> int:
    """A table on a terminal; JSON with --json; tab-separated lines into a pipe."""
    if args.all or not (args.json or wants_table(args, context.out)):
        # The whole national list is long: tab-separated lines, as a pipe gets them.
        return catalogue_commands.list_procedures(default_catalogue(), _at(args), context.out, every=args.all)
    versions = _in_force(_at(args))
    if args.json:
        dump = [v.model_dump(mode="json", include=_LISTED) for v in versions]
        print(json.dumps(dump, ensure_ascii=False, indent=2), file=context.out)
    else:
        print_tables(context.out, catalogue_table(versions, _at(args)))
    return EXIT_OK


_LISTED = {
    "procedure_code",
    "procedure_name",
    "version_id",
    "authority_level",
    "channels",
    "time_limit",
    "fees",
}


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


async def _coverage(args: argparse.Namespace, context: CliContext) -> int:
    return catalogue_commands.coverage(default_catalogue(), _at(args), context.out)


async def _validate(args: argparse.Namespace, context: CliContext) -> int:
    return catalogue_commands.validate_directory(args.directory, context.out)


async def _import(args: argparse.Namespace, context: CliContext) -> int:
    return catalogue_commands.import_export(args.export, args.out, args.sector, context.out)


async def _import_national(args: argparse.Namespace, context: CliContext) -> int:
    sources = args.sources or default_sources_dir()
    return catalogue_commands.import_national_sources(sources, args.out, context.out)


async def _units_check(args: argparse.Namespace, context: CliContext) -> int:
    from adminunits.crosscheck import cross_check

    sources = args.sources or default_sources_dir()
    try:
        report = cross_check(sources)
    except (OSError, ValueError, KeyError) as err:
        raise CommandFailed(EXIT_BAD_INPUT, f"{sources}: cannot read the official list: {err}") from err
    for difference in report.differences:
        print(difference.line(), file=context.out)
    print(
        f"{report.provinces} provinces, {report.communes} communes in the official list;"
        f" {report.spelling_variants} names spelled with the tone mark elsewhere (not differences);"
        f" {len(report.differences)} differences, {len(report.unresolved)} unresolved",
        file=context.out,
    )
    return EXIT_BAD_INPUT if report.unresolved else 0
