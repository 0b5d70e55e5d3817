"""The authorization matrix: role x own/other unit x action, end to end through the API."""

from __future__ import annotations

import json

import pytest
from structlog.testing import capture_logs

from model.dossier_inputs import Actor, RequestSupplementInput
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
    "complete_step": {"step_id": "review", "note": "complete", "action_id": "authz-review"},
    "request_supplement": {"reason": "blurred copy", "documents": ["declaration"], "action_id": "authz-ask"},
    "supplement": {"documents": ["declaration"], "action_id": "authz-supplement"},
    "withdraw": {"reason": "the applicant asks", "action_id": "authz-withdraw"},
    "refuse": {"reason": "not eligible", "action_id": "authz-refuse"},
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


# Auditors change nothing: every action is refused for their role, whatever their unit.
ACTIONS_REFUSED_TO_AUDITORS = set(MATRIX) - {"receive", "read"}


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
        auditor_acting = who.startswith("auditor/") and action in ACTIONS_REFUSED_TO_AUDITORS
        assert response.json()["type"] == ("WrongRole" if auditor_acting else expected_refusal(who, place))
        [logged] = [e for e in logs if e["event"] == "request refused"]
        assert logged["officer"] == officer.id and logged["action"] == action
        assert logged["dossier_code"] == code and logged["reason"] == response.json()["message"]


class TestPlainRefusals:
    async def test_an_auditor_who_tries_to_act_is_told_the_role_cannot_act(self, api, counter):
        """Not `WrongUnit` (which suggests another unit could): WrongRole, saying auditors change nothing."""
        handle = await counter.start()
        response = await api.act(OFFICERS["auditor/own"], handle.id, "complete_step", BODIES["complete_step"])
        assert response.status_code == 403 and response.json()["type"] == "WrongRole"
        assert "auditors read dossiers and change nothing" in response.json()["message"]
        await settled(handle)

    async def test_an_action_in_the_wrong_state_is_named_as_the_api_names_it(self, api, counter):
        """confirm_payment on a dossier in processing: the message names `confirm_payment`, no class name."""
        handle = await counter.start()
        response = await api.act(
            OFFICERS["counter/own"],
            handle.id,
            "confirm_payment",
            {"amount_vnd": 1000, "receipt_number": "BL-1", "action_id": "pay-1"},
        )
        assert response.status_code == 409 and response.json()["type"] == "WrongState"
        message = response.json()["message"]
        assert message.startswith("confirm_payment is not allowed while the dossier is processing"), message
        assert "Input" not in message
        await settled(handle)

    async def test_malformed_fields_are_all_named_with_what_is_expected(self, api):
        """A bad commune and a bad phone at once: both named by their documented path, in words, no regex."""
        body = json.loads(json.dumps(RECEIVE_BODY))
        body["applicant"]["address"]["commune_code"] = "4"
        body["applicant"]["phone"] = "call me"
        response = await api.receive(OFFICERS["counter/own"], body)
        assert response.status_code == 422
        problems = {p["field"]: p["message"] for p in response.json()["problems"]}
        assert problems["applicant.address.commune_code"] == "must be 5 digits"
        assert problems["applicant.phone"].startswith("must be 8 to 15")
        assert not [m for m in problems.values() if "\\d" in m or "pattern" in m]

    @pytest.mark.parametrize("personal_id", ["00109", "0010901234567", 1090123456])
    async def test_a_personal_id_of_the_wrong_length_or_kind_says_what_an_id_is(self, api, personal_id):
        """5 or 13 digits, or a JSON number: "must be 12 ASCII digits 0-9", not pydantic's
        "String should have at least 12 characters"."""
        body = json.loads(json.dumps(RECEIVE_BODY))
        body["applicant"]["personal_id"] = personal_id
        response = await api.receive(OFFICERS["counter/own"], body)
        assert response.status_code == 422
        problems = {p["field"]: p["message"] for p in response.json()["problems"]}
        assert problems["applicant.personal_id"].startswith("must be 12 ASCII digits 0-9"), problems

    async def test_an_unknown_procedure_points_to_the_catalogue_search(self, api):
        """Form 03 for an unknown code says how to find the right one."""
        response = await api.receive(OFFICERS["counter/own"], {**RECEIVE_BODY, "procedure_code": "1.999999"})
        assert response.status_code == 422 and response.json()["form"] == "03"
        assert any("catalogue search" in reason for reason in response.json()["reasons"])
