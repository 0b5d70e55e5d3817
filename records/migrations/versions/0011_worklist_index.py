"""The worklist's indexes: each unit's open dossiers in the worklist's order (issue 16).

Revision ID: 0011
Revises: 0010

Partial (open statuses only, as the inbox's rule lists them on this date), so a unit's
years of closed dossiers never enter them; `overdue DESC, due_at, code` is the worklist's
order, and the columns after it (what the worklist's filter reads) let a count read the
index alone.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

OPEN = sa.text(
    "status IN ('registered_online', 'received', 'processing', 'supplement_requested',"
    " 'payment_requested', 'processed')"
)


def upgrade() -> None:
    for unit, other in (("handling_unit", "receiving_unit"), ("receiving_unit", "handling_unit")):
        op.create_index(
            f"ix_dossiers_open_{unit}",
            "dossiers",
            [unit, sa.text("overdue DESC"), "due_at", "code", "current_roles", "status", other],
            postgresql_where=OPEN,
            sqlite_where=OPEN,
        )


def downgrade() -> None:
    for unit in ("handling_unit", "receiving_unit"):
        op.drop_index(f"ix_dossiers_open_{unit}", "dossiers")
