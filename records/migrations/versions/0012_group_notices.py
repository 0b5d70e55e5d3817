"""notifications.facts: what a group's notice says, as no dossier row or event can tell it.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # JSON of the notice's facts (group, member, agency, appointment, reason); NULL for a
    # dossier's notice, whose facts are its row and its event's details.
    op.add_column("notifications", sa.Column("facts", sa.Text, nullable=True))


def downgrade() -> None:
    op.drop_column("notifications", "facts")
