"""Catalogue load and resolve against their targets, on the synthetic 976-procedure catalogue.

    python bench/catalogue_bench.py [--repeats 7] [--calls 100000] [--seed 2025] [--quick]

The catalogue (procedures/generator.py, all entries synthetic, codes 9.xxxxxx) is written once
to a temporary directory. Then:

Load: `Catalogue.load(dir)` (read, validate every version, group, check overlaps), --repeats
times, garbage collector on as in real use. Target: median under 1 s. Reference: `json.loads`
of the same files, the part no validator can avoid.

Resolve: `Catalogue.resolve(code, instant)` over --calls seeded random pairs: any code, an
instant uniform over 2020-01-01 .. 2027-12-31 in Asia/Ho_Chi_Minh (so some fall before a
procedure's first version or after an abolished one and raise NoVersionInForce, caught in the
loop). Timed timeit-style (collector off), --repeats times; the figure is the median per call.
Target: under 20 µs. References, same pairs, same loop shape: the loop with only
`versions_by_code[code]`, and that lookup plus an inline scan of the version tuple; their ratio
to resolve stays meaningful on a noisy machine. A benchmark, not a test: it exits 0 whatever.
"""

from __future__ import annotations

import sys

if __name__ == "__main__":  # `python bench/catalogue_bench.py`: make the project importable
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import argparse
import gc
import json
import os
import platform
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pydantic

from procedures.calendar import VN_TZ
from procedures.catalogue import Catalogue
from procedures.generator import TOTAL_PROCEDURES, write_generated_catalogue

LOAD_TARGET = 1.0  # seconds
RESOLVE_TARGET = 20e-6  # seconds per call
FIRST_INSTANT = datetime(2020, 1, 1, tzinfo=VN_TZ)
LAST_INSTANT = datetime(2028, 1, 1, tzinfo=VN_TZ)

Pairs = list[tuple[str, datetime]]


def machine_facts() -> str:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in _lines("/proc/cpuinfo") if line.startswith("model name")),
        "?",
    )
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = " ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "?"
    return (
        f"machine: nproc {usable} (cpu_count {os.cpu_count()}), {cpu}; load average {load}\n"
        f"python {platform.python_version()} ({platform.python_implementation()}, {platform.system()}"
        f" {platform.machine()}), pydantic {pydantic.VERSION}"
    )


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def summary(values: list[float]) -> tuple[float, float, float]:
    return min(values), statistics.median(values), max(values)


def verdict(value: float, target: float) -> str:
    return "PASS" if value < target else "FAIL"


# --- load --------------------------------------------------------------------------------


def bench_load(directory: Path, repeats: int) -> tuple[list[float], list[float], Catalogue]:
    paths = sorted(directory.glob("*.json"))
    loads: list[float] = []
    parses: list[float] = []
    catalogue = None
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        catalogue = Catalogue.load(directory)
        loads.append(time.perf_counter() - start)
        gc.collect()
        start = time.perf_counter()
        for path in paths:
            json.loads(path.read_text(encoding="utf-8"))
        parses.append(time.perf_counter() - start)
    assert catalogue is not None
    return loads, parses, catalogue


# --- resolve -----------------------------------------------------------------------------


def draw_pairs(catalogue: Catalogue, calls: int, seed: int) -> Pairs:
    rng = random.Random(seed)
    codes = catalogue.codes
    span = (LAST_INSTANT - FIRST_INSTANT).total_seconds()
    return [
        (rng.choice(codes), FIRST_INSTANT + timedelta(seconds=rng.randrange(int(span)))) for _ in range(calls)
    ]


def loop_resolve(catalogue: Catalogue, pairs: Pairs) -> float:
    resolve = catalogue.resolve
    start = time.perf_counter()
    for code, at in pairs:
        try:
            resolve(code, at)
        except LookupError:
            pass
    return time.perf_counter() - start


def loop_lookup(catalogue: Catalogue, pairs: Pairs) -> float:
    versions_by_code = catalogue.versions_by_code
    start = time.perf_counter()
    for code, at in pairs:
        try:
            versions_by_code[code]
        except LookupError:
            pass
    return time.perf_counter() - start


def loop_scan(catalogue: Catalogue, pairs: Pairs) -> float:
    versions_by_code = catalogue.versions_by_code
    start = time.perf_counter()
    for code, at in pairs:
        try:
            for v in versions_by_code[code]:
                if v.effective_from <= at and (v.effective_to is None or at < v.effective_to):
                    break
        except LookupError:
            pass
    return time.perf_counter() - start


def timed(loop: Callable[[Catalogue, Pairs], float], catalogue: Catalogue, pairs: Pairs) -> float:
    """Seconds per call, collector off (as timeit does)."""
    if not pairs:
        return float("nan")
    enabled = gc.isenabled()
    gc.disable()
    try:
        return loop(catalogue, pairs) / len(pairs)
    finally:
        if enabled:
            gc.enable()


def outcome(catalogue: Catalogue, code: str, at: datetime) -> bool:
    try:
        catalogue.resolve(code, at)
    except LookupError:
        return False
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="repetitions of each measurement (default 7)")
    parser.add_argument(
        "--calls", type=int, default=100_000, help="resolve calls per repetition (default 100000)"
    )
    parser.add_argument("--seed", type=int, default=2025, help="seed of the catalogue and of the pairs")
    parser.add_argument("--quick", action="store_true", help="3 repeats, 20000 calls")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.calls = 3, 20_000

    print(machine_facts())
    print(
        f"command: {' '.join(['python', *sys.argv])}  (repeats {args.repeats}, calls {args.calls}, seed {args.seed})"
    )
    with tempfile.TemporaryDirectory(prefix="catalogue-bench-") as tmp:
        directory = Path(tmp)
        start = time.perf_counter()
        paths = write_generated_catalogue(directory, TOTAL_PROCEDURES, args.seed)
        written = time.perf_counter() - start
        size = sum(p.stat().st_size for p in paths)
        loads, parses, catalogue = bench_load(directory, args.repeats)

    n_versions = sum(len(vs) for vs in catalogue.versions_by_code.values())
    print(
        f"\ncatalogue: {len(catalogue.codes)} procedures, {n_versions} versions, {len(paths)} files,"
        f" {size / 1e6:.1f} MB (generated and written in {written:.2f} s)"
    )
    lo, med, hi = summary(loads)
    print(
        f"load    x{args.repeats}: min {lo * 1e3:7.1f} ms  median {med * 1e3:7.1f} ms  max {hi * 1e3:7.1f} ms"
        f"   target < {LOAD_TARGET * 1e3:.0f} ms: {verdict(med, LOAD_TARGET)}"
    )
    lo, pmed, hi = summary(parses)
    print(
        f"  reference json.loads only: min {lo * 1e3:.1f} ms  median {pmed * 1e3:.1f} ms  max {hi * 1e3:.1f} ms"
        f"   (load / parse = {med / pmed:.1f}x; per version {med / n_versions * 1e6:.0f} µs)"
    )

    pairs = draw_pairs(catalogue, args.calls, args.seed)
    hits: Pairs = []
    misses: Pairs = []
    for pair in pairs:
        (hits if outcome(catalogue, *pair) else misses).append(pair)
    rows: dict[str, list[float]] = {"resolve": [], "lookup": [], "scan": [], "hits": [], "misses": []}
    for _ in range(args.repeats):  # interleaved, so that a noisy moment hits every row alike
        rows["lookup"].append(timed(loop_lookup, catalogue, pairs))
        rows["scan"].append(timed(loop_scan, catalogue, pairs))
        rows["resolve"].append(timed(loop_resolve, catalogue, pairs))
        rows["hits"].append(timed(loop_resolve, catalogue, hits))
        rows["misses"].append(timed(loop_resolve, catalogue, misses))
    med = {name: statistics.median(values) for name, values in rows.items()}
    print(
        f"\nresolve: {args.calls} calls x{args.repeats}, instants 2020-01-01 .. 2027-12-31 (Asia/Ho_Chi_Minh);"
        f" {len(hits)} in force, {len(misses)} NoVersionInForce"
    )
    lo, _, hi = summary(rows["resolve"])
    print(
        f"  resolve, all pairs    median {med['resolve'] * 1e6:6.2f} µs/call  (min {lo * 1e6:.2f}, max {hi * 1e6:.2f})"
        f"   target < {RESOLVE_TARGET * 1e6:.0f} µs: {verdict(med['resolve'], RESOLVE_TARGET)}"
    )
    print(f"  resolve, in force     median {med['hits'] * 1e6:6.2f} µs/call")
    print(f"  resolve, raising      median {med['misses'] * 1e6:6.2f} µs/call")
    print(
        f"  reference dict lookup median {med['lookup'] * 1e6:6.2f} µs/call"
        f"   (resolve = {med['resolve'] / med['lookup']:.1f}x)"
    )
    print(
        f"  reference lookup+scan median {med['scan'] * 1e6:6.2f} µs/call"
        f"   (resolve = {med['resolve'] / med['scan']:.1f}x)"
    )


if __name__ == "__main__":
    main()
