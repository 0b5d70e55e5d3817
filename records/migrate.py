"""Bringing a records database to the schema this code expects, with Alembic, from Python.

Run at every start (`open_records`), so the worker and a counter may well start together on
a fresh database: on PostgreSQL an advisory lock held for the migration's transaction makes
the second wait and then find the schema at head; SQLite serialises writers itself, and a
loser that raced a table into existence tries again.
"""

from __future__ import annotations

import asyncio
import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.ext.asyncio import AsyncEngine

__all__ = ["MIGRATIONS", "current_revision", "downgrade", "head_revision", "upgrade"]

MIGRATIONS = Path(__file__).parent / "migrations"
# pg_advisory_xact_lock key: any constant no other code of ours uses ("records" in ASCII).
_LOCK_KEY = 0x7265636F726473
# SQLite has no advisory lock: a process that finds the file busy waits for the one migrating
# and tries again. Six migrations on a loaded machine took longer than the 3 s that five quick
# attempts gave (seen in CI-like runs), so the waits grow to 2 s each, about 30 s in all.
_ATTEMPTS = 20


def _config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


@functools.cache
def head_revision() -> str:
    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def _revision_of(connection: Connection) -> str | None:
    # Read directly: MigrationContext would log its set-up on every command line run.
    if not inspect(connection).has_table("alembic_version"):
        return None
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as connection:
        return await connection.run_sync(_revision_of)


async def upgrade(engine: AsyncEngine, revision: str = "head") -> None:
    if revision == "head" and await current_revision(engine) == head_revision():
        return  # the usual start: nothing to do, nothing to lock
    await _run(engine, lambda c: command.upgrade(_config(c), revision))


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    await _run(engine, lambda c: command.downgrade(_config(c), revision))


_in_process: asyncio.Lock | None = None


async def _run(engine: AsyncEngine, migrate) -> None:
    # Alembic keeps its running context in module globals: one migration at a time per process.
    global _in_process
    if _in_process is None:
        _in_process = asyncio.Lock()
    async with _in_process:
        await _run_locked(engine, migrate)


async def _run_locked(engine: AsyncEngine, migrate) -> None:
    for attempt in range(_ATTEMPTS):
        try:
            async with engine.begin() as connection:
                if engine.dialect.name == "postgresql":
                    # A migration may wait for another process's migration and for readers
                    # to leave its tables: the sessions' short lock and statement bounds are
                    # for receipts, not for schema changes.
                    await connection.execute(text("SET LOCAL lock_timeout = 0"))
                    await connection.execute(text("SET LOCAL statement_timeout = 0"))
                    await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
                await connection.run_sync(migrate)
            return
        except (OperationalError, ProgrammingError, IntegrityError):
            # Another process created the same table (SQLite) or the database was busy.
            if attempt == _ATTEMPTS - 1:
                raise
            await asyncio.sleep(min(0.2 * (attempt + 1), 2.0))
