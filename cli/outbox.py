"""Operators' commands over the outboxes: what is waiting or failed, and sending it again.

starter.py portal list [--state waiting|pending|failed|delivered]
starter.py portal resend (--id ID ... | --failed)
starter.py notices list [--state ...]   (no_contact: notices for an applicant without e-mail or phone)
starter.py notices resend (--id ID ... | --failed)
"""

from __future__ import annotations

import argparse
from datetime import datetime

from pydantic import BaseModel

from cli.context import EXIT_BAD_INPUT, EXIT_OK, CliContext, CommandFailed
from records.outbox import TABLES, list_rows, resend
from records.outbox_tables import DELIVERED, FAILED, NO_CONTACT, PENDING

__all__ = ["add_commands"]

# `no_contact` (notices only) is final: never in "waiting", never resent.
STATES = {
    "waiting": (PENDING, FAILED),
    PENDING: (PENDING,),
    FAILED: (FAILED,),
    DELIVERED: (DELIVERED,),
    NO_CONTACT: (NO_CONTACT,),
}


class OutboxEntry(BaseModel):
    id: int
    dossier_code: str
    event_seq: int
    what: str  # the portal message's id, or the notice's kind and channel
    state: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    created_at: datetime
    done_at: datetime | None


class OutboxListing(BaseModel):
    outbox: str
    entries: list[OutboxEntry]


class Resent(BaseModel):
    outbox: str
    resent: int


def add_commands(commands) -> None:
    for name, what in (
        ("portal", "dossier sync messages for the national portal"),
        ("notices", "applicant notices"),
    ):
        group = commands.add_parser(name, help=f"operators: the outbox of {what}")
        sub = group.add_subparsers(dest=f"{name}_command", required=True)
        listing = sub.add_parser(
            "list", help="rows by state, oldest first, as JSON (default: pending and failed)"
        )
        listing.add_argument("--state", choices=sorted(STATES), default="waiting")
        listing.add_argument("--limit", type=int, default=1000)
        listing.set_defaults(handler=_list, outbox=name)
        again = sub.add_parser("resend", help="put rows back to pending now, attempts reset")
        chosen = again.add_mutually_exclusive_group(required=True)
        chosen.add_argument(
            "--id", type=int, action="append", dest="ids", help="a row id from `list` (repeatable)"
        )
        chosen.add_argument("--failed", action="store_true", help="every failed row")
        again.set_defaults(handler=_resend, outbox=name)


async def _list(args: argparse.Namespace, context: CliContext) -> int:
    table = TABLES[args.outbox]
    async with context.records() as records, records.sessions() as session:
        rows = await list_rows(session, table, STATES[args.state], limit=args.limit)
    context.print(OutboxListing(outbox=args.outbox, entries=[_entry(args.outbox, row) for row in rows]))
    return EXIT_OK


async def _resend(args: argparse.Namespace, context: CliContext) -> int:
    table = TABLES[args.outbox]
    async with context.records() as records, records.sessions() as session:
        count = await resend(session, table, None if args.failed else args.ids)
        if args.ids and count != len(set(args.ids)):
            await session.rollback()
            raise CommandFailed(
                EXIT_BAD_INPUT,
                f"--id: {len(set(args.ids)) - count} of the ids are not in the outbox"
                " or are no_contact notices (nowhere to send them)",
            )
        await session.commit()
    context.print(Resent(outbox=args.outbox, resent=count))
    return EXIT_OK


def _entry(outbox: str, row) -> OutboxEntry:
    portal = outbox == "portal"
    return OutboxEntry(
        id=row.id,
        dossier_code=row.dossier_code,
        event_seq=row.event_seq,
        what=row.message_id if portal else f"{row.kind} by {row.channel}",
        state=row.state,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        created_at=row.created_at,
        done_at=row.delivered_at if portal else row.sent_at,
    )
