"""The records schema comes from the Alembic migrations, and they agree with the table models."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from audit.verify import verify
from records import migrate
from records.database import create_engine, open_records
from records.tables import Base

ROOT = Path(__file__).parents[2]


@pytest.fixture
async def fresh_url(tmp_path) -> AsyncIterator[str]:
    """An empty database of the dialect under test: a new PostgreSQL database when the
    session runs on PostgreSQL, else a new SQLite file."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgresql"):
        yield f"sqlite+aiosqlite:///{tmp_path / 'fresh.sqlite'}"
        return
    admin = sqlalchemy.make_url(url)
    name = f"records_mig_{uuid.uuid4().hex[:10]}"
    dsn = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()


async def tables(engine) -> set[str]:
    async with engine.connect() as connection:
        return set(await connection.run_sync(lambda c: inspect(c).get_table_names()))


async def test_models_and_migrations_agree(records):
    """Autogenerate finds nothing to change between the migrated schema and records.tables."""
    async with records.engine.connect() as connection:
        diff = await connection.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": True}), Base.metadata
            )
        )
    assert diff == []


async def test_down_to_base_and_up_again(fresh_url):
    """Downgrading to base drops every table; upgrading builds them all again."""
    engine = create_engine(fresh_url)
    try:
        await migrate.upgrade(engine)
        assert await migrate.current_revision(engine) == migrate.head_revision()
        assert set(Base.metadata.tables) <= await tables(engine)
        await migrate.downgrade(engine, "base")
        assert await tables(engine) <= {"alembic_version"}
        await migrate.upgrade(engine)
        assert set(Base.metadata.tables) <= await tables(engine)
    finally:
        await engine.dispose()


async def test_processes_starting_together_on_a_fresh_database(fresh_url, tmp_path):
    """Three processes migrate the same empty database at once: all succeed, one schema."""
    env = {**os.environ, "DATABASE_URL": fresh_url, "DATA_DIR": str(tmp_path)}
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "starter.py",
            "records",
            "migrate",
            env=env,
            cwd=ROOT,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(3)
    ]
    results = [await p.communicate() for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0], [err.decode()[-500:] for _, err in results]
    outputs = sorted(out.decode().strip() for out, _ in results)
    # One of them did the work; the others found it done (or waited for it).
    assert f"records schema: empty -> {migrate.head_revision()}" in outputs
    engine = create_engine(fresh_url)
    try:
        assert await migrate.current_revision(engine) == migrate.head_revision()
    finally:
        await engine.dispose()


async def test_opening_twice_at_once_in_one_process(fresh_url):
    """Two stores opened together in one process (Alembic's context is process-global)."""

    async def open_one() -> str | None:
        async with open_records(fresh_url) as store:
            return await migrate.current_revision(store.engine)

    assert await asyncio.gather(open_one(), open_one()) == [migrate.head_revision()] * 2


async def test_a_database_from_before_migrations_is_adopted_and_its_events_chained(fresh_url):
    """Tables made by the old create_all (= revision 0001), with events and no hashes: the
    upgrade keeps the rows and computes their chain, which verify then accepts."""
    engine = create_engine(fresh_url)
    try:
        await migrate.upgrade(engine, "0001")
        async with engine.begin() as connection:
            # Simulate the pre-migration database: tables there, no alembic_version row.
            await connection.execute(text("DELETE FROM alembic_version"))
            at = datetime(2026, 3, 2, 2, tzinfo=UTC)
            await connection.execute(
                text(
                    "INSERT INTO dossiers (code, procedure_code, version_id, receiving_unit, handling_unit, status,"
                    " received_at, due_at, overdue, last_event_seq) VALUES"
                    " ('OLD-1', '1.004873', 'v', 'c', 'h', 'processing', :at, :at, false, 2)"
                ),
                {"at": at},
            )
            for seq, action in ((1, "received"), (2, "transferred")):
                payload = (
                    f'{{"seq":{seq},"at":"2026-03-02T02:00:00Z","action":"{action}","actor_id":"system",'
                    f'"actor_roles":[],"actor_unit":"","action_id":null,"status_before":null,'
                    f'"status_after":"processing","step_id":null,"note":"","details":{{}}}}'
                )
                await connection.execute(
                    text(
                        "INSERT INTO dossier_events (dossier_code, seq, action, actor_id, actor_unit, at,"
                        " status_after, payload) VALUES ('OLD-1', :seq, :action, 'system', '', :at, 'processing', :p)"
                    ),
                    {"seq": seq, "action": action, "at": at, "p": payload},
                )
        async with open_records(fresh_url) as store:
            assert await migrate.current_revision(store.engine) == migrate.head_revision()
            result = await verify(store, ["OLD-1"])
        assert result.events == 2
        # The old rows lacked the columns added later (roles, status before): reported as
        # such, not as a broken chain.
        assert {p.kind for p in result.problems} <= {"edited"}
        assert all("column" in p.detail for p in result.problems)
    finally:
        await engine.dispose()


async def test_0005_scopes_request_ids_to_their_counter_and_keeps_the_claims(fresh_url):
    """Claims from before 0005 keep their code, take their counter from it, count as started
    and carry no content hash; an unfinished claim (no code) is dropped; 0005 goes down again."""
    engine = create_engine(fresh_url)
    try:
        await migrate.upgrade(engine, "0004")
        async with engine.begin() as connection:
            await connection.execute(
                text("INSERT INTO intake_requests (request_id, dossier_code) VALUES (:r, :c)"),
                [
                    {"r": "req-1", "c": "000.00004.01.H01-260305-0001"},
                    {"r": "req-2", "c": "000.00.01.H01-260305-0007"},
                    {"r": "req-3", "c": None},
                ],
            )
        await migrate.upgrade(engine, "0005")
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text(
                        "SELECT receiving_unit, request_id, dossier_code, content_hash, received_at, started"
                        " FROM intake_requests ORDER BY request_id"
                    )
                )
            ).all()
        assert [tuple(r[:4]) + (r[4], bool(r[5])) for r in rows] == [
            ("000.00004.01.H01", "req-1", "000.00004.01.H01-260305-0001", "", None, True),
            ("000.00.01.H01", "req-2", "000.00.01.H01-260305-0007", "", None, True),
        ]
        await migrate.downgrade(engine, "0004")
        async with engine.connect() as connection:
            back = (
                await connection.execute(
                    text("SELECT request_id, dossier_code FROM intake_requests ORDER BY request_id")
                )
            ).all()
        assert [tuple(r) for r in back] == [
            ("req-1", "000.00004.01.H01-260305-0001"),
            ("req-2", "000.00.01.H01-260305-0007"),
        ]
    finally:
        await engine.dispose()


async def test_0014_gives_each_group_s_rows_its_counter_from_its_code_s_claim(fresh_url):
    """Group rows from before 0014 take their counter from the claim of the group's code (''
    without one); the partial index lists the groups waiting for the check; 0014 goes down."""
    engine = create_engine(fresh_url)
    group = "000.00004.01.H01-260305-0001"
    try:
        await migrate.upgrade(engine, "0013")
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO intake_requests (receiving_unit, request_id, dossier_code, content_hash, started)"
                    " VALUES ('000.00004.01.H01', 'req-1', :c, '', true)"
                ),
                {"c": group},
            )
            await connection.execute(
                text(
                    "INSERT INTO group_members (group_code, member_key, dossier_code, group_kind, handling_unit,"
                    " received_at, group_due_at, status, late, group_status)"
                    " VALUES (:g, :k, :d, 'LT296.01', '000.00004.00.H01', :at, :at, 'waiting', false,"
                    " 'registered_online')"
                ),
                [
                    {"g": group, "k": "birth", "d": f"{group}-1", "at": datetime(2026, 3, 5, tzinfo=UTC)},
                    {"g": group, "k": "residence", "d": f"{group}-2", "at": datetime(2026, 3, 5, tzinfo=UTC)},
                    {
                        "g": "unclaimed",
                        "k": "birth",
                        "d": "unclaimed-1",
                        "at": datetime(2026, 3, 5, tzinfo=UTC),
                    },
                ],
            )
        await migrate.upgrade(engine, "0014")
        async with engine.connect() as connection:
            rows = (
                await connection.execute(
                    text("SELECT group_code, member_key, receiving_unit FROM group_members ORDER BY 1, 2")
                )
            ).all()
            indexes = await connection.run_sync(lambda c: inspect(c).get_indexes("group_members"))
        assert [tuple(r) for r in rows] == [
            (group, "birth", "000.00004.01.H01"),
            (group, "residence", "000.00004.01.H01"),
            ("unclaimed", "birth", ""),
        ]
        assert "ix_group_members_waiting_check" in {i["name"] for i in indexes}
        await migrate.downgrade(engine, "0013")
        async with engine.connect() as connection:
            columns = await connection.run_sync(lambda c: inspect(c).get_columns("group_members"))
            count = (await connection.execute(text("SELECT count(*) FROM group_members"))).scalar_one()
        assert "receiving_unit" not in {c["name"] for c in columns} and count == 3
    finally:
        await engine.dispose()
