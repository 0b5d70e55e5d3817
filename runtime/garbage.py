"""The garbage collector of a serving process: what exists once it has started is set aside.

A worker holds the whole catalogue, SQLAlchemy's and pydantic's machinery and the SDK's objects
from its start to its end, hundreds of thousands of objects that are never garbage. Python's
full collections walk them all the same: measured at 130 to 165 ms each in `worker.py` under the
web benchmark, a pause of every request in flight (the worklist's p95 carried it); with them
frozen, 6 to 7 ms (docs/benchmarks.md). `gc.freeze` moves them to a generation the collector
never visits; reference counting still frees them, only cycles among them would outlive the
process, and a cycle created before the start is not garbage a serving process makes.
"""

from __future__ import annotations

import gc

__all__ = ["freeze_startup_objects"]


def freeze_startup_objects() -> int:
    """Collect what start-up left behind, then set everything alive aside; how many objects
    are now frozen (the `onestop_gc_frozen_objects` gauge reads it too)."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
