"""Operator commands for the 2025-07-01 carryover: plan, run, status, schedule.

python starter.py carryover plan                 # dry run: per old authority, where to
python starter.py carryover run                  # transfer, with a progress bar
python starter.py carryover status [--follow]    # progress of a running or finished one
python starter.py carryover schedule [--at ...]  # a Temporal Schedule at the boundary
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from tqdm import tqdm

from adminunits.registry import REFORM_INSTANT
from carryover.client import (
    DEFAULT_CARRYOVER_ID,
    find_carryover,
    schedule_carryover,
    start_carryover,
)
from carryover.models import CarryoverInput, CarryoverMode, CarryoverProgress
from carryover.workflow import CarryoverWorkflow
from cli.context import EXIT_BAD_INPUT, EXIT_OK, CliContext, CommandFailed, instant
from model.dossier_inputs import TransferActor

__all__ = ["add_commands"]

POLL_SECONDS = 0.5


def add_commands(commands: argparse._SubParsersAction) -> None:
    group = commands.add_parser("carryover", help="carry open dossiers over to successor authorities")
    sub = group.add_subparsers(dest="carryover_command", required=True)
    for name, help_text in (
        ("plan", "dry run: counts and successors per old authority"),
        ("run", "transfer"),
    ):
        command = sub.add_parser(name, help=help_text)
        _common(command)
        command.add_argument("--batch-size", type=int, default=50)
        command.add_argument("--parallel-batches", type=int, default=4)
        command.add_argument("--concurrency", type=int, default=16, help="transfers in flight per batch")
        command.add_argument("--operator", default=None, help="operator id recorded in each transfer")
        command.add_argument("--no-progress", action="store_true", help="no progress bar")
        command.set_defaults(handler=_start, mode=CarryoverMode(name))
    status = sub.add_parser("status", help="progress of a carryover")
    _common(status)
    status.add_argument("--plan", action="store_true", help="the plan's progress, not the run's")
    status.add_argument("--follow", action="store_true", help="a progress bar until it finishes")
    status.set_defaults(handler=_status)
    schedule = sub.add_parser("schedule", help="start the carryover by a Temporal Schedule")
    _common(schedule)
    schedule.add_argument("--at", type=instant, default=REFORM_INSTANT, help="default 2025-07-01T00:00+07:00")
    schedule.set_defaults(handler=_schedule)


def _common(command: argparse.ArgumentParser) -> None:
    command.add_argument("--id", dest="carryover_id", default=DEFAULT_CARRYOVER_ID, help="carryover id")


async def _start(args: argparse.Namespace, context: CliContext) -> int:
    try:
        request = CarryoverInput(
            carryover_id=args.carryover_id,
            mode=args.mode,
            batch_size=args.batch_size,
            parallel_batches=args.parallel_batches,
            concurrency=args.concurrency,
            actor=TransferActor.OPERATOR if args.operator else TransferActor.SYSTEM,
            actor_id=args.operator or "system",
        )
    except ValueError as err:
        raise CommandFailed(EXIT_BAD_INPUT, f"carryover: {err}") from err
    client = await context.client()
    handle = await start_carryover(client, context.settings.task_queue, request)
    if not args.no_progress:
        await _follow(handle)
    context.print(await handle.result())
    return EXIT_OK


async def _status(args: argparse.Namespace, context: CliContext) -> int:
    mode = CarryoverMode.PLAN if args.plan else CarryoverMode.RUN
    try:
        handle = await find_carryover(await context.client(), args.carryover_id, mode)
    except LookupError as err:
        raise CommandFailed(EXIT_BAD_INPUT, str(err)) from err
    if args.follow:
        await _follow(handle)
    context.print(await handle.query(CarryoverWorkflow.progress))
    return EXIT_OK


async def _schedule(args: argparse.Namespace, context: CliContext) -> int:
    client = await context.client()
    schedule = await schedule_carryover(
        client, context.settings.task_queue, carryover_id=args.carryover_id, at=args.at
    )
    print(f"schedule {schedule.id}: carryover {args.carryover_id} at {args.at.isoformat()}", file=context.out)
    return EXIT_OK


async def _follow(handle) -> CarryoverProgress:
    """A progress bar on stderr (stdout stays JSON) until the carryover finishes."""
    with tqdm(total=0, unit="dossier", file=sys.stderr, dynamic_ncols=True) as bar:
        while True:
            progress: CarryoverProgress = await handle.query(CarryoverWorkflow.progress)
            bar.total = progress.total
            bar.n = progress.done
            bar.set_postfix(transferred=progress.transferred, manual=progress.manual, failed=progress.failed)
            bar.refresh()
            if progress.finished:
                return progress
            await asyncio.sleep(POLL_SECONDS)
