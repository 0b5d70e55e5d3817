"""Intake request ids per receiving counter, with the request's content hash, the reserved
code, the receipt instant and whether the dossier's start is confirmed.

Rebuilt as a new table (copy, drop, rename) because the primary key changes, which SQLite
cannot alter in place. Claims from before keep their code; their counter is read from the
code (agency code, then "-YYMMDD-NNNN"), they were committed only once started, and their
content hash is unknown (empty).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

# "-YYMMDD-NNNN" after the agency code.
_CODE_SUFFIX = 12


def upgrade() -> None:
    op.create_table(
        "intake_requests_new",
        sa.Column("receiving_unit", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(100), nullable=False),
        sa.Column("dossier_code", sa.String(100), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("receiving_unit", "request_id", name="pk_intake_requests"),
        sa.UniqueConstraint("dossier_code", name="uq_intake_requests_dossier_code"),
    )
    op.execute(
        "INSERT INTO intake_requests_new"
        " (receiving_unit, request_id, dossier_code, content_hash, received_at, started)"
        f" SELECT substr(dossier_code, 1, length(dossier_code) - {_CODE_SUFFIX}), request_id, dossier_code,"
        " '', NULL, true FROM intake_requests WHERE dossier_code IS NOT NULL"
    )
    op.drop_table("intake_requests")
    op.rename_table("intake_requests_new", "intake_requests")


def downgrade() -> None:
    # Back to one global id space: where two counters used one id, the first code is kept.
    op.create_table(
        "intake_requests_old",
        sa.Column("request_id", sa.String(100), primary_key=True),
        sa.Column("dossier_code", sa.String(100), nullable=True, unique=True),
    )
    op.execute(
        "INSERT INTO intake_requests_old (request_id, dossier_code)"
        " SELECT request_id, min(dossier_code) FROM intake_requests GROUP BY request_id"
    )
    op.drop_table("intake_requests")
    op.rename_table("intake_requests_old", "intake_requests")
