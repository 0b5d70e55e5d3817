"""dossier_events.action_id holds a transfer id too: 200 characters, as TransferInput allows.

Before, a transfer id of 101-200 characters (a long carryover id) was accepted by the workflow
and then refused by PostgreSQL on every projection retry, freezing the dossier's records.
tests/records/test_column_limits.py keeps the columns and the input models' limits together.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from records.append_only import create_statements, drop_statements

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def _alter(length_from: int, length_to: int) -> None:
    bind = op.get_bind()
    # On SQLite the batch copies the table, which drops its append-only triggers: put them back.
    for statement in drop_statements(bind.dialect.name):
        op.execute(statement)
    with op.batch_alter_table("dossier_events") as table:
        table.alter_column(
            "action_id",
            type_=sa.String(length_to),
            existing_type=sa.String(length_from),
            existing_nullable=True,
        )
    for statement in create_statements(bind.dialect.name):
        op.execute(statement)


def upgrade() -> None:
    _alter(100, 200)


def downgrade() -> None:
    # The column stays 200 wide: shrinking it would have to cut transfer ids out of audit rows
    # (and their hash chains); older code reads and writes a wider column just as well.
    pass
