"""group_members.receiving_unit: the group's counter, so its online groups waiting for the
counter's check can be listed for that counter (docs/groups.md, "Waiting for the check").

Revision ID: 0014
Revises: 0013

Rows projected before it take their counter from the claim of the group's code
(`intake_requests`, where every group's code is reserved at its receiving unit); a row without
such a claim keeps '' until its group projects again.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

WAITING = sa.text("group_status = 'registered_online'")


def upgrade() -> None:
    op.add_column(
        "group_members",
        sa.Column("receiving_unit", sa.String(64), nullable=False, server_default=""),
    )
    op.execute(
        "UPDATE group_members SET receiving_unit = COALESCE((SELECT i.receiving_unit FROM intake_requests i"
        " WHERE i.dossier_code = group_members.group_code), '')"
    )
    op.create_index(
        "ix_group_members_waiting_check",
        "group_members",
        ["receiving_unit", "group_due_at", "group_code"],
        postgresql_where=WAITING,
        sqlite_where=WAITING,
    )


def downgrade() -> None:
    op.drop_index("ix_group_members_waiting_check", "group_members")
    with op.batch_alter_table("group_members") as batch:
        batch.drop_column("receiving_unit")
