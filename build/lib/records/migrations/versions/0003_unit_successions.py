"""Succession of abolished authorities: where each one's dossiers went on 1 July 2025.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unit_successions",
        sa.Column("old_code", sa.String(64), primary_key=True),
        sa.Column("legacy_commune_code", sa.String(5), primary_key=True),
        sa.Column("successor_code", sa.String(64), nullable=False),
        sa.Column("alternatives", sa.Text(), nullable=False, server_default=""),
    )
    op.create_index("ix_unit_successions_successor_code", "unit_successions", ["successor_code"])


def downgrade() -> None:
    op.drop_index("ix_unit_successions_successor_code", table_name="unit_successions")
    op.drop_table("unit_successions")
