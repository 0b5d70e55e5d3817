"""The authorization matrix: role x own/other unit x action, end to end through the API."""

from __future__ import annotations

import json

import pytest
from structlog.testing import capture_logs

from procedures.models import Role
from tests.builders import (
    APPLICANT,
    BA_DINH_COMMITTEE,
    BA_DINH_COUNTER,
    CITY_CENTRE,
    NGOC_HA_COUNTER,
    SPECIALIST,
    action_id,
    settled,
)
from workflows.dossier import DossierWorkflow
from workflows.dossier_inputs import Actor, RequestSupplementInput

NGOC_HA_COMMITTEE = "000.00008.00.H01"

# Each role at its own unit (the dossier's counter or handling authority) and at another one.
OFFICERS = {
    "counter/own": Actor(id="c-own", roles=(Role.COUNTER_OFFICER,), unit=BA_DINH_COUNTER),
    "counter/other": Actor(id="c-other", roles=(Role.COUNTER_OFFICER,), unit=NGOC_HA_COUNTER),
    "specialist/own": Actor(id="s-own", roles=(Role.SPECIALIST,), unit=BA_DINH_COMMITTEE),
    "specialist/other": Actor(id="s-other", roles=(Role.SPECIALIST,), unit=NGOC_HA_COMMITTEE),
    "leader/own": Actor(id="l-own", roles=(Role.LEADER,), unit=BA_DINH_COMMITTEE),
    "leader/other": Actor(id="l-other", roles=(Role.LEADER,), unit=NGOC_HA_COMMITTEE),
    "auditor/own": Actor(id="a-own", roles=(Role.AUDITOR,), unit=BA_DINH_COMMITTEE),
    "auditor/other": Actor(id="a-other", roles=(Role.AUDITOR,), unit=CITY_CENTRE),
}

# What each action needs: its place (whose unit counts) and who may do it. Everyone else is
# refused with 403: WrongUnit when their unit is not the place's, WrongRole otherwise.
MATRIX = {
    "receive": ("receiving", {"counter/own"}),
    "read": ("either", {"counter/own", "specialist/own", "leader/own", "auditor/own", "auditor/other"}),
    "complete_step": ("handling", {"specialist/own"}),  # the first step, review, is a specialist's
    "request_supplement": ("handling", {"specialist/own", "leader/own"}),
    "supplement": ("receiving", {"counter/own"}),
    "withdraw": ("receiving", {"counter/own"}),
    "refuse": ("handling", {"leader/own"}),
}

BODIES = {
    "complete_step": {"step_id": "review", "note": "complete"},
    "request_supplement": {"reason": "blurred copy", "documents": ["declaration"]},
    "supplement": {"documents": ["declaration"]},
    "withdraw": {"reason": "the applicant asks"},
    "refuse": {"reason": "not eligible"},
}

RECEIVE_BODY = {
    "procedure_code": "1.004873",
    "applicant": json.loads(APPLICANT.model_dump_json()),
    "receiving_unit": BA_DINH_COUNTER,
    "documents": [{"id": "declaration"}],
}


def expected_refusal(who: str, place: str) -> str:
    unit = OFFICERS[who].unit
    own = {"receiving": {BA_DINH_COUNTER}, "handling": {BA_DINH_COMMITTEE}}.get(
        place, {BA_DINH_COUNTER, BA_DINH_COMMITTEE}
    )
    return "WrongUnit" if unit not in own else "WrongRole"


CASES = [(action, who) for action in MATRIX for who in OFFICERS]


@pytest.mark.parametrize(("action", "who"), CASES, ids=[f"{a}-{w}" for a, w in CASES])
async def test_authorization_matrix(api, counter, action, who):
    """Allowed pairs succeed; every other pair is refused with 403, its type, and a log line."""
    place, allowed = MATRIX[action]
    officer = OFFICERS[who]
    code = None
    with capture_logs() as logs:
        if action == "receive":
            response = await api.receive(officer, RECEIVE_BODY)
        else:
            handle = await counter.start()
            code = handle.id
            if action == "supplement":
                await handle.execute_update(
                    DossierWorkflow.request_supplement,
                    RequestSupplementInput(
                        actor=SPECIALIST, action_id=action_id(), reason="blurred", documents=("declaration",)
                    ),
                )
            if action == "read":
                response = await api.get(officer, code)
            else:
                response = await api.act(officer, code, action, BODIES[action])
    if who in allowed:
        assert response.status_code in (200, 201), response.text
        assert not [e for e in logs if e["event"] == "request refused"]
        if code is not None:
            await settled(handle)
    elif action == "read":
        # A dossier one may not read answers exactly as an unknown code: no enumeration.
        assert response.status_code == 404, response.text
        assert response.json() == {"type": "UnknownDossier", "message": f"no dossier {code}"}
        [logged] = [e for e in logs if e["event"] == "request refused"]
        assert logged["officer"] == officer.id and logged["action"] == action
        assert logged["error_type"] == expected_refusal(who, place) and code in logged["reason"]
    else:
        assert response.status_code == 403, response.text
        assert response.json()["type"] == expected_refusal(who, place)
        [logged] = [e for e in logs if e["event"] == "request refused"]
        assert logged["officer"] == officer.id and logged["action"] == action
        assert logged["dossier_code"] == code and logged["reason"] == response.json()["message"]
