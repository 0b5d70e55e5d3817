"""Sending the applicant's notices from the outbox, by e-mail (SMTP) and SMS (HTTP gateway).

One long activity (heartbeating) sends what is due for `round_seconds`, then returns; the
OutboxDeliveryWorkflow starts the next. Each delivery (notice x channel) is sent until the
server or gateway accepts it, then marked sent: a notice is sent once, or twice at worst when
the worker dies between the acceptance and the mark (the Message-ID / reference carries the
notice id, so the receiver can tell). Log lines name the dossier, the notice and the channel,
never an address, a number or a text.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import aiosmtplib
import httpx
import structlog
from sqlalchemy import func, select, update
from temporalio import activity

from activities.outbox_rows import CONTACT_PURPOSE, REASON_PURPOSE
from activities.portal_sync import DeliveryRoundInput, DeliveryRoundResult, idle_round, pause
from notices.email_sender import EmailSender
from notices.rendering import NoticeFacts, render
from notices.sms_gateway import SmsGateway, SmsRefused
from records.database import RecordsStore
from records.outbox import due_notices, mark_attempt_failed, mark_delivered
from records.outbox_tables import DELIVERED, FAILED, ApplicantContactRow, NoticeDeliveryRow
from records.tables import DossierEventRow, DossierRow, NotificationRow
from runtime.codec import EncryptionCodec, PayloadDecryptionError
from runtime.delivery_settings import DeliverySettings

__all__ = ["NoticeActivities"]

log = structlog.get_logger(__name__)


class _Permanent(Exception):
    """This delivery can never succeed as it is (no address, refused recipient, bad number)."""


class NoticeActivities:
    def __init__(
        self, records: RecordsStore, settings: DeliverySettings, codec: EncryptionCodec | None
    ) -> None:
        self._records = records
        self._settings = settings
        self._codec = codec
        self._email = EmailSender(settings)

    @activity.defn(name="send_applicant_notices")
    async def send(self, round_input: DeliveryRoundInput) -> DeliveryRoundResult:
        result = DeliveryRoundResult()
        settings = self._settings
        run_for = round_input.run_seconds or settings.round_seconds
        if not (settings.smtp_host or settings.sms_gateway_url) or self._codec is None:
            await idle_round(run_for)
            return result
        ends = time.monotonic() + run_for
        async with httpx.AsyncClient(timeout=settings.http_timeout) as http:
            sms = (
                SmsGateway(http, settings.sms_gateway_url, settings.sms_gateway_key)
                if settings.sms_gateway_url
                else None
            )
            while time.monotonic() < ends and not activity.is_worker_shutdown():
                async with self._records.sessions() as session:
                    due = await due_notices(session, datetime.now(UTC))
                    session.expunge_all()
                due = [row for row in due if self._configured(row.channel)]
                for row in due:
                    await self._deliver(row, sms, result)
                activity.heartbeat(result.model_dump())
                if not due:
                    await pause(settings.poll_seconds)
        return result

    def _configured(self, channel: str) -> bool:
        return bool(self._settings.smtp_host if channel == "email" else self._settings.sms_gateway_url)

    async def _deliver(
        self, row: NoticeDeliveryRow, sms: SmsGateway | None, result: DeliveryRoundResult
    ) -> None:
        notice_id = f"{row.dossier_code}:{row.event_seq}:{row.channel}"
        error, permanent = "", False
        try:
            address, facts = await self._prepare(row)
            rendered = render(row.kind, facts)
            if row.channel == "email":
                await self._email.send(notice_id, address, rendered)
            else:
                assert sms is not None
                await sms.send(notice_id, address, rendered.sms)
        except (_Permanent, SmsRefused, aiosmtplib.SMTPRecipientsRefused) as err:
            error, permanent = f"{type(err).__name__}: {_no_address(err)}", True
        except aiosmtplib.SMTPResponseException as err:
            error, permanent = f"SMTP {err.code}", err.code >= 500
        except (aiosmtplib.SMTPException, httpx.HTTPError, OSError) as err:
            error = type(err).__name__
        now = datetime.now(UTC)
        async with self._records.sessions() as session:
            if not error:
                await mark_delivered(session, NoticeDeliveryRow, row.id, now)
                await _close_notice_when_sent(session, row, now)
            else:
                give_up = permanent or row.attempts + 1 >= self._settings.max_attempts
                state = await mark_attempt_failed(
                    session,
                    NoticeDeliveryRow,
                    row,
                    error,
                    now,
                    self._settings.backoff(row.attempts + 1),
                    give_up,
                )
            await session.commit()
        fields = dict(dossier_code=row.dossier_code, notice_id=notice_id, kind=row.kind, channel=row.channel)
        if not error:
            result.delivered += 1
            log.info("applicant notice sent", **fields)
        elif state == FAILED:
            result.failed += 1
            log.error("applicant notice failed", **fields, attempts=row.attempts + 1, error=error)
        else:
            result.retried += 1
            log.warning(
                "applicant notice not sent, will retry", **fields, attempts=row.attempts + 1, error=error
            )

    async def _prepare(self, row: NoticeDeliveryRow) -> tuple[str, NoticeFacts]:
        async with self._records.sessions() as session:
            contact = await session.get(ApplicantContactRow, row.dossier_code)
            stated = await session.scalar(
                select(NotificationRow.facts).where(
                    NotificationRow.dossier_code == row.dossier_code,
                    NotificationRow.event_seq == row.event_seq,
                )
            )
        if stated is not None:
            # A group's notice: it carries its facts (a group has no dossier row or events).
            facts = json.loads(stated)
            return self._address(row, contact), _group_facts(row.dossier_code, facts, self._reason(facts))
        async with self._records.sessions() as session:
            dossier = await session.get(DossierRow, row.dossier_code)
            payload = await session.scalar(
                select(DossierEventRow.payload).where(
                    DossierEventRow.dossier_code == row.dossier_code, DossierEventRow.seq == row.event_seq
                )
            )
        if dossier is None or payload is None:
            raise _Permanent("no dossier or event recorded for this notice")
        address = self._address(row, contact)
        details = json.loads(payload).get("details", {})
        appointment = details.get("new_due_at") or details.get("due_at")
        return address, NoticeFacts(
            dossier_code=dossier.code,
            procedure_code=dossier.procedure_code,
            handling_unit=dossier.handling_unit,
            appointment=datetime.fromisoformat(appointment) if appointment else dossier.due_at,
            old_appointment=datetime.fromisoformat(details["old_due_at"])
            if "old_due_at" in details
            else None,
            documents=details.get("documents", ""),
            amount_vnd=int(details["amount_vnd"]) if "amount_vnd" in details else None,
        )

    def _reason(self, facts: dict[str, str]) -> str:
        sealed = facts.get("reason_sealed")
        if not sealed or self._codec is None:
            return ""
        try:
            return self._codec.open_text(sealed, REASON_PURPOSE)
        except PayloadDecryptionError:
            return ""  # a retired key: the notice still goes, the reason left to the letter

    def _address(self, row: NoticeDeliveryRow, contact: ApplicantContactRow | None) -> str:
        sealed = (
            None
            if contact is None
            else (contact.email_sealed if row.channel == "email" else contact.phone_sealed)
        )
        if sealed is None:
            raise _Permanent("no contact recorded for this notice")
        if self._codec is None:  # send() never runs without a keyring; said for the type checker
            raise _Permanent("no keyring to open the sealed contact")
        try:
            return self._codec.open_text(sealed, CONTACT_PURPOSE[row.channel])
        except PayloadDecryptionError as err:
            raise _Permanent(str(err)) from None


def _group_facts(code: str, facts: dict[str, str], reason: str) -> NoticeFacts:
    old = facts.get("old_appointment")
    return NoticeFacts(
        dossier_code=code,
        procedure_code=facts.get("procedure_code", facts.get("group_kind", "")),
        handling_unit=facts.get("agency_name", ""),
        appointment=datetime.fromisoformat(facts["appointment"]),
        old_appointment=datetime.fromisoformat(old) if old else None,
        documents=facts.get("documents", ""),
        group_name=facts.get("group_name", ""),
        member_code=facts.get("member_code", ""),
        agency_name=facts.get("agency_name", ""),
        reason=reason,
        stopped=facts.get("stopped", ""),
    )


async def _close_notice_when_sent(session, row: NoticeDeliveryRow, now: datetime) -> None:
    """The notice row (the metrics' outbox) is sent once every channel of it is."""
    waiting = await session.scalar(
        select(func.count()).where(
            NoticeDeliveryRow.dossier_code == row.dossier_code,
            NoticeDeliveryRow.event_seq == row.event_seq,
            NoticeDeliveryRow.state != DELIVERED,
        )
    )
    if not waiting:
        await session.execute(
            update(NotificationRow)
            .where(
                NotificationRow.dossier_code == row.dossier_code, NotificationRow.event_seq == row.event_seq
            )
            .values(sent_at=now)
        )


def _no_address(err: Exception) -> str:
    # SMTPRecipientsRefused's text quotes the address: keep its codes only.
    if isinstance(err, aiosmtplib.SMTPRecipientsRefused):
        return ",".join(str(r.code) for r in err.recipients)
    return str(err)[:200]
