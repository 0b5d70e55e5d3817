"""Database guards that refuse UPDATE and DELETE on the audit trail (dossier_events).

The projection only ever inserts; these triggers make any other write fail loudly, so a
mistake in code cannot rewrite history. Someone with DDL rights can still drop them: that is
what `verify` is for. Used by migration 0002; changing them needs a new migration.
"""

from __future__ import annotations

__all__ = ["create_statements", "drop_statements"]

_SQLITE_CREATE = [
    """CREATE TRIGGER dossier_events_no_update BEFORE UPDATE ON dossier_events
       BEGIN SELECT RAISE(ABORT, 'dossier_events is append-only'); END""",
    """CREATE TRIGGER dossier_events_no_delete BEFORE DELETE ON dossier_events
       BEGIN SELECT RAISE(ABORT, 'dossier_events is append-only'); END""",
]
_SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS dossier_events_no_update",
    "DROP TRIGGER IF EXISTS dossier_events_no_delete",
]
_POSTGRES_CREATE = [
    """CREATE OR REPLACE FUNCTION dossier_events_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'dossier_events is append-only'; END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER dossier_events_append_only BEFORE UPDATE OR DELETE ON dossier_events
       FOR EACH ROW EXECUTE FUNCTION dossier_events_append_only()""",
]
_POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS dossier_events_append_only ON dossier_events",
    "DROP FUNCTION IF EXISTS dossier_events_append_only()",
]


def create_statements(dialect: str) -> list[str]:
    return _POSTGRES_CREATE if dialect == "postgresql" else _SQLITE_CREATE


def drop_statements(dialect: str) -> list[str]:
    return _POSTGRES_DROP if dialect == "postgresql" else _SQLITE_DROP
