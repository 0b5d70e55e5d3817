"""Connecting to the records database chosen by DATABASE_URL (SQLite file by default)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from records import migrate

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
    """Bring the schema to the migrations' head (never `create_all`: see records.migrate)."""
    await migrate.upgrade(engine)


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
