"""The stand-ins `make run` serves beside the worker when no portal, SMTP server or SMS gateway
is configured: the national portal (standins/portal.py), an SMTP server on loopback (aiosmtpd)
and the SMS gateway (standins/sms_gateway.py); then what each of them received, for the demo."""

from __future__ import annotations

import asyncio
import socket
from dataclasses import replace
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path
from typing import TextIO

from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from api.server import ApiServer
from records.database import RecordsStore
from records.outbox_tables import PENDING, NoticeDeliveryRow, PortalSyncRow
from runtime.delivery_settings import DeliverySettings
from standins.portal import SYNC_PATH, create_portal_app
from standins.sms_gateway import SEND_PATH, create_sms_app

__all__ = ["DemoStandins"]


class _Mailbox:
    def __init__(self) -> None:
        self.subjects: list[str] = []

    async def handle_DATA(self, server, session, envelope):
        self.subjects.append(message_from_bytes(envelope.content, policy=default_policy)["Subject"])
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DemoStandins:
    def __init__(self, data_dir: Path) -> None:
        self.portal_app = create_portal_app(store=data_dir / "portal-received.jsonl")
        self.sms_app = create_sms_app()
        self.mailbox = _Mailbox()
        self._servers = [
            ApiServer(self.portal_app, "127.0.0.1", _free_port()),
            ApiServer(self.sms_app, "127.0.0.1", _free_port()),
        ]
        self._smtp = Controller(self.mailbox, hostname="127.0.0.1", port=_free_port())

    async def start(self, delivery: DeliverySettings) -> DeliverySettings:
        """Serve the stand-ins for what `delivery` leaves unconfigured; the settings to use."""
        for server in self._servers:
            await server.start()
        await asyncio.to_thread(self._smtp.start)
        portal, sms = self._servers
        return replace(
            delivery,
            portal_url=delivery.portal_url or portal.url + SYNC_PATH,
            smtp_host=delivery.smtp_host or "127.0.0.1",
            smtp_port=self._smtp.port if not delivery.smtp_host else delivery.smtp_port,
            sms_gateway_url=delivery.sms_gateway_url or sms.url + SEND_PATH,
        )

    async def stop(self) -> None:
        await asyncio.to_thread(self._smtp.stop)
        for server in self._servers:
            await server.stop()

    async def print_received(self, records: RecordsStore, codes: list[str], out: TextIO) -> None:
        """Once the outboxes of `codes` are drained (up to 30 s): what the portal and the applicants got."""
        for _ in range(300):
            async with records.sessions() as session:
                waiting = await session.scalar(
                    select(func.count())
                    .select_from(PortalSyncRow)
                    .where(PortalSyncRow.dossier_code.in_(codes), PortalSyncRow.state == PENDING)
                ) + await session.scalar(
                    select(func.count())
                    .select_from(NoticeDeliveryRow)
                    .where(NoticeDeliveryRow.dossier_code.in_(codes), NoticeDeliveryRow.state == PENDING)
                )
            if not waiting:
                break
            await asyncio.sleep(0.1)
        messages = [m for m in self.portal_app.state.received.messages if m["dossier_code"] in codes]
        print(f"\n== The national portal (stand-in) received {len(messages)} sync messages", file=out)
        print(
            "   dossier                           status codes in order (2 received, 4 processing, 5 supplement,",
            file=out,
        )
        print(
            "                                     6 payment, 8 stopped, 9 processed, 10 returned)", file=out
        )
        for code in codes:
            statuses = [str(m["status_code"]) for m in messages if m["dossier_code"] == code]
            print(f"   {code:<33} {' > '.join(statuses)}", file=out)
        sms = [s for s in self.sms_app.state.sent if s["reference"].split(":")[0] in codes]
        print(
            f"\n== Notices to the applicants: {len(self.mailbox.subjects)} e-mails, {len(sms)} SMS", file=out
        )
        for subject in self.mailbox.subjects[:6]:
            print(f"   e-mail  {subject}", file=out)
        print(
            "   (`starter.py portal list`, `starter.py notices list`: what still waits or failed)",
            file=out,
            flush=True,
        )
