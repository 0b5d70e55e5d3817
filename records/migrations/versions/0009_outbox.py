"""The outboxes: portal sync messages, notice deliveries, and the applicants' sealed contacts.

Revision ID: 0009
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _delivery_columns() -> list[sa.Column]:
    return [
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=True),
        sa.Column("last_error", sa.String(500), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "portal_sync_messages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.String(140), nullable=False, unique=True),
        sa.Column("dossier_code", sa.String(100), nullable=False),
        sa.Column("event_seq", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("event_at", TZ, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        *_delivery_columns(),
        sa.Column("delivered_at", TZ, nullable=True),
        sa.UniqueConstraint("dossier_code", "event_seq"),
    )
    op.create_index("ix_portal_sync_messages_state_id", "portal_sync_messages", ["state", "id"])
    op.create_table(
        "notice_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dossier_code", sa.String(100), nullable=False),
        sa.Column("event_seq", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        *_delivery_columns(),
        sa.Column("sent_at", TZ, nullable=True),
        sa.UniqueConstraint("dossier_code", "event_seq", "channel"),
    )
    op.create_index("ix_notice_deliveries_state_id", "notice_deliveries", ["state", "id"])
    op.create_table(
        "applicant_contacts",
        sa.Column("dossier_code", sa.String(100), primary_key=True),
        sa.Column("email_sealed", sa.Text, nullable=True),
        sa.Column("phone_sealed", sa.Text, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("applicant_contacts")
    op.drop_index("ix_notice_deliveries_state_id", "notice_deliveries")
    op.drop_table("notice_deliveries")
    op.drop_index("ix_portal_sync_messages_state_id", "portal_sync_messages")
    op.drop_table("portal_sync_messages")
