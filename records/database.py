"""Connecting to the records database chosen by DATABASE_URL (SQLite file by default)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from records.tables import Base

__all__ = [
    "RecordsStore",
    "create_engine",
    "create_schema",
    "insert_for",
    "open_records",
    "session_factory",
]


def create_engine(url: str) -> AsyncEngine:
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets readers (auditors, reports) run beside the projection's writes.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


async def create_schema(engine: AsyncEngine) -> None:
    # Until the records issue brings migrations, the schema is created idempotently here.
    # Two processes starting on a fresh database (worker and counter) may both find a table
    # missing and race to create it: the loser tries again and finds it there.
    for attempt in range(3):
        try:
            async with engine.begin() as connection:
                await connection.run_sync(Base.metadata.create_all)
            return
        except (OperationalError, ProgrammingError, IntegrityError):
            if attempt == 2:
                raise
            await asyncio.sleep(0.2)


def insert_for(engine: AsyncEngine, table: Any) -> Any:
    """An INSERT that supports ON CONFLICT on both dialects we run on."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


@dataclass(frozen=True)
class RecordsStore:
    """The records database: its engine, and sessions on it."""

    engine: AsyncEngine
    sessions: async_sessionmaker


@asynccontextmanager
async def open_records(database_url: str) -> AsyncIterator[RecordsStore]:
    engine = create_engine(database_url)
    try:
        await create_schema(engine)
        yield RecordsStore(engine, session_factory(engine))
    finally:
        await engine.dispose()
