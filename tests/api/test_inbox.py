"""The inbox: dossiers of my unit at a step my roles can do, overdue first, then by due moment."""

from __future__ import annotations

from datetime import timedelta

from model.dossier_inputs import Actor, CompleteStepInput, RequestSupplementInput
from procedures.calendar import WorkingCalendar
from procedures.models import Role
from tests.api.test_authorization import OFFICERS
from tests.builders import SPECIALIST, action_id, settled
from workflows.dossier import DossierWorkflow


async def wait_overdue(env, handle) -> None:
    for _ in range(100):
        if (await handle.query(DossierWorkflow.view)).overdue:
            return
        await env.sleep(timedelta(seconds=1))
    raise AssertionError("the dossier never became overdue")


async def test_inbox_lists_what_waits_for_each_officer_overdue_first(env, api, counter):
    """Specialist: dossiers at review, the overdue one first; leader: the one at approval and
    the apology due; counter: the supplement; an officer of another unit: none of them."""
    now = await env.get_current_time()
    late = await counter.start(received_at=now, due_at=now + timedelta(seconds=2))
    later = await counter.start(received_at=now, due_at=now + timedelta(days=20))
    sooner = await counter.start(received_at=now, due_at=now + timedelta(days=10))
    approving = await counter.start(received_at=now, due_at=now + timedelta(days=5))
    waiting = await counter.start(received_at=now, due_at=now + timedelta(days=3))
    await approving.execute_update(
        DossierWorkflow.complete_step,
        CompleteStepInput(actor=SPECIALIST, action_id=action_id(), step_id="review"),
    )
    await waiting.execute_update(
        DossierWorkflow.request_supplement,
        RequestSupplementInput(
            actor=SPECIALIST, action_id=action_id(), reason="blurred", documents=("photo",)
        ),
    )
    await wait_overdue(env, late)
    mine = {late.id, later.id, sooner.id, approving.id, waiting.id}
    for handle in (late, later, sooner, approving, waiting):
        await settled(handle)  # the inbox reads candidates from the records store

    async def inbox_of(who: str | Actor) -> list[dict]:
        officer = OFFICERS[who] if isinstance(who, str) else who
        response = await api.inbox(officer)
        assert response.status_code == 200, response.text
        return [item for item in response.json() if item["code"] in mine]

    specialist = await inbox_of("specialist/own")
    assert [i["code"] for i in specialist] == [late.id, sooner.id, later.id]
    assert specialist[0]["overdue"] and specialist[0]["actions"] == ["complete_step"]
    assert specialist[1]["step"]["id"] == "review"

    leader = await inbox_of("leader/own")
    assert [(i["code"], i["actions"]) for i in leader] == [
        (late.id, ["issue_apology"]),
        (approving.id, ["complete_step"]),
    ]

    counter_items = await inbox_of("counter/own")
    assert [(i["code"], i["actions"]) for i in counter_items] == [(waiting.id, ["supplement"])]

    assert await inbox_of("specialist/other") == []
    assert await inbox_of("auditor/own") == []
    both = Actor(id="both", roles=(Role.SPECIALIST, Role.LEADER), unit=OFFICERS["leader/own"].unit)
    assert [i["code"] for i in await inbox_of(both)] == [late.id, approving.id, sooner.id, later.id]

    # The leader apologises through the API (form 04): the dossier leaves the leader's inbox.
    new_due = WorkingCalendar.default().add_working_days(await env.get_current_time(), 5)
    apology = {
        "reason": "verification took longer",
        "new_due_at": new_due.isoformat(),
        "action_id": "sorry-1",
    }
    response = await api.act(OFFICERS["leader/own"], late.id, "issue_apology", apology)
    assert response.status_code == 200, response.text
    assert response.json()["apology_due"] is False
    assert late.id not in [i["code"] for i in await inbox_of("leader/own")]
    await settled(late)

    limited = await api.inbox(OFFICERS["specialist/own"], limit=0)
    assert limited.status_code == 422 and limited.json()["problems"][0]["field"] == "query.limit"


async def test_only_dossiers_waiting_for_my_roles_are_confirmed_with_the_workflow(
    env, api, counter, monkeypatch
):
    """The projection's current roles narrow the candidates: the leader's inbox queries the
    dossier at approval, not the ones at review (one query per candidate is the cost)."""
    import officers.inbox as inbox_module

    now = await env.get_current_time()
    at_review = await counter.start(received_at=now, due_at=now + timedelta(days=9))
    at_approval = await counter.start(received_at=now, due_at=now + timedelta(days=9))
    await at_approval.execute_update(
        DossierWorkflow.complete_step,
        CompleteStepInput(actor=SPECIALIST, action_id=action_id(), step_id="review"),
    )
    for handle in (at_review, at_approval):
        await settled(handle)
    queried: list[str] = []
    original = inbox_module._view

    async def counting(client, code):
        queried.append(code)
        return await original(client, code)

    monkeypatch.setattr(inbox_module, "_view", counting)
    response = await api.inbox(OFFICERS["leader/own"], limit=500)
    assert at_approval.id in [item["code"] for item in response.json()]
    assert at_approval.id in queried and at_review.id not in queried
