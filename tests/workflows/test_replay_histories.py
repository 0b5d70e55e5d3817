"""Recorded histories of every dossier shape replay against the current workflow code.

The histories in tests/histories/ come from scripts/record_histories.py. A change to
DossierWorkflow that would break dossiers already running fails here; an intended change
goes behind `workflow.patched()` and these histories keep replaying. No Temporal server is
needed: the Replayer runs the workflow code against the recorded events alone.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio import workflow
from temporalio.api.enums.v1 import EventType
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer, UnsandboxedWorkflowRunner

from model.dossier_inputs import DossierInput
from workflows.dossier import PROVINCE_QUEUE_PATCH, DossierWorkflow
from workflows.group import GroupWorkflow

HISTORIES = Path(__file__).resolve().parent.parent / "histories"
FILES = sorted(HISTORIES.glob("*.json"))
# Every shape a dossier can take (the CarryoverWorkflow's own history is not recorded yet).
SHAPES = {
    "dossier_returned",
    "dossier_supplemented",
    "dossier_refused",
    "dossier_withdrawn",
    "dossier_overdue_apology",
    "dossier_payment",
    "dossier_continued_run1",
    "dossier_continued_run2",
    "dossier_carried_over",
    "dossier_action_ids",
    "dossier_carried_over_counter",
    # Since the patch deadline-timer-apart-from-projection: timer and projection side by side.
    "dossier_overdue_apology_deadline_apart",
    "dossier_supplemented_deadline_apart",
    "dossier_continued_run1_deadline_apart",
    "dossier_continued_run2_deadline_apart",
    # Since the patch online-submission: status 1, the counter's check and its deadline timer.
    "dossier_online_received",
    "dossier_online_not_received",
    # Since the patch transfer-moves-to-province-queue: carried over onto Hà Nội's own queue.
    "dossier_province_queue_run1",
    "dossier_province_queue_run2",
    # A member of an interlinked group (a child that reports to its group), and the groups
    # themselves (scripts/record_group_histories.py).
    "dossier_group_member",
    "group_birth_returned",
    "group_birth_refused",
    # Since the patch group-notices: the group's one set of notices, a member's refusal projected.
    "group_birth_returned_notices",
    "group_birth_refused_notices",
    # Since the patch group-online-submission: status 1 and the counter's check before any member.
    "group_birth_online_received",
    "group_birth_online_not_received",
    # Since the patch group-online-notices: the counter's forms 02/03 told to the applicant.
    "group_birth_online_received_notices",
    "group_birth_online_not_received_notices",
    # Since the patch group-partner-systems: the insurance member handed to a partner's system.
    "group_birth_partner_insurance",
    # Since the patch group-partner-rejection: the police's system rejects the residence for good.
    "group_birth_partner_rejected",
    # Since the patch group-members-province-queues: the members started on Hà Nội's own queue.
    "group_birth_province_queues",
}
# Files named group_* are GroupWorkflow runs; all others DossierWorkflow runs.
WORKFLOW_TYPES = {"group": "GroupWorkflow"}
CLOSED = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED,
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW,
}


def load(path: Path) -> WorkflowHistory:
    """The history in `path`, under its workflow id: the dossier code in its input."""
    events = WorkflowHistory.from_json("", path.read_text(encoding="utf-8")).events
    payload = events[0].workflow_execution_started_event_attributes.input.payloads[0]
    return WorkflowHistory(json.loads(payload.data)["code"], events)


def started(history: WorkflowHistory):
    return history.events[0].workflow_execution_started_event_attributes


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
async def test_recorded_history_replays_against_the_current_code(path: Path):
    """Replaying raises on any nondeterminism between the recorded events and today's code."""
    replayer = Replayer(workflows=[DossierWorkflow, GroupWorkflow], data_converter=pydantic_data_converter)
    await replayer.replay_workflow(load(path))


def test_every_shape_has_a_closed_dossier_history():
    """Deleting a history fails here; each file is a whole run of the workflow its name says."""
    missing = SHAPES - {p.stem for p in FILES}
    assert not missing, f"no recorded history for {sorted(missing)}: run scripts/record_histories.py"
    for path in FILES:
        history = load(path)
        expected = WORKFLOW_TYPES.get(path.stem.split("_")[0], "DossierWorkflow")
        assert started(history).workflow_type.name == expected, path.name
        assert history.events[-1].event_type in CLOSED, f"{path.name} is not a closed run"


def test_the_continued_runs_are_one_dossier():
    """Run 1 continues as new into run 2, which carries run 1's state."""
    run1 = load(HISTORIES / "dossier_continued_run1.json")
    run2 = load(HISTORIES / "dossier_continued_run2.json")
    assert run1.workflow_id == run2.workflow_id
    handover = run1.events[-1].workflow_execution_continued_as_new_event_attributes
    assert handover.new_execution_run_id == started(run2).original_execution_run_id
    assert started(run2).continued_execution_run_id == started(run1).original_execution_run_id
    assert json.loads(started(run2).input.payloads[0].data)["carried_state"] is not None


def test_the_province_queue_pair_moves_the_dossier_to_its_new_provinces_queue():
    """Run 1 (shared queue) is carried over to a Hà Nội unit and continues as new on Hà Nội's
    queue, with the patch marker; run 2 was started there and knows it from its input."""
    run1 = load(HISTORIES / "dossier_province_queue_run1.json")
    run2 = load(HISTORIES / "dossier_province_queue_run2.json")
    assert run1.workflow_id == run2.workflow_id
    handover = run1.events[-1].workflow_execution_continued_as_new_event_attributes
    assert handover.task_queue.name == "record-histories-h01" != started(run1).task_queue.name
    assert started(run2).task_queue.name == "record-histories-h01"
    assert json.loads(started(run2).input.payloads[0].data)["task_queue"] == "record-histories-h01"
    markers = [e for e in run1.events if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED]
    details = [d for m in markers for d in m.marker_recorded_event_attributes.details.values()]
    assert any(PROVINCE_QUEUE_PATCH.encode() in p.data for d in details for p in d.payloads)


@workflow.defn(name="DossierWorkflow")
class TimerFirstDossierWorkflow:
    """DossierWorkflow after a careless edit: it waits a minute before projecting the receipt."""

    @workflow.run
    async def run(self, dossier: DossierInput) -> None:
        await workflow.sleep(timedelta(minutes=1))


async def test_a_changed_workflow_fails_the_replay():
    """The replay test can fail: an altered workflow under the same name is nondeterministic."""
    replayer = Replayer(
        workflows=[TimerFirstDossierWorkflow],
        data_converter=pydantic_data_converter,
        workflow_runner=UnsandboxedWorkflowRunner(),
    )
    result = await replayer.replay_workflow(
        load(HISTORIES / "dossier_withdrawn.json"), raise_on_replay_failure=False
    )
    assert isinstance(result.replay_failure, workflow.NondeterminismError), result.replay_failure


def test_the_group_notices_histories_carry_the_patch_and_the_notices():
    """Recorded after the patch group-notices: its marker, and the group's projections carry
    the applicant's notices (receipt and result; receipt and the member's refusal); after the
    patch group-online-notices, an online group's forms 02 and 03 too (none before it)."""
    expected = {
        "group_birth_returned_notices": ["group_received", "group_processed"],
        "group_birth_refused_notices": ["group_received", "group_member_refused"],
        "group_birth_online_received": ["group_received", "group_processed"],
        "group_birth_online_not_received": [],
        "group_birth_online_received_notices": [
            "group_online_completion_requested",
            "group_received",
            "group_processed",
        ],
        "group_birth_online_not_received_notices": ["group_not_received"],
    }
    for name, kinds in expected.items():
        history = load(HISTORIES / f"{name}.json")
        markers = [
            json.loads(e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)["id"]
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
            and "patch-data" in e.marker_recorded_event_attributes.details
        ]
        assert "group-notices" in markers, name
        online_notices = name.startswith("group_birth_online_") and name.endswith("_notices")
        assert ("group-online-notices" in markers) is online_notices, name
        sent = [
            notice["kind"]
            for e in history.events
            if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            and e.activity_task_scheduled_event_attributes.activity_type.name == "record_group"
            for notice in json.loads(e.activity_task_scheduled_event_attributes.input.payloads[0].data)[
                "notices"
            ]
        ]
        assert sent == kinds, name


def test_the_partner_history_hands_the_member_over_by_two_activities():
    """Recorded after the patch group-partner-systems: its marker, one submission and one
    outcome activity (the partner's 503s and the undecided answers were retried attempts, not
    events), and two child dossiers only: the insurance member was not started here."""
    history = load(HISTORIES / "group_birth_partner_insurance.json")
    markers = [
        json.loads(e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)["id"]
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
    ]
    assert "group-partner-systems" in markers
    activities = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert activities.count("submit_to_partner") == activities.count("partner_outcome") == 1
    children = [
        e.start_child_workflow_execution_initiated_event_attributes.workflow_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
    ]
    assert [code[-2:] for code in children] == ["-1", "-2"]


def test_the_partner_rejected_history_refuses_the_member_after_one_failed_submission():
    """Recorded after the patch group-partner-rejection: the police's system answered 422 to the
    residence's submission, one failed attempt (not retried), the patch's marker after it, the
    member's refusal told to the applicant, and the birth registration the only child."""
    history = load(HISTORIES / "group_birth_partner_rejected.json")
    markers = [
        json.loads(e.marker_recorded_event_attributes.details["patch-data"].payloads[0].data)["id"]
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_MARKER_RECORDED
    ]
    assert markers[-2:] == ["group-partner-systems", "group-partner-rejection"]
    activities = [
        e.activity_task_scheduled_event_attributes.activity_type.name
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
    ]
    assert activities.count("submit_to_partner") == 1 and "partner_outcome" not in activities
    [failed] = [
        e.activity_task_failed_event_attributes.failure
        for e in history.events
        if e.HasField("activity_task_failed_event_attributes")
    ]
    assert failed.application_failure_info.type == "PartnerRejected"
    assert failed.application_failure_info.non_retryable and "HTTP 422" in failed.message
    notices = [
        notice["kind"]
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
        and e.activity_task_scheduled_event_attributes.activity_type.name == "record_group"
        for notice in json.loads(e.activity_task_scheduled_event_attributes.input.payloads[0].data)["notices"]
    ]
    assert notices == ["group_received", "group_member_refused", "group_processed"]
    children = [
        e.start_child_workflow_execution_initiated_event_attributes.workflow_id
        for e in history.events
        if e.event_type == EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED
    ]
    assert [code[-2:] for code in children] == ["-1"]
