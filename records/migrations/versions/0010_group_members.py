"""group_members: the members of interlinked groups, for the groups' report per agency.

Revision ID: 0010
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)  # as 0002: instants in UTC (records.tables.UtcDateTime)


def upgrade() -> None:
    op.create_table(
        "group_members",
        sa.Column("group_code", sa.String(100), primary_key=True),
        sa.Column("member_key", sa.String(32), primary_key=True),
        sa.Column("dossier_code", sa.String(100), nullable=False),
        sa.Column("group_kind", sa.String(32), nullable=False),
        sa.Column("handling_unit", sa.String(64), nullable=False),
        sa.Column("received_at", TZ, nullable=False),
        sa.Column("group_due_at", TZ, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.Column("group_status", sa.String(32), nullable=False),
        sa.Column("group_resolved_at", TZ, nullable=True),
    )
    op.create_index("ix_group_members_handling_unit", "group_members", ["handling_unit"])
    op.create_index("ix_group_members_received_at", "group_members", ["received_at"])


def downgrade() -> None:
    op.drop_index("ix_group_members_received_at", "group_members")
    op.drop_index("ix_group_members_handling_unit", "group_members")
    op.drop_table("group_members")
