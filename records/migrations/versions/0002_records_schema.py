"""Records schema: dossier facts for search and reports, the hash-chained audit trail,
reference tables (catalogue, units, officers), and guards making the trail append-only.

Events recorded before this revision get their hash chain computed here.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from records.append_only import create_statements, drop_statements
from records.chain import GENESIS, event_hash

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
_NEW_DOSSIER_INDEXES = {
    "ix_dossiers_received_at": ["received_at"],
    "ix_dossiers_handling_unit_received_at": ["handling_unit", "received_at"],
    "ix_dossiers_procedure_code_received_at": ["procedure_code", "received_at"],
    "ix_dossiers_due_at": ["due_at"],
    "ix_dossiers_carried_over_from": ["carried_over_from"],
}


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table("dossiers") as table:
        table.add_column(sa.Column("channel", sa.String(16), nullable=False, server_default="counter"))
        for column in ("resolved_at", "closed_at", "overdue_at", "carried_over_at"):
            table.add_column(sa.Column(column, TZ, nullable=True))
        table.add_column(sa.Column("carried_over_from", sa.String(64), nullable=True))
        table.add_column(sa.Column("current_step", sa.String(64), nullable=True))
        table.add_column(sa.Column("current_roles", sa.String(200), nullable=False, server_default=""))
        table.add_column(sa.Column("last_event_hash", sa.String(64), nullable=False, server_default=""))
        # The composite indexes below lead with these columns.
        table.drop_index("ix_dossiers_procedure_code")
        table.drop_index("ix_dossiers_handling_unit")
    for name, columns in _NEW_DOSSIER_INDEXES.items():
        op.create_index(name, "dossiers", columns)

    with op.batch_alter_table("dossier_events") as table:
        table.add_column(sa.Column("action_id", sa.String(100), nullable=True))
        table.add_column(sa.Column("actor_roles", sa.String(200), nullable=False, server_default=""))
        table.add_column(sa.Column("status_before", sa.String(32), nullable=True))
        table.add_column(sa.Column("prev_hash", sa.String(64), nullable=False, server_default=""))
        table.add_column(sa.Column("hash", sa.String(64), nullable=False, server_default=""))
        table.add_column(sa.Column("recorded_at", TZ, nullable=True))
        # The unique (dossier_code, seq) index serves lookups by dossier.
        table.drop_index("ix_dossier_events_dossier_code")
    op.create_index("ix_dossier_events_action_at", "dossier_events", ["action", "at"])
    _chain_existing_events(bind)

    op.create_table(
        "procedures",
        sa.Column("code", sa.String(32), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("sector", sa.String(200), nullable=False),
    )
    op.create_table(
        "procedure_versions",
        sa.Column("version_id", sa.String(100), primary_key=True),
        sa.Column("procedure_code", sa.String(32), nullable=False, index=True),
        sa.Column("effective_from", TZ, nullable=False),
        sa.Column("effective_until", TZ, nullable=True),
        sa.Column("authority_level", sa.String(32), nullable=False),
        sa.Column("definition", sa.Text, nullable=False),
    )
    op.create_table(
        "units",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("province_code", sa.String(2), nullable=False, index=True),
        sa.Column("district_code", sa.String(3), nullable=True),
        sa.Column("commune_code", sa.String(5), nullable=True),
        sa.Column("legacy", sa.Boolean, nullable=False),
        sa.Column("current", sa.Boolean, nullable=False),
        sa.Column("successor_code", sa.String(64), nullable=True),
    )
    op.create_table(
        "officers",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(64), nullable=False, index=True),
        sa.Column("roles", sa.String(200), nullable=False),
        sa.Column("first_seen_at", TZ, nullable=True),
    )
    for statement in create_statements(bind.dialect.name):
        op.execute(statement)


def _chain_existing_events(bind) -> None:
    events = sa.table(
        "dossier_events",
        sa.column("id"),
        sa.column("dossier_code"),
        sa.column("seq"),
        sa.column("payload"),
        sa.column("prev_hash"),
        sa.column("hash"),
    )
    dossiers = sa.table("dossiers", sa.column("code"), sa.column("last_event_hash"))
    rows = bind.execute(
        sa.select(events.c.id, events.c.dossier_code, events.c.seq, events.c.payload).order_by(
            events.c.dossier_code, events.c.seq
        )
    )
    heads: dict[str, str] = {}
    for row in rows.all():
        prev = heads.get(row.dossier_code, GENESIS)
        digest = event_hash(row.dossier_code, row.seq, prev, row.payload)
        bind.execute(sa.update(events).where(events.c.id == row.id).values(prev_hash=prev, hash=digest))
        heads[row.dossier_code] = digest
    for code, head in heads.items():
        bind.execute(sa.update(dossiers).where(dossiers.c.code == code).values(last_event_hash=head))


def downgrade() -> None:
    bind = op.get_bind()
    for statement in drop_statements(bind.dialect.name):
        op.execute(statement)
    for table in ("officers", "units", "procedure_versions", "procedures"):
        op.drop_table(table)
    op.drop_index("ix_dossier_events_action_at", "dossier_events")
    with op.batch_alter_table("dossier_events") as table:
        for column in ("action_id", "actor_roles", "status_before", "prev_hash", "hash", "recorded_at"):
            table.drop_column(column)
        table.create_index("ix_dossier_events_dossier_code", ["dossier_code"])
    for name in _NEW_DOSSIER_INDEXES:
        op.drop_index(name, "dossiers")
    with op.batch_alter_table("dossiers") as table:
        for column in (
            "channel",
            "resolved_at",
            "closed_at",
            "overdue_at",
            "carried_over_at",
            "carried_over_from",
            "current_step",
            "current_roles",
            "last_event_hash",
        ):
            table.drop_column(column)
        table.create_index("ix_dossiers_procedure_code", ["procedure_code"])
        table.create_index("ix_dossiers_handling_unit", ["handling_unit"])
