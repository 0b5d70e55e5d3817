"""The counter of receipt kept in its own column; `receiving_unit` becomes the current counter.

A carryover may move a dossier's receiving side to a successor counter (the district's
counter was abolished); the successor's inbox, search and reports follow `receiving_unit`,
while `original_receiving_unit` keeps where the dossier was received. Rows of dossiers
already carried over get their current counter from their last `carried_over` event.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dossiers") as table:
        table.add_column(sa.Column("original_receiving_unit", sa.String(64), nullable=True))
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE dossiers SET original_receiving_unit = receiving_unit"))
    _move_carried_over_counters(bind)
    with op.batch_alter_table("dossiers") as table:
        table.alter_column("original_receiving_unit", existing_type=sa.String(64), nullable=False)
    op.create_index("ix_dossiers_original_receiving_unit", "dossiers", ["original_receiving_unit"])


def _move_carried_over_counters(bind) -> None:
    events = bind.execute(
        sa.text(
            "SELECT dossier_code, payload FROM dossier_events WHERE action = 'carried_over' ORDER BY dossier_code, seq"
        )
    )
    current: dict[str, str] = {}
    for code, payload in events:
        counter = json.loads(payload).get("details", {}).get("receiving_to")
        if counter:
            current[code] = counter
    for code, counter in current.items():
        bind.execute(
            sa.text("UPDATE dossiers SET receiving_unit = :unit WHERE code = :code"),
            {"unit": counter, "code": code},
        )


def downgrade() -> None:
    op.drop_index("ix_dossiers_original_receiving_unit", table_name="dossiers")
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE dossiers SET receiving_unit = original_receiving_unit"))
    with op.batch_alter_table("dossiers") as table:
        table.drop_column("original_receiving_unit")
