"""Projection lag while the intake benchmark runs: how long a timeline entry takes to become
a row of the records DB (PostgreSQL).

    python bench/projection_lag.py [--url postgresql+asyncpg://postgres@127.0.0.1:5432/test_records]
                                   [intake benchmark options, e.g. --dossiers 300 --rounds 1]

Creates a database of its own (the --url's name + `_lag`), runs bench/intake_throughput.py
against it with the other options, then reports, per action, the distribution of
recorded_at - at (the entry's instant in the workflow, the projection's commit time), and
drops the database. Entries of a receipt carry the counter's clock, the rest the workflow's.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import sqlalchemy

ROOT = Path(__file__).resolve().parent.parent
QUERY = """
SELECT action, count(*) AS n,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) AS p50,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY lag) AS p95,
       percentile_cont(0.99) WITHIN GROUP (ORDER BY lag) AS p99,
       max(lag) AS max
FROM (SELECT action, EXTRACT(EPOCH FROM recorded_at - at) AS lag FROM dossier_events) AS lags
GROUP BY action ORDER BY n DESC, action
"""


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--url",
        default=os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test_records"),
    )
    args, intake_args = parser.parse_known_args()
    base = sqlalchemy.make_url(args.url)
    name = f"{base.database}_lag"
    url = base.set(database=name).render_as_string(hide_password=False)
    dsn = lambda db: base.set(drivername="postgresql", database=db).render_as_string(hide_password=False)  # noqa: E731
    admin = await asyncpg.connect(dsn(base.database))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        command = [
            sys.executable,
            str(ROOT / "bench" / "intake_throughput.py"),
            "--database-url",
            url,
            *intake_args,
        ]
        print("$", " ".join(command[1:]), flush=True)
        subprocess.run(command, check=True, cwd=ROOT)
        connection = await asyncpg.connect(dsn(name))
        try:
            rows = await connection.fetch(QUERY)
        finally:
            await connection.close()
        print(
            f"\nprojection lag (recorded_at - at), seconds\n{'action':<14} {'events':>7} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}"
        )
        for row in rows:
            print(
                f"{row['action']:<14} {row['n']:>7} {row['p50']:>7.3f} {row['p95']:>7.3f} {row['p99']:>7.3f} {row['max']:>7.3f}"
            )
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
