"""Baseline: the tables intake and the first projection created with create_all.

A database created before migrations existed already has them: they are adopted as they
are (created only when missing), and 0002 brings them up to the records schema.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "dossier_sequences" not in existing:
        op.create_table(
            "dossier_sequences",
            sa.Column("agency_code", sa.String(64), primary_key=True),
            sa.Column("day", sa.String(6), primary_key=True),
            sa.Column("last_number", sa.Integer, nullable=False),
        )
    if "dossiers" not in existing:
        op.create_table(
            "dossiers",
            sa.Column("code", sa.String(100), primary_key=True),
            sa.Column("procedure_code", sa.String(32), nullable=False),
            sa.Column("version_id", sa.String(100), nullable=False),
            sa.Column("receiving_unit", sa.String(64), nullable=False),
            sa.Column("handling_unit", sa.String(64), nullable=False),
            sa.Column("status", sa.String(32), nullable=False),
            sa.Column("received_at", TZ, nullable=False),
            sa.Column("due_at", TZ, nullable=False),
            sa.Column("overdue", sa.Boolean, nullable=False),
            sa.Column("last_event_seq", sa.Integer, nullable=False),
        )
        for column in ("procedure_code", "receiving_unit", "handling_unit", "status"):
            op.create_index(f"ix_dossiers_{column}", "dossiers", [column])
    if "dossier_events" not in existing:
        op.create_table(
            "dossier_events",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("dossier_code", sa.String(100), nullable=False),
            sa.Column("seq", sa.Integer, nullable=False),
            sa.Column("action", sa.String(64), nullable=False),
            sa.Column("actor_id", sa.String(64), nullable=False),
            sa.Column("actor_unit", sa.String(64), nullable=False),
            sa.Column("at", TZ, nullable=False),
            sa.Column("status_after", sa.String(32), nullable=False),
            sa.Column("payload", sa.Text, nullable=False),
            sa.UniqueConstraint("dossier_code", "seq"),
        )
        op.create_index("ix_dossier_events_dossier_code", "dossier_events", ["dossier_code"])
    if "notifications" not in existing:
        op.create_table(
            "notifications",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("dossier_code", sa.String(100), nullable=False),
            sa.Column("event_seq", sa.Integer, nullable=False),
            sa.Column("kind", sa.String(64), nullable=False),
            sa.Column("message", sa.Text, nullable=False),
            sa.Column("created_at", TZ, nullable=False),
            sa.Column("sent_at", TZ, nullable=True),
            sa.UniqueConstraint("dossier_code", "event_seq"),
        )
        op.create_index("ix_notifications_dossier_code", "notifications", ["dossier_code"])
    if "intake_requests" not in existing:
        op.create_table(
            "intake_requests",
            sa.Column("request_id", sa.String(100), primary_key=True),
            sa.Column("dossier_code", sa.String(100), nullable=True, unique=True),
        )


def downgrade() -> None:
    for table in ("intake_requests", "notifications", "dossier_events", "dossiers", "dossier_sequences"):
        op.drop_table(table)
