"""Per-dossier Temporal figures from real DossierWorkflow histories, for the capacity model.

    .venv/bin/python scripts/history_figures.py [HISTORY.json ...]    # default: tests/histories/*.json

For each history (`WorkflowHistory.to_json()`, as scripts/record_histories.py writes them):
its events, workflow tasks, activity attempts, timers, updates, local-activity markers and
search-attribute upserts; its size as Temporal stores it (the protobuf size of its events),
both as recorded (plain payloads) and with every payload encrypted by the engine's codec
(runtime/codec.py, a fresh key), which is how a deployment stores it; and its billable
actions counted by Temporal Cloud's published rules as far as a history shows them
(queries and heartbeats are not in a history: see docs/deployment.md).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from google.protobuf.descriptor import FieldDescriptor  # noqa: E402
from google.protobuf.message import Message  # noqa: E402
from temporalio.api.common.v1 import Payload  # noqa: E402
from temporalio.api.enums.v1 import EventType  # noqa: E402
from temporalio.client import WorkflowHistory  # noqa: E402

from runtime.codec import EncryptionCodec, generate_key, load_keyring  # noqa: E402

E = EventType
LOCAL_ACTIVITY_MARKER = "core_local_activity"  # patch markers (core_patch) are not actions


@dataclass
class Figures:
    name: str
    events: int
    workflow_tasks: int
    activity_attempts: int
    timers: int
    updates: int
    local_activity_markers: int
    upserts: int
    continued: int
    plain_bytes: int
    encrypted_bytes: int
    # Signals received (a group's members report by signal; a group tells its members by signal):
    # each signal is one action, counted where it lands.
    signals: int = 0

    @property
    def actions(self) -> int:
        """Start, each activity attempt, timer, update and upsert; local activities of one
        workflow task count once (approximated: one per marker); continue-as-new starts a run."""
        return (
            1
            + self.activity_attempts
            + self.timers
            + self.updates
            + self.local_activity_markers
            + self.upserts
            + self.continued
            + self.signals
        )


def _payloads(message: Message) -> Iterator[Payload]:
    for field, value in message.ListFields():
        if field.type != FieldDescriptor.TYPE_MESSAGE:
            continue
        if field.message_type.GetOptions().map_entry:
            items = list(value.values())
        elif (
            getattr(field, "is_repeated", None)
            or getattr(field, "label", None) == FieldDescriptor.LABEL_REPEATED
        ):
            items = list(value)
        else:
            items = [value]
        for item in items:
            if isinstance(item, Payload):
                yield item
            elif isinstance(item, Message):
                yield from _payloads(item)


async def figures(path: Path, codec: EncryptionCodec) -> Figures:
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    kinds = Counter(event.event_type for event in history.events)
    attempts = sum(1 for event in history.events if event.event_type == E.EVENT_TYPE_ACTIVITY_TASK_STARTED)
    plain = sum(event.ByteSize() for event in history.events)
    growth = 0
    for event in history.events:
        # The search attributes are indexed, not encrypted: the codec leaves them alone.
        if event.event_type == E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
            continue
        for payload in _payloads(event):
            (encrypted,) = await codec.encode([payload])
            growth += encrypted.ByteSize() - payload.ByteSize()
    return Figures(
        name=path.stem,
        events=len(history.events),
        workflow_tasks=kinds[E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED],
        activity_attempts=attempts,
        timers=kinds[E.EVENT_TYPE_TIMER_STARTED],
        updates=kinds[E.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED],
        local_activity_markers=sum(
            1
            for event in history.events
            if event.event_type == E.EVENT_TYPE_MARKER_RECORDED
            and event.marker_recorded_event_attributes.marker_name == LOCAL_ACTIVITY_MARKER
        ),
        upserts=kinds[E.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES],
        continued=kinds[E.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW],
        plain_bytes=plain,
        encrypted_bytes=plain + growth,
        signals=kinds[E.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED],
    )


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("histories", nargs="*", type=Path)
    args = parser.parse_args()
    paths = args.histories or sorted((ROOT / "tests" / "histories").glob("*.json"))
    keys, active = load_keyring(f"k1:{generate_key()}")
    codec = EncryptionCodec(keys, active)
    header = (
        f"{'history':<44} {'events':>6} {'wf tasks':>8} {'act.':>4} {'timers':>6} {'upd.':>4}"
        f" {'local a.':>8} {'upserts':>7} {'actions':>7} {'bytes':>7} {'encrypted':>9}"
    )
    print(header)
    for path in paths:
        f = await figures(path, codec)
        print(
            f"{f.name:<44} {f.events:>6} {f.workflow_tasks:>8} {f.activity_attempts:>4} {f.timers:>6}"
            f" {f.updates:>4} {f.local_activity_markers:>8} {f.upserts:>7} {f.actions:>7}"
            f" {f.plain_bytes:>7} {f.encrypted_bytes:>9}"
        )


if __name__ == "__main__":
    asyncio.run(main())
