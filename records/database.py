"""Connecting to the records database chosen by DATABASE_URL (SQLite file by default).

On PostgreSQL every session is bounded, so that a peer cut off by the network cannot hold
locks for the server's default two hours: lock waits, statements, a transaction left idle
and a silent TCP peer are all cut off in seconds (`PostgresTimeouts`, set by environment).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import event, make_url
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.util import await_only

from records import migrate

__all__ = [
    "PostgresTimeouts",
    "ReadOnly",
    "RecordsInUse",
    "RecordsStore",
    "create_engine",
    "create_schema",
    "insert_for",
    "open_records",
    "read_engine",
    "read_session_factory",
    "session_factory",
]


@dataclass(frozen=True)
class PostgresTimeouts:
    """Bounds on every PostgreSQL session of ours, in seconds.

    A receipt waits at most `lock_wait` for a counter's daily number; a transaction left
    idle (its client cut off mid-transaction) is ended by the server after
    `idle_in_transaction`; no statement runs longer than `statement`; the server probes a
    silent client after `keepalive_idle` s, every `keepalive_interval` s, `keepalive_count`
    times, and drops it (releasing its locks). `command` bounds the client's own wait for
    an answer, so a silent server is given up too.
    """

    lock_wait: float = 5.0
    idle_in_transaction: float = 10.0
    statement: float = 60.0
    keepalive_idle: int = 10
    keepalive_interval: int = 5
    keepalive_count: int = 3
    command: float = 90.0

    VARIABLES: ClassVar[dict[str, str]] = {
        "lock_wait": "RECORDS_LOCK_TIMEOUT",
        "idle_in_transaction": "RECORDS_IDLE_IN_TRANSACTION_TIMEOUT",
        "statement": "RECORDS_STATEMENT_TIMEOUT",
        "keepalive_idle": "RECORDS_TCP_KEEPALIVE_IDLE",
        "keepalive_interval": "RECORDS_TCP_KEEPALIVE_INTERVAL",
        "keepalive_count": "RECORDS_TCP_KEEPALIVE_COUNT",
        "command": "RECORDS_COMMAND_TIMEOUT",
    }

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> PostgresTimeouts:
        return cls(**positive_numbers(cls.VARIABLES, env, lambda name: type(getattr(cls, name))))

    def server_settings(self) -> dict[str, str]:
        return {
            "lock_timeout": _ms(self.lock_wait),
            "idle_in_transaction_session_timeout": _ms(self.idle_in_transaction),
            "statement_timeout": _ms(self.statement),
            "tcp_keepalives_idle": str(self.keepalive_idle),
            "tcp_keepalives_interval": str(self.keepalive_interval),
            "tcp_keepalives_count": str(self.keepalive_count),
        }


def positive_numbers(
    variables: Mapping[str, str], env: Mapping[str, str], kind: Callable[[str], type] = lambda _: float
) -> dict[str, Any]:
    """Field -> number for each of `variables` (field -> environment variable) set in `env`;
    ValueError naming the variable when one is not a number of seconds above 0."""
    values: dict[str, Any] = {}
    for name, variable in variables.items():
        text = env.get(variable)
        if not text:
            continue
        try:
            value = kind(name)(text)
        except ValueError:
            raise ValueError(f"{variable}: {text!r} is not a number of seconds") from None
        if value <= 0:
            raise ValueError(f"{variable}: {text!r} must be more than 0")
        values[name] = value
    return values


def _ms(seconds: float) -> str:
    return str(int(seconds * 1000))


def _wal(cursor: Any) -> None:
    """Switch a SQLite file to WAL once. The switch needs the file to itself and SQLite answers
    "database is locked" at once, without its busy timeout, while another connection migrates
    a fresh file (seen with two stores opened together): wait for it, up to ~10 s."""
    for attempt in range(100):
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError:
            if attempt == 99:
                raise
            # The event runs in the async engine's greenlet: sleep on the loop, never block it.
            await_only(asyncio.sleep(0.1))


def create_engine(url: str, timeouts: PostgresTimeouts | None = None, *, reads: bool = False) -> AsyncEngine:
    """An engine on `url`; `reads` (PostgreSQL): its connections autocommit and are read-only
    (see `read_engine`)."""
    if url.startswith("sqlite"):
        # A file's connections are all kept once opened, as PostgreSQL's read pool's are: with 20
        # clients the default pool (5, and 10 overflow) closed and reopened a connection, its
        # thread and its pragmas, at nearly every request (docs/benchmarks.md). An in-memory
        # database has one connection (SQLAlchemy's StaticPool).
        in_memory = make_url(url).database in (None, "", ":memory:")
        pool: dict[str, Any] = {} if in_memory else {"pool_size": 20, "max_overflow": 0}
        engine = create_async_engine(url, connect_args={"timeout": 30}, **pool)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # WAL lets readers (auditors, reports) run beside the projection's writes.
            cursor = dbapi_connection.cursor()
            _wal(cursor)
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    timeouts = timeouts or PostgresTimeouts.from_env()
    connect_args: dict[str, Any] = {}
    if url.startswith("postgresql+asyncpg"):
        settings = timeouts.server_settings()
        if reads:
            settings["default_transaction_read_only"] = "on"
        connect_args = {"server_settings": settings, "command_timeout": timeouts.command}
    # Reads: the same 20 connections at most, all kept once opened. Overflow connections are
    # closed as they come back, and 20 clients loading pages opened and closed them all the
    # time (py-spy: connecting, TLS negotiation and re-preparing statements, docs/benchmarks.md).
    options: dict[str, Any] = (
        {"isolation_level": "AUTOCOMMIT", "pool_size": 20, "max_overflow": 0}
        if reads
        else {"pool_size": 10, "max_overflow": 10}
    )
    return create_async_engine(
        url,
        pool_pre_ping=True,
        pool_timeout=30,
        connect_args=connect_args,
        **options,
    )


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False)


class ReadOnly(RuntimeError):
    """A write through a session opened for reads (`RecordsStore.reads`)."""


class _ReadSession(Session):
    """A session that refuses to write: in autocommit a write would be committed at once,
    outside any transaction a caller could roll back."""

    def flush(self, objects: Any = None) -> None:
        if self.new or self.dirty or self.deleted:
            raise ReadOnly("a session for reads (RecordsStore.reads) cannot write; use RecordsStore.sessions")
        super().flush(objects)


@event.listens_for(_ReadSession, "do_orm_execute")
def _refuse_writes(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        raise ReadOnly("a session for reads (RecordsStore.reads) cannot write; use RecordsStore.sessions")


def read_session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=_ReadSession)


def read_engine(engine: AsyncEngine, url: str, timeouts: PostgresTimeouts | None = None) -> AsyncEngine:
    """An engine for reads alone beside `engine`, in autocommit: a page that only reads pays no
    BEGIN and no ROLLBACK round trip (docs/benchmarks.md).

    On PostgreSQL it has a pool of its own, whose connections are autocommit from the start, so
    that the checkout's pre-ping is a single statement too (asyncpg's ping on a connection in a
    transaction mode wraps its statement in a transaction of its own). On SQLite it is `engine`
    itself (its pool, and an in-memory database's data): Python's sqlite3 begins a transaction
    only before a write, so a session that only reads already reads in autocommit, and asking
    for AUTOCOMMIT cost each page three more calls into the connection's thread (the isolation
    level reset on return), each a wait for the loop under load (docs/benchmarks.md).
    """
    if engine.dialect.name == "sqlite":
        return engine
    return create_engine(url, timeouts, reads=True)


async def create_schema(engine: AsyncEngine) -> None:
    """Bring the schema to the migrations' head (never `create_all`: see records.migrate)."""
    await migrate.upgrade(engine)


def insert_for(engine: AsyncEngine, table: Any) -> Any:
    """An INSERT that supports ON CONFLICT on both dialects we run on."""
    dialect = postgresql if engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


@dataclass(frozen=True)
class RecordsStore:
    """The records database: its engine, and sessions on it.

    `reads` opens a session for reading alone, in autocommit (`read_engine`): for pages many
    people load at once (the worklist, the citizens' lookup, the staff-session check). Each of
    its statements sees what is committed when it starts, as each statement of a transaction
    does at PostgreSQL's default READ COMMITTED. It refuses the ORM's writes (`ReadOnly`), and
    on PostgreSQL its connections are read-only. A store built without a read engine reads through `sessions`.
    """

    engine: AsyncEngine
    sessions: async_sessionmaker
    read_sessions: async_sessionmaker | None = None

    def reads(self) -> AsyncSession:
        return (self.read_sessions or self.sessions)()


class RecordsInUse(RuntimeError):
    """Another serving process already uses this SQLite records file."""


@contextmanager
def _sole_server(database_url: str) -> Iterator[None]:
    """Hold the SQLite file's server lock for as long as this process serves.

    SQLite serialises writers with a file lock, and this process queues its own receipts in
    memory; a second worker or API process on the same file would contend for that lock with
    no order between the processes, so it is refused at start. PostgreSQL is the store for
    more than one process. The lock is the kernel's (flock): it goes with the process, so a
    killed worker never leaves it behind. One-off commands (`starter.py`) take no lock.
    """
    url = make_url(database_url)
    if not url.drivername.startswith("sqlite") or url.database in (None, "", ":memory:"):
        yield
        return
    path = Path(f"{url.database}.server-lock")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path, "a+")  # noqa: SIM115 - held open for as long as this process serves
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            raise RecordsInUse(
                f"records store {url.database} is already served by {holder}: SQLite records serve one"
                " worker/API process; stop the other one, or use PostgreSQL for more than one"
                " (DATABASE_URL=postgresql+asyncpg://…)"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"process {os.getpid()}\n")
        handle.flush()
        yield
    finally:
        handle.close()  # releases the lock


@asynccontextmanager
async def open_records(database_url: str, *, serving: bool = False) -> AsyncIterator[RecordsStore]:
    """The records store at `database_url`, its schema brought to head.

    `serving`: this process serves (worker, API): on SQLite it must be the only one.
    """
    with _sole_server(database_url) if serving else _no_lock():
        engine = create_engine(database_url)
        reads = read_engine(engine, database_url)
        try:
            await create_schema(engine)
            yield RecordsStore(engine, session_factory(engine), read_session_factory(reads))
        finally:
            if reads.sync_engine.pool is not engine.sync_engine.pool:
                await reads.dispose()
            await engine.dispose()


@contextmanager
def _no_lock() -> Iterator[None]:
    yield
