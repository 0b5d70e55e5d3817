"""E-mail notices over SMTP with aiosmtplib; the notice id is the Message-ID, so a receiving
system that sees the same notice twice (a retry after a lost answer) can tell."""

from __future__ import annotations

from email.message import EmailMessage
from email.policy import SMTP

import aiosmtplib

from notices.rendering import RenderedNotice
from runtime.delivery_settings import DeliverySettings

__all__ = ["EmailSender"]

# CPython folds a long non-ASCII Subject into several encoded words and drops the space at a
# fold ("bị từ" arrives as "bịtừ"): with lines up to RFC 5322's 998 it stays one encoded word.
POLICY = SMTP.clone(max_line_length=998)


class EmailSender:
    def __init__(self, settings: DeliverySettings) -> None:
        self._settings = settings

    async def send(self, notice_id: str, to: str, notice: RenderedNotice) -> None:
        """Raises aiosmtplib's errors: SMTPRecipientsRefused and 5xx answers are permanent."""
        settings = self._settings
        message = EmailMessage(policy=POLICY)
        message["From"] = settings.notice_from
        message["To"] = to
        message["Subject"] = notice.subject
        message["Message-ID"] = f"<{notice_id.replace(':', '.')}@onestop.invalid>"
        message["X-Notice-Id"] = notice_id
        message.set_content(notice.body)
        # Flattened here, with POLICY: aiosmtplib's own flattening folds at 78 again.
        await aiosmtplib.send(
            message.as_bytes(policy=POLICY),
            sender=settings.notice_from,
            recipients=[to],
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            start_tls=True if settings.smtp_starttls else False,
            timeout=settings.http_timeout,
        )
