"""Operators' commands on the records store (`starter.py records ...`): schema migrations,
reference snapshots, and the dossiers whose entries the store refused (ProjectionFailed).
"""

from __future__ import annotations

import argparse
import json

from alembic.util import CommandError
from temporalio.service import RPCError, RPCStatusCode

from audit.projection_failures import projection_failures, retry_projection
from cli.context import EXIT_BAD_INPUT, EXIT_OK, CliContext, CommandFailed
from procedures.catalogue import default_catalogue
from records import migrate
from records.database import create_engine
from records.reference import snapshot_catalogue, snapshot_units

__all__ = ["add_commands"]


def add_commands(commands: argparse._SubParsersAction) -> None:
    records = commands.add_parser(
        "records", help="the records database: schema migrations and reference data"
    )
    sub = records.add_subparsers(dest="records_command", required=True)
    upgrade = sub.add_parser("migrate", help="bring the schema up to the latest revision (or --revision)")
    upgrade.add_argument("--revision", default="head", help="target revision (default head)")
    upgrade.set_defaults(handler=_migrate, downgrade=False)
    downgrade = sub.add_parser(
        "downgrade", help="take the schema down to --revision ('base' drops every table)"
    )
    downgrade.add_argument("--revision", required=True, help="target revision, e.g. 0001 or base")
    downgrade.set_defaults(handler=_migrate, downgrade=True)
    snapshot = sub.add_parser(
        "snapshot", help="copy the procedure catalogue and the agencies into the database"
    )
    snapshot.set_defaults(handler=_snapshot)
    failed = sub.add_parser(
        "failed-projections",
        help="dossiers whose entries the records store refused (ProjectionFailed), as JSON",
    )
    failed.set_defaults(handler=_failed_projections)
    retry = sub.add_parser(
        "retry-projection", help="after fixing the cause, send a ProjectionFailed dossier's entries again"
    )
    retry.add_argument("code", help="dossier code (the workflow id)")
    retry.set_defaults(handler=_retry_projection)


async def _migrate(args: argparse.Namespace, context: CliContext) -> int:
    # A bare engine: open_records would upgrade before we look.
    engine = create_engine(context.settings.database_url)
    try:
        before = await migrate.current_revision(engine)
        try:
            await (migrate.downgrade if args.downgrade else migrate.upgrade)(engine, args.revision)
        except CommandError as err:
            raise CommandFailed(EXIT_BAD_INPUT, f"migration: {err}") from err
        after = await migrate.current_revision(engine)
    finally:
        await engine.dispose()
    print(f"records schema: {before or 'empty'} -> {after or 'empty'}", file=context.out)
    return EXIT_OK


async def _snapshot(args: argparse.Namespace, context: CliContext) -> int:
    async with context.records() as records:
        procedures, versions = await snapshot_catalogue(records, default_catalogue())
        units = await snapshot_units(records)
    print(f"snapshot: {procedures} procedures, {versions} versions, {units} agencies", file=context.out)
    return EXIT_OK


async def _failed_projections(args: argparse.Namespace, context: CliContext) -> int:
    failures = await projection_failures(await context.client())
    print(
        json.dumps([f.model_dump(mode="json") for f in failures], indent=2, ensure_ascii=False),
        file=context.out,
    )
    return EXIT_OK


async def _retry_projection(args: argparse.Namespace, context: CliContext) -> int:
    try:
        flagged = await retry_projection(await context.client(), args.code)
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise CommandFailed(EXIT_BAD_INPUT, f"Temporal has no dossier {args.code}") from err
        raise
    state = (
        "sent its refused entries again" if flagged else "was not flagged ProjectionFailed (nothing to retry)"
    )
    print(f"dossier {args.code} {state}", file=context.out)
    return EXIT_OK
