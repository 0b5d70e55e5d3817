"""The auditor's history: Temporal's events as a readable timeline, checked against the audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest

from audit.history import dossier_history, render_history
from model.dossier_inputs import CompleteStepInput, RequestSupplementInput, SupplementInput
from tests.builders import COUNTER, LEADER, SPECIALIST, action_id, request, settled
from tests.records.dataset import tamper
from workflows.dossier import DossierWorkflow


async def reviewed_dossier(counter) -> tuple[str, str]:
    """A dossier received, reviewed (the review sent twice with one action id), approved."""
    slip = await counter.receive(request("1.004873"))
    handle = counter.handle(slip.dossier_code)
    await settled(handle)
    review = CompleteStepInput(actor=SPECIALIST, action_id=action_id(), step_id="review")
    await handle.execute_update(DossierWorkflow.complete_step, review)
    await handle.execute_update(DossierWorkflow.complete_step, review)
    await handle.execute_update(
        DossierWorkflow.complete_step,
        CompleteStepInput(actor=LEADER, action_id=action_id(), step_id="approve"),
    )
    await settled(handle)
    return slip.dossier_code, review.action_id


class TestAuditorHistory:
    async def test_readable_timeline_that_agrees_with_the_audit_trail(self, client, records, counter):
        """Who did what, when, where, with which outcome; a repeated action shows as such;
        every entry Temporal projected is in the audit trail and nothing else is."""
        code, review_id = await reviewed_dossier(counter)
        history = await dossier_history(client, records, code)
        lines = [(i.what, i.actor_id, i.outcome) for i in history.items]
        assert lines == [
            ("received", "counter-1", "accepted"),
            ("complete_step", "specialist-1", "accepted"),
            ("complete_step", "specialist-1", "repeated (no effect)"),
            ("complete_step", "leader-1", "accepted"),
        ]
        review = history.items[1]
        assert review.actor_unit == SPECIALIST.unit and review.actor_roles == ("specialist",)
        assert review.details["step_id"] == "review" and review.details["action_id"] == review_id
        assert history.items[0].details["handling_unit"] == SPECIALIST.unit
        # received, transferred, two steps, processed
        assert history.projected == len(history.audit) == 5
        assert history.agrees, history.disagreements
        text = render_history(history)
        assert "complete_step" in text and "agrees" in text
        assert "Nguyễn" not in text  # the applicant's personal data stays out

    async def test_a_deleted_audit_row_is_a_disagreement(self, client, records, counter):
        """The review's audit row deleted: Temporal has it, the trail does not, both ways reported."""
        code, review_id = await reviewed_dossier(counter)
        await tamper(records, "DELETE FROM dossier_events WHERE dossier_code = :c AND seq = 3", c=code)
        history = await dossier_history(client, records, code)
        assert {(d.kind, d.seq, d.action_id) for d in history.disagreements} == {
            ("missing_in_audit", 3, review_id),
            ("action_not_recorded", None, review_id),
        }
        assert "DISAGREEMENT missing_in_audit" in render_history(history)

    async def test_an_edited_or_invented_audit_row_is_a_disagreement(self, client, records, counter):
        """An audit row that differs from Temporal's entry, and one Temporal never recorded."""
        code, _ = await reviewed_dossier(counter)
        await tamper(
            records,
            "UPDATE dossier_events SET payload = replace(payload, 'specialist-1', 'someone') WHERE dossier_code = :c AND seq = 3",
            c=code,
        )
        await tamper(
            records,
            "INSERT INTO dossier_events (dossier_code, seq, action, actor_id, actor_roles, actor_unit, at,"
            " status_after, payload, prev_hash, hash) SELECT dossier_code, 6, action, actor_id, actor_roles,"
            " actor_unit, at, status_after, payload, prev_hash, hash FROM dossier_events WHERE dossier_code = :c AND seq = 5",
            c=code,
        )
        kinds = {(d.kind, d.seq) for d in (await dossier_history(client, records, code)).disagreements}
        assert kinds == {("differs", 3), ("missing_in_temporal", 6)}

    async def test_deadline_timer_shows(self, env, client, records, counter):
        """A dossier left past its due moment: the timer firing is in the timeline."""
        if not env.supports_time_skipping:
            pytest.skip("needs the time-skipping server to pass the deadline")
        slip = await counter.receive(request("1.004873"))
        handle = counter.handle(slip.dossier_code)
        view = await settled(handle)
        await env.sleep(view.due_at - await env.get_current_time() + timedelta(hours=1))
        await settled(handle)
        history = await dossier_history(client, records, slip.dossier_code)
        assert "deadline timer fired" in [i.what for i in history.items]
        assert history.agrees and [e.action for e in history.audit][-1] == "overdue"


async def test_history_across_continue_as_new(env, client, records, counter):
    """Every run is fetched, oldest first: the actions of all runs, the continue-as-new, and
    the audit trail agreeing with the entries projected in each run."""
    if env.supports_time_skipping:
        pytest.skip("continue-as-new with updates runs on the local dev server (see test_dossier_lifecycle)")
    handle = await counter.start(continue_as_new_after_events=50)
    for round_ in range(6):
        await handle.execute_update(
            DossierWorkflow.request_supplement,
            RequestSupplementInput(actor=SPECIALIST, action_id=f"rs-{round_}", reason="r", documents=("x",)),
        )
        await handle.execute_update(
            DossierWorkflow.supplement,
            SupplementInput(actor=COUNTER, action_id=f"s-{round_}", documents=("x",)),
        )
    view = await settled(handle)
    history = await dossier_history(client, records, handle.id)
    assert history.runs == view.runs > 1
    whats = [i.what for i in history.items]
    assert whats.count("continued as new") == history.runs - 1
    accepted = [i for i in history.items if i.what in ("request_supplement", "supplement")]
    assert [i.outcome for i in accepted] == ["accepted"] * 12
    assert history.projected == len(history.audit) == 14
    assert history.agrees, history.disagreements
