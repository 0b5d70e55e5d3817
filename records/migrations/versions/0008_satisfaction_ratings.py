"""Satisfaction ratings: the applicant's 1-5 for a returned dossier, with its comment sealed.

Revision ID: 0008
Revises: 0006 (the integrator re-chains it after the other branches' migrations)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "satisfaction_ratings",
        sa.Column("dossier_code", sa.String(100), primary_key=True),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("comment_sealed", sa.LargeBinary(), nullable=True),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("handling_unit", sa.String(64), nullable=False),
        sa.Column("receiving_unit", sa.String(64), nullable=False),
        sa.Column("procedure_code", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("rated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("score BETWEEN 1 AND 5", name="ck_satisfaction_ratings_score"),
    )
    op.create_index("ix_satisfaction_ratings_rated_at", "satisfaction_ratings", ["rated_at"])
    op.create_index(
        "ix_satisfaction_ratings_handling_unit_rated_at",
        "satisfaction_ratings",
        ["handling_unit", "rated_at"],
    )


def downgrade() -> None:
    op.drop_index("ix_satisfaction_ratings_handling_unit_rated_at", "satisfaction_ratings")
    op.drop_index("ix_satisfaction_ratings_rated_at", "satisfaction_ratings")
    op.drop_table("satisfaction_ratings")
