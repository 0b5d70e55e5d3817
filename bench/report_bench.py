"""Service reports over 100,000 generated dossiers in PostgreSQL: target under 2 s.

    python bench/report_bench.py [--url postgresql+asyncpg://postgres@127.0.0.1:5432/test_records]
                                 [--dossiers 100000] [--runs 5] [--keep] [--verify]

Creates a database of its own beside the one in --url (its name + `_bench`), migrates it,
bulk-loads N dossiers with 4-6 hash-chained events each (COPY), ANALYZEs, then times each
report query --runs times and prints the medians. --verify also times `verify` over all the
chains once. The database is dropped at the end unless --keep. A benchmark: exits 0.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # `python bench/report_bench.py`: make the project importable
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import asyncio
import json
import os
import random
import statistics
import time
from datetime import UTC, datetime, timedelta

import asyncpg
import sqlalchemy

from audit.reports import ReportQuery, report
from audit.search import SearchFilter, search
from audit.verify import verify
from records.chain import GENESIS, event_hash
from records.database import open_records

VN = timedelta(hours=7)
START = datetime(2025, 1, 1, tzinfo=UTC) - VN
DAYS = 540  # 18 months of receipts


def generate(n: int, seed: int = 7):
    """Dossier rows and event rows (tuples in column order) for COPY."""
    rng = random.Random(seed)
    units = [f"000.{i:05d}.00.H{rng.randint(1, 34):02d}" for i in range(200)]
    counters = [u.replace(".00.H", ".01.H") for u in units]
    procedures = [f"1.{i:06d}" for i in range(50)]
    dossiers, events = [], []
    for i in range(n):
        code = f"BENCH-{i:07d}"
        u = rng.randrange(len(units))
        received = START + timedelta(minutes=rng.randrange(DAYS * 24 * 60))
        due = received + timedelta(days=rng.randint(5, 20))
        fate = rng.random()
        resolved = closed = overdue_at = carried_from = carried_at = None
        status = "processing"
        actions = [("received", "received"), ("transferred", "processing")]
        if rng.random() < 0.1:
            actions.append(("supplement_requested", "supplement_requested"))
            actions.append(("supplemented", "processing"))
        if rng.random() < 0.05:
            carried_from, carried_at = rng.choice(units), received + timedelta(days=1)
            actions.append(("carried_over", "processing"))
        if fate < 0.65:
            resolved = received + timedelta(days=rng.uniform(1, 24))
            if resolved > due:
                overdue_at = due
            status = "processed" if fate < 0.4 else "returned"
            closed = resolved + timedelta(days=1) if status == "returned" else None
            actions += [("step_completed", "processing"), ("processed", "processed")]
            if closed:
                actions.append(("result_returned", "returned"))
        elif fate < 0.7:
            status, closed = "withdrawn", received + timedelta(days=2)
            actions.append(("withdrawn", "withdrawn"))
        elif fate < 0.75:
            status, closed = "refused", received + timedelta(days=3)
            actions.append(("refused", "refused"))
        prev = GENESIS
        for seq, (action, after) in enumerate(actions, start=1):
            at = received + timedelta(hours=seq)
            payload = json.dumps(
                {
                    "seq": seq,
                    "at": at.isoformat(),
                    "action": action,
                    "actor_id": "system",
                    "actor_roles": [],
                    "actor_unit": "",
                    "action_id": None,
                    "status_before": None,
                    "status_after": after,
                    "step_id": None,
                    "note": "",
                    "details": {},
                },
                separators=(",", ":"),
            )
            digest = event_hash(code, seq, prev, payload)
            events.append((code, seq, action, None, "system", "", "", at, None, after, payload, prev, digest))
            prev = digest
        dossiers.append(
            (
                code,
                procedures[rng.randrange(len(procedures))],
                "v1",
                counters[u],
                units[u],
                status,
                "online" if rng.random() < 0.3 else "counter",
                received,
                due,
                resolved,
                closed,
                overdue_at is not None,
                overdue_at,
                carried_from,
                carried_at,
                None,
                "",
                len(actions),
                prev,
            )
        )
    return units, dossiers, events


DOSSIER_COLUMNS = [
    "code",
    "procedure_code",
    "version_id",
    "receiving_unit",
    "handling_unit",
    "status",
    "channel",
    "received_at",
    "due_at",
    "resolved_at",
    "closed_at",
    "overdue",
    "overdue_at",
    "carried_over_from",
    "carried_over_at",
    "current_step",
    "current_roles",
    "last_event_seq",
    "last_event_hash",
]
EVENT_COLUMNS = [
    "dossier_code",
    "seq",
    "action",
    "action_id",
    "actor_id",
    "actor_roles",
    "actor_unit",
    "at",
    "status_before",
    "status_after",
    "payload",
    "prev_hash",
    "hash",
]


async def timed(runs: int, work) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = await work()
        times.append(time.perf_counter() - began)
    return statistics.median(times), result


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--url",
        default=os.environ.get("DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test_records"),
    )
    parser.add_argument("--dossiers", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--verify", action="store_true")
    args = parser.parse_args()
    base = sqlalchemy.make_url(args.url)
    if not base.drivername.startswith("postgresql"):
        sys.exit("report_bench needs a PostgreSQL --url")
    name = f"{base.database}_bench"
    url = base.set(database=name).render_as_string(hide_password=False)
    admin = await asyncpg.connect(base.set(drivername="postgresql").render_as_string(hide_password=False))
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        began = time.perf_counter()
        units, dossiers, events = generate(args.dossiers)
        generated = time.perf_counter() - began
        async with open_records(url) as store:
            began = time.perf_counter()
            raw = await asyncpg.connect(
                base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
            )
            try:
                # COPY bypasses nothing that matters here: the append-only trigger fires on
                # UPDATE/DELETE only.
                await raw.copy_records_to_table("dossiers", records=dossiers, columns=DOSSIER_COLUMNS)
                await raw.copy_records_to_table("dossier_events", records=events, columns=EVENT_COLUMNS)
                await raw.execute("ANALYZE")
            finally:
                await raw.close()
            loaded = time.perf_counter() - began
            print(
                f"{len(dossiers)} dossiers, {len(events)} events: generated in {generated:.1f} s, loaded in {loaded:.1f} s"
            )
            now = datetime(2026, 7, 1, tzinfo=UTC)
            year = (datetime(2025, 1, 1, tzinfo=UTC) - VN, datetime(2026, 1, 1, tzinfo=UTC) - VN)
            month = (datetime(2025, 6, 1, tzinfo=UTC) - VN, datetime(2025, 7, 1, tzinfo=UTC) - VN)
            everything = (START - timedelta(days=1), now)
            cases = {
                "month, totals": ReportQuery(start=month[0], end=month[1]),
                "month, per handling unit": ReportQuery(
                    start=month[0], end=month[1], group_by=("handling_unit",)
                ),
                "year, per handling unit": ReportQuery(
                    start=year[0], end=year[1], group_by=("handling_unit",)
                ),
                "year, per procedure": ReportQuery(start=year[0], end=year[1], group_by=("procedure",)),
                "all 18 months, per unit and procedure": ReportQuery(
                    start=everything[0], end=everything[1], group_by=("handling_unit", "procedure")
                ),
                "year, one unit, per procedure": ReportQuery(
                    start=year[0], end=year[1], group_by=("procedure",), handling_unit=units[0]
                ),
            }
            print(f"{'report':<40} {'median s':>9} {'rows':>6} {'received':>9} {'total':>7} {'on-time':>8}")
            for label, query in cases.items():
                seconds, result = await timed(args.runs, lambda q=query: report(store, q, now=now))
                t = result.totals
                rate = f"{t.on_time_rate:.3f}" if t.on_time_rate is not None else "-"
                print(
                    f"{label:<40} {seconds:>9.3f} {len(result.rows):>6} {t.counts.received:>9} {t.total:>7} {rate:>8}"
                )
            for label, f in {
                "search: one unit, page 1": SearchFilter(handling_unit=units[0]),
                "search: overdue in a year, page 10": SearchFilter(
                    overdue=True, received_from=year[0], received_to=year[1]
                ),
            }.items():
                page = 10 if "page 10" in label else 1
                seconds, result = await timed(args.runs, lambda f=f, page=page: search(store, f, page=page))
                print(f"{label:<40} {seconds:>9.3f} {len(result.items):>6} total={result.total}")
            if args.verify:
                began = time.perf_counter()
                checked = await verify(store)
                print(
                    f"verify all chains: {time.perf_counter() - began:.1f} s, {checked.dossiers} dossiers,"
                    f" {checked.events} events, {len(checked.problems)} problems"
                )
    finally:
        if not args.keep:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


if __name__ == "__main__":
    asyncio.run(main())
