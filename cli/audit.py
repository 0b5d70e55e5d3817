"""Auditors' commands: history, search, export, report and verify (the audit/ package).
The operators' commands on the store itself (`records ...`) are in cli/store.py.

Exit codes beyond the shared ones: 6 when `verify` finds tampering or `history` finds the
audit trail disagreeing with Temporal.
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import timedelta
from pathlib import Path

from pydantic import ValidationError
from temporalio.service import RPCError, RPCStatusCode

from audit.group_history import GroupHistory, history_of, render_group_history
from audit.history import render_history
from audit.lag import DEFAULT_GRACE, verify_against_temporal
from audit.reports import GROUPINGS, Report, ReportCounts, ReportQuery, report
from audit.search import MAX_PAGE_SIZE, SearchFilter, export_csv, search
from audit.verify import verify
from cli.context import EXIT_BAD_INPUT, EXIT_OK, CliContext, CommandFailed, dossier_code, instant
from cli.tables import add_output_arguments, print_tables, report_table, search_table, wants_table
from procedures.calendar import VN_TZ
from procedures.problems import describe_validation_error

__all__ = ["EXIT_TAMPERED", "add_commands"]

EXIT_TAMPERED = 6


def add_commands(commands: argparse._SubParsersAction) -> None:
    history = commands.add_parser(
        "history",
        help="a dossier's Temporal history as a timeline, checked against the audit trail;"
        " an interlinked group's as its timeline and its members",
    )
    history.add_argument("code", type=dossier_code, help="dossier code (the workflow id)")
    history.add_argument("--json", action="store_true", help="print the whole comparison as JSON")
    history.set_defaults(handler=_history)

    finder = commands.add_parser(
        "search", help="find dossiers in the records store (paginated; a table on a terminal)"
    )
    _filter_arguments(finder)
    add_output_arguments(finder)
    finder.add_argument("--page", type=int, default=1, help="page number, from 1 (default 1)")
    finder.add_argument(
        "--page-size", type=int, default=50, help=f"dossiers per page, 1..{MAX_PAGE_SIZE} (default 50)"
    )
    finder.set_defaults(handler=_search)

    export = commands.add_parser("export", help="export the dossiers a search finds as CSV")
    _filter_arguments(export)
    export.add_argument("--output", type=Path, help="CSV file to write (default: standard output)")
    export.set_defaults(handler=_export)

    reporter = commands.add_parser("report", help="service report for a period, per unit and/or procedure")
    reporter.add_argument(
        "--from",
        dest="start",
        type=instant,
        required=True,
        help="period start (ISO; Vietnam time if no offset)",
    )
    reporter.add_argument("--to", dest="end", type=instant, required=True, help="period end, excluded")
    reporter.add_argument(
        "--by", action="append", choices=sorted(GROUPINGS), default=[], help="group rows by this (repeatable)"
    )
    reporter.add_argument("--handling-unit", help="only dossiers handled by this agency code")
    reporter.add_argument("--receiving-unit", help="only dossiers received by this agency code")
    reporter.add_argument("--procedure", help="only this procedure code")
    reporter.add_argument(
        "--as-of",
        type=instant,
        help="count pending dossiers at this moment (default: the period end, or now)",
    )
    reporter.add_argument("--csv", action="store_true", help="print a CSV table")
    add_output_arguments(reporter)
    reporter.set_defaults(handler=_report)

    checker = commands.add_parser(
        "verify",
        help="recompute the audit trail's hash chains and compare it with Temporal; exit 6 on a problem",
    )
    checker.add_argument("--dossier", action="append", help="check only this dossier (repeatable)")
    checker.add_argument(
        "--chains-only",
        action="store_true",
        help="only the hash chains, without Temporal (does not see an audit trail lagging behind)",
    )
    checker.add_argument(
        "--lag-grace",
        type=float,
        default=DEFAULT_GRACE.total_seconds(),
        metavar="SECONDS",
        help=f"an action younger than this is not yet a lag (default {DEFAULT_GRACE.total_seconds():.0f})",
    )
    checker.set_defaults(handler=_verify)


def _filter_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--procedure", dest="procedure_code", help="procedure code, e.g. 1.004873")
    parser.add_argument("--handling-unit", help="agency code of the handling authority")
    parser.add_argument("--receiving-unit", help="agency code of the receiving counter")
    parser.add_argument("--status", help="status, e.g. processing, returned")
    parser.add_argument("--received-from", type=instant, help="received at or after (ISO)")
    parser.add_argument("--received-to", type=instant, help="received before (ISO)")
    parser.add_argument("--due-from", type=instant, help="due at or after (ISO)")
    parser.add_argument("--due-to", type=instant, help="due before (ISO)")
    parser.add_argument(
        "--overdue", action=argparse.BooleanOptionalAction, help="only overdue (or --no-overdue)"
    )
    parser.add_argument(
        "--carried-over", action=argparse.BooleanOptionalAction, help="only carried over (or not)"
    )
    parser.add_argument("--carried-over-from", help="carried over from this agency code")


def _search_filter(args: argparse.Namespace) -> SearchFilter:
    fields = {name: getattr(args, name) for name in SearchFilter.model_fields}
    try:
        return SearchFilter(**fields)
    except ValidationError as err:
        raise CommandFailed(EXIT_BAD_INPUT, describe_validation_error(err)) from err


async def _history(args: argparse.Namespace, context: CliContext) -> int:
    client = await context.client()
    async with context.records() as records:
        try:
            history = await history_of(client, records, args.code)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise CommandFailed(EXIT_BAD_INPUT, f"Temporal has no dossier {args.code}") from err
            raise
    if args.json:
        context.print(history)
    elif isinstance(history, GroupHistory):
        print(render_group_history(history, VN_TZ), file=context.out)
    else:
        print(render_history(history, VN_TZ), file=context.out)
    # A group has no audit trail of its own to disagree with (its members have theirs).
    return EXIT_OK if isinstance(history, GroupHistory) or history.agrees else EXIT_TAMPERED


async def _search(args: argparse.Namespace, context: CliContext) -> int:
    search_filter = _search_filter(args)
    async with context.records() as records:
        try:
            page = await search(records, search_filter, page=args.page, page_size=args.page_size)
        except ValueError as err:
            raise CommandFailed(EXIT_BAD_INPUT, str(err)) from err
    if wants_table(args, context.out):
        print_tables(context.out, search_table(page))
    else:
        context.print(page)
    return EXIT_OK


async def _export(args: argparse.Namespace, context: CliContext) -> int:
    search_filter = _search_filter(args)
    async with context.records() as records:
        if args.output is None:
            count = await export_csv(records, search_filter, context.out)
        else:
            try:
                with args.output.open("w", newline="", encoding="utf-8") as out:
                    count = await export_csv(records, search_filter, out)
            except OSError as err:
                raise CommandFailed(EXIT_BAD_INPUT, f"{args.output}: {err.strerror}") from err
    print(f"{count} dossier(s) exported", file=sys.stderr)
    return EXIT_OK


async def _report(args: argparse.Namespace, context: CliContext) -> int:
    try:
        query = ReportQuery(
            start=args.start,
            end=args.end,
            group_by=tuple(args.by),
            handling_unit=args.handling_unit,
            receiving_unit=args.receiving_unit,
            procedure_code=args.procedure,
            as_of=args.as_of,
        )
    except ValidationError as err:
        raise CommandFailed(EXIT_BAD_INPUT, describe_validation_error(err)) from err
    async with context.records() as records:
        result = await report(records, query)
    if args.csv:
        _report_csv(result, context)
    elif wants_table(args, context.out):
        print_tables(context.out, report_table(result))
    else:
        context.print(result)
    return EXIT_OK


def _report_csv(result: Report, context: CliContext) -> None:
    ratios = ("on_time_rate", "online_share", "rating_average")
    measures = [*ReportCounts.model_fields, "total", *ratios]
    writer = csv.writer(context.out)
    writer.writerow([*result.query.group_by, *measures])
    for row in [*result.rows, result.totals]:
        summary = row.counts.summary()
        keys = [row.group.get(g, "TOTAL") for g in result.query.group_by]
        for ratio in ratios:
            value = summary[ratio]
            summary[ratio] = "" if value is None else f"{value:.4f}"
        writer.writerow([*keys, *(summary[m] for m in measures)])


async def _verify(args: argparse.Namespace, context: CliContext) -> int:
    client = None if args.chains_only else await context.client()
    async with context.records() as records:
        if client is None:
            result = await verify(records, args.dossier)
        else:
            grace = timedelta(seconds=args.lag_grace)
            result = await verify_against_temporal(records, client, args.dossier, grace)
    context.print(result)
    for problem in result.problems:
        print(
            f"TAMPERED {problem.kind}: {problem.dossier_code} seq {problem.seq}: {problem.detail}",
            file=sys.stderr,
        )
    return EXIT_OK if result.intact else EXIT_TAMPERED
