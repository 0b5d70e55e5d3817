"""Tables of the web application: staff accounts, their server-side sessions, and the hashes of
the secrets printed on receipt slips for the citizens' lookup, and the append-only record of
the secrets issued again for a lost slip (who, when, why; never the secret).

No password, session id or lookup secret is stored in clear: an argon2 hash for passwords, a
SHA-256 for the random session ids and slip secrets (high-entropy, so a plain hash suffices).
Created by migrations 0007 and 0013; imported by records.tables so that its metadata is complete.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from records.tables import CODE, UNIT, Base, UtcDateTime

__all__ = ["LookupSecretReissueRow", "LookupSecretRow", "StaffAccountRow", "StaffSessionRow"]


class StaffAccountRow(Base):
    """A person of the centre who signs in to the web application, with their unit and roles."""

    __tablename__ = "staff_accounts"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    unit: Mapped[str] = mapped_column(String(UNIT))
    roles: Mapped[str] = mapped_column(String(200))  # comma-separated role values
    password_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_attempts: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    password_changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class StaffSessionRow(Base):
    """A signed-in browser: the SHA-256 of its cookie's random id, and its CSRF token."""

    __tablename__ = "staff_sessions"
    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LookupSecretRow(Base):
    """The SHA-256 of the secret printed on a dossier's slip, which a citizen's lookup needs."""

    __tablename__ = "lookup_secrets"
    dossier_code: Mapped[str] = mapped_column(String(CODE), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class LookupSecretReissueRow(Base):
    """A lookup secret issued again at a counter for a lost slip: who, at which unit, when, why.

    Append-only (database triggers, migration 0013): the auditors' record of every reissue. The
    idempotency key is unique per dossier, so a resent request adds no second row."""

    __tablename__ = "lookup_secret_reissues"
    __table_args__ = (UniqueConstraint("dossier_code", "action_id", name="uq_lookup_secret_reissue_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(String(CODE), index=True)
    action_id: Mapped[str] = mapped_column(String(100))
    officer_id: Mapped[str] = mapped_column(String(100))
    officer_unit: Mapped[str] = mapped_column(String(UNIT))
    reason: Mapped[str] = mapped_column(String(500))
    reissued_at: Mapped[datetime] = mapped_column(UtcDateTime)
