"""Alembic environment: always run by records.migrate on a connection it hands over.

There is no alembic.ini and no URL here: `records.migrate` opens the (async) engine, takes
the migration lock and passes its synchronous connection in `config.attributes`.
"""

from __future__ import annotations

from alembic import context

from records.tables import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError(
        "run migrations through records.migrate (starter.py records migrate), not the alembic CLI"
    )

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    # SQLite cannot ALTER most things: batch mode copies the table instead.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
