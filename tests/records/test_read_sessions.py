"""Sessions for reads alone (`RecordsStore.reads`): autocommit, and refusing to write.

Run on SQLite by default and on PostgreSQL with DATABASE_URL (the `records` fixture).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiosqlite
import pytest
from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from records.database import ReadOnly, RecordsStore
from records.staff_tables import StaffSessionRow

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _row(id_hash: str) -> StaffSessionRow:
    return StaffSessionRow(
        id_hash=id_hash,
        username="read-test",
        csrf_token="t",
        created_at=NOW,
        expires_at=NOW + timedelta(hours=1),
    )


async def _count(records: RecordsStore, id_hash: str) -> int:
    async with records.sessions() as session:
        query = select(func.count()).select_from(StaffSessionRow).where(StaffSessionRow.id_hash == id_hash)
        return (await session.execute(query)).scalar_one()


async def test_a_read_session_runs_in_autocommit_and_a_write_session_does_not(records: RecordsStore) -> None:
    async with records.reads() as session:
        await session.execute(select(func.count()).select_from(StaffSessionRow))
        assert await _autocommits(session)
    # On SQLite the pool is shared: the connection goes back to transactions for writers.
    async with records.sessions() as session:
        session.add(_row("read-test-rolled-back"))
        await session.flush()
        assert not await _autocommits(session)
        await session.rollback()
    assert await _count(records, "read-test-rolled-back") == 0


async def _autocommits(session: AsyncSession) -> bool:
    """Whether what `session` has run so far left no transaction open. PostgreSQL: its
    connection's autocommit setting. SQLite: Python's sqlite3 begins a transaction only before
    a write, so a connection that has only read is in none (records.database.read_engine)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    if connection.dialect.name == "sqlite":
        return not raw.driver_connection.in_transaction
    return connection.dialect.detect_autocommit_setting(raw.dbapi_connection)


async def test_a_read_session_sees_what_is_committed(records: RecordsStore) -> None:
    async with records.sessions() as session, session.begin():
        session.add(_row("read-test-seen"))
    async with records.reads() as session:
        found = await session.get(StaffSessionRow, "read-test-seen")
    assert found is not None and found.username == "read-test"
    async with records.sessions() as session, session.begin():
        await session.execute(delete(StaffSessionRow).where(StaffSessionRow.id_hash == "read-test-seen"))


async def test_a_read_session_refuses_the_orms_writes(records: RecordsStore) -> None:
    async with records.sessions() as session, session.begin():
        session.add(_row("read-test-kept"))
    async with records.reads() as session:
        session.add(_row("read-test-added"))
        with pytest.raises(ReadOnly, match="RecordsStore.sessions"):
            await session.flush()
    async with records.reads() as session:
        with pytest.raises(ReadOnly):
            await session.execute(insert(StaffSessionRow).values(**_columns("read-test-inserted")))
        with pytest.raises(ReadOnly):
            await session.execute(
                update(StaffSessionRow)
                .where(StaffSessionRow.id_hash == "read-test-kept")
                .values(csrf_token="x")
            )
        with pytest.raises(ReadOnly):
            await session.execute(delete(StaffSessionRow).where(StaffSessionRow.id_hash == "read-test-kept"))
    assert await _count(records, "read-test-added") == 0
    assert await _count(records, "read-test-inserted") == 0
    async with records.sessions() as session:
        kept = await session.get(StaffSessionRow, "read-test-kept")
    assert kept is not None and kept.csrf_token == "t"
    async with records.sessions() as session, session.begin():
        await session.execute(delete(StaffSessionRow).where(StaffSessionRow.id_hash == "read-test-kept"))


async def test_on_postgresql_a_read_connection_is_read_only(records: RecordsStore) -> None:
    """Beyond the ORM: text SQL through a read session is refused by the server itself."""
    if records.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only (DATABASE_URL): SQLite's read sessions share the writers' pool")
    async with records.reads() as session:
        with pytest.raises(DBAPIError, match="read-only"):
            await session.execute(
                text(
                    "INSERT INTO staff_sessions (id_hash, username, csrf_token, created_at, expires_at)"
                    " VALUES ('read-test-text', 'read-test', 't', now(), now())"
                )
            )
    assert await _count(records, "read-test-text") == 0


def _columns(id_hash: str) -> dict:
    row = _row(id_hash)
    return {c: getattr(row, c) for c in ("id_hash", "username", "csrf_token", "created_at", "expires_at")}


async def test_the_read_pool_keeps_the_connections_it_opened(records: RecordsStore) -> None:
    """20 pages at once open 20 read connections, and all 20 stay for the next loads (an
    overflow connection would be closed as it came back, and reopened at the next peak): on
    PostgreSQL the read pool's, on SQLite the file's pool, which the reads share."""
    async with records.reads() as session:
        pool = session.bind.sync_engine.pool
    held = [records.reads() for _ in range(20)]
    for session in held:
        await session.connection()
    for session in held:
        await session.close()
    assert pool.checkedin() == 20


async def test_a_read_on_sqlite_makes_six_calls_at_most_into_its_connection_thread(
    records: RecordsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each call into aiosqlite's thread waits for the event loop to take the answer back, up
    to the interpreter's switch interval when the loop is busy (20 clients): a read session's
    query is four calls (cursor, execute, fetch, close) and its end two rollbacks (the session's
    and the pool's), with no isolation level set and reset around them (nine calls before,
    records.database.read_engine)."""
    if records.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only: its connections are threads of this process")
    calls: list[str] = []
    original = aiosqlite.Connection._execute

    async def counted(self, function, *args, **kwargs):
        calls.append(getattr(function, "__name__", type(function).__name__))
        return await original(self, function, *args, **kwargs)

    async with records.reads() as session:  # the connection is opened before counting
        await session.execute(select(func.count()).select_from(StaffSessionRow))
    monkeypatch.setattr(aiosqlite.Connection, "_execute", counted)
    async with records.reads() as session:
        await session.execute(select(func.count()).select_from(StaffSessionRow))
    assert len(calls) <= 6, calls
