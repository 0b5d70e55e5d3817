"""lookup_secret_reissues: the append-only record of lookup secrets issued again for a lost slip.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)
_SQLITE_GUARDS = [
    f"""CREATE TRIGGER lookup_secret_reissues_no_{verb.lower()} BEFORE {verb} ON lookup_secret_reissues
       BEGIN SELECT RAISE(ABORT, 'lookup_secret_reissues is append-only'); END"""
    for verb in ("UPDATE", "DELETE")
]
_POSTGRES_GUARDS = [
    """CREATE OR REPLACE FUNCTION lookup_secret_reissues_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'lookup_secret_reissues is append-only'; END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER lookup_secret_reissues_append_only BEFORE UPDATE OR DELETE ON lookup_secret_reissues
       FOR EACH ROW EXECUTE FUNCTION lookup_secret_reissues_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "lookup_secret_reissues",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("dossier_code", sa.String(100), nullable=False),
        sa.Column("action_id", sa.String(100), nullable=False),
        sa.Column("officer_id", sa.String(100), nullable=False),
        sa.Column("officer_unit", sa.String(64), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("reissued_at", TZ, nullable=False),
        sa.UniqueConstraint("dossier_code", "action_id", name="uq_lookup_secret_reissue_key"),
    )
    op.create_index("ix_lookup_secret_reissues_dossier_code", "lookup_secret_reissues", ["dossier_code"])
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _POSTGRES_GUARDS if postgres else _SQLITE_GUARDS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS lookup_secret_reissues_append_only ON lookup_secret_reissues")
        op.execute("DROP FUNCTION IF EXISTS lookup_secret_reissues_append_only()")
    op.drop_table("lookup_secret_reissues")
