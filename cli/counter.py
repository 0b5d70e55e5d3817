"""Counter staff: receive a dossier from flags, and act on the applicant's behalf.

    starter.py counter receive --procedure 1.004873 --applicant-name "…" --personal-id-file - \\
        --province 24 --commune 07210 --document declaration --token TOKEN   # ID on stdin
    starter.py counter supplement CODE --document photo --action-id CODE-photo
    starter.py counter withdraw CODE --reason "the applicant asks" --action-id CODE-withdraw
    starter.py counter confirm-payment CODE --amount 50000 --receipt BL-001 --action-id CODE-paid
    starter.py counter return CODE --action-id CODE-return
    starter.py counter unsettled        # receipts whose start Temporal never confirmed, settled
    starter.py counter new-lookup-secret CODE --reason "mất phiếu hẹn, đã kiểm tra CCCD" \
        --action-id CODE-slip       # a lost slip: form 01 reprinted with a new lookup secret

(`starter.py receive --file request.json` takes the whole request as JSON.)
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

from pydantic import ValidationError
from temporalio.service import RPCError, RPCStatusCode

from cli.context import (
    EXIT_BAD_INPUT,
    EXIT_NOT_RECEIVED,
    EXIT_OK,
    EXIT_REFUSED,
    CliContext,
    CommandFailed,
    instant,
)
from cli.officer_identity import add_action_parser, add_identity_arguments, identity, perform
from cli.officer_identity import refuse as refusal_of
from cli.online_check import add_online_check_commands
from intake.forms import IntakeRequest, ReceiptSlip
from intake.service import IntakeService
from model.input_bounds import short
from officers.acting import ActionForbidden
from officers.lookup_secret import ReissueLookupSecretInput, reissue_lookup_secret
from officers.policy import may_receive
from procedures.models import Channel
from procedures.problems import describe_validation_error
from records.lookup_secrets import LookupSecrets, ReissueKeyUsed

__all__ = ["add_commands"]


def add_commands(commands: argparse._SubParsersAction) -> None:
    counter = commands.add_parser(
        "counter",
        help="counter staff: receive, supplement, withdraw, confirm-payment, return, new-lookup-secret;"
        " receive-online, ask-online, refuse-online",
        description=__doc__.split("\n\n")[0],
    )
    sub = counter.add_subparsers(dest="counter_command", required=True)

    receive = sub.add_parser("receive", help="receive a dossier at your counter (form 01, 02 or 03)")
    receive.add_argument("--procedure", required=True, help="procedure code, e.g. 1.004873")
    receive.add_argument("--applicant-name", "--full-name", dest="full_name", required=True)
    # Never on the command line, where `ps` and the shell's history would show it.
    receive.add_argument(
        "--personal-id-file",
        required=True,
        metavar="PATH",
        help="file holding the 12-digit personal ID number ('-': read it from standard input)",
    )
    receive.add_argument("--province", required=True, help="2-digit province code of the address")
    receive.add_argument("--commune", required=True, help="5-digit commune code of the address")
    receive.add_argument("--district", help="3-digit district code (addresses before 2025-07-01)")
    receive.add_argument("--detail", default="", help="street and number")
    receive.add_argument("--phone")
    receive.add_argument("--email")
    receive.add_argument(
        "--document", action="append", default=[], metavar="ID[:COPIES]", help="repeat per document"
    )
    receive.add_argument("--channel", choices=[c.value for c in Channel], default=Channel.COUNTER.value)
    receive.add_argument(
        "--case", help="the procedure's case, which selects its time limit (e.g. 1.000894.02)"
    )
    receive.add_argument("--request-id", help="your id for this request: sent again, it is one dossier")
    receive.add_argument("--received-at", type=instant, help="ISO instant (default: now)")
    receive.add_argument(
        "--backfill-reason",
        help="why a receipt dated more than a few minutes ago is entered now (needs the operator role)",
    )
    receive.add_argument("--receiving-unit", help="the counter (default: your unit)")
    add_identity_arguments(receive)
    receive.set_defaults(handler=_receive)

    unsettled = sub.add_parser(
        "unsettled",
        help="receipts whose start Temporal never confirmed: confirm those it has, list those awaiting a resend",
    )
    unsettled.set_defaults(handler=_unsettled)

    supplement = add_action_parser(sub, "supplement", "hand in the documents asked for", _act)
    supplement.add_argument("--document", action="append", required=True, help="repeat per document provided")
    withdraw = add_action_parser(sub, "withdraw", "withdraw the dossier at the applicant's request", _act)
    withdraw.add_argument("--reason", default="applicant's request")
    payment = add_action_parser(sub, "confirm-payment", "record the applicant's payment", _act)
    payment.add_argument("--amount", type=int, required=True, help="VND paid")
    payment.add_argument("--receipt", required=True, help="receipt number")
    returned = add_action_parser(sub, "return", "hand the result to the applicant", _act)
    returned.add_argument("--channel", choices=[c.value for c in Channel], default=Channel.COUNTER.value)
    new_secret = add_action_parser(
        sub,
        "new-lookup-secret",
        "a lost slip: a new lookup secret (the old one stops working), printed on form 01 reprinted",
        _new_lookup_secret,
    )
    new_secret.add_argument(
        "--reason", required=True, help="why, kept for auditors, e.g. 'mất phiếu hẹn, đã kiểm tra CCCD'"
    )
    add_online_check_commands(sub)


def _documents(values: list[str]) -> tuple[list[dict[str, object]], list[str]]:
    """The documents as the request takes them, and the problems of the flags themselves.

    A document whose copies are no number still goes into the request (as one copy), so that
    the request names its other problems too: the officer hears of every one at once."""
    documents: list[dict[str, object]] = []
    problems = []
    for value in values:
        doc_id, _, copies = value.partition(":")
        # ASCII digits only: "²".isdigit() is true and int("²") fails.
        if copies and not re.fullmatch(r"[0-9]{1,3}", copies):
            problems.append(f"--document {short(value)!r}: copies must be a number from 1 to 100")
            copies = ""
        documents.append({"id": doc_id, "copies": int(copies or 1)})
    return documents, problems


def _personal_id(path: str) -> str:
    """The personal ID number from a file, or from standard input for '-'."""
    try:
        text = (
            sys.stdin.read(100)
            if path == "-"
            else Path(path).read_text(encoding="utf-8", errors="replace")[:100]
        )
    except OSError as err:
        raise CommandFailed(EXIT_BAD_INPUT, f"--personal-id-file {short(path)}: {err.strerror}") from err
    return text.strip()


async def _receive(args: argparse.Namespace, context: CliContext) -> int:
    officer = identity(args, context)
    unit = args.receiving_unit or officer.unit
    refusal = may_receive(officer, unit)
    if refusal is not None:
        raise CommandFailed(EXIT_REFUSED, f"refused ({refusal.type.value}): {refusal.reason}")
    personal_id = _personal_id(args.personal_id_file)
    documents, problems = _documents(args.document)
    try:
        # Built as one request, so that a problem is named by its full path (applicant.personal_id).
        address = {
            "province_code": args.province,
            "commune_code": args.commune,
            "district_code": args.district,
            "detail": args.detail,
        }
        request = IntakeRequest(
            procedure_code=args.procedure,
            applicant={  # type: ignore[arg-type]  # pydantic validates the dict into ApplicantAtCounter
                "full_name": args.full_name,
                "personal_id": personal_id,
                "address": address,
                "phone": args.phone,
                "email": args.email,
            },
            receiving_unit=unit,
            documents=documents,  # type: ignore[arg-type]  # validated into SubmittedDocument
            channel=Channel(args.channel),
            case=args.case,
            received_by=officer,
            received_at=args.received_at,
            request_id=args.request_id,
            backfill_reason=args.backfill_reason,
        )
    except ValidationError as err:
        raise CommandFailed(EXIT_BAD_INPUT, "; ".join([*problems, describe_validation_error(err)])) from err
    if problems:
        raise CommandFailed(EXIT_BAD_INPUT, "; ".join(problems))
    client = await context.client()
    async with context.records() as records:
        outcome = await IntakeService.standard(client, context.settings.queue_routing, records).receive(
            request
        )
    context.print(outcome)
    return EXIT_OK if isinstance(outcome, ReceiptSlip) else EXIT_NOT_RECEIVED


async def _unsettled(args: argparse.Namespace, context: CliContext) -> int:
    client = await context.client()
    async with context.records() as records:
        receipts = await IntakeService.standard(client, context.settings.queue_routing, records).settle()
    print(
        json.dumps([r.model_dump(mode="json") for r in receipts], ensure_ascii=False, indent=2),
        file=context.out,
    )
    return EXIT_OK


async def _act(args: argparse.Namespace, context: CliContext) -> int:
    officer = identity(args, context)
    command = args.counter_command
    if command == "supplement":
        return await perform(
            context, officer, args.code, "supplement", args.action_id, documents=tuple(args.document)
        )
    if command == "withdraw":
        return await perform(context, officer, args.code, "withdraw", args.action_id, reason=args.reason)
    if command == "confirm-payment":
        return await perform(
            context,
            officer,
            args.code,
            "confirm_payment",
            args.action_id,
            amount_vnd=args.amount,
            receipt_number=args.receipt,
        )
    return await perform(
        context, officer, args.code, "return_result", args.action_id, channel=Channel(args.channel)
    )


async def _new_lookup_secret(args: argparse.Namespace, context: CliContext) -> int:
    officer = identity(args, context)
    try:
        request = ReissueLookupSecretInput(actor=officer, action_id=args.action_id, reason=args.reason)
    except ValidationError as err:
        raise CommandFailed(EXIT_BAD_INPUT, describe_validation_error(err)) from err
    client = await context.client()
    async with context.records() as records:
        secrets = LookupSecrets(records.engine, records.sessions)
        try:
            done = await reissue_lookup_secret(client, secrets, args.code, request)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                raise CommandFailed(EXIT_BAD_INPUT, f"no dossier {args.code}") from err
            raise
        except ActionForbidden as err:
            raise refusal_of(
                officer, "reissue_lookup_secret", args.code, err.refusal.type.value, err.refusal.reason
            ) from err
        except ReissueKeyUsed as err:
            raise refusal_of(officer, "reissue_lookup_secret", args.code, "ActionIdReused", str(err)) from err
        intake = IntakeService.standard(client, context.settings.queue_routing, records)
        context.print(await intake.reprinted_slip(args.code, done.secret, done.reissued_at, done.view.due_at))
    return EXIT_OK
