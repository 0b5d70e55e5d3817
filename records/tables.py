"""Tables of the records store: a projection of dossiers for search, reports and audit.

Temporal's history is the source of truth; these rows are rebuilt from it by idempotent
activities. The records issue adds migrations, the hash-chained audit log and reports.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "Base",
    "DossierEventRow",
    "DossierRow",
    "DossierSequenceRow",
    "IntakeRequestRow",
    "NotificationRow",
]


class Base(DeclarativeBase):
    pass


class DossierSequenceRow(Base):
    """The last dossier number given out per receiving agency and receipt day."""

    __tablename__ = "dossier_sequences"
    agency_code: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(6), primary_key=True)  # YYMMDD
    last_number: Mapped[int] = mapped_column(Integer, nullable=False)


class DossierRow(Base):
    __tablename__ = "dossiers"
    code: Mapped[str] = mapped_column(String(100), primary_key=True)
    procedure_code: Mapped[str] = mapped_column(String(32), index=True)
    version_id: Mapped[str] = mapped_column(String(100))
    receiving_unit: Mapped[str] = mapped_column(String(64), index=True)
    handling_unit: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(32), index=True)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    overdue: Mapped[bool] = mapped_column(default=False)
    last_event_seq: Mapped[int] = mapped_column(Integer, default=0)


class DossierEventRow(Base):
    """Append-only: one row per timeline entry, unique per (dossier, seq)."""

    __tablename__ = "dossier_events"
    __table_args__ = (UniqueConstraint("dossier_code", "seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(String(100), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[str] = mapped_column(String(64))
    actor_unit: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_after: Mapped[str] = mapped_column(String(32))
    payload: Mapped[str] = mapped_column(Text)  # the timeline entry as JSON


class NotificationRow(Base):
    """Messages to the applicant, waiting for the SMS/e-mail gateway; unique per event."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("dossier_code", "event_seq"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(String(100), index=True)
    event_seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class IntakeRequestRow(Base):
    """Which dossier a counter's request id produced, so a resubmitted request finds it again."""

    __tablename__ = "intake_requests"
    request_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    # Empty only inside the transaction that claims the request and starts its dossier.
    dossier_code: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
