"""Tables of what leaves the engine: portal sync messages, notice deliveries, sealed contacts.

All three are written in the projection's transaction (activities/records.py), so a message
or a notice exists exactly when the timeline entry behind it is recorded; delivery reads them
later (activities/portal_sync.py, activities/notice_sending.py). Migration 0009.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from records.tables import CODE, Base, UtcDateTime

__all__ = ["ApplicantContactRow", "NO_CHANNEL", "NO_CONTACT", "NoticeDeliveryRow", "PortalSyncRow"]

# Delivery states shared by both outboxes.
PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
# A notice for an applicant who gave neither e-mail nor phone: recorded once, on the channel
# NO_CHANNEL, and final (never sent, never retried, never resent), so it does not wait forever.
NO_CONTACT, NO_CHANNEL = "no_contact", "none"


class PortalSyncRow(Base):
    """One dossier sync message for the national portal, unique per (dossier, event seq).

    `failed` means the portal refused it for good or the attempts ran out: the dossier's later
    messages wait behind it (order per dossier) until an operator resends it.
    """

    __tablename__ = "portal_sync_messages"
    __table_args__ = (
        UniqueConstraint("dossier_code", "event_seq"),
        Index("ix_portal_sync_messages_state_id", "state", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[str] = mapped_column(String(140), unique=True)
    dossier_code: Mapped[str] = mapped_column(String(CODE))
    event_seq: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)  # the DossierSyncMessage as JSON, as sent
    event_at: Mapped[datetime] = mapped_column(UtcDateTime)  # the change: lag = delivered_at - event_at
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class NoticeDeliveryRow(Base):
    """One applicant notice on one channel (email, sms); the notice id is `CODE:SEQ:CHANNEL`."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (
        UniqueConstraint("dossier_code", "event_seq", "channel"),
        Index("ix_notice_deliveries_state_id", "state", "id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(String(CODE))
    event_seq: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    state: Mapped[str] = mapped_column(String(16), default=PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error: Mapped[str] = mapped_column(String(500), default="")
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class ApplicantContactRow(Base):
    """The applicant's e-mail and phone, sealed (AES-256-GCM under PAYLOAD_KEYS, runtime/codec.py):
    the only personal data in the records store, and only as ciphertext."""

    __tablename__ = "applicant_contacts"
    dossier_code: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    email_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    phone_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
