"""scripts/history_figures.py, the capacity model's measurement (docs/deployment.md): its counts
agree with the recorded history they read, and sealing the payloads makes the history larger."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

from runtime.codec import EncryptionCodec, generate_key, load_keyring

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("history_figures", ROOT / "scripts" / "history_figures.py")
history_figures = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = history_figures  # its dataclass looks its module up
spec.loader.exec_module(history_figures)


async def test_figures_of_the_returned_lifecycle():
    path = ROOT / "tests" / "histories" / "dossier_returned.json"
    types = [event["eventType"] for event in json.loads(path.read_text())["events"]]
    codec = EncryptionCodec(*load_keyring(f"k1:{generate_key()}"))
    f = await history_figures.figures(path, codec)
    assert f.events == len(types)
    assert f.workflow_tasks == types.count("EVENT_TYPE_WORKFLOW_TASK_COMPLETED")
    assert f.activity_attempts == types.count("EVENT_TYPE_ACTIVITY_TASK_STARTED") > 0
    assert f.timers == types.count("EVENT_TYPE_TIMER_STARTED")
    assert (
        f.updates == types.count("EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED") == 3
    )  # review, approve, return
    assert f.upserts == types.count("EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES")
    assert f.actions == 1 + f.activity_attempts + f.timers + f.updates + f.local_activity_markers + f.upserts
    assert 0 < f.plain_bytes < f.encrypted_bytes


async def test_a_group_s_signals_are_counted_as_actions():
    """A group hears its members by signal: each signal landed is one action."""
    path = ROOT / "tests" / "histories" / "group_birth_returned.json"
    types = [event["eventType"] for event in json.loads(path.read_text())["events"]]
    codec = EncryptionCodec(*load_keyring(f"k1:{generate_key()}"))
    f = await history_figures.figures(path, codec)
    assert f.signals == types.count("EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED") > 0
    assert f.actions == (
        1 + f.activity_attempts + f.timers + f.updates + f.local_activity_markers + f.upserts + f.signals
    )
